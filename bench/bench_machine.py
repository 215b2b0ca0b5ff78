"""State-machine engine: crmkit.kernel.machine against the ``transitions`` library.

The same ticket machine (5 states, 7 transitions, one guard, one wildcard) is driven
through the same trigger cycle by both engines.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import attrs
from transitions import Machine as TransitionsMachine

from bench.harness import Case
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.ids import TenantId
from crmkit.kernel.machine import ANY, Guard, Machine, Transition

NOTES = (
    "**machine** — a ticket machine (5 states, 7 transitions, one guard, one wildcard) "
    "driven through a 5-trigger cycle, 20 times, over 1,000 objects. crmkit: one "
    "module-level `Machine`, Enum states, objects are slotted `attrs.define` entities "
    "and `fire` is called per move. transitions 0.9: the lightest usual set-up, one "
    "`transitions.Machine(model=[1,000 models], auto_transitions=False)` with str "
    "states, triggered through the generated model methods (`getattr(model, trigger)()`), "
    "the guard as a `conditions=` model method. The event row records one `DomainEvent` "
    "per move on both sides (transitions through an `after=` callback), so it mostly "
    "measures building the event. The attach row creates 1,000 objects: crmkit only "
    "sets a state attribute; transitions also builds the machine and adds the models."
)

OBJECTS = 1_000
ROUNDS = 20
CYCLE = ("start", "pause", "resume", "resolve", "reopen")
MOVES = OBJECTS * ROUNDS * len(CYCLE)
SMOKE = {"OBJECTS": 20, "ROUNDS": 2, "MOVES": 20 * 2 * len(CYCLE)}
NOW = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
TENANT = TenantId(UUID(int=1))


class TicketState(enum.Enum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"


@attrs.frozen(kw_only=True)
class BenchTicketMoved(DomainEvent):
    """The bench's event (one class for every move keeps both sides equal)."""

    trigger: str


@attrs.define
class Ticket:
    id: UUID
    tenant_id: TenantId
    state: TicketState = TicketState.OPEN
    solution: str | None = "restart"


def has_solution(ticket: Ticket) -> bool:
    return ticket.solution is not None


def _crmkit_machine(event: type[DomainEvent] | None) -> Machine[TicketState]:
    s = TicketState
    return Machine(
        name="bench_ticket",
        states=s,
        initial=s.OPEN,
        final={s.CLOSED},
        transitions=[
            Transition("start", source=s.OPEN, target=s.IN_PROGRESS, event=event),
            Transition("pause", source=s.IN_PROGRESS, target=s.ON_HOLD, event=event),
            Transition("resume", source=s.ON_HOLD, target=s.IN_PROGRESS, event=event),
            Transition(
                "resolve",
                source=s.IN_PROGRESS,
                target=s.RESOLVED,
                guard=Guard("has_solution", has_solution),
                event=event,
            ),
            Transition("reopen", source=s.RESOLVED, target=s.OPEN, event=event),
            Transition("close", source=s.RESOLVED, target=s.CLOSED, event=event),
            Transition("cancel", source=ANY, target=s.CLOSED, event=event),
        ],
        state_attr="state",
    )


TICKET = _crmkit_machine(None)
TICKET_WITH_EVENTS = _crmkit_machine(BenchTicketMoved)


class TicketModel:
    """A transitions model: a plain class (transitions sets attributes on it)."""

    def __init__(self, id: UUID) -> None:
        self.id = id
        self.tenant_id = TENANT
        self.solution: str | None = "restart"
        self.events: list[DomainEvent] = []

    def has_solution(self, **_: object) -> bool:  # transitions passes trigger kwargs
        return self.solution is not None

    def record(self, now: datetime) -> None:
        trigger = CYCLE[len(self.events) % len(CYCLE)]
        self.events.append(
            BenchTicketMoved(
                tenant_id=self.tenant_id, aggregate_id=self.id, occurred_at=now, trigger=trigger
            )
        )


def _transitions_table(after: str | None) -> list[dict[str, Any]]:
    extra = {"after": after} if after else {}
    return [
        {"trigger": "start", "source": "open", "dest": "in_progress", **extra},
        {"trigger": "pause", "source": "in_progress", "dest": "on_hold", **extra},
        {"trigger": "resume", "source": "on_hold", "dest": "in_progress", **extra},
        {
            "trigger": "resolve",
            "source": "in_progress",
            "dest": "resolved",
            "conditions": "has_solution",
            **extra,
        },
        {"trigger": "reopen", "source": "resolved", "dest": "open", **extra},
        {"trigger": "close", "source": "resolved", "dest": "closed", **extra},
        {
            "trigger": "cancel",
            "source": ["open", "in_progress", "on_hold", "resolved"],
            "dest": "closed",
            **extra,
        },
    ]


def _transitions_machine(models: list[TicketModel], after: str | None = None) -> object:
    return TransitionsMachine(
        model=models,
        states=[s.value for s in TicketState],
        initial="open",
        transitions=_transitions_table(after),
        auto_transitions=False,
    )


def _ids() -> list[UUID]:
    return [UUID(int=i + 1) for i in range(OBJECTS)]


def _fire_case() -> Case:
    tickets = [Ticket(i, TENANT) for i in _ids()]
    models = [TicketModel(i) for i in _ids()]
    _transitions_machine(models)

    def subject() -> None:
        fire = TICKET.fire
        for _ in range(ROUNDS):
            for trigger in CYCLE:
                for ticket in tickets:
                    fire(ticket, trigger)
        assert tickets[0].state is TicketState.OPEN

    def anchor() -> None:
        for _ in range(ROUNDS):
            for trigger in CYCLE:
                for model in models:
                    getattr(model, trigger)()
        assert models[0].state == "open"  # type: ignore[attr-defined]

    return Case(
        name="fire 100,000 transitions over 1,000 objects",
        anchor_name="transitions 0.9 (one Machine)",
        ops=MOVES,
        subject=subject,
        anchor=anchor,
        goal="≤ 0.1 (10x faster than transitions)",
        goal_ratio=0.1,
    )


def _event_case() -> Case:
    tickets = [Ticket(i, TENANT) for i in _ids()]
    models = [TicketModel(i) for i in _ids()]
    _transitions_machine(models, after="record")

    def subject() -> None:
        fire = TICKET_WITH_EVENTS.fire
        events: list[DomainEvent | None] = []
        for _ in range(ROUNDS):
            for trigger in CYCLE:
                payload = {"trigger": trigger}
                for ticket in tickets:
                    events.append(fire(ticket, trigger, now=NOW, payload=payload))
        assert len(events) == MOVES

    def anchor() -> None:
        for model in models:
            model.events = []
        for _ in range(ROUNDS):
            for trigger in CYCLE:
                for model in models:
                    getattr(model, trigger)(now=NOW)
        assert sum(len(m.events) for m in models) == MOVES

    return Case(
        name="fire 100,000 transitions recording events",
        anchor_name="transitions 0.9 (after= callback)",
        ops=MOVES,
        subject=subject,
        anchor=anchor,
        goal="informative (event building dominates)",
        repeat=3,
    )


def _attach_case() -> Case:
    ids = _ids()

    def subject() -> None:
        tickets = [Ticket(i, TENANT) for i in ids]
        assert TICKET.can_fire(tickets[-1], "start")

    def anchor() -> None:
        models = [TicketModel(i) for i in ids]
        _transitions_machine(models)
        assert models[-1].may_start()  # type: ignore[attr-defined]

    return Case(
        name="attach a machine to 1,000 objects",
        anchor_name="transitions 0.9 (Machine(model=...))",
        ops=OBJECTS,
        subject=subject,
        anchor=anchor,
        goal="≤ 0.1 (10x faster than transitions)",
        goal_ratio=0.1,
    )


def cases() -> list[Case]:
    """The machine benchmarks: firing, firing with events, attaching."""
    return [_fire_case(), _event_case(), _attach_case()]
