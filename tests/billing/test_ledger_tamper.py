"""Every fact of a ledger entry is under its hash: changing any one of them is detected.

One tamper per field, built from the entry's own attrs fields, so a field added to
``LedgerEntry`` and forgotten in the canonical form fails here without anyone writing a
new test. A stored tamper of ``posted_on`` runs through every backend too.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, datetime, timedelta
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from crmkit import Crm
from crmkit.billing import ledger_entries, verify_ledger
from crmkit.billing.model.ledger import (
    GENESIS,
    ChainProblem,
    EntryDraft,
    EntryKind,
    LedgerCheck,
    LedgerEntry,
    LedgerHead,
    ProblemKind,
    chain,
    entry_hash,
    head_id,
    idempotency_id,
    payload_hash,
    verify_chain,
)
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import ValidationError
from crmkit.kernel.ids import TenantId
from crmkit.kernel.money import Money
from tests.billing.test_receipts import _ledger_with_entries

# Not facts: the hash itself, and the storage's optimistic-lock counter (always 1).
NOT_HASHED = {"hash", "version"}


def _other(value: Any) -> Any:
    """A different value of the same type (what an intruder would write instead)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, Money):
        return value + Money.from_minor_units(1, value.currency)
    if isinstance(value, datetime):
        return value + timedelta(seconds=1)
    if isinstance(value, date):
        return value + timedelta(days=1)
    if isinstance(value, EntryKind):
        return next(kind for kind in EntryKind if kind is not value)
    if isinstance(value, uuid.UUID):
        return uuid.UUID(int=value.int ^ 1)
    if isinstance(value, str):
        return value[:-1] + ("x" if value[-1:] != "x" else "y")
    if value is None:
        return uuid.UUID(int=7)
    raise AssertionError(f"no tamper for {value!r}")


def _chained() -> list[LedgerEntry]:
    tenant = TenantId(uuid.UUID(int=1))
    head = LedgerHead(id=uuid.UUID(int=2), tenant_id=tenant)
    draft = EntryDraft(
        id=uuid.UUID(int=3),  # type: ignore[arg-type]
        kind=EntryKind.ALLOCATION,
        amount=Money("100.00", "CNY"),
        posted_on=date(2026, 2, 1),
        customer_id=uuid.UUID(int=4),
        receipt_id=uuid.UUID(int=5),
        installment_id=uuid.UUID(int=6),
    )
    second = attrs.evolve(draft, id=uuid.UUID(int=8))
    return chain(
        head,
        [draft, second],
        now=datetime.fromisoformat("2026-02-01T09:00:00+00:00"),
        command="allocate",
        idempotency_key="k1",
        actor_id=uuid.UUID(int=9),
    )


FIELDS = [f.name for f in attrs.fields(LedgerEntry) if f.name not in NOT_HASHED]


def test_the_tamper_cases_cover_every_fact_of_an_entry() -> None:
    assert {"posted_on", "amount", "prev_hash", "claim_id", "occurred_at"} <= set(FIELDS)


@pytest.mark.parametrize("field", FIELDS)
def test_altering_any_fact_of_an_entry_breaks_its_hash(field: str) -> None:
    entries = _chained()
    assert verify_chain(entries, None).ok
    first = entries[0]
    setattr(first, field, _other(getattr(first, field)))
    altered = {
        p.entry_id for p in verify_chain(entries, None).problems if p.kind is ProblemKind.ALTERED
    }
    assert altered == {first.id}


def _tamper_posted_on(crm: Crm, actor: Actor, entry: LedgerEntry) -> None:
    """Move a stored entry to another business day behind crmkit's back."""
    moved = entry.posted_on + timedelta(days=1)
    storage = crm.storage
    if getattr(storage, "dialect", "") == "memory":
        storage._rows[(LedgerEntry, actor.tenant_id, entry.id)].posted_on = moved  # type: ignore[attr-defined]
        return
    from crmkit.adapters.sql.tables import mapping_for

    table = mapping_for(LedgerEntry).table
    where = sa.and_(table.c.tenant_id == actor.tenant_id, table.c.id == entry.id)
    with storage.engine.begin() as connection:  # type: ignore[attr-defined]
        connection.execute(table.update().where(where).values(posted_on=moved))


def test_a_stored_entry_moved_to_another_business_day_is_reported(crm: Crm, actor: Actor) -> None:
    entries = _ledger_with_entries(crm, actor)
    _tamper_posted_on(crm, actor, entries[1])
    assert ledger_entries(crm, actor)[1].posted_on == entries[1].posted_on + timedelta(days=1)
    problems = verify_ledger(crm, actor).problems
    assert [(p.seq, p.kind) for p in problems] == [(2, ProblemKind.ALTERED)]


# -- what verify_chain reports, exactly ------------------------------------------------------

TENANT = TenantId(uuid.UUID(int=1))


def _ledger(count: int) -> tuple[list[LedgerEntry], LedgerHead]:
    head = LedgerHead(id=head_id(TENANT), tenant_id=TENANT)
    drafts = [
        EntryDraft(
            id=uuid.UUID(int=100 + n),  # type: ignore[arg-type]
            kind=EntryKind.RECEIPT_CONFIRMED,
            amount=Money(f"{n}00.00", "CNY"),
            posted_on=date(2026, 2, n),
            customer_id=uuid.UUID(int=4),
            receipt_id=uuid.UUID(int=200 + n),
        )
        for n in range(1, count + 1)
    ]
    entries = chain(
        head,
        drafts,
        now=datetime.fromisoformat("2026-02-01T09:00:00+00:00"),
        command="record_receipt",
        idempotency_key="k",
        actor_id=None,
    )
    return entries, head


def test_a_tenant_that_never_wrote_has_a_sound_empty_ledger() -> None:
    assert verify_chain([], None) == LedgerCheck(0, ())
    assert verify_chain([], None).ok


def test_a_sound_chain_reports_nothing_and_counts_every_entry() -> None:
    entries, head = _ledger(3)
    assert [e.seq for e in entries] == [1, 2, 3]
    assert (head.seq, head.hash) == (3, entries[-1].hash)
    assert verify_chain(entries, head) == LedgerCheck(3, ())


def test_a_removed_first_entry_is_missing_and_breaks_the_next_link() -> None:
    entries, head = _ledger(3)
    assert verify_chain(entries[1:], head) == LedgerCheck(
        2,
        (
            ChainProblem(1, ProblemKind.MISSING),
            ChainProblem(2, ProblemKind.BROKEN_LINK, entries[1].id),
        ),
    )


def test_removed_middle_entries_are_each_missing() -> None:
    entries, head = _ledger(4)
    assert verify_chain([entries[0], entries[3]], head).problems == (
        ChainProblem(2, ProblemKind.MISSING),
        ChainProblem(3, ProblemKind.MISSING),
        ChainProblem(4, ProblemKind.BROKEN_LINK, entries[3].id),
    )


def test_entries_cut_off_the_end_are_missing_up_to_the_head() -> None:
    entries, head = _ledger(4)
    assert verify_chain(entries[:2], head).problems == (
        ChainProblem(3, ProblemKind.MISSING),
        ChainProblem(4, ProblemKind.MISSING),
    )


def test_a_last_entry_rewritten_whole_no_longer_matches_the_head() -> None:
    # A forger who re-hashes the entry they changed keeps the chain itself sound; only the
    # head, which remembers the last hash, tells.
    entries, head = _ledger(2)
    forged = entries[-1]
    forged.amount = Money("1.00", "CNY")
    forged.hash = entry_hash(forged)
    assert verify_chain(entries, head) == LedgerCheck(
        2, (ChainProblem(2, ProblemKind.BROKEN_LINK),)
    )


def test_each_tenant_has_its_own_ledger_head() -> None:
    other = TenantId(uuid.UUID(int=2))
    assert head_id(TENANT) == head_id(TenantId(uuid.UUID(int=1)))
    assert head_id(TENANT) != head_id(other)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (42, "idempotency record.idempotency_key: must be text"),
        (None, "idempotency record.idempotency_key: must be text"),
        ("a\x00b", "idempotency record.idempotency_key: contains a NUL character"),
    ],
)
def test_an_idempotency_key_that_no_store_can_hold_is_refused(key: Any, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        idempotency_id(TENANT, "allocate", key, uuid.UUID(int=9))
    assert str(refused.value) == message


def test_an_idempotency_record_is_one_per_tenant_user_command_and_key() -> None:
    user, other_user = uuid.UUID(int=9), uuid.UUID(int=10)
    first = idempotency_id(TENANT, "allocate", "k1", user)
    assert first == idempotency_id(TENANT, "allocate", "k1", user)
    others = {
        idempotency_id(TenantId(uuid.UUID(int=2)), "allocate", "k1", user),
        idempotency_id(TENANT, "allocate", "k1", other_user),
        idempotency_id(TENANT, "record_receipt", "k1", user),
        idempotency_id(TENANT, "allocate", "k2", user),
    }
    assert first not in others
    assert len(others) == 4


# -- the stored formats: hashes and ids written today must verify after an upgrade ----------

CANONICAL = (
    '{"actor_id":"00000000-0000-0000-0000-000000000009","amount":[123450,"CNY"],'
    '"claim_id":"00000000-0000-0000-0000-00000000000a","command":"pay_refund",'
    '"customer_id":"00000000-0000-0000-0000-000000000004",'
    '"id":"00000000-0000-0000-0000-000000000003","idempotency_key":"退款-1",'
    '"installment_id":"00000000-0000-0000-0000-000000000007","kind":"refund",'
    '"occurred_at":"2026-02-01T09:00:00+00:00","posted_on":"2026-02-01",'
    '"receipt_id":"00000000-0000-0000-0000-000000000005",'
    '"refund_id":"00000000-0000-0000-0000-000000000006",'
    '"reverses":"00000000-0000-0000-0000-000000000008","seq":1,'
    '"tenant_id":"00000000-0000-0000-0000-000000000001"}'
)


def test_an_entry_hash_is_sha256_of_the_previous_hash_and_the_canonical_facts() -> None:
    # Every fact set, a non-ASCII key and an instant in another zone: the canonical text
    # keeps the characters as they are and reads the instant as UTC.
    head = LedgerHead(id=head_id(TENANT), tenant_id=TENANT)
    draft = EntryDraft(
        id=uuid.UUID(int=3),  # type: ignore[arg-type]
        kind=EntryKind.REFUND,
        amount=Money("1234.5", "CNY"),
        posted_on=date(2026, 2, 1),
        customer_id=uuid.UUID(int=4),
        receipt_id=uuid.UUID(int=5),
        refund_id=uuid.UUID(int=6),
        installment_id=uuid.UUID(int=7),
        reverses=uuid.UUID(int=8),
        claim_id=uuid.UUID(int=10),
    )
    (entry,) = chain(
        head,
        [draft],
        now=datetime.fromisoformat("2026-02-01T17:00:00+08:00"),
        command="pay_refund",
        idempotency_key="退款-1",
        actor_id=uuid.UUID(int=9),
    )
    expected = hashlib.sha256((GENESIS + CANONICAL).encode("utf-8")).hexdigest()
    assert entry.hash == entry_hash(entry) == expected
    assert expected == "18770cc39b90d6bd604f727c66e30f0554e296e99d804deae5aef757848dbc91"


def test_ledger_heads_and_idempotency_records_keep_their_ids() -> None:
    assert head_id(TENANT) == uuid.UUID("69a11b9c-4aec-53ed-a53b-423d33d23dc0")
    assert idempotency_id(TENANT, "allocate", "k1", uuid.UUID(int=9)) == uuid.UUID(
        "020aa35e-5d7a-58cf-b97d-8a9578047809"
    )


PAYLOAD = {
    "receipt_id": uuid.UUID(int=5),
    "to": [[uuid.UUID(int=7), Money("100", "CNY")]],
    "on": date(2026, 2, 1),
    "confirmed": True,
    "reference": "单号 7",
}


def test_a_request_hash_is_stable_and_ignores_how_amounts_and_keys_were_written() -> None:
    assert payload_hash(PAYLOAD) == (
        "b495f28d0e0235072aeab74ee7595068ddeea8f2c83fa96f69447423650d741e"
    )
    rewritten = dict(reversed(list(PAYLOAD.items())))
    rewritten["to"] = [(uuid.UUID(int=7), Money("100.00", "CNY"))]
    assert payload_hash(rewritten) == payload_hash(PAYLOAD)


def test_a_different_amount_inside_a_list_is_a_different_request() -> None:
    other = {**PAYLOAD, "to": [[uuid.UUID(int=7), Money("100.01", "CNY")]]}
    assert payload_hash(other) != payload_hash(PAYLOAD)


def test_a_value_without_a_plain_form_is_hashed_by_its_text() -> None:
    assert (
        payload_hash({"tags": frozenset()}) == hashlib.sha256(b'{"tags":"frozenset()"}').hexdigest()
    )


def test_facts_an_entry_does_not_name_are_null_in_its_canonical_form() -> None:
    head = LedgerHead(id=uuid.UUID(int=2), tenant_id=TENANT)
    draft = EntryDraft(
        id=uuid.UUID(int=3),  # type: ignore[arg-type]
        kind=EntryKind.SLIP_RECEIVED,
        amount=Money("5", "JPY"),
        posted_on=date(2026, 2, 1),
        customer_id=uuid.UUID(int=4),
    )
    (entry,) = chain(
        head,
        [draft],
        now=datetime.fromisoformat("2026-02-01T09:00:00+00:00"),
        command="record_receipt",
        idempotency_key="k",
        actor_id=None,
    )
    canonical = (
        '{"actor_id":null,"amount":[5,"JPY"],"claim_id":null,"command":"record_receipt",'
        '"customer_id":"00000000-0000-0000-0000-000000000004",'
        '"id":"00000000-0000-0000-0000-000000000003","idempotency_key":"k",'
        '"installment_id":null,"kind":"slip_received",'
        '"occurred_at":"2026-02-01T09:00:00+00:00","posted_on":"2026-02-01",'
        '"receipt_id":null,"refund_id":null,"reverses":null,"seq":1,'
        '"tenant_id":"00000000-0000-0000-0000-000000000001"}'
    )
    assert entry.hash == hashlib.sha256((GENESIS + canonical).encode("utf-8")).hexdigest()
