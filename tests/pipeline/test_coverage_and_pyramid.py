"""Pipeline coverage of targets and the customer pyramid: SQL equals the Python reference,
known inputs give known figures, and a rep's view is narrowed by their permissions."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmkit import Crm, ValidationError, connect
from crmkit.customers.model import Customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.money import Money
from crmkit.kernel.query import TRUE, F
from crmkit.pipeline import (
    Opportunity,
    OpportunityStatus,
    coverage_report,
    customer_pyramid,
    set_target,
)
from crmkit.pipeline.model.targets import DEFAULT_PYRAMID, Metric, RevenueTier, UnitKind
from crmkit.pipeline.queries import PipelineAnalytics
from crmkit.ports import UnitOfWork, queries
from crmkit.rules.permissions import (
    Grant,
    Scope,
    define_department,
    define_role,
    set_member,
)

OWNERS = [UserId(uuid.UUID(int=i + 1)) for i in range(3)]
CUSTOMERS = [uuid.UUID(int=100 + i) for i in range(5)]
START = pendulum.datetime(2026, 3, 1, tz="UTC")
TIERS = (
    RevenueTier("big", Decimal(50_000)),
    RevenueTier("mid", Decimal(1_000)),
    RevenueTier("small", Decimal(0)),
)

deal_specs = st.lists(
    st.fixed_dictionaries(
        {
            "owner": st.sampled_from(OWNERS),
            "customer": st.sampled_from(CUSTOMERS),
            "currency": st.sampled_from(["CNY", "USD"]),
            # Amounts hit the tier edges (0, 1,000, 50,000) as well as anything between.
            "amount": st.one_of(
                st.sampled_from([Decimal(0), Decimal(1000), Decimal("999.99"), Decimal(50_000)]),
                st.integers(0, 10**7).map(lambda c: Decimal(c) / 100),
            ),
            "probability": st.integers(0, 100),
            "outcome": st.sampled_from(["open", "won", "lost"]),
            "closed": st.integers(-5, 40),
            "close_in": st.integers(-10, 60),
        }
    ),
    max_size=25,
)


def _load(crm: Crm, tenant: TenantId, specs: list[dict[str, Any]]) -> None:
    customers = [
        Customer(
            id=cid,
            tenant_id=tenant,
            name=f"customer {i}",
            created_at=START,
            owner_id=OWNERS[i % len(OWNERS)],
        )
        for i, cid in enumerate(CUSTOMERS)
    ]
    deals = []
    for spec in specs:
        deal = Opportunity(
            id=uuid.uuid4(),
            tenant_id=tenant,
            name="d",
            customer_id=spec["customer"],
            amount=Money(spec["amount"], spec["currency"]),
            process_id=uuid.uuid4(),
            stage="initial",
            probability=spec["probability"],
            created_at=START.subtract(days=10),
            stage_entered_at=START.subtract(days=10),
            owner_id=spec["owner"],
            expected_close=START.date().add(days=spec["close_in"]),
        )
        if spec["outcome"] != "open":
            deal.status = OpportunityStatus(spec["outcome"])
            deal.closed_at = START.add(days=spec["closed"])
        deals.append(deal)

    def store(uow: UnitOfWork) -> None:
        uow.repository(Customer).add_many(customers)
        uow.repository(Opportunity).add_many(deals)

    crm.run(tenant, store)


def _figures(crm: Crm, tenant: TenantId, scope: Any, customer_scope: Any) -> tuple[Any, ...]:
    def read(uow: UnitOfWork) -> tuple[Any, ...]:
        analytics: PipelineAnalytics = queries(uow, PipelineAnalytics)
        return (
            analytics.pipeline_by_owner(dt.date(2026, 3, 1), dt.date(2026, 3, 31), scope),
            analytics.customer_pyramid(START, START.add(months=1), TIERS, scope, customer_scope),
        )

    return crm.run(tenant, read)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"], indirect=True)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=deal_specs, scoped=st.booleans())
def test_sql_coverage_and_pyramid_equal_the_python_reference(
    make_crm: Callable[[], Crm], specs: list[dict[str, Any]], scoped: bool
) -> None:
    tenant = TenantId(uuid.uuid4())
    sql, memory = make_crm(), connect("memory://")
    _load(sql, tenant, specs)
    _load(memory, tenant, specs)
    scope = F("owner_id").is_in(OWNERS[:2]) if scoped else TRUE
    customer_scope = F("owner_id").is_in(OWNERS[1:]) if scoped else TRUE
    got = _figures(sql, tenant, scope, customer_scope)
    assert got == _figures(memory, tenant, scope, customer_scope)
    pipeline, pyramid = got
    expected_open = [
        s
        for s in specs
        if s["outcome"] == "open"
        and 0 <= s["close_in"] <= 30
        and (not scoped or s["owner"] in OWNERS[:2])
    ]
    assert sum(pipeline.column("deals")) == len(expected_open)
    # Every customer of the population is counted once per currency it bought in,
    # or once as "none": nobody falls through a gap between tiers.
    buyers = {r["tier"] for r in pyramid.to_dicts()} - {"none"}
    assert buyers <= {t.label for t in TIERS}
    population = 3 if scoped else len(CUSTOMERS)  # customers 1, 2 and 4 are owned by 1 and 2
    assert sum(pyramid.column("customers")) >= population


@pytest.fixture
def org(crm: Crm, actor: Actor) -> dict[str, Any]:
    sales = define_department(crm, actor, "Sales")
    east = define_department(crm, actor, "East", parent_id=sales.id)
    li = Actor(actor.tenant_id, OWNERS[0], "Li")
    chen = Actor(actor.tenant_id, OWNERS[1], "Chen")
    set_member(crm, actor, li.user_id, name="Li", department_id=east.id)
    set_member(crm, actor, chen.user_id, name="Chen", department_id=sales.id)
    base = {"probability": 50, "closed": 3, "close_in": 10, "currency": "CNY"}
    _load(
        crm,
        actor.tenant_id,
        [
            # Li: 100,000 won, 300,000 open (weighted 150,000) closing in March.
            {
                **base,
                "owner": li.user_id,
                "customer": CUSTOMERS[0],
                "amount": Decimal(100_000),
                "outcome": "won",
            },
            {
                **base,
                "owner": li.user_id,
                "customer": CUSTOMERS[0],
                "amount": Decimal(300_000),
                "outcome": "open",
            },
            # Closes in April: outside the March pipeline.
            {
                **base,
                "owner": li.user_id,
                "customer": CUSTOMERS[1],
                "amount": Decimal(999_000),
                "outcome": "open",
                "close_in": 45,
            },
            # Chen: 20,000 won from one customer, 2,000,000 from another, 100,000 open at 20%.
            {
                **base,
                "owner": chen.user_id,
                "customer": CUSTOMERS[1],
                "amount": Decimal(20_000),
                "outcome": "won",
            },
            {
                **base,
                "owner": chen.user_id,
                "customer": CUSTOMERS[2],
                "amount": Decimal(2_000_000),
                "outcome": "won",
            },
            {
                **base,
                "owner": chen.user_id,
                "customer": CUSTOMERS[2],
                "amount": Decimal(100_000),
                "outcome": "open",
                "probability": 20,
            },
            {
                **base,
                "owner": chen.user_id,
                "customer": CUSTOMERS[3],
                "amount": Decimal(5),
                "outcome": "won",
                "currency": "USD",
            },
        ],
    )
    return {"sales": sales, "east": east, "li": li, "chen": chen}


def test_coverage_divides_the_pipeline_by_what_is_left_to_win(
    crm: Crm, actor: Actor, org: dict[str, Any]
) -> None:
    for unit_kind, unit_id, value in (
        (UnitKind.USER, org["li"].user_id, "200000"),
        (UnitKind.USER, org["chen"].user_id, "1000000"),
        (UnitKind.DEPARTMENT, org["east"].id, "250000"),
    ):
        set_target(
            crm,
            actor,
            unit_kind=unit_kind,
            unit_id=unit_id,
            period="2026-03",
            metric=Metric.WON_AMOUNT,
            value=value,
            currency="CNY",
        )
    report = coverage_report(crm, actor, period="2026-03", currency="CNY")
    rows = {(r["unit"], r["name"]): r for r in report.to_dicts()}
    li = rows[("user", "Li")]
    assert (li["target"], li["won"], li["gap"]) == (Decimal(200_000), 100_000, 100_000)
    assert (li["pipeline"], li["weighted"]) == (Decimal(300_000), Decimal("150000.00"))
    assert (li["coverage"], li["weighted_coverage"]) == (Decimal("3.00"), Decimal("1.50"))
    chen = rows[("user", "Chen")]
    assert chen["gap"] == Decimal(-1_020_000)  # over target: nothing left to cover
    assert (chen["coverage"], chen["weighted_coverage"]) == (None, None)
    east = rows[("department", "East")]
    assert (east["gap"], east["coverage"], east["weighted_coverage"]) == (
        Decimal(150_000),
        Decimal("2.00"),
        Decimal("1.00"),
    )
    sales = rows[("department", "Sales")]  # Chen sits in Sales itself, Li below in East
    # Rolled up: East's own target and the personal target of Chen, a member of Sales.
    assert sales["target"] == Decimal(1_250_000)
    assert (sales["won"], sales["pipeline"]) == (Decimal(2_120_000), Decimal(400_000))
    assert sales["coverage"] is None
    assert report.column("name")[:2] == ["Sales", "East"]


def test_the_pyramid_tiers_customers_by_revenue(
    crm: Crm, actor: Actor, org: dict[str, Any]
) -> None:
    pyramid = customer_pyramid(crm, actor, period="2026-03")
    assert pyramid.rows == (
        ("A", "CNY", 1, Decimal(2_000_000)),
        ("B", "CNY", 1, Decimal(100_000)),
        ("C", "CNY", 1, Decimal(20_000)),
        ("D", "USD", 1, Decimal(5)),
        ("none", "", 1, Decimal(0)),
    )
    assert DEFAULT_PYRAMID[0].minimum == Decimal(1_000_000)
    custom = customer_pyramid(
        crm,
        actor,
        period="2026-03",
        tiers=[RevenueTier("key", Decimal(50_000)), RevenueTier("rest", Decimal(0))],
    )
    assert custom.column("tier") == ["key", "rest", "rest", "none"]


def test_a_rep_sees_only_their_own_coverage_and_customers(
    crm: Crm, actor: Actor, org: dict[str, Any]
) -> None:
    define_role(
        crm,
        actor,
        "rep",
        grants=[Grant("opportunity", "view", Scope.OWN), Grant("customer", "view", Scope.OWN)],
    )
    set_member(crm, actor, OWNERS[0], name="Li", roles=["rep"], department_id=org["east"].id)
    li = org["li"]
    rows = {
        r["name"]: r for r in coverage_report(crm, li, period="2026-03", currency="CNY").to_dicts()
    }
    assert rows["Li"]["won"] == rows["East"]["won"] == Decimal(100_000)
    # Chen's figures, and the department that sums them with Li's, are not Li's to see.
    assert "Chen" not in rows
    assert "Sales" not in rows
    # Li owns customer 0 (bought 100,000) and customer 3 (bought nothing Li may see).
    assert customer_pyramid(crm, li, period="2026-03").rows == (
        ("B", "CNY", 1, Decimal(100_000)),
        ("none", "", 1, Decimal(0)),
    )


def test_tiers_with_a_gap_or_overlap_are_refused(crm: Crm, actor: Actor) -> None:
    for tiers in (
        [RevenueTier("a", Decimal(10)), RevenueTier("b", Decimal(5))],  # no tier for 0 < r < 5
        [RevenueTier("a", Decimal(0)), RevenueTier("b", Decimal(10))],  # rising
        [RevenueTier("a", Decimal(10)), RevenueTier("a", Decimal(0))],  # same label twice
        [],
    ):
        with pytest.raises(ValidationError):
            customer_pyramid(crm, actor, period="2026-03", tiers=tiers)
    with pytest.raises(ValidationError):
        RevenueTier("neg", Decimal(-1))
