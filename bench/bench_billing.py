"""Billing: the aging report on PostgreSQL vs a raw SQLAlchemy Core query and pandas.

``aging_report`` (the SQL ``AgingQuery``: one grouped query with a ``CASE`` per
bucket, the permission scope compiled in, then typed rows) against (a) the same
report written by hand as a SQLAlchemy Core select on the same table, fetched raw,
and (b) pandas computing it from a DataFrame that already holds every open
installment (loading it is not timed, which flatters pandas). The same cases run on
SQLite in ``bench_billing_sqlite``; batch allocation is measured in
``bench_allocation`` and ``bench_allocation_growth``.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import uuid
from collections.abc import Callable
from decimal import Decimal

import pandas as pd
import pendulum
import sqlalchemy as sa

from bench.databases import pg_engine
from bench.harness import Case
from crmkit import connect
from crmkit.adapters.sql.tables import mapping_for
from crmkit.billing import (
    Direction,
    Installment,
    Receipt,
    ReceiptState,
    aging_report,
)
from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import FixedClock
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.money import Money
from crmkit.rules.permissions import bootstrap_tenant

INSTALLMENTS = int(os.environ.get("CRMKIT_BENCH_INSTALLMENTS", "1000000"))
RECEIPTS = int(os.environ.get("CRMKIT_BENCH_RECEIPTS", "300000"))
SMOKE = {"INSTALLMENTS": 300, "RECEIPTS": 100}
ON = dt.date(2026, 3, 2)
NOTES = (
    f"**Billing aging (bench_billing).** Aging over {INSTALLMENTS:,} installments (20,000 "
    f"customers, 200 owners, due dates over two years, a quarter partly paid) and "
    f"{RECEIPTS:,} receipts on PostgreSQL (bench_billing_sqlite: the same on a SQLite "
    "file). crmkit's aging is one grouped query plus typed rows; the Core anchor is the "
    "same aggregate written by hand as a SQLAlchemy Core select on the mapped table, its "
    "values read through the columns' types (crmkit reads PostgreSQL's exact NUMERIC sums "
    "as they come, which is why it can beat the anchor there); the pandas anchor starts "
    "from a DataFrame already in memory (its load is not timed)."
)


def _installment(
    tenant: TenantId, customer: uuid.UUID, owner: uuid.UUID, fen: int, due: dt.date, paid: int
) -> Installment:
    amount = Money.from_minor_units(fen, "CNY")
    item = Installment(
        id=uuid.uuid4(),  # type: ignore[arg-type]
        tenant_id=tenant,
        plan_id=uuid.uuid4(),  # type: ignore[arg-type]
        direction=Direction.RECEIVABLE,
        document_type="contract",
        document_id=uuid.uuid4(),
        customer_id=customer,
        owner_id=owner,  # type: ignore[arg-type]
        seq=1,
        label="HT",
        amount=amount,
        due_date=due,
        raised_on=due - dt.timedelta(days=30),
    )
    if paid:
        item.apply_payment(Money.from_minor_units(paid, "CNY"))
    return item


def aging_cases(engine: sa.Engine, backend: str, teardown: Callable[[], None] | None) -> list[Case]:
    tenant = TenantId(uuid.uuid4())
    crm = connect(engine, migrate=False, clock=FixedClock("2026-03-02T02:00:00Z"))
    rng = random.Random(8)
    customers = [uuid.uuid4() for _ in range(20_000)]
    owners = [uuid.uuid4() for _ in range(200)]
    start = ON - dt.timedelta(days=600)
    chunk = 100_000
    for first in range(0, INSTALLMENTS, chunk):
        rows = []
        for _ in range(first, min(first + chunk, INSTALLMENTS)):
            fen = rng.randrange(10_000, 100_000_000)
            paid = rng.randrange(fen) if rng.random() < 0.25 else 0
            # A customer has one owner, so the report has one row per customer.
            who = rng.randrange(len(customers))
            rows.append(
                _installment(
                    tenant,
                    customers[who],
                    owners[who % len(owners)],
                    fen,
                    start + dt.timedelta(days=rng.randrange(730)),
                    paid,
                )
            )
        crm.run(tenant, lambda uow, rows=rows: uow.repository(Installment).add_many(rows))
    now = pendulum.datetime(2026, 3, 1, tz="UTC")
    for first in range(0, RECEIPTS, chunk):
        receipts = [
            Receipt(
                id=uuid.uuid4(),  # type: ignore[arg-type]
                tenant_id=tenant,
                direction=Direction.RECEIVABLE,
                customer_id=rng.choice(customers),
                amount=(m := Money.from_minor_units(rng.randrange(10_000, 10_000_000), "CNY")),
                settled=m,
                rate=Decimal(1),
                received_on=start + dt.timedelta(days=rng.randrange(600)),
                created_at=now,
                state=ReceiptState.CONFIRMED,
            )
            for _ in range(first, min(first + chunk, RECEIPTS))
        ]
        crm.run(tenant, lambda uow, r=receipts: uow.repository(Receipt).add_many(r))
    with engine.begin() as conn:
        for entity in (Installment, Receipt):  # the tables read, not the whole database
            analyze = "ANALYZE TABLE" if engine.dialect.name == "mysql" else "ANALYZE"
            conn.exec_driver_sql(f"{analyze} {mapping_for(entity).table.name}")
    actor = Actor(tenant, UserId(uuid.uuid4()), "finance")
    bootstrap_tenant(crm, tenant, actor.user_id)
    t = mapping_for(Installment).table
    cuts = [ON - dt.timedelta(days=d) for d in (30, 60, 90, 180)]
    outstanding = t.c.amount_amount - t.c.paid_amount
    windows = [sa.or_(t.c.due_date.is_(None), t.c.due_date >= ON)]
    upper = ON
    for cut in cuts:
        windows.append(sa.and_(t.c.due_date < upper, t.c.due_date >= cut))
        upper = cut
    windows.append(t.c.due_date < upper)
    by_hand_query = (
        sa.select(
            t.c.customer_id,
            t.c.owner_id,
            t.c.amount_currency,
            *(sa.func.sum(sa.case((w, outstanding), else_=0)) for w in windows),
            sa.func.sum(outstanding),
        )
        .where(
            t.c.tenant_id == tenant,
            t.c.direction == "receivable",
            t.c.status.in_(["open", "partial"]),
        )
        .group_by(t.c.customer_id, t.c.owner_id, t.c.amount_currency)
    )
    expected: dict[str, int] = {}

    def subject() -> None:
        expected["rows"] = len(aging_report(crm, actor, ON))

    def by_hand() -> None:
        with engine.connect() as conn:
            rows = conn.execute(by_hand_query).fetchall()
        assert len(rows) == expected["rows"]

    with engine.connect() as conn:
        frame = pd.DataFrame(
            conn.execute(
                sa.select(
                    t.c.customer_id,
                    t.c.owner_id,
                    t.c.amount_currency,
                    t.c.due_date,
                    outstanding.label("outstanding"),
                ).where(t.c.tenant_id == tenant, t.c.status.in_(["open", "partial"]))
            ).all(),
            columns=["customer_id", "owner_id", "amount_currency", "due_date", "outstanding"],
        )
    frame["due_date"] = pd.to_datetime(frame["due_date"])
    bins = [-(10**9), 0, 30, 60, 90, 180, 10**9]
    labels = ["not_due", "1-30", "31-60", "61-90", "91-180", "over_180"]

    def with_pandas() -> None:
        days = (pd.Timestamp(ON) - frame["due_date"]).dt.days
        bucket = pd.cut(days, bins=bins, labels=labels)
        table_ = frame.pivot_table(
            index=["customer_id", "owner_id", "amount_currency"],
            columns=bucket,
            values="outstanding",
            aggfunc="sum",
            fill_value=0,
            observed=False,
        )
        assert len(table_) == expected["rows"]

    subject()  # warm up and learn the row count
    return [
        Case(
            name=f"aging, {INSTALLMENTS:,} installments, {backend}",
            anchor_name="raw SQLAlchemy Core query",
            ops=1,
            subject=subject,
            anchor=by_hand,
            goal="ratio <= 1.2",
            goal_ratio=1.2,
            repeat=3,
        ),
        Case(
            name=f"aging, {INSTALLMENTS:,} installments, {backend}",
            anchor_name="pandas (data preloaded)",
            ops=1,
            subject=subject,
            anchor=with_pandas,
            goal="report",
            repeat=3,
            teardown=teardown,
        ),
    ]


def cases() -> list[Case]:
    engine, drop = pg_engine()
    return aging_cases(engine, "PostgreSQL", drop)
