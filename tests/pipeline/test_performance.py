"""Targets vs actuals rolled up the department tree, and commission statements."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit import Crm, ValidationError
from crmkit.customers import register_customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import FixedClock
from crmkit.kernel.ids import UserId
from crmkit.kernel.money import Money
from crmkit.pipeline import (
    commission_for,
    default_process,
    define_commission_plan,
    define_sales_process,
    open_opportunity,
    set_target,
    target_report,
    win_opportunity,
)
from crmkit.pipeline.model.targets import (
    CommissionPlan,
    Metric,
    Tier,
    UnitKind,
    commission_statement,
)
from crmkit.rules.permissions import define_department, set_member


@pytest.fixture
def org(crm: Crm, actor: Actor, clock: FixedClock):  # type: ignore[no-untyped-def]
    sales = define_department(crm, actor, "Sales")
    east = define_department(crm, actor, "East", parent_id=sales.id)
    north = define_department(crm, actor, "North", parent_id=sales.id)
    li, chen = (Actor(actor.tenant_id, UserId(uuid.uuid4()), n) for n in ("Li", "Chen"))
    set_member(crm, actor, li.user_id, name="Li", department_id=east.id)
    set_member(crm, actor, chen.user_id, name="Chen", department_id=north.id)
    process = define_sales_process(
        crm, actor, "p", default_process(actor.tenant_id, uuid.uuid4()).stages
    )
    for owner, amounts in ((li, ("300000", "200000")), (chen, ("150000",))):
        customer = register_customer(crm, actor, name=f"{owner.name}'s", owner_id=owner.user_id)
        for amount in amounts:
            deal = open_opportunity(
                crm,
                actor,
                customer_id=customer.id,
                name="d",
                amount=Money(amount, "CNY"),
                process_id=process.id,
                owner_id=owner.user_id,
            )
            win_opportunity(crm, actor, deal.id)
    return {"sales": sales, "east": east, "north": north, "li": li, "chen": chen}


def test_targets_roll_up_the_department_tree(crm: Crm, actor: Actor, org) -> None:
    for who, value in (("li", "400000"), ("chen", "300000")):
        set_target(
            crm,
            actor,
            unit_kind=UnitKind.USER,
            unit_id=org[who].user_id,
            period="2026-03",
            metric=Metric.WON_AMOUNT,
            value=value,
            currency="CNY",
        )
    set_target(
        crm,
        actor,
        unit_kind=UnitKind.DEPARTMENT,
        unit_id=org["east"].id,
        period="2026-03",
        metric=Metric.WON_AMOUNT,
        value="450000",
        currency="CNY",
    )
    report = target_report(crm, actor, period="2026-03", metric=Metric.WON_AMOUNT, currency="CNY")
    rows = {
        (r["unit"], r["name"]): (r["target"], r["actual"], r["attainment"])
        for r in report.to_dicts()
    }
    assert rows[("department", "East")] == (Decimal("450000"), Decimal("500000"), Decimal("111.1"))
    # North has no target of its own: Chen's personal target is its target; Sales adds
    # East's own figure (not Li's, which East's explicit target replaces) and North's.
    assert rows[("department", "North")] == (Decimal("300000"), Decimal("150000"), Decimal("50.0"))
    assert rows[("department", "Sales")] == (Decimal("750000"), Decimal("650000"), Decimal("86.7"))
    assert rows[("user", "Li")] == (Decimal("400000"), Decimal("500000"), Decimal("125.0"))
    assert report.column("name")[:3] == ["Sales", "East", "North"]


def test_a_department_without_a_target_sums_its_members_and_sub_departments(
    crm: Crm, actor: Actor, org
) -> None:
    wu = Actor(actor.tenant_id, UserId(uuid.uuid4()), "Wu")
    set_member(crm, actor, wu.user_id, name="Wu", department_id=org["sales"].id)
    for who, value in (("li", "400000"), ("chen", "300000"), ("wu", "100000")):
        unit = wu.user_id if who == "wu" else org[who].user_id
        set_target(
            crm,
            actor,
            unit_kind=UnitKind.USER,
            unit_id=unit,
            period="2026-03",
            metric=Metric.WON_AMOUNT,
            value=value,
            currency="CNY",
        )
    report = target_report(crm, actor, period="2026-03", metric=Metric.WON_AMOUNT, currency="CNY")
    targets = {(r["unit"], r["name"]): r["target"] for r in report.to_dicts()}
    assert targets[("department", "East")] == Decimal("400000")
    assert targets[("department", "North")] == Decimal("300000")
    # Wu sits in Sales itself: her target adds to the sub-departments'.
    assert targets[("department", "Sales")] == Decimal("800000")


def test_won_deals_and_new_customers_are_metrics_too(crm: Crm, actor: Actor, org) -> None:
    deals = target_report(crm, actor, period="2026-Q1", metric=Metric.WON_DEALS)
    assert {r["name"]: r["actual"] for r in deals.to_dicts()}["Sales"] == 3
    customers = target_report(crm, actor, period="2026", metric=Metric.NEW_CUSTOMERS)
    assert {r["name"]: r["actual"] for r in customers.to_dicts()}["East"] == 1


def test_a_commission_statement_is_tiered_by_attainment(crm: Crm, actor: Actor, org) -> None:
    plan = define_commission_plan(
        crm,
        actor,
        name="2026 plan",
        currency="CNY",
        tiers=[("0", "0.03"), ("1", "0.05"), ("1.2", "0.07")],
    )
    set_target(
        crm,
        actor,
        unit_kind=UnitKind.USER,
        unit_id=org["li"].user_id,
        period="2026-03",
        metric=Metric.WON_AMOUNT,
        value="400000",
        currency="CNY",
    )
    statement = commission_for(
        crm, actor, plan_id=plan.id, rep_id=org["li"].user_id, period="2026-03"
    )
    assert (statement.won, statement.attainment, statement.rate) == (
        Money("500000", "CNY"),
        Decimal("1.2500"),
        Decimal("0.07"),
    )
    assert statement.total == Money("35000.00", "CNY")
    again = commission_for(crm, actor, plan_id=plan.id, rep_id=org["li"].user_id, period="2026-03")
    assert again == statement  # recomputes exactly from its inputs


def test_bad_targets_and_plans_are_refused(crm: Crm, actor: Actor) -> None:
    with pytest.raises(ValidationError):
        set_target(
            crm,
            actor,
            unit_kind=UnitKind.USER,
            unit_id=uuid.uuid4(),
            period="2026-13",
            metric=Metric.WON_DEALS,
            value=3,
        )
    with pytest.raises(ValidationError):
        set_target(
            crm,
            actor,
            unit_kind=UnitKind.USER,
            unit_id=uuid.uuid4(),
            period="2026-03",
            metric=Metric.WON_AMOUNT,
            value=3,
        )
    with pytest.raises(ValidationError):
        define_commission_plan(
            crm, actor, name="x", currency="CNY", tiers=[("1", "0.05"), ("0", "0.03")]
        )


@given(
    amounts=st.lists(
        st.integers(1, 10**9).map(lambda c: Money.from_minor_units(c, "CNY")), max_size=20
    ),
    target=st.integers(1, 10**10),
)
def test_statements_add_up_line_by_line(amounts: list[Money], target: int) -> None:
    plan = CommissionPlan(
        id=uuid.uuid4(),
        tenant_id=uuid.uuid4(),
        name="p",
        currency="CNY",  # type: ignore[arg-type]
        tiers=(Tier(Decimal(0), Decimal("0.03")), Tier(Decimal(1), Decimal("0.055"))),
    )
    deals = [(uuid.uuid4(), a) for a in amounts]
    statement = commission_statement(
        plan, "2026-03", uuid.uuid4(), deals, Money.from_minor_units(target, "CNY")
    )
    assert statement.total == sum((line.commission for line in statement.lines), Money.zero("CNY"))
    assert all(line.commission.is_rounded for line in statement.lines)
    assert statement.won == sum(amounts, Money.zero("CNY"))
    reached = statement.won.amount >= Money.from_minor_units(target, "CNY").amount
    assert statement.rate == (Decimal("0.055") if reached else Decimal("0.03"))


def test_a_plans_category_rates_pay_on_the_won_deals_product_lines(crm: Crm, actor: Actor) -> None:
    from crmkit.pipeline import DealLine, set_opportunity_lines

    rep = Actor(actor.tenant_id, UserId(uuid.uuid4()), "Zhou")
    set_member(crm, actor, rep.user_id, name="Zhou")
    process = define_sales_process(
        crm, actor, "p", default_process(actor.tenant_id, uuid.uuid4()).stages
    )
    buyer = register_customer(crm, actor, name="武汉光谷电子", owner_id=rep.user_id)
    lined, plain = (
        open_opportunity(
            crm,
            actor,
            customer_id=buyer.id,
            name=name,
            amount=Money("30000", "CNY"),
            process_id=process.id,
            owner_id=rep.user_id,
        )
        for name in ("lined", "plain")
    )
    set_opportunity_lines(
        crm,
        actor,
        lined.id,
        [
            DealLine("HW", "3", "服务器", Money("20000.01", "CNY"), category="hardware"),
            DealLine("ERP", "1", "ERP 授权", Money("40000", "CNY"), category="software"),
            DealLine("TRN", "1", "培训", Money("999.99", "CNY")),
        ],
    )
    for deal in (lined, plain):
        win_opportunity(crm, actor, deal.id)
    plan = define_commission_plan(
        crm,
        actor,
        name="2026 分品类",
        currency="CNY",
        tiers=[("0", "0.03")],
        category_rates={"software": "0.10", "hardware": "0.02"},
    )
    assert plan.rates_by_category == {"hardware": Decimal("0.02"), "software": Decimal("0.10")}
    statement = commission_for(crm, actor, plan_id=plan.id, rep_id=rep.user_id, period="2026-03")
    by_line = {
        (line.deal_id, line.category): (line.amount, line.commission) for line in statement.lines
    }
    assert by_line == {
        (lined.id, "hardware"): (Money("60000.03", "CNY"), Money("1200.00", "CNY")),
        (lined.id, "software"): (Money("40000.00", "CNY"), Money("4000.00", "CNY")),
        (lined.id, None): (Money("999.99", "CNY"), Money("30.00", "CNY")),
        (plain.id, None): (Money("30000", "CNY"), Money("900.00", "CNY")),
    }
    assert statement.won == Money("131000.02", "CNY")
    assert statement.total == Money("6130.00", "CNY")
    # A rate given with the request overrides the plan's for that category.
    richer = commission_for(
        crm,
        actor,
        plan_id=plan.id,
        rep_id=rep.user_id,
        period="2026-03",
        category_rates={"software": "0.12"},
    )
    assert richer.total == Money("6930.00", "CNY")
    assert (
        commission_for(crm, actor, plan_id=plan.id, rep_id=rep.user_id, period="2026-03")
        == statement
    )


def test_a_category_rate_must_be_a_rate_and_each_category_appears_once() -> None:
    from crmkit.pipeline.model.targets import CategoryRate

    with pytest.raises(ValidationError):
        CategoryRate("software", Decimal("1.5"))
    with pytest.raises(ValidationError):
        CommissionPlan(
            id=uuid.uuid4(),
            tenant_id=uuid.uuid4(),  # type: ignore[arg-type]
            name="p",
            currency="CNY",
            tiers=(Tier(Decimal(0), Decimal("0.03")),),
            category_rates=(
                CategoryRate("software", Decimal("0.1")),
                CategoryRate("software", Decimal("0.2")),
            ),
        )
