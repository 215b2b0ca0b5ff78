"""Tables of the billing area (migration branch ``billing``: revisions ``0006``, ``0016``)."""

from __future__ import annotations

from crmkit.adapters.sql.mapping import Mapping, map_entity
from crmkit.adapters.sql.metadata import metadata
from crmkit.billing.model.credit import CreditOverride
from crmkit.billing.model.expenses import ClaimLine, ExpenseClaim, ExpensePolicy
from crmkit.billing.model.invoices import Invoice
from crmkit.billing.model.ledger import IdempotencyRecord, LedgerEntry, LedgerHead
from crmkit.billing.model.plans import Installment, Plan
from crmkit.billing.model.receipts import Receipt, Refund
from crmkit.billing.model.terms import PaymentTerms

__all__ = [
    "CLAIM_LINES",
    "CREDIT_OVERRIDES",
    "EXPENSE_CLAIMS",
    "EXPENSE_POLICIES",
    "IDEMPOTENCY",
    "INSTALLMENTS",
    "INVOICES",
    "LEDGER_ENTRIES",
    "LEDGER_HEADS",
    "MAPPINGS",
    "PAYMENT_TERMS",
    "PLANS",
    "RECEIPTS",
    "REFUNDS",
]

PAYMENT_TERMS = map_entity(PaymentTerms, "billing_payment_terms", metadata, indexes=[("name",)])
PLANS = map_entity(
    Plan,
    "billing_plans",
    metadata,
    indexes=[("customer_id",), ("document_type", "document_id")],
)
INSTALLMENTS = map_entity(
    Installment,
    "billing_installments",
    metadata,
    # Aging and allocation read open installments per customer or by due date.
    indexes=[
        ("plan_id", "seq"),
        ("customer_id", "status"),
        ("status", "due_date"),
        ("owner_id",),
        ("due_date",),
    ],
)
RECEIPTS = map_entity(
    Receipt,
    "billing_receipts",
    metadata,
    indexes=[("customer_id", "state"), ("state", "received_on")],
)
REFUNDS = map_entity(Refund, "billing_refunds", metadata, indexes=[("receipt_id",)])
LEDGER_ENTRIES = map_entity(
    LedgerEntry,
    "billing_ledger_entries",
    metadata,
    # refund_id: a payout reads what each of the refund's receipts paid out so far.
    indexes=[("receipt_id",), ("installment_id",), ("refund_id",)],
    # One entry per place in the tenant's chain: a forked chain cannot be stored.
    unique=[("seq",)],
)
LEDGER_HEADS = map_entity(LedgerHead, "billing_ledger_heads", metadata)
INVOICES = map_entity(Invoice, "billing_invoices", metadata, indexes=[("customer_id", "issued_on")])
EXPENSE_CLAIMS = map_entity(
    ExpenseClaim,
    "billing_expense_claims",
    metadata,
    indexes=[("claimant_id", "state"), ("state",)],
)
# Expense analysis sums lines of a period: (spent_on) serves its date range.
CLAIM_LINES = map_entity(
    ClaimLine, "billing_expense_lines", metadata, indexes=[("claim_id",), ("spent_on",)]
)
EXPENSE_POLICIES = map_entity(ExpensePolicy, "billing_expense_policies", metadata)
CREDIT_OVERRIDES = map_entity(
    CreditOverride, "billing_credit_overrides", metadata, indexes=[("document_id",)]
)
IDEMPOTENCY = map_entity(IdempotencyRecord, "billing_idempotency", metadata)

#: Every mapping of this area, for :mod:`crmkit.adapters.sql.tables` to register.
MAPPINGS: tuple[Mapping, ...] = (
    PAYMENT_TERMS,
    PLANS,
    INSTALLMENTS,
    RECEIPTS,
    REFUNDS,
    LEDGER_ENTRIES,
    LEDGER_HEADS,
    INVOICES,
    EXPENSE_CLAIMS,
    CLAIM_LINES,
    EXPENSE_POLICIES,
    CREDIT_OVERRIDES,
    IDEMPOTENCY,
)
