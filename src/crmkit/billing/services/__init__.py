"""Billing use cases: each function is one transaction.

Plans are made from payment terms; money commands (record and confirm a receipt,
allocate it, apply a customer's credit, take an allocation back, reverse a
receipt, pay a refund) write ledger entries and take an idempotency key: a retry
with the same key and request returns the first result and changes nothing, the
same key with a different request raises ``IdempotencyConflict``. Every money
command first locks the tenant's ledger head, so the commands of one tenant are
applied one after the other and the hash chain never forks; stale reads of a
receipt or installment still end in ``ConcurrencyConflict`` through the version
check (pass ``expected_version`` to pin the version a clerk's screen showed).

Refunds and expense claims go through the tenant's approval flow when it has one
(see :mod:`crmkit.billing.services.approvals`); otherwise :func:`approve_refund` and
:func:`approve_expense_claim` decide them by hand. :func:`check_credit` returns a
decision saying whether an approval is required (the same rule the order confirmation
applies), and :func:`resubmit_credit_override` asks again after a refused override.
"""

from __future__ import annotations

from crmkit.billing.services.allocation import allocate_receipt, allocate_receipts, deallocate
from crmkit.billing.services.credit import (
    CreditCheck,
    CreditDecision,
    CreditLimitCheck,
    check_credit,
    credit_check,
    credit_decision,
)
from crmkit.billing.services.credit_balance import apply_credit, customer_credit
from crmkit.billing.services.expenses import (
    EXPENSE_COLUMNS,
    approve_expense_claim,
    draft_expense_claim,
    expense_analysis,
    reimburse_expense_claim,
    reject_expense_claim,
    set_expense_limits,
    submit_expense_claim,
)
from crmkit.billing.services.invoices import (
    INVOICE_NUMBER_PATTERN,
    DocumentSummary,
    cancel_invoice,
    document_summary,
    invoice_number,
    issue_invoice,
    request_invoice,
    send_invoice,
    void_invoice,
)
from crmkit.billing.services.margin import MARGIN_COLUMNS, customer_margin
from crmkit.billing.services.overrides import (
    credit_overrides,
    ensure_override_editable,
    resubmit_credit_override,
)
from crmkit.billing.services.plans import (
    PlanView,
    create_plan,
    define_payment_terms,
    get_plan,
    set_milestone,
)
from crmkit.billing.services.receipts import (
    confirm_receipt,
    get_receipt,
    record_receipt,
    reverse_receipt,
)
from crmkit.billing.services.refunds import (
    approve_refund,
    pay_refund,
    reject_refund,
    request_refund,
)
from crmkit.billing.services.reports import (
    aging_report,
    balance_mismatches,
    collection_forecast,
    days_sales_outstanding,
    ledger_entries,
    verify_ledger,
)

__all__ = [
    "EXPENSE_COLUMNS",
    "INVOICE_NUMBER_PATTERN",
    "MARGIN_COLUMNS",
    "CreditCheck",
    "CreditDecision",
    "CreditLimitCheck",
    "DocumentSummary",
    "PlanView",
    "aging_report",
    "allocate_receipt",
    "allocate_receipts",
    "apply_credit",
    "approve_expense_claim",
    "approve_refund",
    "balance_mismatches",
    "cancel_invoice",
    "check_credit",
    "collection_forecast",
    "confirm_receipt",
    "create_plan",
    "credit_check",
    "credit_decision",
    "credit_overrides",
    "customer_credit",
    "customer_margin",
    "days_sales_outstanding",
    "deallocate",
    "define_payment_terms",
    "document_summary",
    "draft_expense_claim",
    "ensure_override_editable",
    "expense_analysis",
    "get_plan",
    "get_receipt",
    "invoice_number",
    "issue_invoice",
    "ledger_entries",
    "pay_refund",
    "record_receipt",
    "reimburse_expense_claim",
    "reject_expense_claim",
    "reject_refund",
    "request_invoice",
    "request_refund",
    "resubmit_credit_override",
    "reverse_receipt",
    "send_invoice",
    "set_expense_limits",
    "set_milestone",
    "submit_expense_claim",
    "verify_ledger",
    "void_invoice",
]
