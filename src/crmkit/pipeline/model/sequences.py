"""Follow-up (SFA) sequences: a cadence of calls, emails, visits and tasks.

A :class:`SequenceTemplate` is a named list of steps, each an action with a
schedule: days after the start (day 0, +3, +7), an absolute date, or a
:class:`~crmkit.kernel.recurrence.Recurrence` (every Monday for six weeks).
Applying a template to a customer lays out concrete :class:`SequenceStep`s with
due dates. The clock drives them: a ``normal`` step becomes ``due`` on its date and
``overdue`` after the template's grace days; the rep marks it ``done``, ``failed``
(an SMS that could not be sent) or ``skipped``. Steps are a reminder source, so a
reminder rule can ping the owner on the due date.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, timedelta

import attrs

from crmkit.kernel.entity import Entity
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId
from crmkit.kernel.invalid import invalid
from crmkit.kernel.machine import Machine, Transition
from crmkit.kernel.recurrence import Recurrence

__all__ = [
    "SEQUENCE_STEP",
    "SequenceStep",
    "SequenceTemplate",
    "StepAction",
    "StepPlan",
    "StepState",
    "plan_steps",
]


class StepAction(enum.Enum):
    """What a step asks the rep (or the system) to do."""

    CALL = "call"
    EMAIL = "email"
    SMS = "sms"
    VISIT = "visit"
    TASK = "task"


@attrs.frozen
class StepPlan:
    """One step of a template: an action and exactly one way to schedule it."""

    action: StepAction
    title: str
    after_days: int | None = None
    on: date | None = None
    recurrence: Recurrence | None = None

    def __attrs_post_init__(self) -> None:
        chosen = sum(x is not None for x in (self.after_days, self.on, self.recurrence))
        if chosen != 1:
            raise invalid(
                "sequence_step", "schedule", N_("give exactly one of after_days, on or recurrence")
            )
        if self.after_days is not None and self.after_days < 0:
            raise invalid("sequence_step", "after_days", N_("must be a whole number of at least 0"))


@attrs.define(eq=False)
class SequenceTemplate(Entity):
    """A named cadence of steps; ``grace_days`` before a due step counts as overdue."""

    entity_name = N_("sequence template")

    id: uuid.UUID
    tenant_id: TenantId
    name: str
    steps: tuple[StepPlan, ...]
    grace_days: int = 1
    version: int = 0

    def __attrs_post_init__(self) -> None:
        if not self.steps:
            raise invalid("sequence_template", "steps", N_("name at least one step"))


def plan_steps(
    template: SequenceTemplate, start: date, *, max_recurring: int = 52
) -> list[tuple[StepPlan, date]]:
    """The concrete (step, due day) pairs of a template started on ``start``, by due day."""
    laid: list[tuple[StepPlan, date]] = []
    for step in template.steps:
        if step.after_days is not None:
            laid.append((step, start + timedelta(days=step.after_days)))
        elif step.on is not None:
            laid.append((step, step.on))
        elif step.recurrence is not None:
            laid += [
                (step, d)
                for d in step.recurrence.occurrences(
                    after=start - timedelta(days=1), limit=max_recurring
                )
            ]
    return sorted(laid, key=lambda pair: pair[1])


class StepState(enum.Enum):
    """Where a step stands."""

    NORMAL = "normal"
    DUE = "due"
    OVERDUE = "overdue"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


@attrs.frozen(kw_only=True)
class StepFinished(DomainEvent):
    """A step was done, failed or skipped."""

    aggregate_type = "sequence_step"

    outcome: str
    note: str = ""


@attrs.define(eq=False)
class SequenceStep(Entity):
    """One concrete step of a sequence running for a customer."""

    entity_name = N_("sequence step")

    id: uuid.UUID
    tenant_id: TenantId
    sequence_id: uuid.UUID
    template_id: uuid.UUID
    customer_id: uuid.UUID
    owner_id: uuid.UUID | None
    name: str
    action: StepAction
    due_on: date
    overdue_on: date
    created_at: datetime
    state: StepState = StepState.NORMAL
    finished_at: datetime | None = None
    note: str = ""
    version: int = 0

    def tick(self, today: date) -> bool:
        """Let the calendar move the step on; ``True`` if its state changed."""
        before = self.state
        if self.state is StepState.NORMAL and today >= self.due_on:
            SEQUENCE_STEP.fire(self, "fall_due")
        if self.state is StepState.DUE and today > self.overdue_on:
            SEQUENCE_STEP.fire(self, "run_late")
        return self.state is not before

    def finish(self, outcome: StepState, now: datetime, note: str = "") -> DomainEvent | None:
        """Mark the step done, failed or skipped."""
        trigger = {
            StepState.DONE: "complete",
            StepState.FAILED: "fail",
            StepState.SKIPPED: "skip",
        }.get(outcome)
        if trigger is None:
            raise invalid("sequence_step", "outcome", N_("must be done, failed or skipped"))
        event = SEQUENCE_STEP.fire(
            self, trigger, now=now, payload={"outcome": outcome.value, "note": note}
        )
        self.finished_at, self.note = now, note
        return event


_OPEN = (StepState.NORMAL, StepState.DUE, StepState.OVERDUE)

SEQUENCE_STEP: Machine[StepState] = Machine(
    name="sequence_step",
    states=StepState,
    initial=StepState.NORMAL,
    final={StepState.DONE, StepState.FAILED, StepState.SKIPPED},
    state_attr="state",
    transitions=[
        Transition("fall_due", source=StepState.NORMAL, target=StepState.DUE),
        Transition("run_late", source=StepState.DUE, target=StepState.OVERDUE),
        Transition("complete", source=_OPEN, target=StepState.DONE, event=StepFinished),
        Transition("fail", source=_OPEN, target=StepState.FAILED, event=StepFinished),
        Transition("skip", source=_OPEN, target=StepState.SKIPPED, event=StepFinished),
    ],
)
