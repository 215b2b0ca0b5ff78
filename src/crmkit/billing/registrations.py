"""The one place billing declares itself to the rest of crmkit.

Importing :mod:`crmkit.billing` runs this module, which wires (the implementations
live in ``model``, ``services`` and ``queries``):

- the **permission resources** grants name, with the operations finance needs beyond
  the defaults: receipts belong to the clerk who recorded them, refunds and
  resubmitted credit overrides to who asked, expense claims to the claimant;
- the **reminder source** of installments (a reminder before one falls due);
- the memory implementations of the read models (aging, collection, expenses, ledger
  heads: :mod:`crmkit.billing.queries`);

- the **service catalog**: what each public billing service reads and writes (see
  :mod:`crmkit.rules.permissions.catalog`);
- the **approvable documents**: refunds, expense claims and resubmitted credit
  overrides, with their hooks and how approvals read them (see
  :mod:`crmkit.billing.services.approvals`);
- the **merge parts**: when duplicate customers are merged
  (:func:`crmkit.customers.merge_customers`), the plans, installments,
  receipts, refunds and invoices of the merged customers move to the survivor, and
  come back on :func:`crmkit.customers.undo_merge`. Ledger entries do not move:
  they are hash-chained facts that are never rewritten, so they keep naming the
  counterparty of the day (the merge record links the two);
- the **customer 360 parts** (:func:`crmkit.customers.customer_360`): the customer's
  installments by due date (what is owed and when; paid and outstanding on each) and
  its receipts, newest first, each narrowed to the actor's ``view`` scope on
  ``installment`` / ``receipt`` and left out for an actor without such a grant.
"""

from __future__ import annotations

from crmkit.billing.model.credit import CreditOverride
from crmkit.billing.model.expenses import ExpenseClaim
from crmkit.billing.model.invoices import Invoice
from crmkit.billing.model.plans import Installment, Plan
from crmkit.billing.model.receipts import Receipt, Refund
from crmkit.billing.queries import (
    AgingQuery,
    CollectionQuery,
    ExpenseQuery,
    LedgerHeads,
    MemoryAgingQuery,
    MemoryCollectionQuery,
    MemoryExpenseQuery,
    MemoryLedgerHeads,
)
from crmkit.billing.services import (
    aging_report,
    allocate_receipt,
    allocate_receipts,
    apply_credit,
    approve_expense_claim,
    approve_refund,
    balance_mismatches,
    cancel_invoice,
    check_credit,
    collection_forecast,
    confirm_receipt,
    create_plan,
    credit_overrides,
    customer_credit,
    customer_margin,
    days_sales_outstanding,
    deallocate,
    define_payment_terms,
    document_summary,
    draft_expense_claim,
    expense_analysis,
    get_plan,
    get_receipt,
    issue_invoice,
    ledger_entries,
    pay_refund,
    record_receipt,
    reimburse_expense_claim,
    reject_expense_claim,
    reject_refund,
    request_invoice,
    request_refund,
    resubmit_credit_override,
    reverse_receipt,
    send_invoice,
    set_expense_limits,
    set_milestone,
    submit_expense_claim,
    verify_ledger,
    void_invoice,
)
from crmkit.billing.services._frame import (
    EXPENSE_CLAIM,
    INSTALLMENT,
    INVOICE,
    PLAN,
    RECEIPT,
    REFUND,
)
from crmkit.billing.services.approvals import (
    CREDIT_RESUBMISSION_DOCUMENT,
    EXPENSE_CLAIM_APPROVAL,
    EXPENSE_CLAIM_DOCUMENT,
    REFUND_APPROVAL,
    REFUND_DOCUMENT,
    approve_claim,
    describe_override,
    refund_decided,
    reject_claim,
    release_held_document,
)
from crmkit.billing.services.overrides import CREDIT_OVERRIDE
from crmkit.customers import register_merge_part, repoint_part
from crmkit.customers.queries import records_of, register_360_part
from crmkit.kernel.i18n import N_
from crmkit.kernel.query import Order
from crmkit.ports import register_queries
from crmkit.rules.approvals import document_hook, register_approvable
from crmkit.rules.permissions import register_resource
from crmkit.rules.permissions.catalog import Declaration, ServiceKind, register_service
from crmkit.rules.permissions.model import DEFAULT_OPERATIONS
from crmkit.rules.reminders.model import ReminderSource, register_source

__all__ = ["register_document_hooks"]

register_resource(PLAN, entity=Plan)
register_resource(INSTALLMENT, entity=Installment)
register_resource(
    RECEIPT, entity=Receipt, operations=DEFAULT_OPERATIONS | {"confirm", "allocate", "reverse"}
)
register_resource(
    REFUND, entity=Refund, operations=DEFAULT_OPERATIONS | {"pay"}, owner_field="requested_by"
)
register_resource(
    INVOICE, entity=Invoice, operations=DEFAULT_OPERATIONS | {"issue", "send", "void", "cancel"}
)
register_resource(
    EXPENSE_CLAIM,
    entity=ExpenseClaim,
    operations=DEFAULT_OPERATIONS | {"submit", "reimburse"},
    owner_field="claimant_id",
)
register_resource(CREDIT_OVERRIDE, entity=CreditOverride, owner_field="requested_by")
LABELS = (
    N_("billing_plan"),
    N_("installment"),
    N_("receipt"),
    N_("refund"),
    N_("invoice"),
    N_("expense_claim"),
    N_("confirm"),
    N_("allocate"),
    N_("reverse"),
    N_("pay"),
    N_("issue"),
    N_("send"),
    N_("void"),
    N_("cancel"),
    N_("submit"),
    N_("reimburse"),
)

register_source(
    ReminderSource(
        "installment", Installment, title_field="label", owner_field="owner_id", created_field=None
    )
)

READ, LIST, REPORT, WRITE = (
    ServiceKind.READ,
    ServiceKind.LIST,
    ServiceKind.REPORT,
    ServiceKind.WRITE,
)
AREA = "crmkit.billing"
CUSTOMER_ID = {"customer_id": "customer"}
RECEIPT_ID = {"receipt_id": "receipt"}
REFUND_ID = {"refund_id": "refund"}
INVOICE_ID = {"invoice_id": "invoice"}
CLAIM_ID = {"claim_id": "expense_claim"}

_TABLE: tuple[Declaration, ...] = (
    # plans
    (create_plan, WRITE, "billing_plan", "create", {}),
    (get_plan, READ, "billing_plan", "view", {"plan_id": "billing_plan"}),
    (set_milestone, WRITE, "billing_plan", "edit", {"plan_id": "billing_plan"}),
    (define_payment_terms, WRITE, "billing_plan", "create", {}),
    # receipts and the ledger
    (record_receipt, WRITE, "receipt", "create", CUSTOMER_ID),
    (get_receipt, READ, "receipt", "view", RECEIPT_ID),
    (confirm_receipt, WRITE, "receipt", "confirm", RECEIPT_ID),
    (allocate_receipt, WRITE, "receipt", "allocate", RECEIPT_ID),
    (allocate_receipts, WRITE, "receipt", "allocate", {"receipt_ids": "receipt"}),
    (apply_credit, WRITE, "receipt", "allocate", CUSTOMER_ID),
    (deallocate, WRITE, "receipt", "allocate", {"entry_id": "ledger_entry"}),
    (reverse_receipt, WRITE, "receipt", "reverse", RECEIPT_ID),
    (customer_credit, READ, "receipt", "view", CUSTOMER_ID),
    (ledger_entries, LIST, "receipt", "view", {}),
    (verify_ledger, REPORT, "receipt", "view", {}),
    (balance_mismatches, REPORT, "receipt", "view", {}),
    # refunds
    (request_refund, WRITE, "refund", "create", RECEIPT_ID),
    (approve_refund, WRITE, "refund", "approve", REFUND_ID),
    (reject_refund, WRITE, "refund", "approve", REFUND_ID),
    (pay_refund, WRITE, "refund", "pay", REFUND_ID),
    # invoices
    (request_invoice, WRITE, "invoice", "create", CUSTOMER_ID),
    (issue_invoice, WRITE, "invoice", "issue", INVOICE_ID),
    (send_invoice, WRITE, "invoice", "send", INVOICE_ID),
    (cancel_invoice, WRITE, "invoice", "cancel", INVOICE_ID),
    (void_invoice, WRITE, "invoice", "void", INVOICE_ID),
    (document_summary, READ, "invoice", "view", {"document": "contract"}),
    # credit
    (check_credit, READ, "customer", "view", CUSTOMER_ID),
    (resubmit_credit_override, WRITE, "credit_override", "create", {"document_id": "sales_order"}),
    (credit_overrides, LIST, "credit_override", "view", {"document_id": "sales_order"}),
    # expenses
    (set_expense_limits, WRITE, "expense_claim", "administer", {}),
    (draft_expense_claim, WRITE, "expense_claim", "create", {}),
    (submit_expense_claim, WRITE, "expense_claim", "submit", CLAIM_ID),
    (approve_expense_claim, WRITE, "expense_claim", "approve", CLAIM_ID),
    (reject_expense_claim, WRITE, "expense_claim", "approve", CLAIM_ID),
    (reimburse_expense_claim, WRITE, "expense_claim", "reimburse", CLAIM_ID),
    # reports
    (aging_report, REPORT, "installment", "view", {}),
    (days_sales_outstanding, REPORT, "installment", "view", {}),
    (collection_forecast, REPORT, "installment", "view", {}),
    (customer_margin, REPORT, "receipt", "view", {}),
    (expense_analysis, REPORT, "expense_claim", "view", {}),
)
for service, kind, resource, operation, records in _TABLE:
    register_service(service, kind, resource, operation, records=records, package=AREA)


def register_document_hooks() -> None:
    """(Re-)register the refund, expense-claim and credit-resubmission hooks.

    Called on import; call it again if something replaced the hooks of ``"refund"``,
    ``"expense_claim"`` or ``"credit_override_resubmission"`` (the registry keeps one
    set per document type).
    """
    # A refund or claim the flow rejects, returns or sees withdrawn is rejected for good
    # (neither state machine has a way back to a draft); a new request starts over.
    register_approvable(
        REFUND_DOCUMENT,
        entity=Refund,
        on_approved=refund_decided("approve"),
        on_closed=refund_decided("reject"),
        describe=REFUND_APPROVAL.describe(),
    )
    register_approvable(
        EXPENSE_CLAIM_DOCUMENT,
        entity=ExpenseClaim,
        on_approved=document_hook(ExpenseClaim, approve_claim),
        on_closed=document_hook(ExpenseClaim, reject_claim),
        describe=EXPENSE_CLAIM_APPROVAL.describe(),
    )
    # A refused resubmission changes nothing: the document stays on hold.
    register_approvable(
        CREDIT_RESUBMISSION_DOCUMENT,
        entity=CreditOverride,
        on_approved=release_held_document,
        describe=describe_override,
    )


register_document_hooks()

# The memory implementations of the read models (the SQL ones are the adapter's).
register_queries("memory", AgingQuery, MemoryAgingQuery)
register_queries("memory", CollectionQuery, MemoryCollectionQuery)
register_queries("memory", ExpenseQuery, MemoryExpenseQuery)
register_queries("memory", LedgerHeads, MemoryLedgerHeads)

for _name, _entity in (
    ("plans", Plan),
    ("installments", Installment),
    ("receipts", Receipt),
    ("refunds", Refund),
    ("invoices", Invoice),
):
    register_merge_part(f"billing.{_name}", *repoint_part(_entity))

register_360_part(
    "installments",
    INSTALLMENT,
    records_of(Installment, INSTALLMENT, order_by=(Order("due_date"), Order("seq"), Order("id"))),
)
register_360_part(
    "receipts",
    RECEIPT,
    records_of(
        Receipt,
        RECEIPT,
        order_by=(Order("received_on", descending=True), Order("id", descending=True)),
    ),
)
