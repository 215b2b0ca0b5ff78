"""Activities (跟进记录) and follow-up plans (跟进计划): what a rep did with a customer,
and what the rep means to do next.

An :class:`Activity` is one logged touch — a call, a visit, an email, a meeting or a
note — with its subject, what was said (``body``), when it happened, how long a call
or meeting took, and how it went (``outcome``). It is linked to the customer it was
with and, where it belongs to one, the opportunity or lead. Logging an activity is a
*follow-up*: it moves the customer's ``last_activity_at`` forward, which is the clock
the public pool's protection period runs on (see :mod:`crmkit.customers.model.pool`), and
it counts towards a ``calls`` target when it is a call.

A :class:`FollowUpPlan` is an activity still to do: a kind, a subject, a due instant
and an assignee. It is ``planned`` until it is ``done`` (linked to the activity that
fulfilled it) or ``cancelled``; a planned follow-up whose due instant has passed is
*overdue* — a reading of the clock (:meth:`FollowUpPlan.status_at`), not a stored
state, so no job has to flip it. Plans keep their due day in the assignee's time zone
(``due_on``) so that date-field reminder rules can watch them ("remind the assignee
on the day a follow-up is due").

.. code-block:: text

    planned --complete--> done          planned --cancel--> cancelled
    planned --reschedule--> planned     (overdue = planned and past due_at)
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import NewType

import attrs
import pendulum

from crmkit.kernel.entity import Entity
from crmkit.kernel.event_origin import origin
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.invalid import invalid
from crmkit.kernel.machine import Machine, Transition

__all__ = [
    "DEFAULT_TIMEZONE",
    "FOLLOW_UP",
    "Activity",
    "ActivityId",
    "ActivityKind",
    "ActivityLogged",
    "FollowUpCancelled",
    "FollowUpDone",
    "FollowUpPlan",
    "FollowUpPlanEvent",
    "FollowUpPlanId",
    "FollowUpPlanned",
    "FollowUpRescheduled",
    "PlanState",
    "PlanStatus",
    "local_day",
]

ActivityId = NewType("ActivityId", uuid.UUID)
FollowUpPlanId = NewType("FollowUpPlanId", uuid.UUID)
_ACTIVITY = N_("activity")
_PLAN = N_("follow-up plan")
DEFAULT_TIMEZONE = "Asia/Shanghai"


class ActivityKind(enum.Enum):
    """What kind of touch an activity is."""

    CALL = "call"
    VISIT = "visit"
    EMAIL = "email"
    MEETING = "meeting"
    NOTE = "note"


# A note or an email has no length in time; a call, visit or meeting does.
_TIMED = frozenset({ActivityKind.CALL, ActivityKind.VISIT, ActivityKind.MEETING})


def local_day(at: datetime, timezone: str) -> date:
    """The calendar day of the instant ``at`` in ``timezone``.

    Raises:
        ValidationError: the time zone is unknown.
    """
    try:
        zone = pendulum.timezone(timezone)
    except Exception:
        raise invalid(_PLAN, "timezone", N_("unknown timezone {tz}"), tz=timezone) from None
    return pendulum.instance(at).in_timezone(zone).date()


@attrs.define(eq=False)
class Activity(Entity):
    """One logged follow-up.

    Attributes:
        kind: call, visit, email, meeting or note.
        subject: a one-line summary ("需求确认电话").
        occurred_at: when it happened (UTC); may lie before ``created_at``, never after it.
        owner_id: who did it (the rep); ``department_id`` the rep's department.
        customer_id, opportunity_id, lead_id: what it was about; at least one is set.
        body: what was said or done.
        duration_minutes: how long a call, visit or meeting took.
        outcome: how it went ("约好下周演示", "no answer").
        plan_id: the follow-up plan it fulfilled, if any.
        created_at: when it was logged.
    """

    entity_name = _ACTIVITY

    id: ActivityId
    tenant_id: TenantId
    kind: ActivityKind
    subject: str
    occurred_at: datetime
    created_at: datetime
    owner_id: UserId | None = None
    department_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    opportunity_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    body: str = ""
    duration_minutes: int | None = None
    outcome: str = ""
    plan_id: uuid.UUID | None = None
    version: int = 0

    def __attrs_post_init__(self) -> None:
        if not self.subject.strip():
            raise invalid(_ACTIVITY, "subject", N_("is required"))
        if self.customer_id is None and self.opportunity_id is None and self.lead_id is None:
            raise invalid(
                _ACTIVITY, "customer_id", N_("link the activity to a customer, deal or lead")
            )
        if self.duration_minutes is not None:
            if self.kind not in _TIMED:
                raise invalid(
                    _ACTIVITY,
                    "duration_minutes",
                    N_("only calls, visits and meetings have a duration"),
                )
            if self.duration_minutes < 0:
                raise invalid(
                    _ACTIVITY, "duration_minutes", N_("must be a whole number of at least 0")
                )
        if self.occurred_at > self.created_at:
            raise invalid(_ACTIVITY, "occurred_at", N_("must not lie in the future"))

    def logged(self) -> ActivityLogged:
        """The event recording that this activity was logged."""
        return ActivityLogged(
            **origin(self, self.created_at),
            kind=self.kind.value,
            happened_at=self.occurred_at,
            owner_id=self.owner_id,
            customer_id=self.customer_id,
            opportunity_id=self.opportunity_id,
            lead_id=self.lead_id,
            plan_id=self.plan_id,
        )


@attrs.frozen(kw_only=True)
class ActivityLogged(DomainEvent):
    """A call, visit, email, meeting or note was logged (``happened_at`` is when it took place)."""

    aggregate_type = "activity"

    kind: str
    happened_at: datetime
    owner_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    opportunity_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    plan_id: uuid.UUID | None = None


class PlanState(enum.Enum):
    """The stored state of a follow-up plan (``overdue`` is read off the clock: see
    :class:`PlanStatus`)."""

    PLANNED = "planned"
    DONE = "done"
    CANCELLED = "cancelled"


class PlanStatus(enum.Enum):
    """How a follow-up plan stands at a given instant."""

    PLANNED = "planned"
    OVERDUE = "overdue"
    DONE = "done"
    CANCELLED = "cancelled"


@attrs.define(eq=False)
class FollowUpPlan(Entity):
    """A follow-up still to do.

    Attributes:
        kind: the activity it plans (a call, a visit, ...).
        subject: what to do.
        due_at: when it is due (UTC); ``due_on`` its day in ``timezone``, kept for
            date-field reminder rules.
        assignee_id: who must do it; ``department_id`` the assignee's department.
        customer_id, opportunity_id, lead_id: what it is about; at least one is set.
        notes: anything the assignee should know.
        state: planned, done or cancelled.
        activity_id: the activity that fulfilled it (when done).
        closed_at: when it was done or cancelled; ``cancel_reason`` why it was dropped.
        created_at, created_by: when and by whom it was planned.
    """

    entity_name = _PLAN

    id: FollowUpPlanId
    tenant_id: TenantId
    kind: ActivityKind
    subject: str
    due_at: datetime
    assignee_id: UserId
    created_at: datetime
    timezone: str = DEFAULT_TIMEZONE
    due_on: date | None = None
    created_by: uuid.UUID | None = None
    department_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    opportunity_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    notes: str = ""
    state: PlanState = PlanState.PLANNED
    activity_id: uuid.UUID | None = None
    closed_at: datetime | None = None
    cancel_reason: str | None = None
    version: int = 0

    def __attrs_post_init__(self) -> None:
        if not self.subject.strip():
            raise invalid(_PLAN, "subject", N_("is required"))
        if self.customer_id is None and self.opportunity_id is None and self.lead_id is None:
            raise invalid(_PLAN, "customer_id", N_("link the plan to a customer, deal or lead"))
        self.due_on = local_day(self.due_at, self.timezone)

    def status_at(self, now: datetime) -> PlanStatus:
        """How the plan stands at ``now``: a planned follow-up past its due instant is overdue."""
        if self.state is PlanState.PLANNED:
            return PlanStatus.OVERDUE if now > self.due_at else PlanStatus.PLANNED
        return PlanStatus(self.state.value)

    def is_overdue(self, now: datetime) -> bool:
        """Whether it is still planned and its due instant has passed."""
        return self.status_at(now) is PlanStatus.OVERDUE

    def planned(self) -> FollowUpPlanned:
        """The event recording that this plan was made."""
        return FollowUpPlanned(
            **origin(self, self.created_at),
            kind=self.kind.value,
            due_at=self.due_at,
            assignee_id=self.assignee_id,
        )

    def complete(self, activity: Activity, now: datetime) -> DomainEvent | None:
        """Mark it done by ``activity``.

        Raises:
            InvalidTransition: it is done or cancelled already.
            ValidationError: the activity is about another customer, deal or lead.
        """
        for name in ("customer_id", "opportunity_id", "lead_id"):
            mine, theirs = getattr(self, name), getattr(activity, name)
            if mine is not None and theirs is not None and mine != theirs:
                raise invalid(
                    _PLAN, "activity_id", N_("the activity is about another {what}"), what=name
                )
        event = FOLLOW_UP.fire(
            self,
            "complete",
            now=now,
            payload={"activity_id": activity.id, "late": now > self.due_at},
        )
        self.activity_id, self.closed_at = activity.id, now
        return event

    def cancel(self, why: str, now: datetime) -> DomainEvent | None:
        """Drop it, for a reason.

        Raises:
            InvalidTransition: it is done or cancelled already.
            ValidationError: no reason given.
        """
        if not why.strip():
            raise invalid(_PLAN, "cancel_reason", N_("is required"))
        event = FOLLOW_UP.fire(self, "cancel", now=now, payload={"reason": why})
        self.closed_at, self.cancel_reason = now, why
        return event

    def reschedule(self, due_at: datetime, now: datetime) -> DomainEvent | None:
        """Move the due instant (an overdue plan becomes planned again if moved ahead).

        Raises:
            InvalidTransition: it is done or cancelled.
        """
        event = FOLLOW_UP.fire(
            self, "reschedule", now=now, payload={"previous": self.due_at, "due_at": due_at}
        )
        self.due_at = due_at
        self.due_on = local_day(due_at, self.timezone)
        return event


@attrs.frozen(kw_only=True)
class FollowUpPlanEvent(DomainEvent):
    """Base of the events of a :class:`FollowUpPlan` (its ``aggregate_id``)."""

    aggregate_type = "follow_up_plan"


@attrs.frozen(kw_only=True)
class FollowUpPlanned(FollowUpPlanEvent):
    """A follow-up was planned for ``assignee_id``."""

    kind: str
    due_at: datetime
    assignee_id: uuid.UUID


@attrs.frozen(kw_only=True)
class FollowUpDone(FollowUpPlanEvent):
    """A planned follow-up was done by an activity (``late``: after it fell due)."""

    activity_id: uuid.UUID
    late: bool = False


@attrs.frozen(kw_only=True)
class FollowUpCancelled(FollowUpPlanEvent):
    """A planned follow-up was dropped."""

    reason: str


@attrs.frozen(kw_only=True)
class FollowUpRescheduled(FollowUpPlanEvent):
    """A planned follow-up was moved to another instant."""

    previous: datetime
    due_at: datetime


FOLLOW_UP: Machine[PlanState] = Machine(
    name="follow_up_plan",
    states=PlanState,
    initial=PlanState.PLANNED,
    final={PlanState.DONE, PlanState.CANCELLED},
    state_attr="state",
    transitions=[
        Transition("complete", source=PlanState.PLANNED, target=PlanState.DONE, event=FollowUpDone),
        Transition(
            "cancel", source=PlanState.PLANNED, target=PlanState.CANCELLED, event=FollowUpCancelled
        ),
        Transition(
            "reschedule",
            source=PlanState.PLANNED,
            target=PlanState.PLANNED,
            event=FollowUpRescheduled,
        ),
    ],
)
