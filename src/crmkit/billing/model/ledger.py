"""The billing ledger: every movement of money, append-only and hash-chained.

Balances in billing — what an installment has been paid, what a receipt has left
unallocated, what a refund has paid out — are *derived*: each comes from the
ledger's entries, one row per fact ("50,000.00 CNY of receipt R allocated to
installment I"). Entries are never changed or removed; a mistake is corrected by
a new entry that offsets the old one (``reverses`` points at it). The balances
the aggregates cache for fast reads can always be recomputed from the entries
with :func:`rebuild_balances`.

So that an auditor can trust that nothing was altered after the fact, each
tenant's entries form a chain: entry *n* carries ``prev_hash`` — the hash of
entry *n-1* — and its own ``hash``, a SHA-256 over a canonical JSON form of its
facts plus ``prev_hash``. A :class:`LedgerHead` row remembers the last sequence
number and hash. :func:`verify_chain` walks the chain and reports any entry that
was altered, removed or reordered, including one cut off the end.

Money commands carry an *idempotency key*: an :class:`IdempotencyRecord` (its id
derived from tenant, command and key) remembers the hash of the request and the
entries it produced, so a retry returns the original result and a different
request under the same key is refused.
"""

from __future__ import annotations

import enum
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, NewType
from uuid import UUID

import attrs

from crmkit.kernel.converter import to_instant, unstructure
from crmkit.kernel.entity import Entity
from crmkit.kernel.errors import ValidationError, reason
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId
from crmkit.kernel.limits import check_text
from crmkit.kernel.money import Money

__all__ = [
    "GENESIS",
    "Balances",
    "ChainProblem",
    "EntryDraft",
    "EntryKind",
    "IdempotencyRecord",
    "LedgerCheck",
    "LedgerEntry",
    "LedgerEntryId",
    "LedgerHead",
    "ProblemKind",
    "chain",
    "entry_hash",
    "head_id",
    "idempotency_id",
    "payload_hash",
    "rebuild_balances",
    "verify_chain",
]

LedgerEntryId = NewType("LedgerEntryId", UUID)

GENESIS = "0" * 64
"""The ``prev_hash`` of a tenant's first entry."""

_HEADS = uuid.UUID("2a4e8d0c-51c3-4f8b-9a55-7d2b1e6c3f10")
_IDEMPOTENCY = uuid.UUID("93c7a6f2-0d4b-4e2a-8c61-4f5e9b2d7a08")


class EntryKind(enum.Enum):
    """What a ledger entry records; the sign of ``amount`` follows the kind."""

    SLIP_RECEIVED = "slip_received"
    """A remittance slip arrived (informational: moves no balance)."""
    RECEIPT_CONFIRMED = "receipt_confirmed"
    """Money confirmed on the account (+settled amount)."""
    RECEIPT_REVERSED = "receipt_reversed"
    """A confirmed receipt taken back (-settled amount)."""
    ALLOCATION = "allocation"
    """Receipt money allocated to an installment (+amount)."""
    DEALLOCATION = "deallocation"
    """An allocation taken back (-amount)."""
    REFUND = "refund"
    """Money paid back from a receipt's unallocated part (+amount)."""
    REIMBURSEMENT = "reimbursement"
    """An approved expense claim paid back to its claimant (+amount)."""


@attrs.define(eq=False)
class LedgerEntry(Entity):
    """One fact in the ledger; never changed after it is written.

    Attributes:
        id: the entry's id.
        tenant_id: the owning tenant.
        seq: 1, 2, 3, ... per tenant, without gaps.
        kind: what happened.
        amount: how much, signed as the kind says, at the currency's minor unit.
        occurred_at: when it was recorded (UTC).
        posted_on: the business day it counts on (received, confirmed, refunded).
        customer_id: the counterparty.
        receipt_id, installment_id, refund_id, claim_id: the records it moves.
        reverses: the entry it offsets, for reversals and deallocations.
        command: the money command that wrote it (``record_receipt``, ``allocate``...).
        idempotency_key: that command's key.
        actor_id: who did it.
        prev_hash: the hash of the entry before (``GENESIS`` for the first).
        hash: SHA-256 over this entry's canonical form and ``prev_hash``.
        version: always 1 once stored (entries are never saved again).
    """

    entity_name = N_("ledger entry")

    id: LedgerEntryId
    tenant_id: TenantId
    seq: int
    kind: EntryKind
    amount: Money
    occurred_at: datetime
    posted_on: date
    customer_id: UUID
    command: str
    idempotency_key: str
    prev_hash: str
    hash: str
    receipt_id: UUID | None = None
    installment_id: UUID | None = None
    refund_id: UUID | None = None
    reverses: UUID | None = None
    actor_id: UUID | None = None
    claim_id: UUID | None = None
    version: int = 0


@attrs.frozen
class EntryDraft:
    """An entry before it takes its place in the chain (see :func:`chain`)."""

    id: LedgerEntryId
    kind: EntryKind
    amount: Money
    posted_on: date
    customer_id: UUID
    receipt_id: UUID | None = None
    installment_id: UUID | None = None
    refund_id: UUID | None = None
    reverses: UUID | None = None
    claim_id: UUID | None = None


@attrs.define(eq=False)
class LedgerHead:
    """The end of a tenant's chain: the last sequence number and hash.

    Appending locks this row, so appends of one tenant happen one after the other
    and the chain never forks.
    """

    entity_name = N_("ledger head")

    id: UUID
    tenant_id: TenantId
    seq: int = 0
    hash: str = GENESIS
    version: int = 0


def head_id(tenant_id: TenantId) -> UUID:
    """The id of a tenant's one ledger head."""
    return uuid.uuid5(_HEADS, str(tenant_id))


def _canonical(entry: LedgerEntry) -> str:
    # Amounts as whole minor units and instants re-read as UTC, so the text is the same
    # whether the entry comes from memory, SQLite or PostgreSQL.
    facts = {
        "tenant_id": str(entry.tenant_id),
        "id": str(entry.id),
        "seq": entry.seq,
        "kind": entry.kind.value,
        "amount": [entry.amount.to_minor_units(), entry.amount.currency],
        "occurred_at": to_instant(entry.occurred_at).isoformat(),
        "posted_on": entry.posted_on.isoformat(),
        "customer_id": str(entry.customer_id),
        "receipt_id": _text(entry.receipt_id),
        "installment_id": _text(entry.installment_id),
        "refund_id": _text(entry.refund_id),
        "reverses": _text(entry.reverses),
        "command": entry.command,
        "idempotency_key": entry.idempotency_key,
        "actor_id": _text(entry.actor_id),
        "claim_id": _text(entry.claim_id),
    }
    return json.dumps(facts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _text(value: UUID | None) -> str | None:
    return None if value is None else str(value)


def entry_hash(entry: LedgerEntry) -> str:
    """The hash an entry must carry: SHA-256 of ``prev_hash`` and its canonical facts."""
    digest = hashlib.sha256()
    digest.update(entry.prev_hash.encode("ascii"))
    digest.update(_canonical(entry).encode("utf-8"))
    return digest.hexdigest()


def chain(
    head: LedgerHead,
    drafts: Iterable[EntryDraft],
    *,
    now: datetime,
    command: str,
    idempotency_key: str,
    actor_id: UUID | None,
) -> list[LedgerEntry]:
    """Turn drafts into chained entries after ``head`` and move ``head`` to the last one.

    Args:
        head: the tenant's chain head (locked by the caller).
        drafts: the entries to append, in order.
        now: the instant they are recorded at.
        command: the money command writing them.
        idempotency_key: that command's key.
        actor_id: who is writing them.

    Returns:
        The new entries, each linked to the one before.
    """
    entries = []
    for draft in drafts:
        entry = LedgerEntry(
            id=draft.id,
            tenant_id=head.tenant_id,
            seq=head.seq + 1,
            kind=draft.kind,
            amount=draft.amount.round(),
            occurred_at=now,
            posted_on=draft.posted_on,
            customer_id=draft.customer_id,
            receipt_id=draft.receipt_id,
            installment_id=draft.installment_id,
            refund_id=draft.refund_id,
            reverses=draft.reverses,
            claim_id=draft.claim_id,
            command=command,
            idempotency_key=idempotency_key,
            actor_id=actor_id,
            prev_hash=head.hash,
            hash="",
        )
        entry.hash = entry_hash(entry)
        head.seq, head.hash = entry.seq, entry.hash
        entries.append(entry)
    return entries


class ProblemKind(enum.Enum):
    """What :func:`verify_chain` found wrong at a place in the chain."""

    ALTERED = "altered"
    BROKEN_LINK = "broken_link"
    MISSING = "missing"


@attrs.frozen
class ChainProblem:
    """One defect in the chain: where (``seq``) and what."""

    seq: int
    kind: ProblemKind
    entry_id: UUID | None = None


@attrs.frozen
class LedgerCheck:
    """The result of verifying a tenant's ledger."""

    checked: int
    problems: tuple[ChainProblem, ...]

    @property
    def ok(self) -> bool:
        """True when no entry was altered, removed or reordered."""
        return not self.problems


def verify_chain(entries: Iterable[LedgerEntry], head: LedgerHead | None) -> LedgerCheck:
    """Walk a tenant's entries in ``seq`` order and report every defect.

    Args:
        entries: all entries of the tenant, ordered by ``seq``.
        head: the tenant's chain head (``None`` when nothing was ever written).

    Returns:
        A :class:`LedgerCheck`: an altered entry no longer matches its hash, a removed
        one leaves a gap in ``seq`` (or a head pointing past the last entry), and
        either breaks the link to the next entry.
    """
    problems: list[ChainProblem] = []
    expected_seq, previous = 1, GENESIS
    checked = 0
    for entry in entries:
        checked += 1
        # A range, not a counting loop: the gap's size is known, and the walk stays bounded.
        problems.extend(
            ChainProblem(seq, ProblemKind.MISSING) for seq in range(expected_seq, entry.seq)
        )
        if entry.prev_hash != previous:
            problems.append(ChainProblem(entry.seq, ProblemKind.BROKEN_LINK, entry.id))
        if entry_hash(entry) != entry.hash:
            problems.append(ChainProblem(entry.seq, ProblemKind.ALTERED, entry.id))
        previous, expected_seq = entry.hash, entry.seq + 1
    last_seq = 0 if head is None else head.seq
    for seq in range(expected_seq, last_seq + 1):
        problems.append(ChainProblem(seq, ProblemKind.MISSING))
    if head is not None and head.seq == expected_seq - 1 and head.hash != previous:
        problems.append(ChainProblem(head.seq, ProblemKind.BROKEN_LINK))
    return LedgerCheck(checked, tuple(problems))


@attrs.frozen
class Balances:
    """Balances recomputed from entries, keyed by record id (zero balances left out)."""

    installment_paid: Mapping[UUID, Money]
    receipt_confirmed: Mapping[UUID, Money]
    receipt_allocated: Mapping[UUID, Money]
    receipt_refunded: Mapping[UUID, Money]
    refund_paid: Mapping[UUID, Money]


def rebuild_balances(entries: Iterable[LedgerEntry]) -> Balances:
    """Recompute every cached balance from the ledger alone.

    Args:
        entries: the tenant's entries (any order).

    Returns:
        The balances per installment, receipt and refund.
    """
    paid: dict[UUID, Money] = {}
    confirmed: dict[UUID, Money] = {}
    allocated: dict[UUID, Money] = {}
    refunded: dict[UUID, Money] = {}
    refund_paid: dict[UUID, Money] = {}

    def add(into: dict[UUID, Money], key: UUID | None, amount: Money) -> None:
        if key is not None:
            into[key] = into[key] + amount if key in into else amount

    for entry in entries:
        kind = entry.kind
        if kind in (EntryKind.RECEIPT_CONFIRMED, EntryKind.RECEIPT_REVERSED):
            add(confirmed, entry.receipt_id, entry.amount)
        elif kind in (EntryKind.ALLOCATION, EntryKind.DEALLOCATION):
            add(paid, entry.installment_id, entry.amount)
            add(allocated, entry.receipt_id, entry.amount)
        elif kind is EntryKind.REFUND:
            add(refunded, entry.receipt_id, entry.amount)
            add(refund_paid, entry.refund_id, entry.amount)

    def nonzero(values: dict[UUID, Money]) -> dict[UUID, Money]:
        return {key: value for key, value in values.items() if not value.is_zero}

    return Balances(
        nonzero(paid),
        nonzero(confirmed),
        nonzero(allocated),
        nonzero(refunded),
        nonzero(refund_paid),
    )


def _ids(values: Iterable[UUID]) -> tuple[UUID, ...]:
    return tuple(values)


@attrs.define(eq=False)
class IdempotencyRecord:
    """The first request seen under an idempotency key, and what it produced.

    Attributes:
        id: derived from tenant, user, command and key (see :func:`idempotency_id`).
        tenant_id: the owning tenant.
        command: the money command (``record_receipt``, ``allocate``, ...).
        key: the caller's idempotency key.
        payload_hash: SHA-256 of the request's canonical form.
        result_ids: the records the command produced (receipt, entries, ...).
        created_at: when the request was first handled.
        version: optimistic-locking counter.
    """

    entity_name = N_("idempotency record")

    id: UUID
    tenant_id: TenantId
    command: str
    key: str
    payload_hash: str
    created_at: datetime
    result_ids: tuple[UUID, ...] = attrs.field(default=(), converter=_ids)
    version: int = 0


def idempotency_id(tenant_id: TenantId, command: str, key: str, user_id: UUID) -> UUID:
    """The id of the record for ``key`` under ``command`` sent by ``user_id`` in a tenant.

    Keys are scoped per user: a replay hands back what the command produced, so a key
    shared across users would hand one user's receipt (or entries) to anyone who sent
    the same key and request. Two users' keys never meet; one user's retry still
    replays.

    Raises:
        ValidationError: the key is not text a store can hold (it is stored too).
    """
    if not isinstance(key, str):
        raise ValidationError(
            entity="idempotency record", field="idempotency_key", reason=reason(N_("must be text"))
        )
    check_text(key, entity="idempotency record", field="idempotency_key")
    return uuid.uuid5(_IDEMPOTENCY, f"{tenant_id}|{user_id}|{command}|{key}")


def _normal(value: Any) -> Any:
    # "100", "100.0" and "100.00" CNY are one request, whatever way the caller wrote it.
    if isinstance(value, Money):
        return f"{value.amount.normalize():f} {value.currency}"
    if isinstance(value, list | tuple):
        return [_normal(item) for item in value]
    return value


def payload_hash(payload: Mapping[str, Any]) -> str:
    """SHA-256 of a request's canonical JSON form (the shared converter's plain data)."""
    plain = unstructure({name: _normal(value) for name, value in payload.items()})
    text = json.dumps(plain, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
