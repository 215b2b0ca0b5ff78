"""Refunds: requested, approved, then paid out in one or more parts."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from crmkit.billing.approvals import REFUND_DOCUMENT, route_refund
from crmkit.billing.errors import OverRefund
from crmkit.billing.flows import REFUND_FLOW
from crmkit.billing.model.ledger import (
    EntryKind,
    LedgerEntry,
)
from crmkit.billing.model.receipts import (
    Receipt,
    Refund,
    RefundId,
    RefundPaid,
    RefundRequested,
)
from crmkit.billing.services._frame import (
    RECEIPT,
    REFUND,
    Post,
    _draft,
    _entries_by_id,
    _invalid,
    _money_command,
    _require,
)
from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.i18n import N_
from crmkit.kernel.money import Money
from crmkit.ports import UnitOfWork
from crmkit.rules.approvals import ensure_editable
from crmkit.rules.permissions import guarded

__all__ = [
    "approve_refund",
    "pay_refund",
    "reject_refund",
    "request_refund",
]


# -- refunds ----------------------------------------------------------------------------------


def request_refund(
    crm: Crm,
    actor: Actor,
    receipt_id: UUID,
    *,
    amount: Money,
    reason_text: str,
    idempotency_key: str,
) -> Refund:
    """Ask to pay back part of a receipt's unallocated money; it waits for approval.

    With an active ``"refund"`` approval flow the refund enters it in the same
    transaction (see :mod:`crmkit.billing.approvals`); otherwise it waits for
    :func:`approve_refund`.

    Raises:
        ValidationError: the receipt is not confirmed or the amount is not positive.
        OverRefund: more than the receipt has unallocated.
        IdempotencyConflict: the key was used for a different request.
        NoApprover: the refund flow's stage resolves to nobody (nothing is stored).
    """
    payload = {"receipt_id": receipt_id, "amount": amount, "reason": reason_text}

    def body(uow: UnitOfWork, post: Post) -> tuple[Refund, list[UUID]]:
        receipt = uow.repository(Receipt).get(receipt_id)
        _require(uow, actor, "view", RECEIPT, receipt)
        if not receipt.is_confirmed:
            raise _invalid("refund", "receipt_id", N_("only confirmed money can be refunded"))
        if not amount.is_positive or amount.currency != receipt.currency:
            raise _invalid(
                "refund",
                "amount",
                N_("must be above zero, in {currency}"),
                currency=receipt.currency,
            )
        if amount > receipt.unallocated:
            raise OverRefund(value=str(amount), maximum=str(receipt.unallocated))
        now = crm.now()
        refund = Refund(
            id=RefundId(crm.ids.new(now)),
            tenant_id=actor.tenant_id,
            receipt_id=receipt.id,
            customer_id=receipt.customer_id,
            amount=amount,
            reason=reason_text,
            requested_at=now,
            requested_by=actor.user_id,
        )
        uow.repository(Refund).add(refund)
        uow.outbox.add(
            RefundRequested(
                tenant_id=refund.tenant_id, aggregate_id=refund.id, occurred_at=now, amount=amount
            )
        )
        if route_refund(uow, actor, refund, now):
            # A flow no stage applies to approves it at once: read it back.
            refund = uow.repository(Refund).get(refund.id)
        return refund, [refund.id]

    def replay(uow: UnitOfWork, ids: tuple[UUID, ...]) -> Refund:
        return uow.repository(Refund).get(ids[0])

    return _money_command(
        crm,
        actor,
        "request_refund",
        idempotency_key,
        payload,
        body,
        replay,
        access=("create", REFUND),
    )


def _decide_refund(crm: Crm, actor: Actor, refund_id: UUID, trigger: str) -> Refund:
    def work(uow: UnitOfWork) -> Refund:
        repo = uow.repository(Refund)
        refund = repo.get(refund_id)
        _require(uow, actor, "approve", REFUND, refund)
        ensure_editable(uow, REFUND_DOCUMENT, refund.id)
        event = REFUND_FLOW.fire(refund, trigger, now=crm.now())
        repo.save(refund)
        if event is not None:
            uow.outbox.add(event)
        return refund

    return guarded(crm, actor, work)


def approve_refund(crm: Crm, actor: Actor, refund_id: UUID) -> Refund:
    """Approve a requested refund by hand (tenants without a refund approval flow).

    Raises:
        InvalidTransition: the refund is not waiting for approval.
        DocumentLocked: an approval flow is deciding the refund.
    """
    return _decide_refund(crm, actor, refund_id, "approve")


def reject_refund(crm: Crm, actor: Actor, refund_id: UUID) -> Refund:
    """Reject a requested refund by hand.

    Raises:
        InvalidTransition: the refund is not waiting for approval.
        DocumentLocked: an approval flow is deciding the refund.
    """
    return _decide_refund(crm, actor, refund_id, "reject")


def pay_refund(
    crm: Crm,
    actor: Actor,
    refund_id: UUID,
    *,
    idempotency_key: str,
    amount: Money | None = None,
    paid_on: date | None = None,
) -> LedgerEntry:
    """Pay out (part of) an approved refund; several calls make a refund plan.

    Args:
        amount: this payout; the whole remaining amount when omitted.

    Raises:
        InvalidTransition: the refund is not approved (or already fully paid).
        OverRefund: more than the refund has left, or than the receipt has unallocated.
        IdempotencyConflict: the key was used for a different request.
    """
    payload = {"refund_id": refund_id, "amount": amount, "paid_on": paid_on}

    def body(uow: UnitOfWork, post: Post) -> tuple[LedgerEntry, list[UUID]]:
        refunds = uow.repository(Refund)
        refund = refunds.get(refund_id)
        _require(uow, actor, "pay", REFUND, refund)
        receipts = uow.repository(Receipt)
        receipt = receipts.get(refund.receipt_id)
        payout = refund.remaining if amount is None else amount
        if not payout.is_positive:
            raise _invalid("refund", "amount", N_("must be above zero"))
        if payout > refund.remaining:
            raise OverRefund(value=str(payout), maximum=str(refund.remaining))
        if payout > receipt.unallocated:
            raise OverRefund(value=str(payout), maximum=str(receipt.unallocated))
        REFUND_FLOW.fire(refund, "pay", amount=payout)
        refund.paid = refund.paid + payout
        receipt.refunded = receipt.refunded + payout
        refunds.save(refund)
        receipts.save(receipt)
        day = paid_on or crm.now().date()
        (entry,) = post(
            [
                _draft(
                    EntryKind.REFUND,
                    payout,
                    day,
                    receipt,
                    refund_id=refund.id,
                    entry_id=crm.new_id(),
                )
            ]
        )
        uow.outbox.add(
            RefundPaid(
                tenant_id=refund.tenant_id,
                aggregate_id=refund.id,
                occurred_at=crm.now(),
                amount=payout,
            )
        )
        return entry, [entry.id]

    def replay(uow: UnitOfWork, ids: tuple[UUID, ...]) -> LedgerEntry:
        return _entries_by_id(uow, ids)[0]

    return _money_command(
        crm, actor, "pay_refund", idempotency_key, payload, body, replay, access=("pay", REFUND)
    )
