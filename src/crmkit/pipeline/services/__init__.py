"""Pipeline use cases: each function is one transaction.

One module per aggregate family: :mod:`.leads` (from entry to conversion),
:mod:`.opportunities` and :mod:`.deal_lines` (deals from first stage to close),
:mod:`.price_lists`, :mod:`.quotes`, :mod:`.contracts` and :mod:`.orders` (the sales
documents), :mod:`.engagement` (campaigns and follow-up sequences),
:mod:`.activities` (activities and follow-up plans), :mod:`.targets` (targets and
commission plans) and :mod:`.settings` (the tenant's processes and reasons).
"""

from __future__ import annotations

from crmkit.pipeline.services.activities import (
    cancel_follow_up,
    list_activities,
    list_follow_up_plans,
    log_activity,
    plan_follow_up,
    reschedule_follow_up,
)
from crmkit.pipeline.services.contracts import (
    approve_contract,
    attach_to_contract,
    complete_contract,
    create_contract,
    expire_contracts,
    reject_contract,
    renew_contract,
    sign_contract,
    submit_contract,
    terminate_contract,
)
from crmkit.pipeline.services.deal_lines import (
    DealLine,
    add_opportunity_line,
    remove_opportunity_line,
    set_opportunity_amount,
    set_opportunity_lines,
)
from crmkit.pipeline.services.documents import (
    DEFAULT_PATTERNS,
    DocumentNumbers,
    LineRequest,
    rule_numbers,
)
from crmkit.pipeline.services.engagement import (
    advance_sequences,
    create_campaign,
    define_sequence_template,
    finish_step,
    record_campaign_cost,
    sequence_workbench,
    start_sequence,
)
from crmkit.pipeline.services.leads import (
    Conversion,
    DuplicateMatch,
    LeadDuplicates,
    check_lead_duplicates,
    contact_lead,
    convert_lead,
    create_lead,
    disqualify_lead,
    learn_lead_scorer,
    qualify_lead,
    recycle_lead,
    reopen_lead,
)
from crmkit.pipeline.services.opportunities import (
    attach_document,
    lose_opportunity,
    move_opportunity,
    open_opportunity,
    reopen_opportunity,
    win_opportunity,
)
from crmkit.pipeline.services.orders import (
    CustomerCreditLimit,
    SalesOrderCredit,
    cancel_order,
    create_order_from_contract,
    record_delivery,
    release_credit_hold,
)
from crmkit.pipeline.services.price_lists import (
    configure_sales_documents,
    define_price_list,
)
from crmkit.pipeline.services.quotes import (
    approve_quote,
    convert_quote_to_contract,
    convert_quote_to_order,
    create_quote,
    decline_quote,
    quote_versions,
    reject_quote,
    revise_quote,
    submit_quote,
)
from crmkit.pipeline.services.settings import (
    configure_pipeline,
    define_sales_process,
)
from crmkit.pipeline.services.targets import (
    define_commission_plan,
    set_target,
)

__all__ = [
    "DEFAULT_PATTERNS",
    "Conversion",
    "CustomerCreditLimit",
    "DealLine",
    "DocumentNumbers",
    "DuplicateMatch",
    "LeadDuplicates",
    "LineRequest",
    "SalesOrderCredit",
    "add_opportunity_line",
    "advance_sequences",
    "approve_contract",
    "approve_quote",
    "attach_document",
    "attach_to_contract",
    "cancel_follow_up",
    "cancel_order",
    "check_lead_duplicates",
    "complete_contract",
    "configure_pipeline",
    "configure_sales_documents",
    "contact_lead",
    "convert_lead",
    "convert_quote_to_contract",
    "convert_quote_to_order",
    "create_campaign",
    "create_contract",
    "create_lead",
    "create_order_from_contract",
    "create_quote",
    "decline_quote",
    "define_commission_plan",
    "define_price_list",
    "define_sales_process",
    "define_sequence_template",
    "disqualify_lead",
    "expire_contracts",
    "finish_step",
    "learn_lead_scorer",
    "list_activities",
    "list_follow_up_plans",
    "log_activity",
    "lose_opportunity",
    "move_opportunity",
    "open_opportunity",
    "plan_follow_up",
    "qualify_lead",
    "quote_versions",
    "record_campaign_cost",
    "record_delivery",
    "recycle_lead",
    "reject_contract",
    "reject_quote",
    "release_credit_hold",
    "remove_opportunity_line",
    "renew_contract",
    "reopen_lead",
    "reopen_opportunity",
    "reschedule_follow_up",
    "revise_quote",
    "rule_numbers",
    "sequence_workbench",
    "set_opportunity_amount",
    "set_opportunity_lines",
    "set_target",
    "sign_contract",
    "start_sequence",
    "submit_contract",
    "submit_quote",
    "terminate_contract",
    "win_opportunity",
]
