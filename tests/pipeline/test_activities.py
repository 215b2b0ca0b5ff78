"""Activities (跟进记录) and follow-up plans (跟进计划): logging feeds the customer's
follow-up clock, plans are done by activities and feed reminders, and the calls
target counts call activities."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import pytest

from crmkit import Crm, PermissionDenied, ValidationError
from crmkit.customers import register_customer
from crmkit.customers.model import Customer
from crmkit.customers.services import return_expired_to_pool, set_pool_policy
from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import FixedClock
from crmkit.kernel.errors import InvalidTransition
from crmkit.kernel.ids import UserId
from crmkit.kernel.machine import assert_every_state_reaches_final
from crmkit.kernel.money import Money
from crmkit.pipeline import (
    ActivityKind,
    PlanState,
    PlanStatus,
    cancel_follow_up,
    create_lead,
    define_sales_process,
    list_activities,
    list_follow_up_plans,
    log_activity,
    open_opportunity,
    plan_follow_up,
    reschedule_follow_up,
    set_target,
    target_report,
)
from crmkit.pipeline.model.activities import FOLLOW_UP, Activity
from crmkit.pipeline.model.leads import Lead
from crmkit.pipeline.model.opportunities import default_process
from crmkit.pipeline.model.targets import Metric, UnitKind
from crmkit.pipeline.queries import PipelineAnalytics
from crmkit.ports import queries
from crmkit.rules.permissions import (
    Grant,
    Scope,
    define_department,
    define_role,
    set_member,
)
from crmkit.rules.reminders import TriggerKind, define_reminder_rule, scan_due_reminders


def stored_customer(crm: Crm, actor: Actor, customer_id: uuid.UUID) -> Customer:
    return crm.run(actor.tenant_id, lambda uow: uow.repository(Customer).get(customer_id))


def pending_event_types(crm: Crm, actor: Actor) -> list[str]:
    events = crm.run(actor.tenant_id, lambda uow: uow.outbox.pending(limit=500))
    return [e.event_type for e in events]


def test_an_activity_is_a_follow_up_that_keeps_the_customer_out_of_the_pool(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    set_pool_policy(crm, actor, protection_days=10, deal_days=None)
    worked = register_customer(crm, actor, name="杭州海川科技", owner_id=actor.user_id)
    idle = register_customer(crm, actor, name="宁波远景贸易", owner_id=actor.user_id)
    clock.advance(days=8)
    called = log_activity(
        crm,
        actor,
        kind=ActivityKind.CALL,
        subject="需求确认",
        customer_id=worked.id,
        duration_minutes=12,
        outcome="约好下周演示",
    )
    assert stored_customer(crm, actor, worked.id).last_activity_at == called.occurred_at
    assert "ActivityLogged" in pending_event_types(crm, actor)
    clock.advance(days=5)
    returned = return_expired_to_pool(crm, actor.tenant_id)
    assert returned == [idle.id]
    assert stored_customer(crm, actor, worked.id).owner_id == actor.user_id


def test_a_late_logged_activity_never_moves_the_follow_up_clock_back(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    buyer = register_customer(crm, actor, name="苏州精密机械", owner_id=actor.user_id)
    now = clock.now()
    log_activity(crm, actor, kind=ActivityKind.VISIT, subject="拜访", customer_id=buyer.id)
    log_activity(
        crm,
        actor,
        kind=ActivityKind.NOTE,
        subject="补记上周电话",
        customer_id=buyer.id,
        occurred_at=clock.now().subtract(days=7),
    )
    assert stored_customer(crm, actor, buyer.id).last_activity_at == now
    with pytest.raises(ValidationError):
        log_activity(
            crm,
            actor,
            kind=ActivityKind.CALL,
            subject="未来",
            customer_id=buyer.id,
            occurred_at=clock.now().add(hours=1),
        )


def test_links_are_checked_and_follow_the_deal(crm: Crm, actor: Actor) -> None:
    buyer = register_customer(crm, actor, name="深圳腾达电子")
    other = register_customer(crm, actor, name="广州南方物流")
    process = define_sales_process(
        crm, actor, "p", default_process(actor.tenant_id, uuid.uuid4()).stages
    )
    deal = open_opportunity(
        crm,
        actor,
        customer_id=buyer.id,
        name="ERP",
        amount=Money("1000", "CNY"),
        process_id=process.id,
    )
    logged = log_activity(
        crm, actor, kind=ActivityKind.MEETING, subject="方案会", opportunity_id=deal.id
    )
    assert logged.customer_id == buyer.id
    with pytest.raises(ValidationError):
        log_activity(
            crm,
            actor,
            kind=ActivityKind.CALL,
            subject="x",
            opportunity_id=deal.id,
            customer_id=other.id,
        )
    with pytest.raises(ValidationError):
        log_activity(crm, actor, kind=ActivityKind.CALL, subject="x")  # about nothing
    with pytest.raises(ValidationError):
        log_activity(
            crm,
            actor,
            kind=ActivityKind.EMAIL,
            subject="x",
            customer_id=buyer.id,
            duration_minutes=5,
        )
    assert [a.id for a in list_activities(crm, actor, opportunity_id=deal.id)] == [logged.id]
    assert [a.id for a in list_activities(crm, actor, customer_id=buyer.id)] == [logged.id]


def test_an_activity_on_a_lead_moves_its_last_activity(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    lead = create_lead(crm, actor, name="王总", company="合肥新能")
    log_activity(crm, actor, kind=ActivityKind.CALL, subject="初次联系", lead_id=lead.id)
    again = crm.run(actor.tenant_id, lambda uow: uow.repository(Lead).get(lead.id))
    assert again.last_activity_at == clock.now()


def test_reps_see_only_their_own_activities(crm: Crm, actor: Actor, clock: FixedClock) -> None:
    define_role(
        crm,
        actor,
        "rep",
        grants=[
            Grant("activity", "view", Scope.OWN),
            Grant("activity", "create", Scope.OWN),
            Grant("customer", "view", Scope.TENANT),
        ],
    )
    li, chen = (Actor(actor.tenant_id, UserId(uuid.uuid4()), n) for n in ("Li", "Chen"))
    for rep in (li, chen):
        set_member(crm, actor, rep.user_id, name=rep.name, roles=["rep"])
    buyer = register_customer(crm, actor, name="成都天府软件")
    mine = log_activity(crm, li, kind=ActivityKind.CALL, subject="li", customer_id=buyer.id)
    clock.advance(minutes=5)
    log_activity(crm, chen, kind=ActivityKind.CALL, subject="chen", customer_id=buyer.id)
    assert [a.id for a in list_activities(crm, li, customer_id=buyer.id)] == [mine.id]
    assert [a.subject for a in list_activities(crm, actor, customer_id=buyer.id)] == [
        "chen",
        "li",
    ]  # newest first
    with pytest.raises(PermissionDenied):
        log_activity(
            crm, li, kind=ActivityKind.CALL, subject="for chen", customer_id=buyer.id,
            owner_id=chen.user_id,
        )  # fmt: skip


def test_every_plan_state_can_still_finish() -> None:
    assert_every_state_reaches_final(FOLLOW_UP)


def test_a_plan_is_done_by_the_activity_that_fulfils_it(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    buyer = register_customer(crm, actor, name="青岛海蓝食品", owner_id=actor.user_id)
    due = clock.now().add(days=2)
    plan = plan_follow_up(
        crm, actor, kind=ActivityKind.VISIT, subject="上门演示", due_at=due, customer_id=buyer.id
    )
    assert plan.status_at(clock.now()) is PlanStatus.PLANNED
    assert list_follow_up_plans(crm, actor, status=PlanStatus.OVERDUE) == []
    clock.advance(days=3)
    assert [p.id for p in list_follow_up_plans(crm, actor, status=PlanStatus.OVERDUE)] == [plan.id]
    visit = log_activity(crm, actor, kind=ActivityKind.VISIT, subject="演示完成", plan_id=plan.id)
    assert visit.customer_id == buyer.id
    assert visit.plan_id == plan.id
    done = list_follow_up_plans(crm, actor, status=PlanStatus.DONE)
    assert [(p.id, p.activity_id, p.state) for p in done] == [(plan.id, visit.id, PlanState.DONE)]
    assert list_follow_up_plans(crm, actor, status=PlanStatus.OVERDUE) == []
    assert {"FollowUpPlanned", "FollowUpDone"} <= set(pending_event_types(crm, actor))
    with pytest.raises(InvalidTransition):
        log_activity(crm, actor, kind=ActivityKind.CALL, subject="again", plan_id=plan.id)
    # The refused second activity left nothing behind.
    assert len(list_activities(crm, actor, customer_id=buyer.id)) == 1


def test_plans_can_be_moved_and_dropped(crm: Crm, actor: Actor, clock: FixedClock) -> None:
    buyer = register_customer(crm, actor, name="厦门鹭岛电器")
    plan = plan_follow_up(
        crm,
        actor,
        kind=ActivityKind.CALL,
        subject="回访",
        due_at=datetime.fromisoformat("2026-03-02T15:30:00+00:00"),
        customer_id=buyer.id,
    )
    assert plan.due_on is not None
    assert plan.due_on.isoformat() == "2026-03-02"
    moved = reschedule_follow_up(
        crm, actor, plan.id, datetime.fromisoformat("2026-03-05T17:00:00+00:00")
    )
    assert moved.due_on is not None
    assert moved.due_on.isoformat() == "2026-03-06"
    with pytest.raises(ValidationError):
        cancel_follow_up(crm, actor, plan.id, " ")
    dropped = cancel_follow_up(crm, actor, plan.id, "客户已签约")
    assert dropped.state is PlanState.CANCELLED
    with pytest.raises(InvalidTransition):
        reschedule_follow_up(crm, actor, plan.id, clock.now())


def test_due_plans_feed_reminders(crm: Crm, actor: Actor, clock: FixedClock) -> None:
    buyer = register_customer(crm, actor, name="Pacific Foods")
    for subject, day in (("call back", "2026-03-04"), ("visit", "2026-03-09")):
        plan_follow_up(
            crm,
            actor,
            kind=ActivityKind.CALL,
            subject=subject,
            due_at=datetime.fromisoformat(f"{day}T06:00:00+00:00"),
            customer_id=buyer.id,
        )
    dropped = plan_follow_up(
        crm,
        actor,
        kind=ActivityKind.CALL,
        subject="dropped",
        due_at=datetime.fromisoformat("2026-03-04T07:00:00+00:00"),
        customer_id=buyer.id,
    )
    cancel_follow_up(crm, actor, dropped.id, "no longer needed")
    define_reminder_rule(
        crm,
        actor,
        name="follow-ups due",
        trigger=TriggerKind.DATE_FIELD,
        resource="follow_up_plan",
        field="due_on",
        subject="{title} today",
        only_when=(("state", "planned"),),
    )
    clock.set("2026-03-04T02:00:00Z")
    firings = scan_due_reminders(crm, actor.tenant_id)
    assert [(f.subject, f.recipient_id) for f in firings] == [("call back today", actor.user_id)]


def test_a_calls_target_counts_call_activities_up_the_department_tree(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    sales = define_department(crm, actor, "Sales")
    east = define_department(crm, actor, "East", parent_id=sales.id)
    li, chen = (Actor(actor.tenant_id, UserId(uuid.uuid4()), n) for n in ("Li", "Chen"))
    set_member(crm, actor, li.user_id, name="Li", department_id=east.id)
    set_member(crm, actor, chen.user_id, name="Chen", department_id=sales.id)
    buyer = register_customer(crm, actor, name="长沙湘江机械")
    for who, kinds in (
        (li, [ActivityKind.CALL, ActivityKind.CALL, ActivityKind.VISIT]),
        (chen, [ActivityKind.CALL, ActivityKind.NOTE]),
    ):
        for kind in kinds:
            log_activity(
                crm, actor, kind=kind, subject="x", customer_id=buyer.id, owner_id=who.user_id
            )
    # A call of last month does not count for March.
    log_activity(
        crm,
        actor,
        kind=ActivityKind.CALL,
        subject="old",
        customer_id=buyer.id,
        owner_id=li.user_id,
        occurred_at=datetime.fromisoformat("2026-02-27T09:00:00+00:00"),
    )
    for who, value in ((li, 40), (chen, 30)):
        set_target(
            crm,
            actor,
            unit_kind=UnitKind.USER,
            unit_id=who.user_id,
            period="2026-03",
            metric=Metric.CALLS,
            value=value,
        )
    report = target_report(crm, actor, period="2026-03", metric=Metric.CALLS)
    rows = {(r["unit"], r["name"]): (r["target"], r["actual"]) for r in report.to_dicts()}
    assert rows[("user", "Li")] == (Decimal(40), Decimal(2))
    assert rows[("user", "Chen")] == (Decimal(30), Decimal(1))
    assert rows[("department", "East")] == (Decimal(40), Decimal(2))
    assert rows[("department", "Sales")] == (Decimal(70), Decimal(3))


def test_sql_calls_by_owner_equal_the_python_reference(crm: Crm, actor: Actor) -> None:
    from crmkit.pipeline.queries import MemoryPipelineAnalytics

    buyer = register_customer(crm, actor, name="天津渤海化工")
    owners = [UserId(uuid.uuid4()) for _ in range(3)]
    for n in range(12):
        log_activity(
            crm,
            actor,
            kind=list(ActivityKind)[n % len(ActivityKind)],
            subject=f"a{n}",
            customer_id=buyer.id,
            owner_id=owners[n % 3],
        )

    def both(uow):  # type: ignore[no-untyped-def]
        since = datetime.fromisoformat("2026-03-01T00:00:00+00:00")
        until = datetime.fromisoformat("2026-04-01T00:00:00+00:00")
        here = queries(uow, PipelineAnalytics).calls_by_owner(since, until)
        reference = MemoryPipelineAnalytics(uow).calls_by_owner(since, until)
        return here, reference

    here, reference = crm.run(actor.tenant_id, both)
    assert here.rows == reference.rows
    assert sum(n for _, n in here.rows) == 3  # n = 0, 5, 10 are calls
    assert crm.run(actor.tenant_id, lambda uow: uow.repository(Activity).count()) == 12
