"""Tables of the billing area (migration branch ``billing``: revisions ``0006``, ``0016``)."""

from __future__ import annotations

from crmkit.adapters.sql.mapping import map_entity
from crmkit.adapters.sql.tables import metadata, register
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
    "PAYMENT_TERMS",
    "PLANS",
    "RECEIPTS",
    "REFUNDS",
]

PAYMENT_TERMS = register(
    map_entity(PaymentTerms, "billing_payment_terms", metadata, indexes=[("name",)])
)
PLANS = register(
    map_entity(
        Plan,
        "billing_plans",
        metadata,
        indexes=[("customer_id",), ("document_type", "document_id")],
    )
)
INSTALLMENTS = register(
    map_entity(
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
)
RECEIPTS = register(
    map_entity(
        Receipt,
        "billing_receipts",
        metadata,
        indexes=[("customer_id", "state"), ("state", "received_on")],
    )
)
REFUNDS = register(map_entity(Refund, "billing_refunds", metadata, indexes=[("receipt_id",)]))
LEDGER_ENTRIES = register(
    map_entity(
        LedgerEntry,
        "billing_ledger_entries",
        metadata,
        # refund_id: a payout reads what each of the refund's receipts paid out so far.
        indexes=[("receipt_id",), ("installment_id",), ("refund_id",)],
        # One entry per place in the tenant's chain: a forked chain cannot be stored.
        unique=[("seq",)],
    )
)
LEDGER_HEADS = register(map_entity(LedgerHead, "billing_ledger_heads", metadata))
INVOICES = register(
    map_entity(Invoice, "billing_invoices", metadata, indexes=[("customer_id", "issued_on")])
)
EXPENSE_CLAIMS = register(
    map_entity(
        ExpenseClaim,
        "billing_expense_claims",
        metadata,
        indexes=[("claimant_id", "state"), ("state",)],
    )
)
# Expense analysis sums lines of a period: (spent_on) serves its date range.
CLAIM_LINES = register(
    map_entity(ClaimLine, "billing_expense_lines", metadata, indexes=[("claim_id",), ("spent_on",)])
)
EXPENSE_POLICIES = register(map_entity(ExpensePolicy, "billing_expense_policies", metadata))
CREDIT_OVERRIDES = register(
    map_entity(CreditOverride, "billing_credit_overrides", metadata, indexes=[("document_id",)])
)
IDEMPOTENCY = register(map_entity(IdempotencyRecord, "billing_idempotency", metadata))

# The SQL read models register themselves with the ports on import.
from crmkit.adapters.sql.billing import queries as _billing_queries  # noqa: E402, F401
