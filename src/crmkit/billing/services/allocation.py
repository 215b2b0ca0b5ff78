"""Allocation: which installments a confirmed receipt's money pays, and taking it back.

A receipt's money is allocated by hand (``to=[(installment, amount), ...]``) or oldest
due first; each allocation is a ledger entry, and taking one back (:func:`deallocate`,
or reversing the receipt) writes an offsetting entry instead of editing the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from crmkit.billing.errors import NothingToAllocate, OverAllocation
from crmkit.billing.model.ledger import (
    EntryDraft,
    EntryKind,
    LedgerEntry,
)
from crmkit.billing.model.plans import (
    Installment,
    InstallmentStatus,
)
from crmkit.billing.model.receipts import (
    Receipt,
    ReceiptAllocated,
)
from crmkit.billing.services._frame import (
    RECEIPT,
    Post,
    _draft,
    _entries_by_id,
    _money_command,
    _require,
)
from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import (
    ConcurrencyConflict,
    reason,
)
from crmkit.kernel.event_origin import origin
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.limits import to_date
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Order, Query
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import grants_for

__all__ = [
    "allocate_receipt",
    "allocate_receipts",
    "deallocate",
]


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
            raise invalid(
                "allocation", "installment_id", N_("belongs to another customer or direction")
            )
        if amount.currency != item.amount.currency or amount.currency != receipt.currency:
            raise invalid(
                "allocation",
                "amount",
                N_("must be in {currency}"),
                currency=item.amount.currency,
            )
        if not amount.is_positive:
            raise invalid("allocation", "amount", N_("must be above zero"))
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


def _pay_installment(
    crm: Crm, receipt: Receipt, item: Installment, amount: Money, on: date
) -> EntryDraft:
    # Paying an installment and drafting the entry that records it go together: the
    # ledger is the truth behind the installment's cached ``paid``.
    item.apply_payment(amount)
    return _draft(
        EntryKind.ALLOCATION, amount, on, receipt, installment_id=item.id, entry_id=crm.new_id()
    )


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
        drafts.append(_pay_installment(crm, receipt, item, amount, on))
        installments.save(item)
        receipt.allocated = receipt.allocated + amount
    uow.repository(Receipt).save(receipt)
    entries = post(drafts)
    uow.outbox.add(
        ReceiptAllocated(
            **origin(receipt, crm.now()),
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
            raise invalid("receipt", "state", N_("only confirmed money can be allocated"))
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
                drafts.append(_pay_installment(crm, receipt, item, share, day))
                changed[item.id] = item
                left = left - share
                paid_to.append(item.id)
            if paid_to:
                allocated = receipt.unallocated - left
                receipt.allocated = receipt.allocated + allocated
                paid_receipts.append(receipt)
                events.append(
                    ReceiptAllocated(
                        **origin(receipt, now),
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
    on = None if on is None else to_date(on, entity="allocation", field="on")
    payload = {"entry_id": entry_id, "on": on}

    def body(uow: UnitOfWork, post: Post) -> tuple[LedgerEntry, list[UUID]]:
        entry = uow.repository(LedgerEntry).get(entry_id)
        if entry.kind is not EntryKind.ALLOCATION or entry.receipt_id is None:
            raise invalid("ledger entry", "kind", N_("only an allocation can be taken back"))
        _, taken_back = _undone(uow, entry.receipt_id)
        if entry.id in taken_back:
            raise invalid("ledger entry", "id", N_("this allocation was already taken back"))
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
