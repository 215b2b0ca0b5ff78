"""Receipts: recording money (or a slip), confirming it, and reversing it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from crmkit.billing.model.flows import RECEIPT_FLOW
from crmkit.billing.model.ledger import (
    EntryKind,
    LedgerEntry,
)
from crmkit.billing.model.plans import Direction
from crmkit.billing.model.receipts import (
    Receipt,
    ReceiptId,
    ReceiptRecorded,
    ReceiptState,
)
from crmkit.billing.services._frame import (
    RECEIPT,
    Post,
    _draft,
    _entries_by_id,
    _money_command,
    _replay_receipt,
    _require,
    _viewable_customer,
)
from crmkit.billing.services.allocation import _take_back, _undone
from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.event_origin import origin
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.limits import to_amount, to_date, to_member
from crmkit.kernel.money import Money
from crmkit.kernel.rates import ExchangeRates
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import grants_for, guarded

__all__ = [
    "confirm_receipt",
    "get_receipt",
    "record_receipt",
    "reverse_receipt",
]


def record_receipt(
    crm: Crm,
    actor: Actor,
    *,
    customer_id: UUID,
    amount: Money,
    received_on: date,
    idempotency_key: str,
    confirmed: bool = True,
    settle_in: str | None = None,
    rates: ExchangeRates | None = None,
    direction: Direction = Direction.RECEIVABLE,
    reference: str = "",
) -> Receipt:
    """Record money received (or, with ``confirmed=False``, a remittance slip only).

    Args:
        customer_id: who paid.
        amount: the amount as sent, in its own currency.
        received_on: the day the money (or the slip) arrived.
        idempotency_key: the caller's key for this request.
        confirmed: whether the money is already confirmed on the account.
        settle_in: the currency of the receivables it pays (default: its own).
        rates: the exchange-rate history; needed when ``settle_in`` differs.
        direction: receivable (money in) or payable (a payment to a supplier).
        reference: bank reference or slip number.

    Returns:
        The receipt; allocate it with :func:`allocate_receipt`.

    Raises:
        ValidationError: the amount is not positive or not at its minor unit, or a
            conversion is needed and no rates were given.
        RateNotFound: no rate on or before ``received_on``.
        NotFound: no such customer (or it is in the recycle bin).
        PermissionDenied: the actor may not create receipts, or may not view the customer.
        IdempotencyConflict: the key was used for a different request.
    """
    # What a form sends ("2026-03-01", a Money) is taken; anything else is refused here.
    amount = to_amount(amount, entity="receipt", field="amount")
    received_on = to_date(received_on, entity="receipt", field="received_on")
    direction = to_member(Direction, direction, entity="receipt", field="direction")
    if not amount.is_positive:
        raise invalid("receipt", "amount", N_("must be above zero"))
    amount.to_minor_units()
    target = settle_in or amount.currency
    if target == amount.currency:
        settled, rate, rate_on = amount, None, None
    else:
        if rates is None:
            raise invalid(
                "receipt", "settle_in", N_("converting to {currency} needs rates"), currency=target
            )
        found = rates.lookup(amount.currency, target, received_on)
        settled = rates.convert(amount, target, on=received_on)
        rate, rate_on = found.rate, found.on
    payload = {
        "customer_id": customer_id,
        "amount": amount,
        "received_on": received_on,
        "confirmed": confirmed,
        "settle_in": target,
        "direction": direction.value,
        "reference": reference,
    }

    def body(uow: UnitOfWork, post: Post) -> tuple[Receipt, list[UUID]]:
        now = crm.now()
        _viewable_customer(uow, grants_for(uow, actor), customer_id)
        receipt = Receipt(
            id=ReceiptId(crm.ids.new(now)),
            tenant_id=actor.tenant_id,
            direction=direction,
            customer_id=customer_id,
            amount=amount,
            settled=settled,
            rate=rate if rate is not None else Decimal(1),
            rate_on=rate_on,
            received_on=received_on,
            created_at=now,
            state=ReceiptState.SLIP_RECEIVED,
            owner_id=actor.user_id,
            reference=reference,
        )
        drafts = [
            _draft(EntryKind.SLIP_RECEIVED, settled, received_on, receipt, entry_id=crm.new_id())
        ]
        events: list[DomainEvent] = []
        if confirmed:
            event = RECEIPT_FLOW.fire(
                receipt,
                "confirm",
                now=now,
                payload={"settled": settled, "confirmed_on": received_on},
            )
            assert event is not None
            events.append(event)
            receipt.confirmed_on = received_on
            drafts = [
                _draft(
                    EntryKind.RECEIPT_CONFIRMED,
                    settled,
                    received_on,
                    receipt,
                    entry_id=drafts[0].id,
                )
            ]
        uow.repository(Receipt).add(receipt)
        post(drafts)
        uow.outbox.add(
            ReceiptRecorded(
                **origin(receipt, now),
                customer_id=customer_id,
                amount=amount,
                settled=settled,
                confirmed=confirmed,
            ),
            *events,
        )
        return receipt, [receipt.id]

    return _money_command(
        crm,
        actor,
        "record_receipt",
        idempotency_key,
        payload,
        body,
        _replay_receipt,
        access=("create", RECEIPT),
    )


def confirm_receipt(
    crm: Crm,
    actor: Actor,
    receipt_id: UUID,
    *,
    confirmed_on: date,
    idempotency_key: str,
    rates: ExchangeRates | None = None,
) -> Receipt:
    """Confirm that a slip's money arrived on the account; from now on it can be allocated.

    A receipt settled in another currency than it was sent in is settled again at the
    rate of ``confirmed_on``: the ledger counts the money at the rate of the day it
    arrived, while the slip (and the collection forecast) keep the slip day's rate.

    Args:
        rates: the exchange-rate history; needed when the receipt is converted.

    Raises:
        NotFound: no such receipt.
        InvalidTransition: the receipt is already confirmed or was reversed.
        ValidationError: the receipt is converted and no rates were given.
        RateNotFound: no rate on or before ``confirmed_on``.
        IdempotencyConflict: the key was used for a different request.
    """
    payload = {"receipt_id": receipt_id, "confirmed_on": confirmed_on}

    def body(uow: UnitOfWork, post: Post) -> tuple[Receipt, list[UUID]]:
        repo = uow.repository(Receipt)
        receipt = repo.get(receipt_id)
        _require(uow, actor, "confirm", RECEIPT, receipt)
        if receipt.amount.currency != receipt.currency:
            if rates is None:
                raise invalid(
                    "receipt",
                    "rates",
                    N_("confirming money sent in {sent} needs the rate of {day}"),
                    sent=receipt.amount.currency,
                    day=confirmed_on,
                )
            found = rates.lookup(receipt.amount.currency, receipt.currency, confirmed_on)
            receipt.settled = rates.convert(receipt.amount, receipt.currency, on=confirmed_on)
            receipt.rate, receipt.rate_on = found.rate, found.on
        event = RECEIPT_FLOW.fire(
            receipt,
            "confirm",
            now=crm.now(),
            payload={"settled": receipt.settled, "confirmed_on": confirmed_on},
        )
        receipt.confirmed_on = confirmed_on
        repo.save(receipt)
        post(
            [
                _draft(
                    EntryKind.RECEIPT_CONFIRMED,
                    receipt.settled,
                    confirmed_on,
                    receipt,
                    entry_id=crm.new_id(),
                )
            ]
        )
        uow.outbox.add(event)
        return receipt, [receipt.id]

    return _money_command(
        crm,
        actor,
        "confirm_receipt",
        idempotency_key,
        payload,
        body,
        _replay_receipt,
        access=("confirm", RECEIPT),
    )


def get_receipt(crm: Crm, actor: Actor, receipt_id: UUID) -> Receipt:
    """One receipt of the actor's tenant.

    Raises:
        NotFound: no such receipt.
    """

    def work(uow: UnitOfWork) -> Receipt:
        receipt = uow.repository(Receipt).get(receipt_id)
        _require(uow, actor, "view", RECEIPT, receipt)
        return receipt

    return guarded(crm, actor, work)


def reverse_receipt(
    crm: Crm,
    actor: Actor,
    receipt_id: UUID,
    *,
    reason_text: str,
    idempotency_key: str,
    on: date | None = None,
) -> list[LedgerEntry]:
    """Reverse a receipt (a bounced transfer, a slip that never became money).

    Its live allocations are taken back and its confirmed amount offset, each by a
    new entry; nothing is edited or deleted.

    Returns:
        The offsetting entries, the receipt's reversal last.

    Raises:
        InvalidTransition: the receipt was already reversed.
        ValidationError: part of it was refunded (that money already went back).
        IdempotencyConflict: the key was used for a different request.
    """
    payload = {"receipt_id": receipt_id, "reason": reason_text, "on": on}

    def body(uow: UnitOfWork, post: Post) -> tuple[list[LedgerEntry], list[UUID]]:
        repo = uow.repository(Receipt)
        receipt = repo.get(receipt_id)
        _require(uow, actor, "reverse", RECEIPT, receipt)
        if not receipt.refunded.is_zero:
            raise invalid("receipt", "refunded", N_("a refunded receipt cannot be reversed"))
        was_confirmed = receipt.is_confirmed
        day = on or crm.now().date()
        event = RECEIPT_FLOW.fire(
            receipt, "reverse", now=crm.now(), payload={"reason": reason_text}
        )
        drafts = []
        if was_confirmed:
            allocations, taken_back = _undone(uow, receipt.id)
            for entry in allocations:
                if entry.id not in taken_back:
                    drafts.append(_take_back(uow, crm, receipt, entry, day))
        amount = -receipt.settled if was_confirmed else Money.zero(receipt.currency)
        drafts.append(
            _draft(EntryKind.RECEIPT_REVERSED, amount, day, receipt, entry_id=crm.new_id())
        )
        repo.save(receipt)
        entries = post(drafts)
        uow.outbox.add(event)
        return entries, [e.id for e in entries]

    return _money_command(
        crm,
        actor,
        "reverse_receipt",
        idempotency_key,
        payload,
        body,
        _entries_by_id,
        access=("reverse", RECEIPT),
    )
