"""Receipts and their allocation: recording, confirming, allocating, credit, reversal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from crmkit.billing.errors import NothingToAllocate, OverAllocation
from crmkit.billing.flows import RECEIPT_FLOW
from crmkit.billing.model.ledger import (
    EntryDraft,
    EntryKind,
    LedgerEntry,
)
from crmkit.billing.model.plans import (
    Direction,
    Installment,
    InstallmentStatus,
)
from crmkit.billing.model.receipts import (
    Receipt,
    ReceiptAllocated,
    ReceiptId,
    ReceiptRecorded,
    ReceiptState,
)
from crmkit.billing.services._frame import (
    RECEIPT,
    Post,
    _draft,
    _entries_by_id,
    _invalid,
    _money_command,
    _replay_receipt,
    _require,
    _viewable_customer,
)
from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import (
    ConcurrencyConflict,
    reason,
)
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.limits import expect_type, to_amount, to_date, to_member
from crmkit.kernel.money import Money
from crmkit.kernel.query import TRUE, Expr, F, Order, Query
from crmkit.kernel.rates import ExchangeRates
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import grants_for, guarded

__all__ = [
    "allocate_receipt",
    "allocate_receipts",
    "apply_credit",
    "confirm_receipt",
    "customer_credit",
    "deallocate",
    "get_receipt",
    "record_receipt",
    "reverse_receipt",
]


# -- receipts ---------------------------------------------------------------------------------


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
    confirmed = expect_type(confirmed, bool, field="confirmed")
    if not amount.is_positive:
        raise _invalid("receipt", "amount", N_("must be above zero"))
    amount.to_minor_units()
    target = settle_in or amount.currency
    if target == amount.currency:
        settled, rate, rate_on = amount, None, None
    else:
        if rates is None:
            raise _invalid(
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
                tenant_id=receipt.tenant_id,
                aggregate_id=receipt.id,
                occurred_at=now,
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
                raise _invalid(
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
        if event is not None:
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


# -- allocation -------------------------------------------------------------------------------


def _oldest_due_first(item: Installment) -> tuple[Any, ...]:
    # Undated installments (milestone not reached) come after every dated one.
    return (item.due_date is None, item.due_date or date.max, item.raised_on, item.label, item.seq)


def _open_installments(uow: UnitOfWork, receipt: Receipt) -> list[Installment]:
    where = (
        F("customer_id").eq(receipt.customer_id)
        & F("direction").eq(receipt.direction)
        & F("status").is_in([InstallmentStatus.OPEN, InstallmentStatus.PARTIAL])
    )
    found = uow.repository(Installment).query(Query(where=where))
    return sorted(
        (i for i in found if i.amount.currency == receipt.currency), key=_oldest_due_first
    )


def _plan_allocation(
    uow: UnitOfWork,
    receipt: Receipt,
    to: Sequence[tuple[UUID, Money]] | None,
    available: Money,
) -> list[tuple[Installment, Money]]:
    """Which installments get how much of ``available`` (manual, or oldest due first)."""
    if to is None:
        plan: list[tuple[Installment, Money]] = []
        left = available
        for item in _open_installments(uow, receipt):
            if left.is_zero:
                break
            share = min(left, item.outstanding)
            plan.append((item, share))
            left = left - share
        return plan
    repo = uow.repository(Installment)
    plan = []
    total = Money.zero(receipt.currency)
    for installment_id, amount in to:
        item = repo.get(installment_id)
        if item.customer_id != receipt.customer_id or item.direction is not receipt.direction:
            raise _invalid(
                "allocation", "installment_id", N_("belongs to another customer or direction")
            )
        if amount.currency != item.amount.currency or amount.currency != receipt.currency:
            raise _invalid(
                "allocation",
                "amount",
                N_("must be in {currency}"),
                currency=item.amount.currency,
            )
        if not amount.is_positive:
            raise _invalid("allocation", "amount", N_("must be above zero"))
        if amount > item.outstanding:
            raise OverAllocation(
                amount=str(amount),
                available=str(item.outstanding),
                what=reason(N_("outstanding on the installment")),
            )
        plan.append((item, amount))
        total = total + amount
    if total > available:
        raise OverAllocation(
            amount=str(total), available=str(available), what=reason(N_("left unallocated"))
        )
    return plan


def _allocate(
    uow: UnitOfWork,
    crm: Crm,
    post: Post,
    receipt: Receipt,
    plan: list[tuple[Installment, Money]],
    on: date,
) -> list[LedgerEntry]:
    if not plan:
        return []
    drafts = []
    installments = uow.repository(Installment)
    for item, amount in plan:
        item.apply_payment(amount)
        installments.save(item)
        receipt.allocated = receipt.allocated + amount
        drafts.append(
            _draft(
                EntryKind.ALLOCATION,
                amount,
                on,
                receipt,
                installment_id=item.id,
                entry_id=crm.new_id(),
            )
        )
    uow.repository(Receipt).save(receipt)
    entries = post(drafts)
    uow.outbox.add(
        ReceiptAllocated(
            tenant_id=receipt.tenant_id,
            aggregate_id=receipt.id,
            occurred_at=crm.now(),
            amount=sum((e.amount for e in entries), Money.zero(receipt.currency)),
            installment_ids=tuple(item.id for item, _ in plan),
        )
    )
    return entries


def _check_version(receipt: Receipt, expected: int | None) -> None:
    if expected is not None and receipt.version != expected:
        raise ConcurrencyConflict(entity="receipt", id=receipt.id, version=expected)


def allocate_receipt(
    crm: Crm,
    actor: Actor,
    receipt_id: UUID,
    *,
    idempotency_key: str,
    to: Sequence[tuple[UUID, Money]] | None = None,
    on: date | None = None,
    expected_version: int | None = None,
) -> list[LedgerEntry]:
    """Allocate a confirmed receipt's unallocated money to installments.

    Args:
        receipt_id: the receipt.
        idempotency_key: the caller's key for this request.
        to: ``(installment id, amount)`` pairs to allocate by hand; ``None`` allocates
            automatically, oldest due first, until the money or the open installments
            run out (what is left stays as the customer's credit).
        on: the business day of the allocation (default: today).
        expected_version: the receipt version the clerk saw; another version raises
            ``ConcurrencyConflict`` instead of allocating twice.

    Returns:
        The allocation entries written (none when the customer has no open
        installment in the receipt's currency: the money stays as their credit).

    Raises:
        ValidationError: the receipt is not confirmed, or an installment is another
            customer's or in another currency.
        NothingToAllocate: the receipt has no unallocated money left — typically
            another clerk allocated it first (with ``expected_version`` that race
            is a ``ConcurrencyConflict`` instead), or it was refunded.
        OverAllocation: more than the receipt has left or an installment still owes.
        ConcurrencyConflict: someone changed the receipt or an installment meanwhile.
        IdempotencyConflict: the key was used for a different request.
    """
    on = None if on is None else to_date(on, entity="allocation", field="on")
    payload = {
        "receipt_id": receipt_id,
        "to": [[i, a] for i, a in to] if to is not None else None,
        "on": on,
    }

    def body(uow: UnitOfWork, post: Post) -> tuple[list[LedgerEntry], list[UUID]]:
        receipt = uow.repository(Receipt).get(receipt_id)
        _require(uow, actor, "allocate", RECEIPT, receipt)
        _check_version(receipt, expected_version)
        if not receipt.is_confirmed:
            raise _invalid("receipt", "state", N_("only confirmed money can be allocated"))
        if not receipt.unallocated.is_positive:
            # Another clerk (or an earlier request) took it all: say so instead of
            # answering "no entries" as if the allocation had happened.
            raise NothingToAllocate(
                receipt=receipt.reference or str(receipt.id),
                settled=receipt.settled,
                allocated=receipt.allocated,
                refunded=receipt.refunded,
            )
        plan = _plan_allocation(uow, receipt, to, receipt.unallocated)
        entries = _allocate(uow, crm, post, receipt, plan, on or crm.now().date())
        return entries, [e.id for e in entries]

    return _money_command(
        crm,
        actor,
        "allocate",
        idempotency_key,
        payload,
        body,
        _entries_by_id,
        access=("allocate", RECEIPT),
    )


_CHUNK = 1000


def allocate_receipts(
    crm: Crm,
    actor: Actor,
    receipt_ids: Sequence[UUID],
    *,
    idempotency_key: str,
    on: date | None = None,
) -> list[LedgerEntry]:
    """Allocate many confirmed receipts oldest due first, in one transaction.

    The batch form of :func:`allocate_receipt` for bank-statement imports: receipts
    and their customers' open installments are loaded in a few queries, allocated in
    the order given, and the entries appended to the ledger at once. Receipts that
    are not confirmed or have nothing left are skipped.

    Returns:
        The allocation entries written, in receipt order.

    Raises:
        PermissionDenied: the actor may not allocate one of the receipts (nothing of the
            batch is kept).
        ConcurrencyConflict: someone changed one of the receipts or installments meanwhile
            (nothing of the batch is kept).
        IdempotencyConflict: the key was used for a different request.
    """
    on = None if on is None else to_date(on, entity="allocation", field="on")
    ids = list(dict.fromkeys(receipt_ids))
    payload = {"receipt_ids": ids, "on": on}

    def body(uow: UnitOfWork, post: Post) -> tuple[list[LedgerEntry], list[UUID]]:
        day = on or crm.now().date()
        grants = grants_for(uow, actor)
        loaded = uow.repository(Receipt).get_many(ids)
        for receipt in loaded:
            grants.require("allocate", receipt, RECEIPT)
        receipts = [r for r in loaded if r.unallocated.is_positive]
        customers = sorted({r.customer_id for r in receipts})
        open_by_customer: dict[UUID, list[Installment]] = {}
        repo = uow.repository(Installment)
        for start in range(0, len(customers), _CHUNK):
            where = F("customer_id").is_in(customers[start : start + _CHUNK]) & F("status").is_in(
                [InstallmentStatus.OPEN, InstallmentStatus.PARTIAL]
            )
            for item in repo.query(Query(where=where)):
                open_by_customer.setdefault(item.customer_id, []).append(item)
        for items in open_by_customer.values():
            items.sort(key=_oldest_due_first)
        drafts: list[EntryDraft] = []
        changed: dict[UUID, Installment] = {}
        paid_receipts: list[Receipt] = []
        events: list[DomainEvent] = []
        now = crm.now()
        for receipt in receipts:
            left = receipt.unallocated
            paid_to: list[UUID] = []
            for item in open_by_customer.get(receipt.customer_id, []):
                if left.is_zero:
                    break
                if (
                    item.direction is not receipt.direction
                    or item.amount.currency != receipt.currency
                    or item.outstanding.is_zero
                ):
                    continue
                share = min(left, item.outstanding)
                item.apply_payment(share)
                changed[item.id] = item
                left = left - share
                paid_to.append(item.id)
                drafts.append(
                    _draft(
                        EntryKind.ALLOCATION,
                        share,
                        day,
                        receipt,
                        installment_id=item.id,
                        entry_id=crm.new_id(),
                    )
                )
            if paid_to:
                allocated = receipt.unallocated - left
                receipt.allocated = receipt.allocated + allocated
                paid_receipts.append(receipt)
                events.append(
                    ReceiptAllocated(
                        tenant_id=receipt.tenant_id,
                        aggregate_id=receipt.id,
                        occurred_at=now,
                        amount=allocated,
                        installment_ids=tuple(paid_to),
                    )
                )
        # Batched saves: a bank-statement import of 100,000 receipts is two round trips
        # here, not 200,000 (each keeps its version check).
        uow.repository(Receipt).save_many(paid_receipts)
        repo.save_many(list(changed.values()))
        entries = post(drafts)
        uow.outbox.add(*events)
        return entries, [e.id for e in entries]

    return _money_command(
        crm,
        actor,
        "allocate_batch",
        idempotency_key,
        payload,
        body,
        _entries_by_id,
        access=("allocate", RECEIPT),
    )


def _credit_receipts(
    uow: UnitOfWork, customer_id: UUID, currency: str | None, scope: Expr = TRUE
) -> list[Receipt]:
    where = F("customer_id").eq(customer_id) & F("state").eq(ReceiptState.CONFIRMED) & scope
    found = uow.repository(Receipt).query(
        Query(where=where, order_by=(Order("received_on"), Order("created_at")))
    )
    return [
        r
        for r in found
        if r.unallocated.is_positive and (currency is None or r.currency == currency)
    ]


def customer_credit(crm: Crm, actor: Actor, customer_id: UUID) -> dict[str, Money]:
    """A customer's unallocated confirmed money (overpayments), per currency.

    Raises:
        NotFound: no such customer.
        PermissionDenied: the actor may not view receipts, or may not view the customer.
    """

    def work(uow: UnitOfWork) -> dict[str, Money]:
        grants = _require(uow, actor, "view", RECEIPT)
        _viewable_customer(uow, grants, customer_id)
        credit: dict[str, Money] = {}
        for receipt in _credit_receipts(uow, customer_id, None):
            current = credit.get(receipt.currency, Money.zero(receipt.currency))
            credit[receipt.currency] = current + receipt.unallocated
        return credit

    return guarded(crm, actor, work)


def apply_credit(
    crm: Crm,
    actor: Actor,
    customer_id: UUID,
    *,
    currency: str,
    idempotency_key: str,
    on: date | None = None,
) -> list[LedgerEntry]:
    """Apply a customer's credit (unallocated money, oldest receipt first) to open
    installments, oldest due first.

    Only receipts the actor may ``allocate`` are drawn on (a rep applies the money they
    recorded; a clerk with a tenant-wide grant applies all of it).

    Returns:
        The allocation entries written (none when there is no credit or nothing open).

    Raises:
        NotFound: no such customer.
        PermissionDenied: the actor may not allocate receipts, or may not view the customer.
        IdempotencyConflict: the key was used for a different request.
    """
    on = None if on is None else to_date(on, entity="allocation", field="on")
    payload = {"customer_id": customer_id, "currency": currency, "on": on}

    def body(uow: UnitOfWork, post: Post) -> tuple[list[LedgerEntry], list[UUID]]:
        entries: list[LedgerEntry] = []
        day = on or crm.now().date()
        grants = grants_for(uow, actor)
        _viewable_customer(uow, grants, customer_id)
        mine = grants.scope("allocate", RECEIPT)
        for receipt in _credit_receipts(uow, customer_id, currency, mine):
            plan = _plan_allocation(uow, receipt, None, receipt.unallocated)
            if not plan:
                break
            entries += _allocate(uow, crm, post, receipt, plan, day)
        return entries, [e.id for e in entries]

    return _money_command(
        crm,
        actor,
        "apply_credit",
        idempotency_key,
        payload,
        body,
        _entries_by_id,
        access=("allocate", RECEIPT),
    )


def _undone(uow: UnitOfWork, receipt_id: UUID) -> tuple[list[LedgerEntry], set[UUID]]:
    """A receipt's allocation entries and the ids of those already taken back."""
    where = F("receipt_id").eq(receipt_id) & F("kind").is_in(
        [EntryKind.ALLOCATION, EntryKind.DEALLOCATION]
    )
    entries = uow.repository(LedgerEntry).query(Query(where=where, order_by=(Order("seq"),)))
    allocations = [e for e in entries if e.kind is EntryKind.ALLOCATION]
    taken_back = {e.reverses for e in entries if e.kind is EntryKind.DEALLOCATION}
    return allocations, {i for i in taken_back if i is not None}


def _take_back(
    uow: UnitOfWork, crm: Crm, receipt: Receipt, entry: LedgerEntry, on: date
) -> EntryDraft:
    repo = uow.repository(Installment)
    assert entry.installment_id is not None
    item = repo.get(entry.installment_id)
    item.apply_payment(-entry.amount)
    repo.save(item)
    receipt.allocated = receipt.allocated - entry.amount
    return _draft(
        EntryKind.DEALLOCATION,
        -entry.amount,
        on,
        receipt,
        installment_id=item.id,
        reverses=entry.id,
        entry_id=crm.new_id(),
    )


def deallocate(
    crm: Crm, actor: Actor, entry_id: UUID, *, idempotency_key: str, on: date | None = None
) -> LedgerEntry:
    """Take an allocation back with an offsetting entry; the money returns to the receipt.

    Raises:
        NotFound: no such ledger entry.
        ValidationError: the entry is not an allocation, or was already taken back.
        IdempotencyConflict: the key was used for a different request.
    """
    payload = {"entry_id": entry_id, "on": on}

    def body(uow: UnitOfWork, post: Post) -> tuple[LedgerEntry, list[UUID]]:
        entry = uow.repository(LedgerEntry).get(entry_id)
        if entry.kind is not EntryKind.ALLOCATION or entry.receipt_id is None:
            raise _invalid("ledger entry", "kind", N_("only an allocation can be taken back"))
        _, taken_back = _undone(uow, entry.receipt_id)
        if entry.id in taken_back:
            raise _invalid("ledger entry", "id", N_("this allocation was already taken back"))
        receipt = uow.repository(Receipt).get(entry.receipt_id)
        _require(uow, actor, "allocate", RECEIPT, receipt)
        draft = _take_back(uow, crm, receipt, entry, on or crm.now().date())
        uow.repository(Receipt).save(receipt)
        (written,) = post([draft])
        return written, [written.id]

    def replay(uow: UnitOfWork, ids: tuple[UUID, ...]) -> LedgerEntry:
        return _entries_by_id(uow, ids)[0]

    return _money_command(
        crm,
        actor,
        "deallocate",
        idempotency_key,
        payload,
        body,
        replay,
        access=("allocate", RECEIPT),
    )


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
            raise _invalid("receipt", "refunded", N_("a refunded receipt cannot be reversed"))
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
        if event is not None:
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
