"""What each public billing service reads and writes, declared once for the catalog.

See :mod:`crmkit.rules.permissions.catalog`: the conformance suite probes every
service listed here on every backend, and a public ``(crm, actor, ...)`` function
of this package missing here fails the completeness test.
"""

from __future__ import annotations

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
from crmkit.rules.permissions.catalog import Declaration, ServiceKind, register_service

READ, LIST, REPORT, WRITE = (
    ServiceKind.READ,
    ServiceKind.LIST,
    ServiceKind.REPORT,
    ServiceKind.WRITE,
)
AREA = "crmkit.billing"
CUSTOMER = {"customer_id": "customer"}
RECEIPT = {"receipt_id": "receipt"}
REFUND = {"refund_id": "refund"}
INVOICE = {"invoice_id": "invoice"}
CLAIM = {"claim_id": "expense_claim"}

_TABLE: tuple[Declaration, ...] = (
    # plans
    (create_plan, WRITE, "billing_plan", "create", {}),
    (get_plan, READ, "billing_plan", "view", {"plan_id": "billing_plan"}),
    (set_milestone, WRITE, "billing_plan", "edit", {"plan_id": "billing_plan"}),
    (define_payment_terms, WRITE, "billing_plan", "create", {}),
    # receipts and the ledger
    (record_receipt, WRITE, "receipt", "create", CUSTOMER),
    (get_receipt, READ, "receipt", "view", RECEIPT),
    (confirm_receipt, WRITE, "receipt", "confirm", RECEIPT),
    (allocate_receipt, WRITE, "receipt", "allocate", RECEIPT),
    (allocate_receipts, WRITE, "receipt", "allocate", {"receipt_ids": "receipt"}),
    (apply_credit, WRITE, "receipt", "allocate", CUSTOMER),
    (deallocate, WRITE, "receipt", "allocate", {"entry_id": "ledger_entry"}),
    (reverse_receipt, WRITE, "receipt", "reverse", RECEIPT),
    (customer_credit, READ, "receipt", "view", CUSTOMER),
    (ledger_entries, LIST, "receipt", "view", {}),
    (verify_ledger, REPORT, "receipt", "view", {}),
    (balance_mismatches, REPORT, "receipt", "view", {}),
    # refunds
    (request_refund, WRITE, "refund", "create", RECEIPT),
    (approve_refund, WRITE, "refund", "approve", REFUND),
    (reject_refund, WRITE, "refund", "approve", REFUND),
    (pay_refund, WRITE, "refund", "pay", REFUND),
    # invoices
    (request_invoice, WRITE, "invoice", "create", CUSTOMER),
    (issue_invoice, WRITE, "invoice", "issue", INVOICE),
    (send_invoice, WRITE, "invoice", "send", INVOICE),
    (cancel_invoice, WRITE, "invoice", "cancel", INVOICE),
    (void_invoice, WRITE, "invoice", "void", INVOICE),
    (document_summary, READ, "invoice", "view", {"document": "contract"}),
    # credit
    (check_credit, READ, "customer", "view", CUSTOMER),
    (resubmit_credit_override, WRITE, "credit_override", "create", {"document_id": "sales_order"}),
    (credit_overrides, LIST, "credit_override", "view", {"document_id": "sales_order"}),
    # expenses
    (set_expense_limits, WRITE, "expense_claim", "administer", {}),
    (draft_expense_claim, WRITE, "expense_claim", "create", {}),
    (submit_expense_claim, WRITE, "expense_claim", "submit", CLAIM),
    (approve_expense_claim, WRITE, "expense_claim", "approve", CLAIM),
    (reject_expense_claim, WRITE, "expense_claim", "approve", CLAIM),
    (reimburse_expense_claim, WRITE, "expense_claim", "reimburse", CLAIM),
    # reports
    (aging_report, REPORT, "installment", "view", {}),
    (days_sales_outstanding, REPORT, "installment", "view", {}),
    (collection_forecast, REPORT, "installment", "view", {}),
    (customer_margin, REPORT, "receipt", "view", {}),
    (expense_analysis, REPORT, "expense_claim", "view", {}),
)
for service, kind, resource, operation, records in _TABLE:
    register_service(service, kind, resource, operation, records=records, package=AREA)
