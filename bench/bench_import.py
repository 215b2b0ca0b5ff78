"""Importing 100,000 customers from a CSV vs a raw SQLAlchemy Core insert of the rows.

Subject: :func:`crmkit.customers.services.importing.import_customers` on a table already read
from a CSV (the bytes are parsed outside the timing, so this is the use case, not the
csv module): header mapping, per-row checks, the ``Customer`` constructor (which
computes the pinyin / initials / letter search keys and the caller-ID key), the owner
and permission checks, the duplicate-name lookup against the stored customers, the
insert with one ``CustomerRegistered`` outbox event and one change-history record per
customer — one transaction.
Anchor: ``connection.execute(table.insert(), rows)`` of the same customers' rows,
already built as dicts (keys precomputed), in one transaction. Each timed call writes
into a fresh tenant of the same SQLite file (WAL, synchronous=NORMAL).
"""

from __future__ import annotations

import uuid
from typing import Any

import pendulum

from bench.databases import scratch_folder
from bench.harness import Case
from crmkit import connect
from crmkit.adapters.sql.engine import create_engine
from crmkit.adapters.sql.tables import mapping_for
from crmkit.adapters.tabular import Table, read_table, write_csv
from crmkit.customers import Customer
from crmkit.customers.services.importing import import_customers
from crmkit.kernel.actor import Actor
from crmkit.kernel.ids import RandomIdGenerator, TenantId, UserId
from crmkit.kernel.money import Money
from crmkit.rules.permissions import bootstrap_tenant

N = 100_000
SMOKE = {"N": 100}
NOTES = (
    "**Import (bench_import).** 100,000 customers imported from a CSV table (mapping, "
    "per-row checks, search keys, duplicate lookup, permission checks, insert, one "
    "change-history record and one outbox event each, one transaction) against a "
    "SQLAlchemy Core `executemany` of the "
    "same customers' rows prebuilt as dicts, on a SQLite file. The goal from issue 6: "
    "at least half the speed of the raw insert (ratio ≤ 2)."
)

_CITIES = ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京", "重庆", "西安"]
_CORES = ["华为", "长城", "东方", "新华", "宏达", "金龙", "恒信", "天成", "瑞丰", "中科"]
_TRADES = ["科技", "电子", "贸易", "物流", "机械", "医药", "建材", "食品", "能源", "传媒"]
_REGIONS = ["华东", "华北", "华南", "西南", "海外"]


def _csv(n: int) -> bytes:
    header = ["客户名称", "客户级别", "地区", "行业", "电话", "信用额度", "币种", "标签"]
    rows = []
    for i in range(n):
        name = (
            f"{_CITIES[i % 10]}{_CORES[(i // 10) % 10]}{_TRADES[(i // 100) % 10]}"
            f"{i // 1000:03d}有限公司"
        )
        rows.append(
            [
                name,
                "ABC"[i % 3],
                _REGIONS[i % 5],
                _TRADES[(i // 100) % 10],
                f"1380013{i % 10000:04d}",
                f"{(i % 50) * 1000}.00",
                "CNY",
                "vip" if i % 7 == 0 else "",
            ]
        )
    return write_csv(header, rows)


def _anchor_rows(table: Table, tenant: TenantId) -> list[dict[str, Any]]:
    ids = RandomIdGenerator()
    now = pendulum.datetime(2026, 3, 2, 9, tz="UTC")
    owner = UserId(uuid.uuid4())
    to_row = mapping_for(Customer).to_row
    return [
        to_row(
            Customer(
                id=ids.new(now),
                tenant_id=tenant,
                name=row[0],
                created_at=now,
                owner_id=owner,
                level=row[1],
                region=row[2],
                industry=row[3],
                phone=row[4],
                credit_limit=Money(row[5], row[6]),
                tags=(row[7],) if row[7] else (),
            )
        )
        for row in table.rows
    ]


def cases() -> list[Case]:
    folder = scratch_folder("crmkit-bench-import-")
    engine = create_engine(f"sqlite:///{folder / 'bench.db'}")
    crm = connect(engine)
    table = read_table(_csv(N), filename="customers.csv")
    customers = mapping_for(Customer).table

    def fresh_actor() -> Actor:
        actor = Actor(TenantId(uuid.uuid4()), UserId(uuid.uuid4()), "bench")
        bootstrap_tenant(crm, actor.tenant_id, actor.user_id, actor.name)
        return actor

    pending: dict[str, Any] = {
        "actor": fresh_actor(),
        "rows": _anchor_rows(table, TenantId(uuid.uuid4())),
    }

    def subject() -> None:
        report = import_customers(crm, pending["actor"], table)
        assert len(report.created) == N
        pending["actor"] = fresh_actor()

    def anchor() -> None:
        with engine.begin() as conn:
            conn.execute(customers.insert(), pending["rows"])
        pending["rows"] = _anchor_rows(table, TenantId(uuid.uuid4()))

    return [
        Case(
            name=f"import {N:,} customers from CSV, SQLite",
            anchor_name="SQLAlchemy Core executemany",
            ops=N,
            subject=subject,
            anchor=anchor,
            goal="≤ 2 (at least half the speed)",
            goal_ratio=2.0,
            repeat=3,
        )
    ]
