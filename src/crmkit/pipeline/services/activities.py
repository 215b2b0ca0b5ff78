"""Activity and follow-up-plan use cases: log what was done, plan what comes next.

Logging an activity is one transaction: the activity, the customer's new
``last_activity_at`` (through :func:`crmkit.customers.services.record_follow_up`, so
the customers area's history and events record it like any other write), the
lead's last activity, the plan it fulfils and the events all commit together.

Activities are the permission resource ``activity`` and plans ``follow_up_plan``
(scoped by owner — a plan's owner is its assignee — and department, like deals).
Plans are a reminder source: a date-field rule on ``follow_up_plan.due_on`` with
``only_when=(("state", "planned"),)`` reminds the assignee on the day a follow-up
is due, or after it, with offsets.
"""

from __future__ import annotations

import functools
import uuid
from datetime import datetime

from crmkit.crm import Crm
from crmkit.customers.model import Customer
from crmkit.customers.services import record_follow_up
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import ValidationError
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import UserId
from crmkit.kernel.invalid import invalid
from crmkit.kernel.limits import to_instant_value, to_member
from crmkit.kernel.query import TRUE, Expr, F, Order, Query
from crmkit.pipeline.model.activities import (
    DEFAULT_TIMEZONE,
    Activity,
    ActivityId,
    ActivityKind,
    FollowUpPlan,
    FollowUpPlanId,
    PlanState,
    PlanStatus,
)
from crmkit.pipeline.model.leads import Lead
from crmkit.pipeline.model.opportunities import Opportunity
from crmkit.pipeline.model.resources import ACTIVITIES, PLANS
from crmkit.pipeline.services._common import act_on_record, department_of
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import grants_for, guarded
from crmkit.rules.permissions.reader import ScopedReader

__all__ = [
    "cancel_follow_up",
    "list_activities",
    "list_follow_up_plans",
    "log_activity",
    "plan_follow_up",
    "reschedule_follow_up",
]


_LINKS = ("customer_id", "opportunity_id", "lead_id")


def _mismatch(entity: str, field: str) -> ValidationError:
    return invalid(entity, field, N_("the deal or lead belongs to another customer"))


def _resolve_links(
    uow: UnitOfWork,
    actor: Actor,
    entity: str,
    customer_id: uuid.UUID | None,
    opportunity_id: uuid.UUID | None,
    lead_id: uuid.UUID | None,
) -> tuple[Customer | None, Opportunity | None, Lead | None]:
    """Load what an activity or plan is about, check the actor may see each, and make
    the links agree (a deal's customer is the activity's customer)."""
    grants = grants_for(uow, actor)
    deal = lead = customer = None
    if opportunity_id is not None:
        deal = uow.repository(Opportunity).get(opportunity_id)
        grants.require("view", deal, "opportunity")
        if customer_id is not None and customer_id != deal.customer_id:
            raise _mismatch(entity, "opportunity_id")
        customer_id = deal.customer_id
    if lead_id is not None:
        lead = uow.repository(Lead).get(lead_id)
        grants.require("view", lead, "lead")
        if customer_id is not None and lead.customer_id not in (None, customer_id):
            raise _mismatch(entity, "lead_id")
    if customer_id is not None:
        customer = uow.repository(Customer).get(customer_id)
        grants.require("view", customer, "customer")
    return customer, deal, lead


def log_activity(
    crm: Crm,
    actor: Actor,
    *,
    kind: ActivityKind,
    subject: str,
    customer_id: uuid.UUID | None = None,
    opportunity_id: uuid.UUID | None = None,
    lead_id: uuid.UUID | None = None,
    occurred_at: datetime | None = None,
    body: str = "",
    duration_minutes: int | None = None,
    outcome: str = "",
    plan_id: uuid.UUID | None = None,
    owner_id: UserId | None = None,
) -> Activity:
    """Log a call, visit, email, meeting or note (跟进记录).

    The activity is the actor's unless ``owner_id`` names the colleague who did it.
    Given a deal, the customer is the deal's; given a plan, the activity fulfils it
    (the plan becomes ``done``) and, where no link is given, is about what the plan is
    about. The customer's ``last_activity_at`` moves forward to ``occurred_at`` — a
    follow-up restarts its protection period in the public pool — and so does the
    lead's.

    Args:
        occurred_at: when it happened (default: now); it may lie in the past, not ahead.

    Returns:
        The stored activity.

    Raises:
        ValidationError: no customer, deal or lead; the links disagree; a duration on a
            note or email; a time in the future; the plan is about something else.
        InvalidTransition: the plan is done or cancelled already.
        NotFound: a linked record or the plan does not exist.
        PermissionDenied: the actor may not log activities, see a linked record or
            (for a plan) act on the plan.
    """
    kind = to_member(ActivityKind, kind, entity="activity", field="kind")
    now = crm.now()

    def work(uow: UnitOfWork) -> Activity:
        grants = grants_for(uow, actor)
        grants.require_operation("create", ACTIVITIES)
        plan = None
        links = {"customer_id": customer_id, "opportunity_id": opportunity_id, "lead_id": lead_id}
        if plan_id is not None:
            plan = uow.repository(FollowUpPlan).get(plan_id)
            grants.require("edit", plan, PLANS)
            if all(value is None for value in links.values()):
                links = {name: getattr(plan, name) for name in _LINKS}
        customer, _deal, lead = _resolve_links(uow, actor, "activity", **links)
        owner = owner_id or actor.user_id
        activity = Activity(
            id=ActivityId(crm.ids.new(now)),
            tenant_id=actor.tenant_id,
            kind=kind,
            subject=subject,
            occurred_at=occurred_at or now,
            created_at=now,
            owner_id=owner,
            department_id=department_of(uow, owner),
            customer_id=customer.id if customer is not None else None,
            opportunity_id=links["opportunity_id"],
            lead_id=links["lead_id"],
            body=body,
            duration_minutes=duration_minutes,
            outcome=outcome,
            plan_id=plan_id,
        )
        grants.require("create", activity, ACTIVITIES)
        events: list[DomainEvent] = [activity.logged()]
        if plan is not None:
            done = plan.complete(activity, now)
            uow.repository(FollowUpPlan).save(plan)
            events += [done] if done is not None else []
        if customer is not None:
            record_follow_up(uow, crm, customer.id, at=activity.occurred_at, user=actor.user_id)
        if lead is not None and (
            lead.last_activity_at is None or lead.last_activity_at < activity.occurred_at
        ):
            lead.last_activity_at = activity.occurred_at
            uow.repository(Lead).save(lead)
        uow.repository(Activity).add(activity)
        uow.outbox.add(*events)
        return activity

    return guarded(crm, actor, work)


def list_activities(
    crm: Crm,
    actor: Actor,
    *,
    customer_id: uuid.UUID | None = None,
    opportunity_id: uuid.UUID | None = None,
    lead_id: uuid.UUID | None = None,
    owner_id: uuid.UUID | None = None,
    kind: ActivityKind | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = 200,
) -> list[Activity]:
    """The activities the actor may view, newest first, narrowed by any of the filters.

    ``since`` / ``until`` bound ``occurred_at`` as [since, until). Fields hidden from
    the actor are removed from each activity.

    Raises:
        PermissionDenied: a filter given reads a field hidden from the actor.
        ValidationError: ``kind`` is no activity kind (nor one's value), or ``since`` /
            ``until`` is not an instant with a time zone (a naive time is refused, not
            read in some zone: each store would read it differently).
    """
    # Filters are read alike on every store: a kind by its value, instants with a zone.
    kind = None if kind is None else to_member(ActivityKind, kind, entity="activity", field="kind")
    since = None if since is None else to_instant_value(since, entity="activity", field="since")
    until = None if until is None else to_instant_value(until, entity="activity", field="until")
    where: Expr = TRUE
    for name, value in (
        ("customer_id", customer_id),
        ("opportunity_id", opportunity_id),
        ("lead_id", lead_id),
        ("owner_id", owner_id),
        ("kind", kind),
    ):
        if value is not None:
            where = where & F(name).eq(value)
    if since is not None:
        where = where & F("occurred_at").ge(since)
    if until is not None:
        where = where & F("occurred_at").lt(until)
    query = Query(where=where, order_by=(Order("occurred_at", descending=True),), limit=limit)

    def work(uow: UnitOfWork) -> list[Activity]:
        return ScopedReader(uow, grants_for(uow, actor), Activity, ACTIVITIES).query(query)

    return guarded(crm, actor, work)


def plan_follow_up(
    crm: Crm,
    actor: Actor,
    *,
    kind: ActivityKind,
    subject: str,
    due_at: datetime,
    customer_id: uuid.UUID | None = None,
    opportunity_id: uuid.UUID | None = None,
    lead_id: uuid.UUID | None = None,
    assignee_id: UserId | None = None,
    notes: str = "",
    timezone: str = DEFAULT_TIMEZONE,
) -> FollowUpPlan:
    """Plan a follow-up (跟进计划) for the actor, or for ``assignee_id``.

    Args:
        timezone: the assignee's zone: it decides the plan's ``due_on`` day, which
            date-field reminder rules watch.

    Raises:
        ValidationError: no customer, deal or lead; the links disagree; a bad zone.
        PermissionDenied: the actor may not plan for that assignee or see a linked record.
    """
    now = crm.now()

    def work(uow: UnitOfWork) -> FollowUpPlan:
        grants = grants_for(uow, actor)
        grants.require_operation("create", PLANS)
        customer, _deal, _lead = _resolve_links(
            uow, actor, "follow_up_plan", customer_id, opportunity_id, lead_id
        )
        assignee = assignee_id or actor.user_id
        plan = FollowUpPlan(
            id=FollowUpPlanId(crm.ids.new(now)),
            tenant_id=actor.tenant_id,
            kind=kind,
            subject=subject,
            due_at=due_at,
            assignee_id=assignee,
            created_at=now,
            timezone=timezone,
            created_by=actor.user_id,
            department_id=department_of(uow, assignee),
            customer_id=customer.id if customer is not None else None,
            opportunity_id=opportunity_id,
            lead_id=lead_id,
            notes=notes,
        )
        grants.require("create", plan, PLANS)
        uow.repository(FollowUpPlan).add(plan)
        uow.outbox.add(plan.planned())
        return plan

    return guarded(crm, actor, work)


_on_plan = functools.partial(act_on_record, FollowUpPlan, PLANS)


def cancel_follow_up(crm: Crm, actor: Actor, plan_id: uuid.UUID, why: str) -> FollowUpPlan:
    """Drop a planned follow-up, for a reason.

    Raises:
        InvalidTransition: it is done or cancelled already.
        ValidationError: no reason.
    """
    return _on_plan(crm, actor, plan_id, lambda _uow, plan, now: plan.cancel(why, now))


def reschedule_follow_up(
    crm: Crm, actor: Actor, plan_id: uuid.UUID, due_at: datetime
) -> FollowUpPlan:
    """Move a planned follow-up to ``due_at`` (its ``due_on`` day follows).

    Raises:
        InvalidTransition: it is done or cancelled.
    """
    due_at = to_instant_value(due_at, entity="follow-up plan", field="due_at")
    return _on_plan(crm, actor, plan_id, lambda _uow, plan, now: plan.reschedule(due_at, now))


def list_follow_up_plans(
    crm: Crm,
    actor: Actor,
    *,
    assignee_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    opportunity_id: uuid.UUID | None = None,
    status: PlanStatus | None = None,
    limit: int | None = 200,
) -> list[FollowUpPlan]:
    """The plans the actor may view, soonest due first.

    ``status`` reads the clock: ``OVERDUE`` is a planned follow-up past its due
    instant, ``PLANNED`` one not yet due; ``DONE`` and ``CANCELLED`` are stored states.
    """
    status = (
        None
        if status is None
        else to_member(PlanStatus, status, entity="follow-up plan", field="status")
    )
    now = crm.now()
    where: Expr = TRUE
    for name, value in (
        ("assignee_id", assignee_id),
        ("customer_id", customer_id),
        ("opportunity_id", opportunity_id),
    ):
        if value is not None:
            where = where & F(name).eq(value)
    if status is PlanStatus.OVERDUE:
        where = where & F("state").eq(PlanState.PLANNED) & F("due_at").lt(now)
    elif status is PlanStatus.PLANNED:
        where = where & F("state").eq(PlanState.PLANNED) & F("due_at").ge(now)
    elif status is not None:
        where = where & F("state").eq(PlanState(status.value))
    query = Query(where=where, order_by=(Order("due_at"), Order("id")), limit=limit)

    def work(uow: UnitOfWork) -> list[FollowUpPlan]:
        return ScopedReader(uow, grants_for(uow, actor), FollowUpPlan, PLANS).query(query)

    return guarded(crm, actor, work)
