"""Pipeline analytics: SQL aggregates give exactly what the Python reference computes."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmkit import Crm, connect
from crmkit.kernel.actor import Actor
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.money import Money
from crmkit.kernel.query import TRUE, F
from crmkit.pipeline import (
    Opportunity,
    OpportunityStatus,
    SalesProcess,
    StageChange,
    pipeline_report,
)
from crmkit.pipeline.model.opportunities import default_process
from crmkit.rules.permissions import bootstrap_tenant

OWNERS = [UserId(uuid.UUID(int=i + 1)) for i in range(3)]
STAGES = ["initial", "needs", "proposal", "negotiation"]
START = pendulum.datetime(2026, 1, 1, tz="UTC")

deal_specs = st.lists(
    st.fixed_dictionaries(
        {
            "owner": st.sampled_from(OWNERS),
            "currency": st.sampled_from(["CNY", "USD"]),
            "amount": st.integers(0, 10**7).map(lambda c: Decimal(c) / 100),
            "reached": st.integers(0, 3),
            "outcome": st.sampled_from(["open", "won", "lost"]),
            "reason": st.sampled_from(["price", "timing", "competitor"]),
            "created": st.integers(0, 60),
            "duration": st.integers(0, 90 * 24 * 3600),
            "close_in": st.integers(-10, 120),
        }
    ),
    max_size=25,
)


def _load(crm: Crm, tenant: TenantId, process: SalesProcess, specs: list[dict]) -> None:
    deals, changes = [], []
    for spec in specs:
        created = START.add(days=spec["created"])
        stage = STAGES[spec["reached"]]
        deal = Opportunity(
            id=uuid.uuid4(),
            tenant_id=tenant,
            name="d",
            customer_id=uuid.uuid4(),
            amount=Money(spec["amount"], spec["currency"]),
            process_id=process.id,
            stage=stage,
            probability=process.stage(stage).probability,
            created_at=created,
            stage_entered_at=created,
            owner_id=spec["owner"],
            expected_close=created.date().add(days=spec["close_in"]),
        )
        path = STAGES[: spec["reached"] + 1]
        if spec["outcome"] != "open":
            deal.status = OpportunityStatus(spec["outcome"])
            deal.closed_at = created.add(seconds=spec["duration"])
            deal.probability = 100 if spec["outcome"] == "won" else 0
            deal.lost_reason = spec["reason"] if spec["outcome"] == "lost" else None
            path = [*path, spec["outcome"]]
        deals.append(deal)
        for before, after in zip([None, *path], path, strict=False):
            changes.append(
                StageChange(
                    id=uuid.uuid4(),
                    tenant_id=tenant,
                    opportunity_id=deal.id,
                    from_stage=before,
                    to_stage=after,
                    changed_at=created,
                )
            )

    def store(uow):  # type: ignore[no-untyped-def]
        uow.repository(SalesProcess).add(process)
        uow.repository(Opportunity).add_many(deals)
        uow.repository(StageChange).add_many(changes)

    crm.run(tenant, store)


def _report(crm: Crm, tenant: TenantId, process: SalesProcess, scope=TRUE):  # type: ignore[no-untyped-def]
    actor = Actor(tenant, OWNERS[0], "manager")
    bootstrap_tenant(crm, tenant, actor.user_id, actor.name)  # sees the whole tenant
    return pipeline_report(
        crm,
        actor,
        since=START,
        until=START.add(days=200),
        forecast_from=dt.date(2026, 2, 1),
        forecast_to=dt.date(2026, 5, 31),
        process_id=process.id,
        scope=scope,
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"], indirect=True)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=deal_specs, scoped=st.booleans())
def test_sql_analytics_equal_the_python_reference(
    make_crm: Callable[[], Crm], specs: list[dict], scoped: bool
) -> None:
    tenant = TenantId(uuid.uuid4())
    process = default_process(tenant, uuid.uuid4())
    sql, memory = make_crm(), connect("memory://")
    _load(sql, tenant, process, specs)
    _load(memory, tenant, process, specs)
    scope = F("owner_id").is_in(OWNERS[:2]) if scoped else TRUE
    assert _report(sql, tenant, process, scope) == _report(memory, tenant, process, scope)


def test_a_known_pipeline_gives_known_figures(crm: Crm) -> None:
    tenant = TenantId(uuid.uuid4())
    process = default_process(tenant, uuid.uuid4())
    base = {
        "owner": OWNERS[0],
        "currency": "CNY",
        "reason": "price",
        "created": 0,
        "duration": 10 * 86400,
        "close_in": 45,
    }
    _load(
        crm,
        tenant,
        process,
        [
            {**base, "amount": Decimal("100000"), "reached": 0, "outcome": "open"},
            {**base, "amount": Decimal("200000"), "reached": 2, "outcome": "open"},
            {**base, "amount": Decimal("300000"), "reached": 3, "outcome": "won"},
            {
                **base,
                "amount": Decimal("50000"),
                "reached": 1,
                "outcome": "lost",
                "owner": OWNERS[1],
            },
        ],
    )
    report = _report(crm, tenant, process)
    assert report.funnel.to_dicts() == [
        {
            "stage": "initial",
            "currency": "CNY",
            "deals": 1,
            "amount": Decimal("100000"),
            "weighted": Decimal("10000.00"),
        },
        {
            "stage": "proposal",
            "currency": "CNY",
            "deals": 1,
            "amount": Decimal("200000"),
            "weighted": Decimal("100000.00"),
        },
    ]
    assert report.win_rate.column("win_rate") == [Decimal("100.0"), Decimal("0.0")]
    assert report.cycle.to_dicts() == [
        {
            "currency": "CNY",
            "won": 1,
            "average_amount": Decimal("300000.00"),
            "average_days": Decimal("10.0"),
        }
    ]
    assert report.lost_reasons.rows == (("price", "CNY", 1, Decimal("50000")),)
    assert report.conversion is not None
    assert report.conversion.rows[0] == ("initial", "needs", 4, 3, Decimal("75.0"))
    assert report.conversion.rows[-1] == ("negotiation", "won", 1, 1, Decimal("100.0"))
    assert report.forecast.rows == (
        ("2026-02", str(OWNERS[0]), "CNY", 2, Decimal("300000"), Decimal("110000.00")),
    )


def test_a_rep_sees_only_their_own_deals_in_the_report(crm: Crm) -> None:
    from crmkit.rules.permissions import Grant, Scope, define_role, set_member

    tenant = TenantId(uuid.uuid4())
    process = default_process(tenant, uuid.uuid4())
    base = {
        "currency": "CNY",
        "reason": "price",
        "created": 0,
        "duration": 0,
        "close_in": 45,
        "reached": 0,
        "outcome": "open",
    }
    _load(
        crm,
        tenant,
        process,
        [
            {**base, "owner": OWNERS[1], "amount": Decimal("100")},
            {**base, "owner": OWNERS[2], "amount": Decimal("900")},
        ],
    )
    admin = Actor(tenant, UserId(uuid.uuid4()), "admin")
    bootstrap_tenant(crm, tenant, admin.user_id, admin.name)
    define_role(crm, admin, "rep", grants=[Grant("opportunity", "view", Scope.OWN)])
    set_member(crm, admin, OWNERS[1], name="rep", roles=["rep"])
    rep = Actor(tenant, OWNERS[1], "rep")
    report = pipeline_report(
        crm,
        rep,
        since=START,
        until=START.add(days=200),
        forecast_from=dt.date(2026, 1, 1),
        forecast_to=dt.date(2026, 12, 31),
    )
    assert report.funnel.column("amount") == [Decimal("100")]
    assert report.forecast.column("owner_id") == [str(OWNERS[1])]


def test_weighted_and_average_amounts_round_half_up_on_every_backend(crm: Crm) -> None:
    # Each figure lands on half a fen (or half a tenth of a day): half-even would round
    # it down, crmkit's one rule (half up) rounds it up — the same on every backend.
    tenant = TenantId(uuid.uuid4())
    process = default_process(tenant, uuid.uuid4())
    base = {"owner": OWNERS[0], "currency": "CNY", "reason": "price", "created": 0, "close_in": 45}
    _load(
        crm,
        tenant,
        process,
        [
            # proposal is 50 %: 100.01 x 50 % = 50.005
            {**base, "amount": Decimal("100.01"), "reached": 2, "outcome": "open", "duration": 0},
            # two won deals: (100.00 + 100.01) / 2 = 100.005; (1 + 1.1) / 2 = 1.05 days
            {
                **base,
                "amount": Decimal("100.00"),
                "reached": 3,
                "outcome": "won",
                "duration": 86400,
            },
            {
                **base,
                "amount": Decimal("100.01"),
                "reached": 3,
                "outcome": "won",
                "duration": 95040,
            },
        ],
    )
    report = _report(crm, tenant, process)
    assert report.funnel.column("weighted") == [Decimal("50.01")]
    assert report.forecast.column("weighted") == [Decimal("50.01")]
    assert report.cycle.rows == (("CNY", 2, Decimal("100.01"), Decimal("1.1")),)


def test_percentages_ratios_and_weighted_amounts_round_half_up() -> None:
    from crmkit.billing.queries import dso_row
    from crmkit.pipeline.queries import coverage_ratio, cycle_row, percent, weighted

    assert percent(1, 16) == Decimal("6.3")  # 6.25
    assert percent(1, 8) == Decimal("12.5")
    assert weighted(Decimal("5000.5"), "CNY") == Decimal("50.01")  # 50.005
    assert weighted(Decimal("250"), "JPY") == Decimal("3")  # 2.5 yen: JPY has no decimals
    assert cycle_row("CNY", 2, Decimal("200.01"), Decimal(181440)) == (
        "CNY", 2, Decimal("100.01"), Decimal("1.1"),
    )  # fmt: skip
    assert coverage_ratio(Decimal("1.005"), Decimal(1)) == Decimal("1.01")
    # 0.25 outstanding of 10 raised in a 10-day window: 0.25 days
    assert dso_row("CNY", Decimal("0.25"), Decimal("10"), 10)[-1] == Decimal("0.3")
