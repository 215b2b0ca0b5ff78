"""Commission paid on collections: the receipts read model agrees across adapters, and a
statement on receipts pays only for money that was actually allocated in the period."""

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
from crmkit.billing import (
    Direction,
    DocumentRef,
    EntryKind,
    Installment,
    LedgerEntry,
    TermLine,
    allocate_receipt,
    create_plan,
    deallocate,
    record_receipt,
)
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import PermissionDenied
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.money import Money
from crmkit.kernel.query import TRUE, F
from crmkit.pipeline import (
    Opportunity,
    OpportunityStatus,
    commission_for,
    define_commission_plan,
    set_target,
)
from crmkit.pipeline.model.orders import OrderStatus, SalesOrder
from crmkit.pipeline.model.pricing import LineItem
from crmkit.pipeline.model.targets import (
    CommissionBasis,
    CommissionPlan,
    Metric,
    Tier,
    UnitKind,
    commission_statement,
)
from crmkit.pipeline.queries import PipelineAnalytics
from crmkit.ports import UnitOfWork, queries
from crmkit.rules.permissions import Grant, Scope, define_role, set_member
from tests.billing.builders import make_customer

OWNERS = [UserId(uuid.UUID(int=i + 1)) for i in range(3)]
MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))

entry_specs = st.lists(
    st.fixed_dictionaries(
        {
            "installment": st.integers(0, 5),
            "kind": st.sampled_from([EntryKind.ALLOCATION, EntryKind.DEALLOCATION]),
            "amount": st.integers(1, 10**8).map(lambda c: Decimal(c) / 100),
            "day": st.integers(-5, 35),
        }
    ),
    max_size=20,
)


def _load(crm: Crm, tenant: TenantId, specs: list[dict[str, Any]]) -> None:
    # Six installments: owners cycle, the last one is payable (never a rep's collection),
    # and installment 4 is in USD.
    items = [
        Installment(
            id=uuid.UUID(int=1000 + n),
            tenant_id=tenant,
            plan_id=uuid.UUID(int=2000 + n),
            direction=Direction.PAYABLE if n == 5 else Direction.RECEIVABLE,
            document_type="contract",
            document_id=uuid.UUID(int=3000 + n),
            customer_id=uuid.UUID(int=4000 + n),
            seq=1,
            label="on signing",
            amount=Money("1000000", "USD" if n == 4 else "CNY"),
            due_date=None,
            raised_on=dt.date(2026, 1, 1),
            owner_id=OWNERS[n % len(OWNERS)],
        )
        for n in range(6)
    ]
    entries = []
    for seq, spec in enumerate(specs, start=1):
        item = items[spec["installment"]]
        sign = 1 if spec["kind"] is EntryKind.ALLOCATION else -1
        entries.append(
            LedgerEntry(
                id=uuid.uuid4(),
                tenant_id=tenant,
                seq=seq,
                kind=spec["kind"],
                amount=Money(sign * spec["amount"], item.amount.currency),
                occurred_at=pendulum.datetime(2026, 3, 1, tz="UTC"),
                posted_on=MARCH[0] + dt.timedelta(days=spec["day"]),
                customer_id=item.customer_id,
                command="allocate",
                idempotency_key=str(seq),
                prev_hash="",
                hash="",
                installment_id=item.id,
            )
        )

    def store(uow: UnitOfWork) -> None:
        uow.repository(Installment).add_many(items)
        uow.repository(LedgerEntry).add_many(entries)

    crm.run(tenant, store)


def _collected(crm: Crm, tenant: TenantId, scope: Any) -> Any:
    def read(uow: UnitOfWork) -> Any:
        analytics: PipelineAnalytics = queries(uow, PipelineAnalytics)
        return analytics.collected_by_installment(*MARCH, scope)

    return crm.run(tenant, read)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"], indirect=True)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=entry_specs, scoped=st.booleans())
def test_sql_collections_equal_the_python_reference(
    make_crm: Callable[[], Crm], specs: list[dict[str, Any]], scoped: bool
) -> None:
    tenant = TenantId(uuid.uuid4())
    sql, memory = make_crm(), connect("memory://")
    _load(sql, tenant, specs)
    _load(memory, tenant, specs)
    scope = F("owner_id").is_in(OWNERS[:2]) if scoped else TRUE
    got = _collected(sql, tenant, scope)
    assert got == _collected(memory, tenant, scope)
    in_march = [s for s in specs if 0 <= s["day"] <= 30 and s["installment"] != 5]
    if scoped:
        in_march = [s for s in in_march if s["installment"] % 3 != 2]
    net = sum(
        (s["amount"] if s["kind"] is EntryKind.ALLOCATION else -s["amount"] for s in in_march),
        Decimal(0),
    )
    assert sum(got.column("collected"), Decimal(0)) == net


def _contract(crm: Crm, actor: Actor, owner: UserId, total: str) -> Any:
    return create_plan(
        crm,
        actor,
        DocumentRef(
            document_type="contract",
            document_id=uuid.uuid4(),
            customer_id=make_customer(crm, actor).id,
            owner_id=owner,
            total=Money(total, "CNY"),
        ),
        terms=[TermLine("on signing", percent="30"), TermLine("balance", percent="70")],
        milestones={"signing": dt.date(2026, 2, 1)},
    )


def _march_on_receipts(crm: Crm, actor: Actor, rep: UserId) -> tuple[Any, Any]:
    # Two tiers (3 % below target, 5 % from it) against a March target of 15,000.
    plan = define_commission_plan(
        crm, actor, name="on receipts", currency="CNY", tiers=[("0", "0.03"), ("1", "0.05")]
    )
    set_target(
        crm,
        actor,
        unit_kind=UnitKind.USER,
        unit_id=rep,
        period="2026-03",
        metric=Metric.WON_AMOUNT,
        value="15000",
        currency="CNY",
    )
    statement = commission_for(
        crm, actor, plan_id=plan.id, rep_id=rep, period="2026-03", basis=CommissionBasis.RECEIPTS
    )
    return plan, statement


def test_a_receipts_statement_pays_on_money_collected_in_the_period(crm: Crm, actor: Actor) -> None:
    li, chen = OWNERS[0], OWNERS[1]
    mine = _contract(crm, actor, li, "100000")
    theirs = _contract(crm, actor, chen, "100000")
    customer = mine.plan.customer_id

    def pay(amount: str, on: dt.date, key: str, customer_id: uuid.UUID = customer) -> Any:
        receipt = record_receipt(
            crm,
            actor,
            customer_id=customer_id,
            amount=Money(amount, "CNY"),
            received_on=on,
            idempotency_key=f"r-{key}",
        )
        return allocate_receipt(crm, actor, receipt.id, idempotency_key=f"a-{key}", on=on)

    pay("10000", dt.date(2026, 2, 20), "feb")  # February: not this statement's money
    march = pay("50000", dt.date(2026, 3, 10), "mar")  # 20,000 + 30,000 of the balance
    pay("40000", dt.date(2026, 3, 12), "chen", theirs.plan.customer_id)  # Chen's, not Li's
    deallocate(crm, actor, march[-1].id, idempotency_key="undo", on=dt.date(2026, 3, 20))
    plan, statement = _march_on_receipts(crm, actor, li)
    assert [a.amount for a in march] == [Money("20000", "CNY"), Money("30000", "CNY")]
    # The 30,000 allocated on the 10th was taken back on the 20th: only 20,000 remains.
    assert statement.basis is CommissionBasis.RECEIPTS
    assert statement.won == Money("20000", "CNY")
    assert (statement.attainment, statement.rate) == (Decimal("1.3333"), Decimal("0.05"))
    assert [line.deal_id for line in statement.lines] == [mine.installments[0].id]
    assert statement.total == Money("1000.00", "CNY")
    won_basis = commission_for(crm, actor, plan_id=plan.id, rep_id=li, period="2026-03")
    assert won_basis.basis is CommissionBasis.WON_AMOUNT
    assert won_basis.lines == ()  # no deal was won: nothing is paid on that basis


def test_a_rep_without_access_to_installments_is_paid_on_nothing_they_cannot_see(
    crm: Crm, actor: Actor
) -> None:
    li = OWNERS[0]
    mine = _contract(crm, actor, li, "100000")
    receipt = record_receipt(
        crm,
        actor,
        customer_id=mine.plan.customer_id,
        amount=Money("30000", "CNY"),
        received_on=dt.date(2026, 3, 3),
        idempotency_key="r",
    )
    allocate_receipt(crm, actor, receipt.id, idempotency_key="a", on=dt.date(2026, 3, 3))
    plan = define_commission_plan(crm, actor, name="p", currency="CNY", tiers=[("0", "0.02")])
    define_role(crm, actor, "rep", grants=[Grant("installment", "view", Scope.OWN)])
    define_role(crm, actor, "none", grants=[])
    set_member(crm, actor, li, name="Li", roles=["rep"])
    set_member(crm, actor, OWNERS[2], name="Wang", roles=["none"])
    as_li = commission_for(
        crm,
        Actor(actor.tenant_id, li, "Li"),
        plan_id=plan.id,
        rep_id=li,
        period="2026-03",
        basis=CommissionBasis.RECEIPTS,
    )
    assert as_li.total == Money("600.00", "CNY")
    with pytest.raises(PermissionDenied):  # not Li's manager, no grant on commission
        commission_for(
            crm,
            Actor(actor.tenant_id, OWNERS[2], "Wang"),
            plan_id=plan.id,
            rep_id=li,
            period="2026-03",
            basis=CommissionBasis.RECEIPTS,
        )


def _order(
    tenant: TenantId, deal_id: uuid.UUID | None, lines: list[tuple[str | None, str]], **extra: Any
) -> SalesOrder:
    extra.setdefault("customer_id", uuid.uuid4())
    return SalesOrder(
        id=uuid.uuid4(),
        tenant_id=tenant,
        number=f"SO-{uuid.uuid4().hex[:8]}",
        currency="CNY",
        lines=tuple(
            LineItem(n, f"P{n}", "item", Decimal(1), Money(net, "CNY"), category=category)
            for n, (category, net) in enumerate(lines, start=1)
        ),
        created_at=pendulum.datetime(2026, 3, 1, tz="UTC"),
        opportunity_id=deal_id,
        **extra,
    )


MIXED = [("software", "60000"), ("hardware", "30000"), (None, "10000")]
RATES = {"software": "0.08"}


def test_category_rates_pay_each_share_of_a_won_deal_at_its_own_rate(
    crm: Crm, actor: Actor
) -> None:
    li = OWNERS[0]
    deal = Opportunity(
        id=uuid.uuid4(),
        tenant_id=actor.tenant_id,
        name="ERP roll-out",
        customer_id=uuid.uuid4(),
        amount=Money("120000", "CNY"),
        process_id=uuid.uuid4(),
        stage="won",
        probability=100,
        created_at=pendulum.datetime(2026, 2, 1, tz="UTC"),
        stage_entered_at=pendulum.datetime(2026, 3, 5, tz="UTC"),
        owner_id=li,
        status=OpportunityStatus.WON,
        closed_at=pendulum.datetime(2026, 3, 5, tz="UTC"),
    )
    cancelled = _order(actor.tenant_id, deal.id, [("software", "999999")])
    cancelled.status = OrderStatus.CANCELLED

    def store(uow: UnitOfWork) -> None:
        uow.repository(Opportunity).add(deal)
        uow.repository(SalesOrder).add_many([_order(actor.tenant_id, deal.id, MIXED), cancelled])

    crm.run(actor.tenant_id, store)
    plan = define_commission_plan(crm, actor, name="p", currency="CNY", tiers=[("0", "0.03")])
    statement = commission_for(
        crm, actor, plan_id=plan.id, rep_id=li, period="2026-03", category_rates=RATES
    )
    # 120,000 cut 60/30/10 like the order's lines: 72,000 at 8%, the rest at the 3% tier.
    assert sorted(
        (line.category or "", line.amount.amount, line.commission.amount)
        for line in statement.lines
    ) == [
        ("", Decimal("12000.00"), Decimal("360.00")),
        ("hardware", Decimal("36000.00"), Decimal("1080.00")),
        ("software", Decimal("72000.00"), Decimal("5760.00")),
    ]
    assert statement.total == Money("7200.00", "CNY")
    plain = commission_for(crm, actor, plan_id=plan.id, rep_id=li, period="2026-03")
    assert plain.total == Money("3600.00", "CNY")  # without rates: one line at 3%


def test_category_rates_split_collections_by_the_order_they_pay(crm: Crm, actor: Actor) -> None:
    li = OWNERS[0]
    order = _order(actor.tenant_id, None, MIXED, customer_id=make_customer(crm, actor).id)
    crm.run(actor.tenant_id, lambda uow: uow.repository(SalesOrder).add(order))
    billing = create_plan(
        crm,
        actor,
        DocumentRef(
            document_type="sales_order",
            document_id=order.id,
            customer_id=order.customer_id,
            owner_id=li,
            total=Money("100000", "CNY"),
        ),
        terms=[TermLine("deposit", percent="30"), TermLine("balance", percent="70")],
        milestones={"signing": dt.date(2026, 3, 1)},
    )
    receipt = record_receipt(
        crm,
        actor,
        customer_id=order.customer_id,
        amount=Money("50000", "CNY"),
        received_on=dt.date(2026, 3, 9),
        idempotency_key="r",
    )
    allocate_receipt(crm, actor, receipt.id, idempotency_key="a", on=dt.date(2026, 3, 9))
    plan = define_commission_plan(crm, actor, name="p", currency="CNY", tiers=[("0", "0.03")])
    statement = commission_for(
        crm,
        actor,
        plan_id=plan.id,
        rep_id=li,
        period="2026-03",
        basis=CommissionBasis.RECEIPTS,
        category_rates=RATES,
    )
    deposit = [line for line in statement.lines if line.deal_id == billing.installments[0].id]
    assert {(line.category, line.amount.amount) for line in deposit} == {
        ("software", Decimal("18000.00")),
        ("hardware", Decimal("9000.00")),
        (None, Decimal("3000.00")),
    }
    # 30,000 of the 50,000 on software at 8%, the other 20,000 at 3%.
    assert statement.total == Money("3000.00", "CNY")
    assert sum((line.amount for line in statement.lines), Money.zero("CNY")) == statement.won


@given(
    amount=st.integers(1, 10**9).map(lambda c: Money.from_minor_units(c, "CNY")),
    weights=st.lists(
        st.tuples(
            st.sampled_from(["software", "hardware", "service", None]),
            st.integers(0, 10**6).map(Decimal),
        ),
        max_size=6,
    ),
)
def test_category_lines_add_up_to_the_deal_and_the_total(
    amount: Money, weights: list[tuple[str | None, Decimal]]
) -> None:
    plan = CommissionPlan(
        id=uuid.uuid4(),
        tenant_id=TenantId(uuid.uuid4()),
        name="p",
        currency="CNY",
        tiers=(Tier(Decimal(0), Decimal("0.03")),),
    )
    deal = uuid.uuid4()
    statement = commission_statement(
        plan,
        "2026-03",
        uuid.uuid4(),
        [(deal, amount)],
        None,
        category_rates={"software": Decimal("0.08"), "service": Decimal(0)},
        mix={deal: weights},
    )
    assert sum((line.amount for line in statement.lines), Money.zero("CNY")) == amount
    assert statement.total == sum((line.commission for line in statement.lines), Money.zero("CNY"))
    assert all(line.commission.is_rounded for line in statement.lines)


def test_a_category_rate_outside_zero_to_one_is_refused(crm: Crm, actor: Actor) -> None:
    plan = define_commission_plan(crm, actor, name="p", currency="CNY", tiers=[("0", "0.03")])
    with pytest.raises(ValidationError):
        commission_for(
            crm,
            actor,
            plan_id=plan.id,
            rep_id=OWNERS[0],
            period="2026-03",
            category_rates={"software": "1.5"},
        )


def test_money_taken_back_after_its_period_pays_back_at_the_first_tier(
    crm: Crm, actor: Actor
) -> None:
    # February's allocation taken back in March leaves March's collections below zero:
    # attainment under the first tier took no tier at all (IndexError, random boundary run).
    li = OWNERS[0]
    contract = _contract(crm, actor, li, "100000")
    receipt = record_receipt(
        crm,
        actor,
        customer_id=contract.plan.customer_id,
        amount=Money("10000", "CNY"),
        received_on=dt.date(2026, 2, 20),
        idempotency_key="r-feb",
    )
    feb = allocate_receipt(crm, actor, receipt.id, idempotency_key="a-feb", on=dt.date(2026, 2, 20))
    deallocate(crm, actor, feb[-1].id, idempotency_key="undo", on=dt.date(2026, 3, 5))
    _, statement = _march_on_receipts(crm, actor, li)
    assert statement.won == Money("-10000", "CNY")
    assert (statement.attainment, statement.rate) == (Decimal("-0.6667"), Decimal("0.03"))
    assert statement.total == Money("-300.00", "CNY")


def test_a_plan_below_its_first_tier_pays_the_first_tier_rate() -> None:
    plan = CommissionPlan(
        id=uuid.uuid4(),
        tenant_id=TenantId(uuid.uuid4()),
        name="p",
        currency="CNY",
        tiers=(Tier(Decimal(0), Decimal("0.03")), Tier(Decimal(1), Decimal("0.05"))),
    )
    assert plan.rate_for(Decimal("-0.5")) == Decimal("0.03")
    assert plan.rate_for(Decimal("1")) == Decimal("0.05")


@pytest.mark.parametrize("rate", ["abc", "NaN", ""])
def test_a_category_rate_that_is_no_number_is_refused_naming_it(
    crm: Crm, actor: Actor, rate: str
) -> None:
    plan = define_commission_plan(crm, actor, name="p", currency="CNY", tiers=[("0", "0.03")])
    with pytest.raises(ValidationError) as caught:
        commission_for(
            crm,
            actor,
            plan_id=plan.id,
            rep_id=OWNERS[0],
            period="2026-03",
            category_rates={"software": rate},
        )
    assert caught.value.field == "category_rates"
