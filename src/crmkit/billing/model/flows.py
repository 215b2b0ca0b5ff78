"""Billing state machines, declared once as data.

An expense claim is drafted, submitted, approved (through an extra stage when a
line is over its category limit) or rejected, and reimbursed. An invoice is requested, issued, sent, and may be voided (by a red-letter
invoice once issued). A receipt moves from *slip received* to *confirmed* when the money shows on the
account; either may be *reversed* (a slip that never turned into money, a bounced
transfer). A refund is *requested*, then *approved* or *rejected*; an approved
refund is paid out in one or more parts until *refunded*. Only the moves listed
here exist; anything else raises ``InvalidTransition``.
"""

from __future__ import annotations

from typing import Any

from crmkit.billing.model.expenses import (
    ClaimState,
    ExpenseClaim,
    ExpenseClaimReimbursed,
    ExpenseClaimSubmitted,
)
from crmkit.billing.model.invoices import Invoice, InvoiceIssued, InvoiceState, InvoiceVoided
from crmkit.billing.model.receipts import (
    ReceiptConfirmed,
    ReceiptReversed,
    ReceiptState,
    Refund,
    RefundApproved,
    RefundRejected,
    RefundState,
)
from crmkit.kernel.machine import Guard, Machine, Transition

__all__ = ["EXPENSE_CLAIM_FLOW", "INVOICE_FLOW", "RECEIPT_FLOW", "REFUND_FLOW"]


def _fully_paid(refund: Refund, *, amount: Any) -> bool:
    return bool(refund.paid + amount == refund.amount)


def _partly_paid(refund: Refund, *, amount: Any) -> bool:
    return bool(refund.paid + amount < refund.amount)


RECEIPT_FLOW: Machine[ReceiptState] = Machine(
    name="receipt",
    states=ReceiptState,
    initial=ReceiptState.SLIP_RECEIVED,
    final={ReceiptState.REVERSED},
    state_attr="state",
    transitions=[
        Transition(
            "confirm", ReceiptState.SLIP_RECEIVED, ReceiptState.CONFIRMED, event=ReceiptConfirmed
        ),
        Transition(
            "reverse",
            (ReceiptState.SLIP_RECEIVED, ReceiptState.CONFIRMED),
            ReceiptState.REVERSED,
            event=ReceiptReversed,
        ),
    ],
)
"""Receipt: slip_received -> confirmed -> reversed (a slip may be reversed too)."""

REFUND_FLOW: Machine[RefundState] = Machine(
    name="refund",
    states=RefundState,
    initial=RefundState.REQUESTED,
    final={RefundState.REFUNDED, RefundState.REJECTED},
    state_attr="state",
    transitions=[
        Transition("approve", RefundState.REQUESTED, RefundState.APPROVED, event=RefundApproved),
        Transition("reject", RefundState.REQUESTED, RefundState.REJECTED, event=RefundRejected),
        Transition(
            "pay",
            (RefundState.APPROVED, RefundState.PARTIALLY_REFUNDED),
            RefundState.REFUNDED,
            guard=Guard("pays_the_rest", _fully_paid),
        ),
        Transition(
            "pay",
            (RefundState.APPROVED, RefundState.PARTIALLY_REFUNDED),
            RefundState.PARTIALLY_REFUNDED,
            guard=Guard("pays_a_part", _partly_paid),
        ),
    ],
)
"""Refund: requested -> approved | rejected; approved -> partially_refunded -> refunded."""


def _is_not_red_letter(invoice: Invoice) -> bool:
    # A red letter reverses another invoice; voiding it would invoice the amount again.
    return not invoice.is_red_letter


INVOICE_FLOW: Machine[InvoiceState] = Machine(
    name="invoice",
    states=InvoiceState,
    initial=InvoiceState.REQUESTED,
    final={InvoiceState.VOIDED},
    state_attr="state",
    transitions=[
        Transition("issue", InvoiceState.REQUESTED, InvoiceState.ISSUED, event=InvoiceIssued),
        Transition("send", InvoiceState.ISSUED, InvoiceState.SENT),
        Transition("cancel", InvoiceState.REQUESTED, InvoiceState.VOIDED),
        Transition(
            "void",
            (InvoiceState.ISSUED, InvoiceState.SENT),
            InvoiceState.VOIDED,
            guard=Guard("is_not_red_letter", _is_not_red_letter),
            event=InvoiceVoided,
        ),
    ],
)
"""Invoice: requested -> issued -> sent; issued or sent -> voided (by a red-letter invoice)."""


def _needs_extra(claim: ExpenseClaim) -> bool:
    return claim.needs_extra_approval


def _no_extra(claim: ExpenseClaim) -> bool:
    return not claim.needs_extra_approval


EXPENSE_CLAIM_FLOW: Machine[ClaimState] = Machine(
    name="expense_claim",
    states=ClaimState,
    initial=ClaimState.DRAFT,
    final={ClaimState.REJECTED, ClaimState.REIMBURSED},
    state_attr="state",
    transitions=[
        Transition("submit", ClaimState.DRAFT, ClaimState.SUBMITTED, event=ExpenseClaimSubmitted),
        Transition(
            "approve",
            ClaimState.SUBMITTED,
            ClaimState.APPROVED,
            guard=Guard("within_limits", _no_extra),
        ),
        Transition(
            "approve",
            ClaimState.SUBMITTED,
            ClaimState.EXTRA_REVIEW,
            guard=Guard("over_a_limit", _needs_extra),
        ),
        Transition("approve", ClaimState.EXTRA_REVIEW, ClaimState.APPROVED),
        Transition("reject", (ClaimState.SUBMITTED, ClaimState.EXTRA_REVIEW), ClaimState.REJECTED),
        Transition(
            "reimburse", ClaimState.APPROVED, ClaimState.REIMBURSED, event=ExpenseClaimReimbursed
        ),
    ],
)
"""Expense claim: draft -> submitted -> (extra review ->) approved -> reimbursed; or rejected."""
