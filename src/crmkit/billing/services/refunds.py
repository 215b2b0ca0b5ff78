"""Refunds: requested (from one receipt, several, or a customer's credit), approved, then
paid out in one or more parts, each part one ledger entry per receipt drawn on."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from uuid import UUID

from crmkit.billing.errors import OverRefund
from crmkit.billing.model.flows import REFUND_FLOW
from crmkit.billing.model.ledger import (
    EntryKind,
    LedgerEntry,
)
from crmkit.billing.model.receipts import (
    Receipt,
    Refund,
    RefundId,
    RefundPaid,
    RefundPart,
    RefundRequested,
)
from crmkit.billing.services._frame import (
    RECEIPT,
    REFUND,
    Post,
    _draft,
    _entries_by_id,
    _money_command,
    _require,
    _viewable_customer,
)
from crmkit.billing.services.approvals import REFUND_APPROVAL
from crmkit.billing.services.credit_balance import _credit_receipts
from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.event_origin import origin
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.limits import to_amount, to_date
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Query
from crmkit.ports import UnitOfWork
from crmkit.rules.approvals import ensure_not_in_review
from crmkit.rules.permissions import grants_for
from crmkit.rules.permissions.access import load_for

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
    receipt_id: UUID | None = None,
    *,
    reason_text: str,
    idempotency_key: str,
    amount: Money | None = None,
    sources: Mapping[UUID, Money] | None = None,
    customer_id: UUID | None = None,
) -> Refund:
    """Ask to pay back unallocated money; the refund waits for approval.

    Name where the money comes from in one of three ways:

    - ``receipt_id`` and ``amount``: from one receipt;
    - ``sources``: from several receipts, ``{receipt_id: amount}`` (``amount``, when
      given, must be their sum); payouts drain them in the order given;
    - ``customer_id`` and ``amount``: from the customer's credit, drawing on its
      receipts with unallocated money in ``amount``'s currency, oldest first.

    With an active ``"refund"`` approval flow the refund enters it in the same
    transaction (see :mod:`crmkit.billing.services.approvals`); otherwise it waits for
    :func:`approve_refund`.

    Raises:
        ValidationError: not exactly one of the three ways, a receipt is not
            confirmed, receipts of different customers, or an amount is not positive.
        OverRefund: more than a receipt (or the customer's credit) has unallocated.
        IdempotencyConflict: the key was used for a different request.
        NoApprover: the refund flow's stage resolves to nobody (nothing is stored).
    """
    amount = None if amount is None else to_amount(amount, entity="refund", field="amount")
    ways = [receipt_id is not None, sources is not None, customer_id is not None]
    if sum(ways) != 1:
        raise invalid(
            "refund", "sources", N_("name one receipt, several receipts, or a customer's credit")
        )
    named = list((sources or {}).items())
    payload: dict[str, object] = {"receipt_id": receipt_id, "amount": amount, "reason": reason_text}
    # Only the new ways add keys, so a one-receipt request hashes as it always did.
    if sources is not None:
        payload["sources"] = [[str(r), m] for r, m in named]
    if customer_id is not None:
        payload["customer_id"] = customer_id

    def body(uow: UnitOfWork, post: Post) -> tuple[Refund, list[UUID]]:
        parts = _parts(uow, actor, receipt_id, amount, named, customer_id)
        total = sum((m for _r, m in parts), Money.zero(parts[0][1].currency))
        if amount is not None and amount != total:
            raise invalid("refund", "amount", N_("the parts must add up to the refund"))
        now = crm.now()
        first = parts[0][0]
        refund = Refund(
            id=RefundId(crm.ids.new(now)),
            tenant_id=actor.tenant_id,
            receipt_id=first.id,
            customer_id=first.customer_id,
            amount=total,
            reason=reason_text,
            requested_at=now,
            requested_by=actor.user_id,
            sources=[RefundPart(r.id, m) for r, m in parts],
        )
        uow.repository(Refund).add(refund)
        uow.outbox.add(RefundRequested(**origin(refund, now), amount=total))
        if REFUND_APPROVAL.route(uow, actor, refund, now):
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


def _parts(
    uow: UnitOfWork,
    actor: Actor,
    receipt_id: UUID | None,
    amount: Money | None,
    named: list[tuple[UUID, Money]],
    customer_id: UUID | None,
) -> list[tuple[Receipt, Money]]:
    """The receipts a refund request draws on, each checked, with how much from each."""
    receipts = uow.repository(Receipt)
    if customer_id is not None:
        _viewable_customer(uow, grants_for(uow, actor), customer_id)
        if amount is None or not amount.is_positive:
            raise invalid("refund", "amount", N_("must be above zero"))
        parts: list[tuple[Receipt, Money]] = []
        left = amount
        for receipt in _credit_receipts(uow, customer_id, amount.currency):
            if not left.is_positive:
                break
            _require(uow, actor, "view", RECEIPT, receipt)
            take = min(left, receipt.unallocated)
            parts.append((receipt, take))
            left -= take
        if left.is_positive:
            raise OverRefund(value=str(amount), maximum=str(amount - left))
        return parts
    # Permission first: every named receipt is one the actor may view before their
    # input or the receipt's state is judged, so a refusal says nothing about it.
    grants = grants_for(uow, actor)
    for rid in [*([receipt_id] if receipt_id is not None else []), *(r for r, _ in named)]:
        load_for(uow, grants, Receipt, rid, "view", RECEIPT)
    if receipt_id is not None:
        if amount is None:
            raise invalid("refund", "amount", N_("is required"))
        named = [(receipt_id, amount)]
    if not named:
        raise invalid("refund", "sources", N_("name at least one receipt"))
    found: list[tuple[Receipt, Money]] = []
    for rid, part in named:
        receipt = receipts.get(rid)
        _require(uow, actor, "view", RECEIPT, receipt)
        if not receipt.is_confirmed:
            raise invalid("refund", "receipt_id", N_("only confirmed money can be refunded"))
        if not part.is_positive or part.currency != receipt.currency:
            raise invalid(
                "refund",
                "amount",
                N_("must be above zero, in {currency}"),
                currency=receipt.currency,
            )
        if part > receipt.unallocated:
            raise OverRefund(value=str(part), maximum=str(receipt.unallocated))
        if found and receipt.customer_id != found[0][0].customer_id:
            raise invalid("refund", "sources", N_("all receipts must be the same customer's"))
        found.append((receipt, part))
    return found


def approve_refund(crm: Crm, actor: Actor, refund_id: UUID) -> Refund:
    """Approve a requested refund by hand (tenants without a refund approval flow).

    Raises:
        InvalidTransition: the refund is not waiting for approval.
        DocumentLocked: an approval flow is deciding the refund.
        SelfApprovalForbidden: the actor asked for the refund and the tenant does not
            allow self-approval.
    """
    return REFUND_APPROVAL.decide(crm, actor, refund_id, "approve")


def reject_refund(crm: Crm, actor: Actor, refund_id: UUID) -> Refund:
    """Reject a requested refund by hand.

    Raises:
        InvalidTransition: the refund is not waiting for approval.
        DocumentLocked: an approval flow is deciding the refund.
    """
    return REFUND_APPROVAL.decide(crm, actor, refund_id, "reject")


def _drawn_per_receipt(uow: UnitOfWork, refund: Refund) -> dict[UUID, Money]:
    where = F("refund_id").eq(refund.id) & F("kind").eq(EntryKind.REFUND)
    drawn: dict[UUID, Money] = {}
    for entry in uow.repository(LedgerEntry).query(Query(where=where)):
        if entry.receipt_id is not None:
            drawn[entry.receipt_id] = (
                drawn.get(entry.receipt_id, Money.zero(entry.amount.currency)) + entry.amount
            )
    return drawn


def pay_refund(
    crm: Crm,
    actor: Actor,
    refund_id: UUID,
    *,
    idempotency_key: str,
    amount: Money | None = None,
    paid_on: date | None = None,
) -> list[LedgerEntry]:
    """Pay out (part of) an approved refund; several calls make a refund plan.

    A payout drains the refund's receipts in order: each part is paid in full before
    the next is touched, and every receipt drawn on gets its own ledger entry.

    Args:
        amount: this payout; the whole remaining amount when omitted.

    Returns:
        One refund entry per receipt the payout drew on.

    Raises:
        DocumentLocked: an approval flow is still deciding the refund.
        InvalidTransition: the refund is not approved (or already fully paid).
        OverRefund: more than the refund has left, or than a receipt still has
            unallocated (it was allocated elsewhere since the request).
        IdempotencyConflict: the key was used for a different request.
    """
    amount = None if amount is None else to_amount(amount, entity="refund", field="amount")
    paid_on = None if paid_on is None else to_date(paid_on, entity="refund", field="paid_on")
    payload = {"refund_id": refund_id, "amount": amount, "paid_on": paid_on}

    def body(uow: UnitOfWork, post: Post) -> tuple[list[LedgerEntry], list[UUID]]:
        refunds = uow.repository(Refund)
        refund = refunds.get(refund_id)
        _require(uow, actor, "pay", REFUND, refund)
        ensure_not_in_review(uow, refund)
        payout = refund.remaining if amount is None else amount
        if not payout.is_positive:
            raise invalid("refund", "amount", N_("must be above zero"))
        if payout > refund.remaining:
            raise OverRefund(value=str(payout), maximum=str(refund.remaining))
        REFUND_FLOW.fire(refund, "pay", amount=payout)
        # What each part has paid out so far is read from the ledger, not cached.
        drawn = _drawn_per_receipt(uow, refund)
        receipts = {r.id: r for r in uow.repository(Receipt).get_many(refund.receipt_ids)}
        day = paid_on or crm.now().date()
        drafts, left = [], payout
        for part in refund.sources:
            take = min(left, part.amount - drawn.get(part.receipt_id, Money.zero(payout.currency)))
            if not take.is_positive:
                continue
            receipt = receipts[part.receipt_id]
            if take > receipt.unallocated:
                raise OverRefund(value=str(take), maximum=str(receipt.unallocated))
            receipt.refunded = receipt.refunded + take
            uow.repository(Receipt).save(receipt)
            drafts.append(
                _draft(
                    EntryKind.REFUND, take, day, receipt, refund_id=refund.id, entry_id=crm.new_id()
                )
            )
            left -= take
            if not left.is_positive:
                break
        refund.paid = refund.paid + payout
        refunds.save(refund)
        entries = post(drafts)
        uow.outbox.add(RefundPaid(**origin(refund, crm.now()), amount=payout))
        return entries, [e.id for e in entries]

    def replay(uow: UnitOfWork, ids: tuple[UUID, ...]) -> list[LedgerEntry]:
        return _entries_by_id(uow, ids)

    return _money_command(
        crm, actor, "pay_refund", idempotency_key, payload, body, replay, access=("pay", REFUND)
    )
