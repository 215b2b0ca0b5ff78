"""The one place the pipeline declares itself to the rest of crmkit.

Importing :mod:`crmkit.pipeline` runs this module, which wires what the area's
model, services and queries implement; nothing here decides anything:

- the **permission resources** (leads, deals, the sales documents, activities and
  plans, targets and commission, and the tenant-wide settings and price lists) and
  which fields carry which;
- the **reminder sources** (contracts' key dates, follow-up plans, sequence steps);
- the **approvable documents**: quotes, contracts and credit overrides of sales orders
  (see :mod:`crmkit.pipeline.services.approvals`), and the sales orders billing's
  credit rule counts;
- the memory implementation of :class:`~crmkit.pipeline.queries.PipelineAnalytics`;
- the customer's **360 view** parts, the **merge** parts (a merged customer's leads,
  deals and documents move to the survivor, and back on undo) and the global
  **search** parts (leads, opportunities) — the customers area does not know this
  area exists;
- the **service catalog**: what each public service reads and writes. The
  conformance suite probes every service listed here on every backend, and a public
  ``(crm, actor, ...)`` function of this package missing here fails the completeness
  test (see :mod:`crmkit.rules.permissions.catalog`).
"""

from __future__ import annotations

from uuid import UUID

from crmkit.billing.model.credit import register_credit_documents
from crmkit.billing.services.overrides import resubmission_requests
from crmkit.customers.queries import records_of, register_360_part
from crmkit.customers.queries.search_all import register_search_part
from crmkit.customers.services.merge_parts import register_merge_part, repoint_part
from crmkit.kernel.i18n import N_
from crmkit.kernel.query import Order
from crmkit.pipeline.model.activities import Activity, FollowUpPlan
from crmkit.pipeline.model.contracts import Contract
from crmkit.pipeline.model.leads import Lead
from crmkit.pipeline.model.opportunities import Opportunity
from crmkit.pipeline.model.orders import SalesOrder
from crmkit.pipeline.model.quotes import Quote
from crmkit.pipeline.model.resources import (
    ACTIVITIES,
    COMMISSIONS,
    CONTRACTS,
    DEALS,
    LEADS,
    ORDERS,
    PLANS,
    PRICING,
    QUOTES,
    SETTINGS,
    TARGETS,
)
from crmkit.pipeline.model.sequences import SequenceStep
from crmkit.pipeline.queries import (
    MemoryPipelineAnalytics,
    PipelineAnalytics,
    commission_for,
    coverage_report,
    customer_pyramid,
    target_report,
)
from crmkit.pipeline.queries.reports import pipeline_report
from crmkit.pipeline.queries.search import search_leads, search_opportunities
from crmkit.pipeline.services import (
    SalesOrderCredit,
    add_opportunity_line,
    approve_contract,
    approve_quote,
    attach_document,
    attach_to_contract,
    cancel_follow_up,
    cancel_order,
    check_lead_duplicates,
    complete_contract,
    configure_pipeline,
    configure_sales_documents,
    contact_lead,
    convert_lead,
    convert_quote_to_contract,
    convert_quote_to_order,
    create_campaign,
    create_contract,
    create_lead,
    create_order_from_contract,
    create_quote,
    decline_quote,
    define_commission_plan,
    define_price_list,
    define_sales_process,
    define_sequence_template,
    disqualify_lead,
    finish_step,
    learn_lead_scorer,
    list_activities,
    list_follow_up_plans,
    log_activity,
    lose_opportunity,
    move_opportunity,
    open_opportunity,
    plan_follow_up,
    qualify_lead,
    quote_versions,
    record_campaign_cost,
    record_delivery,
    recycle_lead,
    reject_contract,
    reject_quote,
    release_credit_hold,
    remove_opportunity_line,
    renew_contract,
    reopen_lead,
    reopen_opportunity,
    reschedule_follow_up,
    revise_quote,
    sequence_workbench,
    set_opportunity_amount,
    set_opportunity_lines,
    set_target,
    sign_contract,
    start_sequence,
    submit_contract,
    submit_quote,
    terminate_contract,
    win_opportunity,
)
from crmkit.pipeline.services.approvals import (
    CONTRACT_DOCUMENT,
    CREDIT_OVERRIDE_DOCUMENT,
    QUOTE_DOCUMENT,
    _contract_facts,
    _override_facts,
    _quote_facts,
    credit_override_approved,
)
from crmkit.ports import UnitOfWork, register_queries
from crmkit.rules.approvals import ApprovalSubject, document_hook, register_approvable
from crmkit.rules.permissions import register_resource
from crmkit.rules.permissions.catalog import Declaration, ServiceKind, register_service
from crmkit.rules.reminders.model import ReminderSource, register_source

__all__ = ["register_document_hooks"]

# -- permission resources --------------------------------------------------------------------

register_resource(ACTIVITIES, entity=Activity)
register_resource(PLANS, entity=FollowUpPlan, owner_field="assignee_id")
register_resource(LEADS, entity=Lead)
# A deal's product lines add up to its amount, so they carry it: hiding the amount
# hides them too.
register_resource(DEALS, entity=Opportunity, derived={"lines": ("amount",)})
# Tenant-wide configuration: whoever holds "edit" on it may change processes and reasons.
register_resource(
    SETTINGS,
    fields=("disqualify_reasons", "loss_reasons", "processes"),
    operations=("view", "edit"),
)
# What each document carries of another field: lines add up to the total (so hiding the
# total hides them), the renewal notice day is the end date less the notice days, and an
# order keeps the customer's credit limit it was checked against.
register_resource(QUOTES, entity=Quote, derived={"lines": ("subtotal", "total")})
register_resource(
    CONTRACTS,
    entity=Contract,
    derived={"lines": ("amount",), "renewal_notice_on": ("end_date", "notice_days")},
)
register_resource(
    ORDERS,
    entity=SalesOrder,
    derived={"lines": ("total",), "credit_limit": ("customer:credit_limit",)},
)
# Tenant-wide: whoever holds "edit" on price lists sets prices, thresholds and notice days.
register_resource(
    PRICING, fields=("items", "discount_threshold", "notice_days"), operations=("view", "edit")
)
# Whose targets, actuals and commission a reader sees. Everyone sees their own and a
# manager their team's; a grant on these resources reaches further, evaluated over one
# pseudo-record per member (``owner_id`` = the member, ``department_id`` = their
# department) or per department (no owner, ``department_id`` = the department).
register_resource(TARGETS, fields=("owner_id", "department_id"), operations=("view",))
register_resource(COMMISSIONS, fields=("owner_id", "department_id"), operations=("view",))
LABELS = (N_("target"), N_("commission"))

# -- reminder sources ------------------------------------------------------------------------

register_source(
    ReminderSource(PLANS, FollowUpPlan, title_field="subject", owner_field="assignee_id")
)
# Contracts are what "30 days before a contract ends" reminder rules watch.
register_source(ReminderSource("contract", Contract, title_field="number"))
register_source(
    ReminderSource("sequence_step", SequenceStep, title_field="name", created_field="created_at")
)

# -- approvable documents, and the orders billing's credit rule counts -----------------------


def _describe_quote(uow: UnitOfWork, document_id: UUID) -> ApprovalSubject | None:
    quote = uow.repository(Quote).find(document_id)
    if quote is None:
        return None
    return ApprovalSubject(_quote_facts(quote), "quote", quote, quote.owner_id)


def _describe_contract(uow: UnitOfWork, document_id: UUID) -> ApprovalSubject | None:
    contract = uow.repository(Contract).find(document_id)
    if contract is None:
        return None
    return ApprovalSubject(_contract_facts(contract), "contract", contract, contract.owner_id)


def _describe_order(uow: UnitOfWork, document_id: UUID) -> ApprovalSubject | None:
    order = uow.repository(SalesOrder).find(document_id)
    if order is None:
        return None
    return ApprovalSubject(_override_facts(order), "sales_order", order, order.owner_id)


def register_document_hooks() -> None:
    """(Re-)register the quote and contract hooks with the approvals area.

    Called on import; call it again if something replaced the hooks of ``"quote"``
    or ``"contract"`` (the registry keeps one set per document type).
    """
    # Unapproval (反审核) takes the document back to draft in the same transaction; a
    # document that moved on (converted, ended) cannot be unapproved, and the refusal
    # rolls the unapproval back with it.
    register_approvable(
        QUOTE_DOCUMENT,
        entity=Quote,
        on_approved=document_hook(Quote, lambda q, who, _comment, at: q.approve(who, at)),
        on_unapproved=document_hook(
            Quote, lambda q, who, comment, at: q.unapprove(who, comment, at)
        ),
        on_closed=document_hook(Quote, lambda q, who, comment, at: q.reject(who, comment, at)),
        describe=_describe_quote,
    )
    register_approvable(
        CONTRACT_DOCUMENT,
        entity=Contract,
        on_approved=document_hook(Contract, lambda c, who, _comment, at: c.approve(who, at)),
        on_unapproved=document_hook(
            Contract, lambda c, who, comment, at: c.unapprove(who, comment, at)
        ),
        on_closed=document_hook(Contract, lambda c, who, comment, at: c.reject(who, comment, at)),
        describe=_describe_contract,
    )
    # A refused override changes nothing: the order simply stays on hold (see above).
    # While the first request or a resubmitted one is in review the order is locked.
    register_approvable(
        CREDIT_OVERRIDE_DOCUMENT,
        entity=SalesOrder,
        locked_by=resubmission_requests,
        on_approved=credit_override_approved,
        describe=_describe_order,
    )


register_document_hooks()
register_credit_documents(SalesOrderCredit())
register_queries("memory", PipelineAnalytics, MemoryPipelineAnalytics)

# -- the customer's 360 view, merges and the global search -----------------------------------

_NEWEST = (Order("created_at", descending=True), Order("id", descending=True))

register_360_part("leads", LEADS, records_of(Lead, LEADS, order_by=_NEWEST))
register_360_part("opportunities", DEALS, records_of(Opportunity, DEALS, order_by=_NEWEST))
register_360_part("quotes", QUOTES, records_of(Quote, QUOTES, order_by=_NEWEST))
register_360_part("contracts", CONTRACTS, records_of(Contract, CONTRACTS, order_by=_NEWEST))
register_360_part("orders", ORDERS, records_of(SalesOrder, ORDERS, order_by=_NEWEST))
register_360_part(
    "activities",
    ACTIVITIES,
    records_of(
        Activity,
        ACTIVITIES,
        order_by=(Order("occurred_at", descending=True), Order("id", descending=True)),
    ),
)
register_360_part(
    "follow_up_plans",
    PLANS,
    records_of(FollowUpPlan, PLANS, order_by=(Order("due_at"), Order("id"))),
)

# A converted lead points at the customer it became; an open lead has no customer
# and is never matched by the move.
for _name, _entity in (
    ("leads", Lead),
    ("opportunities", Opportunity),
    ("quotes", Quote),
    ("contracts", Contract),
    ("orders", SalesOrder),
):
    register_merge_part(f"pipeline.{_name}", *repoint_part(_entity))

register_search_part("lead", search_leads)
register_search_part("opportunity", search_opportunities)

# -- the service catalog ---------------------------------------------------------------------

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
    register_service(service, kind, resource, operation, records=records, package=AREA)
