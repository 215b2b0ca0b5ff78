"""Pipeline analytics over 1,000,000 opportunities: crmkit vs hand-written SQL and pandas.

Subject: ``PipelineAnalytics.funnel`` / ``.forecast`` through a unit of work (the
SQL adapter's aggregate queries, scope compilation and row shaping included).
Anchors: the same ``GROUP BY`` written by hand as a SQL string, and pandas
``groupby`` on the same rows already loaded into a DataFrame (loading excluded).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal

import pandas as pd
import pendulum
import sqlalchemy as sa

from bench.databases import pg_engine, sqlite_engine
from bench.harness import Case
from crmkit import connect
from crmkit.kernel.ids import RandomIdGenerator, TenantId
from crmkit.kernel.money import Money
from crmkit.kernel.query import TRUE
from crmkit.pipeline import Opportunity, OpportunityStatus, PipelineAnalytics
from crmkit.ports import queries

N = 1_000_000
SMOKE = {"N": 300}
STAGES = [("initial", 10), ("needs", 25), ("proposal", 50), ("negotiation", 75)]
NOTES = (
    "**Pipeline analytics (bench_pipeline).** 1,000,000 opportunities (70% open) in one "
    "tenant. crmkit's funnel and forecast run as SQL aggregates through the unit of work; "
    "the SQL anchor is the same GROUP BY written by hand; the pandas anchor is a groupby "
    "on the rows already in a DataFrame (the time to load them is not counted)."
)


def _load(engine: sa.Engine, tenant: TenantId) -> pd.DataFrame:
    rng = random.Random(11)
    ids = RandomIdGenerator()
    now = pendulum.datetime(2026, 1, 1, tz="UTC")
    owners = [uuid.uuid4() for _ in range(200)]
    process = uuid.uuid4()
    crm = connect(engine, migrate=False)
    frames = []
    for first in range(0, N, 100_000):
        batch = []
        for _row in range(first, min(first + 100_000, N)):
            stage, probability = STAGES[rng.randrange(4)]
            status = rng.choices(list(OpportunityStatus), weights=(7, 2, 1))[0]
            batch.append(
                Opportunity(
                    id=ids.new(now),
                    tenant_id=tenant,
                    name="deal",
                    customer_id=uuid.uuid4(),
                    amount=Money(Decimal(rng.randrange(1, 10**8)) / 100, "CNY"),
                    process_id=process,
                    stage=stage,
                    probability=probability,
                    created_at=now,
                    stage_entered_at=now,
                    owner_id=owners[rng.randrange(200)],
                    status=status,
                    expected_close=dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(365)),
                )
            )
        crm.run(tenant, lambda uow, b=batch: uow.repository(Opportunity).add_many(b))
        frames.append(
            pd.DataFrame(
                {
                    "stage": [o.stage for o in batch],
                    "status": [o.status.value for o in batch],
                    "currency": "CNY",
                    "amount": [float(o.amount.amount) for o in batch],
                    "probability": [o.probability for o in batch],
                    "owner_id": [str(o.owner_id) for o in batch],
                    "expected_close": pd.to_datetime([o.expected_close for o in batch]),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _cases(engine: sa.Engine, label: str, teardown=None) -> list[Case]:  # type: ignore[no-untyped-def]
    tenant = TenantId(uuid.uuid4())
    frame = _load(engine, tenant)
    crm = connect(engine, migrate=False)
    month = {
        "sqlite": "strftime('%Y-%m', expected_close)",
        "postgresql": "to_char(expected_close, 'YYYY-MM')",
        "mysql": "DATE_FORMAT(expected_close, '%Y-%m')",
    }[engine.dialect.name]
    # Only PostgreSQL has a UUID type; the others store ids as 32 hex digits.
    tenant_param = str(tenant) if engine.dialect.name == "postgresql" else tenant.hex
    funnel_sql = sa.text(
        "SELECT stage, amount_currency, count(*), sum(amount_amount), "
        "sum(amount_amount * probability) FROM opportunities "
        "WHERE tenant_id = :t AND status = 'open' GROUP BY stage, amount_currency"
    )
    forecast_sql = sa.text(
        f"SELECT {month} AS period, owner_id, amount_currency, count(*), sum(amount_amount), "
        "sum(amount_amount * probability) FROM opportunities WHERE tenant_id = :t "
        "AND status = 'open' AND expected_close >= :a AND expected_close <= :b "
        "GROUP BY period, owner_id, amount_currency"
    )
    start, end = dt.date(2026, 3, 1), dt.date(2026, 8, 31)

    def analytics(work):  # type: ignore[no-untyped-def]
        return crm.run(tenant, lambda uow: work(queries(uow, PipelineAnalytics)))

    def hand(statement, **params):  # type: ignore[no-untyped-def]
        with engine.connect() as conn:
            return conn.execute(statement, {"t": tenant_param, **params}).all()

    def pandas_funnel() -> object:
        deals = frame[frame.status == "open"]
        return (
            deals.assign(w=deals.amount * deals.probability)
            .groupby(["stage", "currency"])
            .agg(n=("amount", "size"), amount=("amount", "sum"), w=("w", "sum"))
        )

    def pandas_forecast() -> object:
        deals = frame[
            (frame.status == "open")
            & (frame.expected_close >= pd.Timestamp(start))
            & (frame.expected_close <= pd.Timestamp(end))
        ]
        return (
            deals.assign(
                period=deals.expected_close.dt.strftime("%Y-%m"), w=deals.amount * deals.probability
            )
            .groupby(["period", "owner_id", "currency"])
            .agg(n=("amount", "size"), amount=("amount", "sum"), w=("w", "sum"))
        )

    funnel = lambda: analytics(lambda a: a.funnel(TRUE))  # noqa: E731
    forecast = lambda: analytics(lambda a: a.forecast(start, end, TRUE))  # noqa: E731
    return [
        Case(
            f"funnel, 1M opportunities, {label}",
            "hand-written SQL",
            1,
            funnel,
            lambda: hand(funnel_sql),
            "≤ 1.2",
            1.2,
            repeat=5,
        ),
        Case(
            f"funnel, 1M opportunities, {label}",
            "pandas groupby (in memory)",
            1,
            funnel,
            pandas_funnel,
            "report",
            repeat=5,
        ),
        Case(
            f"forecast, 1M opportunities, {label}",
            "hand-written SQL",
            1,
            forecast,
            lambda: hand(forecast_sql, a=start, b=end),
            "≤ 1.2",
            1.2,
            repeat=5,
        ),
        Case(
            f"forecast, 1M opportunities, {label}",
            "pandas groupby (in memory)",
            1,
            forecast,
            pandas_forecast,
            "report",
            repeat=5,
            teardown=teardown,
        ),
    ]


def cases() -> list[Case]:
    pg, drop = pg_engine()
    return _cases(sqlite_engine("pipeline"), "SQLite") + _cases(pg, "PostgreSQL", drop)
