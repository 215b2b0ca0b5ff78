"""Aging, DSO and the collection forecast: SQL and Python agree, and scopes apply."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmkit import Crm
from crmkit.adapters.memory import MemoryStorage
from crmkit.billing import (
    AgingBuckets,
    aging_report,
    allocate_receipt,
    collection_forecast,
    create_plan,
    days_sales_outstanding,
    record_receipt,
)
from crmkit.billing.model.plans import Installment
from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import FixedClock
from crmkit.kernel.ids import RandomIdGenerator, TenantId, UserId
from crmkit.kernel.money import Money
from crmkit.kernel.query import F
from crmkit.rules.permissions import bootstrap_tenant
from tests.billing.builders import TERMS_30_60_10, make_document, make_plan, seed_customers

ON = date(2026, 3, 2)


def test_outstanding_amounts_fall_into_buckets_by_days_overdue(crm: Crm, actor: Actor) -> None:
    view = make_plan(
        crm, actor, signed=date(2025, 8, 1), delivered=date(2026, 1, 20), accepted=None
    )
    receipt = record_receipt(
        crm,
        actor,
        customer_id=view.plan.customer_id,
        amount=Money("10000", "CNY"),
        received_on=date(2026, 2, 1),
        idempotency_key="r",
    )
    allocate_receipt(crm, actor, receipt.id, idempotency_key="a")
    table = aging_report(crm, actor, ON)
    assert table.columns == (
        "customer_id",
        "owner_id",
        "currency",
        "not_due",
        "1-30",
        "31-60",
        "61-90",
        "91-180",
        "over_180",
        "total",
    )
    (row,) = table.to_dicts()
    # 30,000 due 2025-08-01 (213 days) less 10,000 paid; 60,000 due 2026-01-20 (41 days);
    # the acceptance installment has no date yet, so it is not due.
    assert row["over_180"] == Decimal("20000")
    assert row["31-60"] == Decimal("60000")
    assert row["not_due"] == Decimal("10000")
    assert row["total"] == Decimal("90000")
    assert row["owner_id"] == str(view.plan.owner_id)


DEFAULT_LABELS = ("not_due", "1-30", "31-60", "61-90", "91-180", "over_180")
EDGES = [0, 1, 29, 30, 31, 59, 60, 61, 89, 90, 91, 179, 180, 181]


def _bucket_by_hand(days_overdue: int) -> str:
    if days_overdue <= 0:
        return "not_due"
    for low, high in ((1, 30), (31, 60), (61, 90), (91, 180)):
        if low <= days_overdue <= high:
            return f"{low}-{high}"
    return "over_180"


@pytest.mark.parametrize("days_overdue", EDGES)
def test_an_installment_on_a_bucket_edge_falls_in_the_lower_bucket(
    crm: Crm, actor: Actor, days_overdue: int
) -> None:
    # Exactly 30 days overdue is still 1-30, 31 is 31-60, and so on: the bound belongs to
    # the bucket it closes. Memory computes this in Python, SQLite and PostgreSQL in SQL.
    view = make_plan(
        crm, actor, signed=ON - timedelta(days=days_overdue), delivered=None, accepted=None
    )
    (row,) = aging_report(crm, actor, ON).to_dicts()
    signing, *undated = (i.amount.amount for i in view.installments)
    expected: dict[str, Decimal] = {label: Decimal(0) for label in DEFAULT_LABELS}
    expected["not_due"] += sum(undated, Decimal(0))
    expected[_bucket_by_hand(days_overdue)] += signing
    assert {label: row[label] for label in DEFAULT_LABELS} == expected


def test_buckets_are_configurable(crm: Crm, actor: Actor) -> None:
    make_plan(crm, actor, signed=date(2026, 2, 20), delivered=None, accepted=None)
    table = aging_report(crm, actor, ON, buckets=AgingBuckets((7, 14)))
    assert table.columns[3:6] == ("not_due", "1-7", "8-14")
    assert table.to_dicts()[0]["8-14"] == Decimal("30000")


def test_a_scope_limits_the_aging_table_to_what_the_actor_may_see(crm: Crm, actor: Actor) -> None:
    mine = make_plan(crm, actor, owner_id=actor.user_id)
    make_plan(crm, actor)  # someone else's customer
    table = aging_report(crm, actor, ON, scope=F("owner_id").eq(actor.user_id))
    assert table.column("customer_id") == [str(mine.plan.customer_id)]


def test_dso_divides_what_is_outstanding_by_what_was_raised(crm: Crm, actor: Actor) -> None:
    make_plan(crm, actor, total="90000.00")  # raised today (the clock's day)
    (row,) = days_sales_outstanding(crm, actor, ON, days=90).to_dicts()
    assert (row["outstanding"], row["raised"], row["dso"]) == (
        Decimal("90000"),
        Decimal("90000"),
        Decimal("90.0"),
    )


def test_the_forecast_shows_installments_due_and_slips_received(crm: Crm, actor: Actor) -> None:
    view = make_plan(
        crm, actor, signed=date(2026, 2, 20), delivered=date(2026, 3, 10), accepted=date(2026, 3, 1)
    )
    record_receipt(
        crm,
        actor,
        customer_id=view.plan.customer_id,
        amount=Money("5000", "CNY"),
        received_on=date(2026, 2, 27),
        confirmed=False,
        idempotency_key="slip",
    )
    table = collection_forecast(crm, actor, ON, date(2026, 6, 30), grain="month")
    assert table.to_dicts() == [
        {"period": "overdue", "currency": "CNY", "due": Decimal("30000"), "slips": Decimal(0)},
        {"period": "2026-03", "currency": "CNY", "due": Decimal("60000"), "slips": Decimal("5000")},
        {"period": "2026-05", "currency": "CNY", "due": Decimal("10000"), "slips": Decimal(0)},
    ]
    weekly = collection_forecast(crm, actor, ON, date(2026, 3, 31))
    assert weekly.column("period") == ["overdue", "2026-W10", "2026-W11"]


# -- SQL and Python give the same tables -------------------------------------------------------

plans = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=3),  # which customer
        st.integers(min_value=1, max_value=2),  # which owner
        st.integers(min_value=100, max_value=10**9),  # total in fen
        # signing day relative to ON; half the draws put the signing installment (due on
        # signing) or the delivery one (due 30 days later) exactly on a bucket edge
        st.one_of(
            st.sampled_from([-d for d in EDGES] + [-d - 30 for d in EDGES]),
            st.integers(min_value=-400, max_value=60),
        ),
        st.booleans(),  # delivered?
        st.integers(min_value=0, max_value=10**9),  # receipt in fen
        st.sampled_from(["CNY", "USD"]),
    ),
    min_size=1,
    max_size=6,
)


def _load(crm: Crm, actor: Actor, data: list[tuple[int, int, int, int, bool, int, str]]) -> None:
    customers = [uuid.UUID(int=n) for n in range(1, 4)]
    seed_customers(crm, actor.tenant_id, customers)
    owners = [UserId(uuid.UUID(int=100 + n)) for n in range(1, 3)]
    for n, (who, owner, total, signed, delivered, paid, currency) in enumerate(data):
        day = ON + timedelta(days=signed)
        milestones = {"signing": day}
        if delivered:
            milestones["delivery"] = day + timedelta(days=30)
        document = make_document(
            customer_id=customers[who - 1],
            owner_id=owners[owner - 1],
            total=str(Money.from_minor_units(total, currency).amount),
            currency=currency,
        )
        create_plan(crm, actor, document, terms=TERMS_30_60_10, milestones=milestones)
        if paid:
            receipt = record_receipt(
                crm,
                actor,
                customer_id=customers[who - 1],
                amount=Money.from_minor_units(paid, currency),
                received_on=ON,
                confirmed=paid % 3 != 0,
                idempotency_key=f"r{n}",
            )
            if receipt.is_confirmed:
                allocate_receipt(crm, actor, receipt.id, idempotency_key=f"a{n}")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"], indirect=True)
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=plans)
def test_sql_and_memory_compute_the_same_tables(
    make_crm: Callable[[], Crm], data: list[tuple[int, int, int, int, bool, int, str]]
) -> None:
    clock = FixedClock("2026-01-15T09:00:00Z")
    sql = make_crm()
    sql.clock = clock
    memory = Crm(MemoryStorage(), clock=clock, ids=RandomIdGenerator())
    actor = Actor(TenantId(uuid.uuid4()), UserId(uuid.uuid4()), "finance")
    for crm in (sql, memory):
        bootstrap_tenant(crm, actor.tenant_id, actor.user_id)
        _load(crm, actor, data)
    scope = F("owner_id").eq(uuid.UUID(int=101)) | F("customer_id").eq(uuid.UUID(int=3))
    for where in (None, scope):
        kwargs = {} if where is None else {"scope": where}
        assert aging_report(sql, actor, ON, **kwargs) == aging_report(memory, actor, ON, **kwargs)
        assert days_sales_outstanding(sql, actor, ON, **kwargs) == days_sales_outstanding(
            memory, actor, ON, **kwargs
        )
        for grain in ("week", "month"):
            end = ON + timedelta(days=120)
            assert collection_forecast(
                sql, actor, ON, end, grain=grain, **kwargs
            ) == collection_forecast(memory, actor, ON, end, grain=grain, **kwargs)
    outstanding = sum(
        (
            i.outstanding
            for i in memory.run(actor.tenant_id, lambda u: u.repository(Installment).query())
            if i.amount.currency == "CNY"
        ),
        Money.zero("CNY"),
    )
    cny_rows = [r for r in aging_report(memory, actor, ON).to_dicts() if r["currency"] == "CNY"]
    assert sum((r["total"] for r in cny_rows), Decimal(0)) == outstanding.amount
