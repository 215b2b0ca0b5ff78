"""Billing: the aging report in SQL vs hand-written SQL and pandas; batch allocation.

Aging: ``aging_report`` (the SQL ``AgingQuery``: one grouped query with a ``CASE``
per bucket, then typed rows) against (a) the same report written by hand as one
SQL string, fetched raw, and (b) pandas computing it from a DataFrame that already
holds every open installment (loading it is not timed, which flatters pandas).

Allocation: ``allocate_receipts`` allocating a batch of receipts oldest due first
in one transaction, against the same receipts allocated one per transaction with
``allocate_receipt``; once with one open installment per customer and once with
ten, to show how the work grows with the open installments of each customer.
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
from crmkit import Crm, connect
from crmkit.adapters.sql.tables import mapping_for
from crmkit.billing import (
    Direction,
    Installment,
    Receipt,
    ReceiptState,
    aging_report,
    allocate_receipt,
)
from crmkit.billing.services import allocate_receipts
from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import FixedClock
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.money import Money
from crmkit.rules.permissions import bootstrap_tenant

INSTALLMENTS = int(os.environ.get("CRMKIT_BENCH_INSTALLMENTS", "1000000"))
RECEIPTS = int(os.environ.get("CRMKIT_BENCH_RECEIPTS", "300000"))
BATCH = int(os.environ.get("CRMKIT_BENCH_BATCH", "1000"))
ON = dt.date(2026, 3, 2)
NOTES = (
    f"**Billing (bench_billing).** Aging over {INSTALLMENTS:,} installments (20,000 "
    f"customers, 200 owners, due dates over two years, a quarter partly paid) and "
    f"{RECEIPTS:,} receipts on PostgreSQL. crmkit's aging is one grouped query plus typed "
    "rows; the hand-written anchor is the same SQL as a string with raw rows; the pandas "
    "anchor starts from a DataFrame already in memory (its load is not timed). Batch "
    f"allocation: {BATCH:,} receipts of {BATCH:,} customers, each paying one installment "
    "and part of the next, in one transaction, against the same work one transaction per "
    "receipt (the issue asks for 100,000 per batch; scaled down so the one-by-one anchor "
    "finishes within the three-minute budget on two cores). Times are per receipt: rows "
    "per second = 1,000,000 / crmkit µs/op."
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


def _aging_cases(engine: sa.Engine, teardown: Callable[[], None]) -> list[Case]:
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
        conn.exec_driver_sql("ANALYZE")
    actor = Actor(tenant, UserId(uuid.uuid4()), "finance")
    bootstrap_tenant(crm, tenant, actor.user_id)
    table = mapping_for(Installment).table.name
    cuts = [ON - dt.timedelta(days=d) for d in (30, 60, 90, 180)]
    hand_sql = sa.text(
        f"""
        SELECT customer_id, owner_id, amount_currency,
          SUM(CASE WHEN due_date IS NULL OR due_date >= :on
                   THEN amount_amount - paid_amount ELSE 0 END),
          SUM(CASE WHEN due_date < :on AND due_date >= :c1
                   THEN amount_amount - paid_amount ELSE 0 END),
          SUM(CASE WHEN due_date < :c1 AND due_date >= :c2
                   THEN amount_amount - paid_amount ELSE 0 END),
          SUM(CASE WHEN due_date < :c2 AND due_date >= :c3
                   THEN amount_amount - paid_amount ELSE 0 END),
          SUM(CASE WHEN due_date < :c3 AND due_date >= :c4
                   THEN amount_amount - paid_amount ELSE 0 END),
          SUM(CASE WHEN due_date < :c4 THEN amount_amount - paid_amount ELSE 0 END),
          SUM(amount_amount - paid_amount)
        FROM {table}
        WHERE tenant_id = :t AND direction = 'receivable' AND status IN ('open', 'partial')
        GROUP BY customer_id, owner_id, amount_currency
        """
    )
    params = {"on": ON, "t": tenant, **{f"c{n}": c for n, c in enumerate(cuts, start=1)}}
    expected: dict[str, int] = {}

    def subject() -> None:
        expected["rows"] = len(aging_report(crm, actor, ON))

    def by_hand() -> None:
        with engine.connect() as conn:
            rows = conn.execute(hand_sql, params).fetchall()
        assert len(rows) == expected["rows"]

    with engine.connect() as conn:
        frame = pd.read_sql_query(
            sa.text(
                f"SELECT customer_id, owner_id, amount_currency, due_date, "
                f"amount_amount - paid_amount AS outstanding FROM {table} "
                f"WHERE tenant_id = :t AND status IN ('open', 'partial')"
            ),
            conn,
            params={"t": tenant},
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
            name=f"aging, {INSTALLMENTS:,} installments, PostgreSQL",
            anchor_name="hand-written SQL",
            ops=1,
            subject=subject,
            anchor=by_hand,
            goal="ratio <= 1.2",
            goal_ratio=1.2,
            repeat=3,
        ),
        Case(
            name=f"aging, {INSTALLMENTS:,} installments, PostgreSQL",
            anchor_name="pandas (data preloaded)",
            ops=1,
            subject=subject,
            anchor=with_pandas,
            goal="report",
            repeat=3,
            teardown=teardown,
        ),
    ]


def _allocation_case(per_customer: int) -> Case:
    engine, drop = pg_engine()
    tenant = TenantId(uuid.uuid4())
    crm: Crm = connect(engine, migrate=False, clock=FixedClock("2026-03-02T02:00:00Z"))
    actor = Actor(tenant, UserId(uuid.uuid4()), "finance")
    bootstrap_tenant(crm, tenant, actor.user_id)
    rng = random.Random(per_customer)
    # Every timed run gets receipts of its own customers: a receipt is allocated once.
    runs = 2 * 3 + 1
    customers = [uuid.uuid4() for _ in range(BATCH * runs)]
    owner = uuid.uuid4()
    items = [
        _installment(tenant, c, owner, 100_00, ON - dt.timedelta(days=rng.randrange(300)), 0)
        for c in customers
        for _ in range(per_customer)
    ]
    crm.run(tenant, lambda uow: uow.repository(Installment).add_many(items))
    now = pendulum.datetime(2026, 3, 1, tz="UTC")
    receipts = [
        Receipt(
            id=uuid.uuid4(),  # type: ignore[arg-type]
            tenant_id=tenant,
            direction=Direction.RECEIVABLE,
            customer_id=c,
            # Pays the oldest installment and a part of the next: walks two per receipt.
            amount=Money("130.00", "CNY"),
            settled=Money("130.00", "CNY"),
            rate=Decimal(1),
            received_on=ON,
            created_at=now,
            state=ReceiptState.CONFIRMED,
        )
        for c in customers
    ]
    crm.run(tenant, lambda uow: uow.repository(Receipt).add_many(receipts))
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    batches = iter([receipts[n : n + BATCH] for n in range(0, len(receipts), BATCH)])
    keys = iter(range(10**9))

    def in_one_batch() -> None:
        batch = [r.id for r in next(batches)]
        assert allocate_receipts(crm, actor, batch, idempotency_key=f"b{next(keys)}")

    def one_by_one() -> None:
        for receipt in next(batches):
            allocate_receipt(crm, actor, receipt.id, idempotency_key=f"s{next(keys)}")

    return Case(
        name=f"allocate {BATCH:,} receipts, {per_customer} open installment(s)/customer",
        anchor_name="one transaction per receipt",
        ops=BATCH,
        subject=in_one_batch,
        anchor=one_by_one,
        goal="report",
        repeat=3,
        teardown=drop,
    )


def cases() -> list[Case]:
    engine, drop = pg_engine()
    return [*_aging_cases(engine, drop), _allocation_case(1), _allocation_case(10)]
