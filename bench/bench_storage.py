"""Saving 100,000 customers through the SQL adapter vs raw SQLAlchemy Core.

Subject: ``uow.repository(Customer).add_many(customers)`` in one ``crm.run``,
starting from domain objects (so the row mapping is inside the measurement).
Anchor: ``connection.execute(table.insert(), rows)`` of the same rows, already
built as dicts, in one transaction. Each timed call writes into a fresh tenant.
On PostgreSQL the adapter bulk-loads through COPY above 1,000 rows; the
"INSERT path" row forces its executemany path for comparison. MariaDB's case is in
bench_storage_mariadb.
"""

from __future__ import annotations

import uuid
from typing import Any

import pendulum
import sqlalchemy as sa
from attrs import evolve

from bench.databases import pg_engine, sqlite_engine
from bench.harness import Case
from crmkit import connect
from crmkit.adapters.sql import repository as sql_repository
from crmkit.adapters.sql.tables import mapping_for
from crmkit.customers import Customer, CustomerKind
from crmkit.kernel.ids import RandomIdGenerator, TenantId, UserId
from crmkit.kernel.money import Money

N = 100_000
# Above the 1,000 rows where PostgreSQL switches to COPY, so both paths run.
SMOKE = {"N": 1_100}
NOTES = (
    "**Storage (bench_storage).** 100,000 customers saved in one unit of work "
    "(`add_many` from domain objects, row mapping included) against SQLAlchemy Core "
    "`executemany` of the same rows prebuilt as dicts. On PostgreSQL the adapter "
    "switches to COPY above 1,000 rows; the *INSERT path* row forces executemany to "
    "show the mapping overhead alone. SQLite file in WAL mode with synchronous=NORMAL; "
    "PostgreSQL 15 on loopback, each run in its own schema."
)

_REGIONS = ["华东", "华北", "华南", "西南", "海外"]


def _customers(tenant: TenantId) -> list[Customer]:
    ids = RandomIdGenerator()
    now = pendulum.datetime(2026, 3, 2, 9, tz="UTC")
    owners = [UserId(uuid.uuid4()) for _ in range(200)]
    return [
        Customer(
            id=ids.new(now),
            tenant_id=tenant,
            name=f"客户{i:06d} Trading Co.",
            created_at=now,
            kind=CustomerKind.COMPANY,
            owner_id=owners[i % 200],
            level="ABC"[i % 3],
            region=_REGIONS[i % 5],
            industry="贸易",
            phone=f"1380013{i:04d}"[-11:],
            credit_limit=Money(f"{(i % 50) * 1000}.00", "CNY"),
            tags=("vip",) if i % 7 == 0 else (),
        )
        for i in range(N)
    ]


def _pair(
    engine: sa.Engine, label: str, goal: str, goal_ratio: float, force_insert: bool = False
) -> Case:
    crm = connect(engine, migrate=False)
    table = mapping_for(Customer).table
    to_row = mapping_for(Customer).to_row
    # Inputs for the next timed call are built after the previous one, outside the timing.
    pending: dict[str, list[Any]] = {
        "subject": _customers(TenantId(uuid.uuid4())),
        "anchor": [to_row(c) for c in _customers(TenantId(uuid.uuid4()))],
    }

    def run_subject() -> None:
        customers: list[Customer] = pending["subject"]
        threshold = sql_repository._COPY_THRESHOLD
        if force_insert:
            sql_repository._COPY_THRESHOLD = 10**12
        try:
            crm.run(
                customers[0].tenant_id, lambda uow: uow.repository(Customer).add_many(customers)
            )
        finally:
            sql_repository._COPY_THRESHOLD = threshold
        pending["subject"] = _customers(TenantId(uuid.uuid4()))

    def run_anchor() -> None:
        with engine.begin() as conn:
            conn.execute(table.insert(), pending["anchor"])
        pending["anchor"] = [to_row(c) for c in _customers(TenantId(uuid.uuid4()))]

    return Case(
        name=f"save {N:,} customers, {label}",
        anchor_name="SQLAlchemy Core executemany",
        ops=N,
        subject=run_subject,
        anchor=run_anchor,
        goal=goal,
        goal_ratio=goal_ratio,
        repeat=3,
    )


def _sqlite_cases() -> list[Case]:
    return [_pair(sqlite_engine("storage"), "SQLite", "≤ 1.5", 1.5)]


def _pg_cases() -> list[Case]:
    engine, drop = pg_engine()
    copy = _pair(engine, "PostgreSQL (COPY)", "< 1 (beats Core)", 1.0)
    insert = _pair(engine, "PostgreSQL (INSERT path)", "≤ 1.5", 1.5, force_insert=True)
    return [copy, evolve(insert, teardown=drop)]


def cases() -> list[Case]:
    return _sqlite_cases() + _pg_cases()
