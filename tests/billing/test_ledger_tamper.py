"""Every fact of a ledger entry is under its hash: changing any one of them is detected.

One tamper per field, built from the entry's own attrs fields, so a field added to
``LedgerEntry`` and forgotten in the canonical form fails here without anyone writing a
new test. A stored tamper of ``posted_on`` runs through every backend too.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from crmkit import Crm
from crmkit.billing import ledger_entries, verify_ledger
from crmkit.billing.model.ledger import (
    EntryDraft,
    EntryKind,
    LedgerEntry,
    LedgerHead,
    ProblemKind,
    chain,
    verify_chain,
)
from crmkit.kernel.actor import Actor
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
