"""Declarative state machines: a lifecycle written once, as data.

A business record with a lifecycle (a customer in the public pool, a deal, an
invoice, an approval request) keeps its current state in one plain attribute. What may
happen to it is declared once, at module level, as a :class:`Machine`: the
states (an ``enum.Enum`` or strings), the initial and final states, and the
transitions. Each :class:`Transition` names a trigger, the state(s) it leaves
(one, several, or :data:`ANY` non-final state), the state it enters, an optional
:class:`Guard` (a named pure predicate) and the :class:`~crmkit.kernel.events.DomainEvent`
class it records.

The same declaration drives behaviour (:meth:`Machine.fire`), validation of a
stored state (:meth:`Machine.check_state`), the docs (:meth:`Machine.to_mermaid`)
and the tests (:func:`assert_every_state_reaches_final`)::

    POOL = Machine(
        name="customer_pool",
        states=PoolState,
        initial=PoolState.IN_POOL,
        final={PoolState.DELETED},
        transitions=[
            Transition("claim", source=PoolState.IN_POOL, target=PoolState.CLAIMED,
                       guard=Guard("within_holding_limit", within_holding_limit),
                       event=CustomerClaimed),
            Transition("delete", source=ANY, target=PoolState.DELETED),
        ],
        state_attr="pool_state",
    )
    event = POOL.fire(customer, "claim", now=now, held=3, limit=5,
                      payload={"owner_id": user_id})

Nothing is generated per object: the machine is a module-level value holding a
precomputed ``{(state, trigger): edges}`` table; an object only carries its state
attribute, so attaching a machine to a record costs nothing.

Definition rules, checked when the machine is built (so at import) and reported
together in one :class:`MachineDefinitionError`:

* every state a transition names, the initial state and every final state must
  be declared states; guards must be :class:`Guard` and events ``DomainEvent``
  subclasses;
* every state is reachable from the initial state;
* a final state has no outgoing transition (``ANY`` never includes finals);
* several transitions may share a ``(state, trigger)`` pair only if guards
  decide between them: they are tried in declaration order, the first whose
  guard passes wins, and an unguarded one may only come last (a fallback).
  An unguarded transition followed by another for the same pair is an error,
  since the later one could never fire;
* a non-final state without a way out is allowed here (a machine may have no
  final states at all); tests that need it call
  :func:`assert_every_state_reaches_final`.
"""

from __future__ import annotations

import contextlib
import enum
import re
from collections.abc import Collection, Hashable, Iterable, Mapping
from datetime import datetime
from typing import Any, Final, Generic, TypeVar

import attrs

from crmkit.kernel.errors import GuardFailed, InvalidTransition, ValidationError
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.guards import Guard

__all__ = [
    "ANY",
    "Guard",
    "Machine",
    "MachineDefinitionError",
    "Transition",
    "Wildcard",
    "assert_every_state_reaches_final",
    "state_label",
    "states_without_path_to_final",
    "unreachable_states",
]

S = TypeVar("S", bound=Hashable)


class Wildcard(enum.Enum):
    """Marker type of :data:`ANY`."""

    ANY = "*"


ANY: Final = Wildcard.ANY
"""A transition source meaning "every non-final state"."""


class MachineDefinitionError(ValueError):
    """A machine declaration is inconsistent (a programming error, raised at import).

    Attributes:
        machine: the machine's name.
        problems: every problem found, one sentence each.
    """

    def __init__(self, machine: str, problems: Iterable[str]) -> None:
        self.machine = machine
        self.problems: tuple[str, ...] = tuple(problems)
        listed = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"state machine {machine!r} is badly declared:\n{listed}")


def state_label(state: object) -> str:
    """The text naming ``state`` in errors: a str value as stored, else the member name.

    Args:
        state: a state (enum member or str) or any stored value.

    Returns:
        ``"in_pool"`` for ``PoolState.IN_POOL = "in_pool"``, ``"OPEN"`` for an
        int-valued member, the string itself for str states.
    """
    if isinstance(state, enum.Enum):
        return state.value if isinstance(state.value, str) else state.name
    return str(state)


@attrs.frozen
class Transition(Generic[S]):
    """One allowed move, declared as data.

    Attributes:
        trigger: the verb that fires it, e.g. ``"claim"``.
        source: the state it leaves, a collection of states, or :data:`ANY`
            (every non-final state).
        target: the state it enters.
        guard: optional named predicate that must pass.
        event: optional ``DomainEvent`` subclass recorded when it fires; built as
            ``event(tenant_id=obj.tenant_id, aggregate_id=obj.id, occurred_at=now,
            **payload)`` from ``fire``'s ``now`` and ``payload`` arguments.
    """

    trigger: str
    source: S | Collection[S] | Wildcard
    target: S
    guard: Guard | None = None
    event: type[DomainEvent] | None = None


@attrs.frozen
class _Edge(Generic[S]):
    """A transition resolved for one source state (the hot-path record)."""

    target: S
    guard: Guard | None
    event: type[DomainEvent] | None
    transition: Transition[S]


class Machine(Generic[S]):
    """A state machine declared once, at module level, and shared by every object.

    Args:
        name: stable name used in errors, e.g. ``"customer_pool"``.
        states: an ``enum.Enum`` class, or an iterable of str states.
        initial: the state new objects start in.
        final: states with no way out (a collection, or one state).
        transitions: the allowed moves, in priority order (see module docs).
        state_attr: the attribute holding an object's current state.

    Raises:
        MachineDefinitionError: the declaration is inconsistent (lists every problem).
    """

    __slots__ = (
        "_edges",
        "_lookup",
        "_state_set",
        "_triggers",
        "final",
        "initial",
        "name",
        "state_attr",
        "states",
        "transitions",
    )

    def __init__(
        self,
        *,
        name: str,
        states: type[S] | Iterable[S],
        initial: S,
        final: Collection[S] = (),
        transitions: Iterable[Transition[S]],
        state_attr: str = "state",
    ) -> None:
        self.name = name
        self.states: tuple[S, ...] = tuple(states)  # type: ignore[arg-type]
        self.initial = initial
        if isinstance(final, str | enum.Enum):  # one final state given bare
            final = (final,)  # type: ignore[assignment]
        self.final: frozenset[S] = frozenset(final)
        self.transitions: tuple[Transition[S], ...] = tuple(transitions)
        self.state_attr = state_attr
        self._state_set: frozenset[S] = frozenset(self.states)
        self._lookup: dict[object, S] = _stored_forms(self.states)
        problems = self._declaration_problems()
        edges: dict[tuple[S, str], list[_Edge[S]]] = {}
        for transition in self.transitions:
            for source in self._sources(transition):
                edges.setdefault((source, transition.trigger), []).append(
                    _Edge(transition.target, transition.guard, transition.event, transition)
                )
        problems += self._ambiguities(edges)
        self._edges: dict[tuple[S, str], tuple[_Edge[S], ...]] = {
            key: tuple(found) for key, found in edges.items()
        }
        triggers: dict[S, list[str]] = {state: [] for state in self.states}
        for state, trigger in self._edges:
            if state in triggers and trigger not in triggers[state]:
                triggers[state].append(trigger)
        self._triggers: dict[S, tuple[str, ...]] = {s: tuple(t) for s, t in triggers.items()}
        if not problems:
            lost = unreachable_states(self)
            problems = [
                f"state {state_label(s)} is unreachable from {state_label(initial)}"
                for s in self.states
                if s in lost
            ]
        if problems:
            raise MachineDefinitionError(name, problems)

    # -- declaration checks -------------------------------------------------------------

    def _sources(self, transition: Transition[S]) -> tuple[S, ...]:
        source = transition.source
        if source is ANY:
            return tuple(s for s in self.states if s not in self.final)
        if isinstance(source, Collection) and not isinstance(source, str | enum.Enum):
            return tuple(source)
        return (source,)  # type: ignore[return-value]

    def _declaration_problems(self) -> list[str]:
        problems: list[str] = []
        if not isinstance(self.name, str) or not self.name:
            problems.append("the name must be a non-empty str")
        if not self.states:
            problems.append("no states are declared")
        if len(self._state_set) != len(self.states):
            problems.append("states are declared twice")
        if not isinstance(self.state_attr, str) or not self.state_attr.isidentifier():
            problems.append(f"state_attr {self.state_attr!r} is not an identifier")
        if self.initial not in self._state_set:
            problems.append(f"initial state {self.initial!r} is not a declared state")
        problems += [
            f"final state {f!r} is not a declared state"
            for f in self.final
            if f not in self._state_set
        ]
        for t in self.transitions:
            where = f"transition {t.trigger!r}"
            if not isinstance(t.trigger, str) or not t.trigger.isidentifier():
                problems.append(f"{where}: the trigger must be an identifier")
            sources = self._sources(t)
            if not sources and t.source is not ANY:
                problems.append(f"{where}: no source state")
            problems += [
                f"{where}: source {s!r} is not a declared state"
                for s in sources
                if s not in self._state_set
            ]
            problems += [
                f"{where}: final state {state_label(s)} cannot have outgoing transitions"
                for s in sources
                if s in self.final
            ]
            if t.target not in self._state_set:
                problems.append(f"{where}: target {t.target!r} is not a declared state")
            if t.guard is not None and not isinstance(t.guard, Guard):
                problems.append(f"{where}: the guard must be a Guard(name, fn)")
            if t.event is not None and not (
                isinstance(t.event, type) and issubclass(t.event, DomainEvent)
            ):
                problems.append(f"{where}: the event must be a DomainEvent subclass")
        return problems

    @staticmethod
    def _ambiguities(edges: Mapping[tuple[S, str], list[_Edge[S]]]) -> list[str]:
        problems = []
        for (state, trigger), found in edges.items():
            for edge in found[:-1]:
                if edge.guard is None:
                    problems.append(
                        f"trigger {trigger!r} from {state_label(state)}: an unguarded "
                        "transition is followed by another one that could never fire"
                    )
                    break
        return problems

    # -- behaviour ---------------------------------------------------------------------

    def fire(
        self,
        obj: object,
        trigger: str,
        /,
        *,
        now: datetime | None = None,
        payload: Mapping[str, Any] | None = None,
        **context: Any,
    ) -> DomainEvent | None:
        """Move ``obj`` along ``trigger`` and return the event the transition records.

        Args:
            obj: the object; its state is ``getattr(obj, machine.state_attr)``. If the
                transition records an event, it also needs ``tenant_id`` and ``id``.
            trigger: the transition's trigger name.
            now: the instant; required when the transition records an event and
                passed to guards that name a ``now`` argument.
            payload: the event's own fields (beyond tenant, aggregate and time).
            **context: explicit arguments for the guards (each gets those it names).

        Returns:
            The event built from the transition's event class, or None if it has none.

        Raises:
            InvalidTransition: no transition for ``trigger`` leaves the current state.
            GuardFailed: transitions exist but every guard said no (names the guards).
            ValueError: the object holds a value that is not a state of this machine.
            TypeError: the transition records an event and ``now`` was not given.
        """
        state = getattr(obj, self.state_attr)
        try:
            edges = self._edges[(state, trigger)]
        except (KeyError, TypeError):
            raise self._invalid(state, trigger) from None
        if now is not None:
            context["now"] = now
        for edge in edges:
            if edge.guard is None or edge.guard.check(obj, context):
                break
        else:
            raise self._guard_failed(state, trigger, edges)
        event_cls = edge.event
        if event_cls is None:
            setattr(obj, self.state_attr, edge.target)
            return None
        if now is None:
            raise TypeError(f"{self.name}: {trigger!r} records {event_cls.__name__} and needs now=")
        event = event_cls(
            tenant_id=obj.tenant_id,  # type: ignore[attr-defined]
            aggregate_id=obj.id,  # type: ignore[attr-defined]
            occurred_at=now,
            **(payload or {}),
        )
        # Set the state only once the event exists, so a bad payload changes nothing.
        setattr(obj, self.state_attr, edge.target)
        return event

    def can_fire(
        self, obj: object, trigger: str, /, *, now: datetime | None = None, **context: Any
    ) -> bool:
        """Whether :meth:`fire` would move ``obj`` along ``trigger`` (changes nothing).

        Args:
            obj: the object.
            trigger: the trigger name.
            now: the instant, for guards that name ``now``.
            **context: arguments for the guards.

        Returns:
            True if a transition leaves the current state on ``trigger`` and its
            guard (if any) passes.
        """
        edges = self._edges.get((getattr(obj, self.state_attr), trigger), ())
        if now is not None:
            context["now"] = now
        return any(e.guard is None or e.guard.check(obj, context) for e in edges)

    def allowed_triggers(
        self,
        obj: object,
        *,
        check_guards: bool = False,
        now: datetime | None = None,
        **context: Any,
    ) -> list[str]:
        """The triggers that leave ``obj``'s current state, in declaration order.

        Args:
            obj: the object.
            check_guards: also evaluate guards with ``now`` and ``context`` and keep
                only triggers that would fire; otherwise guards are ignored.
            now: the instant, for guards that name ``now``.
            **context: arguments for the guards.

        Returns:
            Trigger names (empty in a final state or an unknown one).
        """
        state = getattr(obj, self.state_attr)
        try:
            triggers = self._triggers.get(state, ())
        except TypeError:  # an unhashable stored value is simply not a state
            return []
        if not check_guards:
            return list(triggers)
        return [t for t in triggers if self.can_fire(obj, t, now=now, **context)]

    def check_state(self, value: object) -> S:
        """Validate a stored state and return it as a member of this machine's states.

        Args:
            value: a state, or for Enum states the stored value (``"in_pool"``) or
                member name (``"IN_POOL"``).

        Returns:
            The state.

        Raises:
            ValidationError: ``value`` is not a state of this machine (also a ValueError).
        """
        with contextlib.suppress(KeyError, TypeError):  # TypeError: unhashable value
            return self._lookup[value]
        raise ValidationError(
            entity=self.name,
            field=self.state_attr,
            reason=f"{value!r} is not a state (expected one of "
            f"{', '.join(state_label(s) for s in self.states)})",
        )

    def is_final(self, state: S) -> bool:
        """Whether ``state`` is one of the machine's final states."""
        return state in self.final

    def targets(self, state: S) -> frozenset[S]:
        """Every state one transition can lead to from ``state`` (guards ignored)."""
        return frozenset(
            edge.target
            for trigger in self._triggers.get(state, ())
            for edge in self._edges[(state, trigger)]
        )

    def edges(self) -> list[tuple[S, str, S, Transition[S]]]:
        """Every ``(source, trigger, target, transition)`` with ``ANY`` expanded."""
        return [
            (source, trigger, edge.target, edge.transition)
            for (source, trigger), found in self._edges.items()
            for edge in found
        ]

    def to_mermaid(self) -> str:
        """The machine as a Mermaid ``stateDiagram-v2`` (for the docs).

        Returns:
            Text starting ``stateDiagram-v2``, with ``[*] --> initial``, one
            ``source --> target: trigger [guard]`` line per edge (``ANY`` expanded)
            and ``final --> [*]`` for each final state.
        """
        ids = {s: _mermaid_id(s) for s in self.states}
        lines = ["stateDiagram-v2"]
        for state in self.states:
            label = state_label(state)
            if label != ids[state]:
                lines.append(f'    state "{label}" as {ids[state]}')
        lines.append(f"    [*] --> {ids[self.initial]}")
        for source, trigger, target, transition in self.edges():
            guard = f" [{transition.guard.name}]" if transition.guard else ""
            lines.append(f"    {ids[source]} --> {ids[target]}: {trigger}{guard}")
        lines += [f"    {ids[s]} --> [*]" for s in self.states if s in self.final]
        return "\n".join(lines) + "\n"

    def _invalid(self, state: object, trigger: str) -> Exception:
        try:
            known = state in self._state_set
        except TypeError:
            known = False
        if not known:
            return ValueError(
                f"{self.name}: {self.state_attr}={state!r} is not a state of this machine"
            )
        return InvalidTransition(machine=self.name, state=state_label(state), trigger=trigger)

    def _guard_failed(self, state: S, trigger: str, edges: Iterable[_Edge[S]]) -> GuardFailed:
        names = ", ".join(e.guard.name for e in edges if e.guard is not None)
        return GuardFailed(
            machine=self.name, state=state_label(state), trigger=trigger, guard=names
        )

    def __repr__(self) -> str:
        size = f"{len(self.states)} states, {len(self.transitions)} transitions"
        return f"Machine({self.name!r}, {size})"


def _stored_forms(states: Iterable[S]) -> dict[object, S]:
    """Map each state, then each Enum value, then each member name, to its state."""
    members = list(states)
    lookup: dict[object, S] = {s: s for s in members}
    enums = [s for s in members if isinstance(s, enum.Enum)]
    for state in enums:
        with contextlib.suppress(TypeError):  # an unhashable value cannot be stored anyway
            lookup.setdefault(state.value, state)
    for state in enums:
        lookup.setdefault(state.name, state)
    return lookup


def _mermaid_id(state: object) -> str:
    raw = state.name if isinstance(state, enum.Enum) else str(state)
    ident = re.sub(r"\W", "_", raw)
    return ident if ident and not ident[0].isdigit() else f"s_{ident}"


def unreachable_states(machine: Machine[S]) -> frozenset[S]:
    """States no sequence of transitions reaches from the initial state (guards ignored).

    Args:
        machine: the machine to inspect.

    Returns:
        The unreachable states (empty for every machine that constructed successfully).
    """
    seen = {machine.initial}
    todo = [machine.initial]
    while todo:
        for target in machine.targets(todo.pop()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return frozenset(s for s in machine.states if s not in seen)


def states_without_path_to_final(machine: Machine[S]) -> frozenset[S]:
    """States from which no sequence of transitions reaches a final state (guards ignored).

    Args:
        machine: the machine to inspect.

    Returns:
        The dead-end states; every state when the machine has no final state.
    """
    reaches = set(machine.final)
    changed = True
    while changed:
        changed = False
        for state in machine.states:
            if state not in reaches and machine.targets(state) & reaches:
                reaches.add(state)
                changed = True
    return frozenset(s for s in machine.states if s not in reaches)


def assert_every_state_reaches_final(machine: Machine[S]) -> None:
    """Test helper: fail unless every state has a path to some final state.

    Args:
        machine: the machine to check.

    Raises:
        AssertionError: listing the states with no way to a final state.
    """
    stuck = states_without_path_to_final(machine)
    if stuck:
        names = ", ".join(sorted(state_label(s) for s in stuck))
        raise AssertionError(f"{machine.name}: no path to a final state from {names}")
