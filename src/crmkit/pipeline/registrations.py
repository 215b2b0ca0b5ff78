"""What each public pipeline service reads and writes, declared once for the catalog.

See :mod:`crmkit.rules.permissions.catalog`: the conformance suite probes every
service listed here on every backend, and a public ``(crm, actor, ...)`` function
of this package missing here fails the
completeness test.
"""

from __future__ import annotations

from crmkit.pipeline.queries.performance import (
    commission_for,
    coverage_report,
    customer_pyramid,
    define_commission_plan,
    set_target,
    target_report,
)
from crmkit.pipeline.services.activities import (
    cancel_follow_up,
    list_activities,
    list_follow_up_plans,
    log_activity,
    plan_follow_up,
    reschedule_follow_up,
)
from crmkit.pipeline.services.deal_lines import (
    add_opportunity_line,
    remove_opportunity_line,
    set_opportunity_amount,
    set_opportunity_lines,
)
from crmkit.pipeline.services.engagement import (
    create_campaign,
    define_sequence_template,
    finish_step,
    record_campaign_cost,
    sequence_workbench,
    start_sequence,
)
from crmkit.pipeline.services.leads import (
    attach_document,
    check_lead_duplicates,
    configure_pipeline,
    contact_lead,
    convert_lead,
    create_lead,
    define_sales_process,
    disqualify_lead,
    learn_lead_scorer,
    lose_opportunity,
    move_opportunity,
    open_opportunity,
    pipeline_report,
    qualify_lead,
    recycle_lead,
    reopen_lead,
    reopen_opportunity,
    win_opportunity,
)
from crmkit.pipeline.services.quotes import (
    approve_contract,
    approve_quote,
    attach_to_contract,
    cancel_order,
    complete_contract,
    configure_sales_documents,
    convert_quote_to_contract,
    convert_quote_to_order,
    create_contract,
    create_order_from_contract,
    create_quote,
    decline_quote,
    define_price_list,
    quote_versions,
    record_delivery,
    reject_contract,
    reject_quote,
    release_credit_hold,
    renew_contract,
    revise_quote,
    sign_contract,
    submit_contract,
    submit_quote,
    terminate_contract,
)
from crmkit.rules.permissions.catalog import Declaration, ServiceKind, register_service

READ, LIST, REPORT, WRITE = (
    ServiceKind.READ,
    ServiceKind.LIST,
    ServiceKind.REPORT,
    ServiceKind.WRITE,
)
AREA = "crmkit.pipeline"
CUSTOMER = {"customer_id": "customer"}
LEAD = {"lead_id": "lead"}
DEAL = {"deal_id": "opportunity"}
QUOTE = {"quote_id": "quote"}
CONTRACT = {"contract_id": "contract"}
ORDER = {"order_id": "sales_order"}
PLAN = {"plan_id": "follow_up_plan"}
SETTINGS = "pipeline_settings"

_TABLE: tuple[Declaration, ...] = (
    # leads
    (create_lead, WRITE, "lead", "create", {}),
    (check_lead_duplicates, LIST, "lead", "create", {}),
    (contact_lead, WRITE, "lead", "edit", LEAD),
    (qualify_lead, WRITE, "lead", "edit", LEAD),
    (disqualify_lead, WRITE, "lead", "edit", LEAD),
    (recycle_lead, WRITE, "lead", "edit", LEAD),
    (reopen_lead, WRITE, "lead", "edit", LEAD),
    (convert_lead, WRITE, "lead", "edit", LEAD),
    (learn_lead_scorer, REPORT, "lead", "view", {}),
    # opportunities
    (open_opportunity, WRITE, "opportunity", "create", CUSTOMER),
    (move_opportunity, WRITE, "opportunity", "edit", DEAL),
    (attach_document, WRITE, "opportunity", "edit", DEAL),
    (win_opportunity, WRITE, "opportunity", "edit", DEAL),
    (lose_opportunity, WRITE, "opportunity", "edit", DEAL),
    (reopen_opportunity, WRITE, "opportunity", "edit", DEAL),
    (set_opportunity_lines, WRITE, "opportunity", "edit", DEAL),
    (add_opportunity_line, WRITE, "opportunity", "edit", DEAL),
    (remove_opportunity_line, WRITE, "opportunity", "edit", DEAL),
    (set_opportunity_amount, WRITE, "opportunity", "edit", DEAL),
    (pipeline_report, REPORT, "opportunity", "view", {}),
    # activities and follow-ups
    (log_activity, WRITE, "activity", "create", {}),
    (list_activities, LIST, "activity", "view", {}),
    (plan_follow_up, WRITE, "follow_up_plan", "create", {}),
    (cancel_follow_up, WRITE, "follow_up_plan", "edit", PLAN),
    (reschedule_follow_up, WRITE, "follow_up_plan", "edit", PLAN),
    (list_follow_up_plans, LIST, "follow_up_plan", "view", {}),
    # quotes, contracts, orders
    (create_quote, WRITE, "quote", "create", {**CUSTOMER, "opportunity_id": "opportunity"}),
    (revise_quote, WRITE, "quote", "edit", QUOTE),
    (submit_quote, WRITE, "quote", "edit", QUOTE),
    (decline_quote, WRITE, "quote", "edit", QUOTE),
    (approve_quote, WRITE, "quote", "approve", QUOTE),
    (reject_quote, WRITE, "quote", "approve", QUOTE),
    (quote_versions, READ, "quote", "view", QUOTE),
    (convert_quote_to_order, WRITE, "sales_order", "create", QUOTE),
    (convert_quote_to_contract, WRITE, "contract", "create", QUOTE),
    (create_contract, WRITE, "contract", "create", {**CUSTOMER, "opportunity_id": "opportunity"}),
    (submit_contract, WRITE, "contract", "edit", CONTRACT),
    (approve_contract, WRITE, "contract", "approve", CONTRACT),
    (reject_contract, WRITE, "contract", "approve", CONTRACT),
    (sign_contract, WRITE, "contract", "edit", CONTRACT),
    (complete_contract, WRITE, "contract", "edit", CONTRACT),
    (terminate_contract, WRITE, "contract", "edit", CONTRACT),
    (attach_to_contract, WRITE, "contract", "edit", CONTRACT),
    (renew_contract, WRITE, "contract", "edit", CONTRACT),
    (create_order_from_contract, WRITE, "sales_order", "create", CONTRACT),
    (record_delivery, WRITE, "sales_order", "edit", ORDER),
    (cancel_order, WRITE, "sales_order", "edit", ORDER),
    (release_credit_hold, WRITE, "sales_order", "approve", ORDER),
    # tenant configuration
    (configure_pipeline, WRITE, SETTINGS, "edit", {}),
    (define_sales_process, WRITE, SETTINGS, "edit", {}),
    (configure_sales_documents, WRITE, "price_list", "edit", {}),
    (define_price_list, WRITE, "price_list", "edit", {}),
    # targets, commission, analytics
    (set_target, WRITE, SETTINGS, "edit", {}),
    (define_commission_plan, WRITE, SETTINGS, "edit", {}),
    (target_report, REPORT, "opportunity", "view", {}),
    (commission_for, REPORT, "opportunity", "view", {"rep_id": "member"}),
    (coverage_report, REPORT, "opportunity", "view", {}),
    (customer_pyramid, REPORT, "customer", "view", {}),
)
for service, kind, resource, operation, records in _TABLE:
    register_service(service, kind, resource, operation, records=records, package=AREA)

_ENGAGEMENT: tuple[Declaration, ...] = (
    (create_campaign, WRITE, SETTINGS, "edit", {}),
    (record_campaign_cost, WRITE, SETTINGS, "edit", {}),
    (define_sequence_template, WRITE, SETTINGS, "edit", {}),
    (start_sequence, WRITE, "customer", "edit", CUSTOMER),
    (finish_step, WRITE, "customer", "edit", {"step_id": "sequence_step"}),
    (sequence_workbench, LIST, "customer", "view", {}),
)
for service, kind, resource, operation, records in _ENGAGEMENT:
    register_service(
        service, kind, resource, operation, records=records, package=f"{AREA}.engagement"
    )

# The merge, 360-view and search parts register themselves on import.
from crmkit.pipeline import merge_hooks as _merge_hooks  # noqa: E402, F401
from crmkit.pipeline import view_parts as _view_parts  # noqa: E402, F401
from crmkit.pipeline.queries import search as _search  # noqa: E402, F401
