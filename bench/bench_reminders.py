"""The reminder scan over 1,000,000 records vs a naive Python loop over the same rows.

Subject: ``scan_due_reminders`` for a "30 days before the end date" rule — one
indexed range query returns the ~270 records due today, then their firings and
outbox events are written. Anchor: what a hand-rolled job does — load every
record's id, owner and end date into Python and test each one (it writes
nothing, so the ratio flatters the anchor).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

import attrs
import pendulum
import sqlalchemy as sa

from bench.databases import pg_engine, sqlite_engine
from bench.harness import Case
from crmkit import connect
from crmkit.adapters.sql.mapping import map_entity
from crmkit.adapters.sql.tables import register
from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import FixedClock
from crmkit.kernel.ids import TenantId, UserId
from crmkit.rules.permissions import bootstrap_tenant
from crmkit.rules.reminders import (
    ReminderSource,
    TriggerKind,
    define_reminder_rule,
    register_source,
    scan_due_reminders,
)

N = 1_000_000
START = dt.date(2022, 1, 1)
SPREAD_DAYS = 3650
# A month of end dates around the day the rule fires, so the few records include due ones.
SMOKE = {"N": 300, "START": dt.date(2026, 3, 17), "SPREAD_DAYS": 30}
NOTES = (
    "**Reminders (bench_reminders).** 1,000,000 records with end dates spread over ten "
    "years; a rule fires 30 days before the end date. crmkit runs one indexed range query "
    "per rule and writes the ~270 firings and outbox events; the anchor only loads every "
    "row's id, owner and date and filters in Python (it writes nothing)."
)


@attrs.define(eq=False)
class BenchContract:
    id: uuid.UUID
    tenant_id: TenantId
    name: str
    created_at: dt.datetime
    owner_id: uuid.UUID | None = None
    end_date: dt.date | None = None
    version: int = 0


_metadata = sa.MetaData()
_MAPPING = register(
    map_entity(BenchContract, "bench_contracts", _metadata, indexes=[("end_date",)])
)
register_source(ReminderSource("bench_contract", BenchContract))


def _load(engine: sa.Engine, tenant: TenantId) -> None:
    _metadata.create_all(engine)
    rng = random.Random(7)
    owners = [uuid.uuid4() for _ in range(200)]
    now = pendulum.datetime(2026, 1, 1, tz="UTC")
    crm = connect(engine, migrate=False)
    batch = 100_000
    for first in range(0, N, batch):
        rows = [
            BenchContract(
                id=uuid.uuid4(),
                tenant_id=tenant,
                name=f"HT-{i:07d}",
                created_at=now,
                owner_id=owners[i % 200],
                end_date=START + dt.timedelta(days=rng.randrange(SPREAD_DAYS)),
            )
            for i in range(first, min(first + batch, N))
        ]
        crm.run(tenant, lambda uow, rows=rows: uow.repository(BenchContract).add_many(rows))


def _case(engine: sa.Engine, label: str, teardown=None) -> Case:  # type: ignore[no-untyped-def]
    tenant = TenantId(uuid.uuid4())
    _load(engine, tenant)
    clock = FixedClock("2026-03-02T02:00:00Z")
    crm = connect(engine, migrate=False, clock=clock)
    admin = Actor(tenant, UserId(uuid.uuid4()), "bench")
    # Tenants deny everything until configured: defining a rule takes an administrator.
    bootstrap_tenant(crm, tenant, admin.user_id, admin.name)
    table = _MAPPING.table
    today = dt.date(2026, 3, 2)

    def subject() -> None:
        rule = define_reminder_rule(
            crm,
            admin,
            name="expiry",
            trigger=TriggerKind.DATE_FIELD,
            resource="bench_contract",
            field="end_date",
            offsets_days=(-30,),
            subject="{title}",
            lookback_days=1,
        )
        fired = scan_due_reminders(crm, tenant)
        assert fired, f"{label}: the benchmark data should have contracts due"

        def retire(uow):  # type: ignore[no-untyped-def]
            rule.active = False
            uow.repository(type(rule)).save(rule)

        crm.run(tenant, retire)

    def anchor() -> None:
        due = []
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(table.c.id, table.c.owner_id, table.c.end_date).where(
                    table.c.tenant_id == tenant
                )
            )
            for row in rows:
                if row.end_date is not None and row.end_date - dt.timedelta(days=30) == today:
                    due.append(row)
        assert due

    return Case(
        name=f"reminder scan, 1,000,000 records, {label}",
        anchor_name="naive Python loop over all rows",
        ops=1,
        subject=subject,
        anchor=anchor,
        goal="report",
        repeat=3,
        teardown=teardown,
    )


def cases() -> list[Case]:
    pg, drop = pg_engine()
    return [_case(sqlite_engine("reminders"), "SQLite"), _case(pg, "PostgreSQL", drop)]
