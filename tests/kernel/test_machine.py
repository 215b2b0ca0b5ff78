"""The declarative state-machine engine: declaration checks, firing, graph helpers."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.kernel.errors import GuardFailed, InvalidTransition, ValidationError
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.ids import TenantId
from crmkit.kernel.machine import (
    ANY,
    Guard,
    Machine,
    MachineDefinitionError,
    Transition,
    assert_every_state_reaches_final,
    state_label,
    states_without_path_to_final,
    unreachable_states,
)

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TENANT = TenantId(UUID(int=7))
CUSTOMER_ID = UUID(int=42)
DOC_ID = UUID(int=5)
DOC_OWNER = UUID(int=3)


class PoolState(enum.Enum):
    IN_POOL = "in_pool"
    CLAIMED = "claimed"
    FROZEN = "frozen"
    DELETED = "deleted"


@attrs.frozen(kw_only=True)
class MachineSampleClaimed(DomainEvent):
    owner_id: UUID


@attrs.frozen(kw_only=True)
class MachineSampleReleased(DomainEvent):
    pass


def within_holding_limit(customer: Customer, *, held: int, limit: int) -> bool:
    return held < limit


def is_owner(customer: Customer, *, actor: UUID) -> bool:
    return customer.owner_id == actor


P = PoolState
POOL = Machine(
    name="customer_pool",
    states=PoolState,
    initial=P.IN_POOL,
    final={P.DELETED},
    transitions=[
        Transition(
            "claim",
            source=P.IN_POOL,
            target=P.CLAIMED,
            guard=Guard("within_holding_limit", within_holding_limit),
            event=MachineSampleClaimed,
        ),
        Transition("release", source=P.CLAIMED, target=P.IN_POOL, event=MachineSampleReleased),
        Transition("freeze", source={P.IN_POOL, P.CLAIMED}, target=P.FROZEN),
        Transition("thaw", source=P.FROZEN, target=P.IN_POOL),
        Transition("delete", source=ANY, target=P.DELETED),
    ],
    state_attr="pool_state",
)


@attrs.define
class Customer:
    id: UUID = CUSTOMER_ID
    tenant_id: TenantId = TENANT
    pool_state: PoolState = PoolState.IN_POOL
    owner_id: UUID | None = None


def make_customer(state: PoolState = PoolState.IN_POOL) -> Customer:
    return Customer(pool_state=state)


def build(**overrides: Any) -> Machine[Any]:
    """A small valid str-state machine, with parts replaced to make it invalid."""
    spec: dict[str, Any] = {
        "name": "doc",
        "states": ["draft", "sent", "done"],
        "initial": "draft",
        "final": {"done"},
        "transitions": [
            Transition("send", source="draft", target="sent"),
            Transition("finish", source="sent", target="done"),
        ],
    }
    spec.update(overrides)
    return Machine(**spec)


# -- declaration -----------------------------------------------------------------------


def test_a_valid_declaration_builds_once_and_keeps_its_parts() -> None:
    assert POOL.name == "customer_pool"
    assert POOL.states == tuple(PoolState)
    assert POOL.initial is P.IN_POOL
    assert POOL.final == frozenset({P.DELETED})
    assert POOL.state_attr == "pool_state"
    assert len(POOL.transitions) == 5


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"transitions": [Transition("send", source="drafty", target="sent")]}, "source 'drafty'"),
        ({"transitions": [Transition("send", source="draft", target="gone")]}, "target 'gone'"),
        ({"initial": "nowhere"}, "initial state 'nowhere'"),
        ({"final": {"done", "archived"}}, "final state 'archived'"),
        (
            {"transitions": [Transition("send", source="draft", target="sent")]},
            "done is unreachable",
        ),
        (
            {
                "transitions": [
                    Transition("send", source="draft", target="sent"),
                    Transition("finish", source="sent", target="done"),
                    Transition("reopen", source="done", target="draft"),
                ]
            },
            "final state done cannot have outgoing transitions",
        ),
        (
            {
                "transitions": [
                    Transition("send", source="draft", target="sent"),
                    Transition("send", source="draft", target="done"),
                    Transition("finish", source="sent", target="done"),
                ]
            },
            "could never fire",
        ),
        (
            {
                "transitions": [
                    Transition("send", source="draft", target="sent"),
                    Transition("finish", source=["draft", "sent"], target="done"),
                    Transition("finish", source="draft", target="sent", guard=Guard("g", bool)),
                ]
            },
            "trigger 'finish' from draft",
        ),
        (
            {"transitions": [Transition("send now", source="draft", target="sent")]},
            "trigger must be an identifier",
        ),
        (
            {"transitions": [Transition("send", source=[], target="sent")]},
            "no source state",
        ),
        (
            {"transitions": [Transition("send", source="draft", target="sent", guard=bool)]},  # type: ignore[arg-type]
            "must be a Guard",
        ),
        (
            {"transitions": [Transition("send", source="draft", target="sent", event=dict)]},  # type: ignore[arg-type]
            "must be a DomainEvent subclass",
        ),
        ({"state_attr": "pool-state"}, "state_attr 'pool-state'"),
        ({"states": [], "initial": "draft", "final": ()}, "no states are declared"),
        ({"states": ["draft", "sent", "done", "sent"]}, "declared twice"),
    ],
)
def test_a_bad_declaration_is_refused_naming_the_machine_and_the_problem(
    overrides: dict[str, Any], problem: str
) -> None:
    with pytest.raises(MachineDefinitionError) as caught:
        build(**overrides)
    assert caught.value.machine == "doc"
    assert "'doc'" in str(caught.value)
    assert any(problem in p for p in caught.value.problems), caught.value.problems


def test_a_definition_error_is_a_value_error_not_a_crm_error() -> None:
    from crmkit.kernel.errors import CrmError

    with pytest.raises(ValueError, match="doc") as caught:
        build(initial="nowhere")
    assert not isinstance(caught.value, CrmError)


def test_every_problem_of_a_declaration_is_reported_together() -> None:
    with pytest.raises(MachineDefinitionError) as caught:
        build(initial="nowhere", final={"archived"})
    assert len(caught.value.problems) >= 2


def test_guarded_alternatives_for_one_trigger_are_allowed_with_a_fallback_last() -> None:
    machine = build(
        transitions=[
            Transition("send", source="draft", target="done", guard=Guard("g", bool)),
            Transition("send", source="draft", target="sent"),
            Transition("finish", source="sent", target="done"),
        ]
    )
    assert len(machine.transitions) == 3


def test_a_single_final_state_may_be_given_bare() -> None:
    assert build(final="done").final == frozenset({"done"})


def test_a_non_final_dead_end_is_allowed_at_declaration() -> None:
    machine = build(
        states=["draft", "sent", "stuck", "done"],
        transitions=[
            Transition("send", source="draft", target="sent"),
            Transition("jam", source="draft", target="stuck"),
            Transition("finish", source="sent", target="done"),
        ],
    )
    assert states_without_path_to_final(machine) == {"stuck"}


def test_a_wildcard_source_never_includes_final_states() -> None:
    machine = build(
        transitions=[
            Transition("send", source="draft", target="sent"),
            Transition("finish", source=ANY, target="done"),
        ]
    )
    assert {(s, t) for s, t, _, _ in machine.edges() if t == "finish"} == {
        ("draft", "finish"),
        ("sent", "finish"),
    }


def test_guard_rejects_a_blank_name_and_a_non_callable() -> None:
    with pytest.raises(ValueError):
        Guard("", bool)
    with pytest.raises(TypeError):
        Guard("g", "not callable")  # type: ignore[arg-type]


# -- firing ----------------------------------------------------------------------------


def test_fire_moves_the_object_and_returns_none_without_an_event() -> None:
    customer = make_customer()
    assert POOL.fire(customer, "freeze") is None
    assert customer.pool_state is P.FROZEN


def test_fired_event_carries_tenant_aggregate_time_and_payload() -> None:
    customer = make_customer()
    owner = UUID(int=99)
    event = POOL.fire(customer, "claim", now=NOW, held=1, limit=5, payload={"owner_id": owner})
    assert isinstance(event, MachineSampleClaimed)
    assert event.tenant_id == TENANT
    assert event.aggregate_id == customer.id
    assert event.occurred_at == NOW
    assert event.owner_id == owner
    assert customer.pool_state is P.CLAIMED


def test_an_illegal_trigger_names_machine_state_and_trigger_and_changes_nothing() -> None:
    customer = make_customer(P.FROZEN)
    with pytest.raises(InvalidTransition) as caught:
        POOL.fire(customer, "claim", now=NOW, held=0, limit=5)
    error = caught.value
    assert (error.machine, error.state, error.trigger) == ("customer_pool", "frozen", "claim")  # type: ignore[attr-defined]
    assert "customer_pool" in str(error)
    assert "frozen" in str(error)
    assert customer.pool_state is P.FROZEN


def test_an_unknown_trigger_is_an_invalid_transition() -> None:
    with pytest.raises(InvalidTransition, match="explode"):
        POOL.fire(make_customer(), "explode")


def test_a_final_state_accepts_no_trigger_even_a_wildcard_one() -> None:
    customer = make_customer(P.DELETED)
    with pytest.raises(InvalidTransition):
        POOL.fire(customer, "delete")
    assert POOL.allowed_triggers(customer) == []


def test_a_failed_guard_names_the_guard_and_changes_nothing() -> None:
    customer = make_customer()
    with pytest.raises(GuardFailed) as caught:
        POOL.fire(customer, "claim", now=NOW, held=5, limit=5, payload={"owner_id": UUID(int=1)})
    assert caught.value.guard == "within_holding_limit"  # type: ignore[attr-defined]
    assert isinstance(caught.value, InvalidTransition)
    assert "within_holding_limit" in str(caught.value)
    assert customer.pool_state is P.IN_POOL


def test_wildcard_trigger_fires_from_every_non_final_state() -> None:
    for state in PoolState:
        if POOL.is_final(state):
            continue
        customer = make_customer(state)
        POOL.fire(customer, "delete")
        assert customer.pool_state is P.DELETED


def test_a_state_set_is_a_source_for_each_of_its_states() -> None:
    for state in (P.IN_POOL, P.CLAIMED):
        customer = make_customer(state)
        POOL.fire(customer, "freeze")
        assert customer.pool_state is P.FROZEN


def test_a_guard_receives_only_the_context_it_names() -> None:
    seen: dict[str, Any] = {}

    def takes_all(obj: object, **context: Any) -> bool:
        seen.update(context)
        return True

    machine = build(
        transitions=[
            Transition("send", source="draft", target="sent", guard=Guard("owner_only", is_owner)),
            Transition("finish", source="sent", target="done", guard=Guard("all", takes_all)),
        ]
    )
    doc = Doc()
    machine.fire(doc, "send", actor=UUID(int=3), unrelated="ignored", now=NOW)
    machine.fire(doc, "finish", now=NOW, extra=1)
    assert seen == {"now": NOW, "extra": 1}
    assert doc.state == "done"


def test_a_guard_missing_an_argument_fails_loudly() -> None:
    with pytest.raises(TypeError, match="held"):
        POOL.fire(make_customer(), "claim", now=NOW, limit=5)


def test_guarded_alternatives_fire_the_first_that_passes() -> None:
    machine = build(
        transitions=[
            Transition(
                "send",
                source="draft",
                target="done",
                guard=Guard("urgent", lambda d, urgent: urgent),
            ),
            Transition("send", source="draft", target="sent"),
            Transition("finish", source="sent", target="done"),
        ]
    )
    urgent, normal = Doc(), Doc()
    machine.fire(urgent, "send", urgent=True)
    machine.fire(normal, "send", urgent=False)
    assert (urgent.state, normal.state) == ("done", "sent")


def test_when_every_alternative_is_guarded_and_fails_all_guards_are_named() -> None:
    machine = build(
        transitions=[
            Transition(
                "send", source="draft", target="done", guard=Guard("urgent", lambda d: False)
            ),
            Transition(
                "send", source="draft", target="sent", guard=Guard("approved", lambda d: False)
            ),
            Transition("finish", source="sent", target="done"),
        ]
    )
    with pytest.raises(GuardFailed) as caught:
        machine.fire(Doc(), "send")
    assert caught.value.guard == "urgent, approved"  # type: ignore[attr-defined]


def test_an_event_without_now_is_refused_and_changes_nothing() -> None:
    customer = make_customer(P.CLAIMED)
    with pytest.raises(TypeError, match="now="):
        POOL.fire(customer, "release")
    assert customer.pool_state is P.CLAIMED


def test_a_bad_event_payload_changes_nothing() -> None:
    customer = make_customer()
    with pytest.raises(TypeError):
        POOL.fire(customer, "claim", now=NOW, held=0, limit=5, payload={"nope": 1})
    assert customer.pool_state is P.IN_POOL


def test_an_object_holding_a_foreign_state_is_reported_as_corrupt() -> None:
    customer = Customer(pool_state="in_pool")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a state") as caught:
        POOL.fire(customer, "freeze")
    assert not isinstance(caught.value, InvalidTransition)


def test_can_fire_answers_without_changing_anything() -> None:
    customer = make_customer()
    assert POOL.can_fire(customer, "claim", held=0, limit=1)
    assert not POOL.can_fire(customer, "claim", held=1, limit=1)
    assert not POOL.can_fire(customer, "thaw")
    assert customer.pool_state is P.IN_POOL


def test_allowed_triggers_in_declaration_order_with_guards_optional() -> None:
    customer = make_customer()
    assert POOL.allowed_triggers(customer) == ["claim", "freeze", "delete"]
    assert POOL.allowed_triggers(customer, check_guards=True, held=3, limit=3) == [
        "freeze",
        "delete",
    ]
    assert POOL.allowed_triggers(make_customer(P.FROZEN)) == ["thaw", "delete"]


def test_check_state_accepts_members_values_and_names_and_refuses_the_rest() -> None:
    assert POOL.check_state(P.CLAIMED) is P.CLAIMED
    assert POOL.check_state("claimed") is P.CLAIMED
    assert POOL.check_state("CLAIMED") is P.CLAIMED
    for bad in ("lost", None, ["claimed"]):
        with pytest.raises(ValidationError) as caught:
            POOL.check_state(bad)
        assert isinstance(caught.value, ValueError)
        assert "customer_pool" in str(caught.value)


def test_check_state_turns_a_stored_str_into_the_str_enum_member() -> None:
    class Stage(enum.StrEnum):
        OPEN = "open"
        WON = "won"

    machine = Machine(
        name="stage",
        states=Stage,
        initial=Stage.OPEN,
        final={Stage.WON},
        transitions=[Transition("win", source=Stage.OPEN, target=Stage.WON)],
    )
    checked = machine.check_state("open")
    assert checked is Stage.OPEN
    assert machine.check_state("WON") is Stage.WON


def test_is_final_and_state_labels() -> None:
    assert POOL.is_final(P.DELETED)
    assert not POOL.is_final(P.IN_POOL)
    assert state_label(P.IN_POOL) == "in_pool"
    assert state_label("draft") == "draft"


def test_str_state_machines_work_the_same_way() -> None:
    machine = build()
    doc = Doc()
    machine.fire(doc, "send")
    assert doc.state == "sent"
    assert machine.check_state("sent") == "sent"
    with pytest.raises(ValidationError):
        machine.check_state("SENT")


# -- graph helpers and diagrams ----------------------------------------------------------


def test_every_pool_state_reaches_a_final_one() -> None:
    assert unreachable_states(POOL) == frozenset()
    assert states_without_path_to_final(POOL) == frozenset()
    assert_every_state_reaches_final(POOL)


def test_the_final_state_helper_names_the_stuck_states() -> None:
    looping = build(
        states=["draft", "sent", "done"],
        transitions=[
            Transition("send", source="draft", target="sent"),
            Transition("back", source="sent", target="draft"),
            Transition("finish", source="draft", target="done"),
            Transition("jump", source="draft", target="sent"),
        ],
    )
    assert_every_state_reaches_final(looping)
    cyclic = build(
        final=(),
        transitions=[
            Transition("send", source="draft", target="sent"),
            Transition("finish", source="sent", target="done"),
            Transition("back", source="done", target="draft"),
        ],
    )
    with pytest.raises(
        AssertionError, match="doc: no path to a final state from done, draft, sent"
    ):
        assert_every_state_reaches_final(cyclic)


def test_mermaid_diagram_shows_initial_edges_guards_and_finals() -> None:
    text = POOL.to_mermaid()
    lines = text.splitlines()
    assert lines[0] == "stateDiagram-v2"
    assert "    [*] --> IN_POOL" in lines
    assert "    IN_POOL --> CLAIMED: claim [within_holding_limit]" in lines
    assert "    CLAIMED --> IN_POOL: release" in lines
    assert "    FROZEN --> DELETED: delete" in lines
    assert "    DELETED --> [*]" in lines
    assert '    state "in_pool" as IN_POOL' in lines
    assert not any(line.startswith("    DELETED --> DELETED") for line in lines)
    assert text.endswith("\n")


def test_mermaid_ids_are_safe_for_free_text_states() -> None:
    machine = Machine(
        name="odd",
        states=["new one", "2nd"],
        initial="new one",
        transitions=[Transition("go", source="new one", target="2nd")],
    )
    lines = machine.to_mermaid().splitlines()
    assert '    state "new one" as new_one' in lines
    assert "    new_one --> s_2nd: go" in lines


# -- properties --------------------------------------------------------------------------

TRIGGERS = [*sorted({t.trigger for t in POOL.transitions}), "explode"]


@given(
    start=st.sampled_from(PoolState),
    steps=st.lists(st.tuples(st.sampled_from(TRIGGERS), st.integers(0, 4)), max_size=30),
)
def test_random_triggers_never_leave_the_declared_states(
    start: PoolState, steps: list[tuple[str, int]]
) -> None:
    customer = make_customer(start)
    legal = {(s, t): target for s, t, target, _ in POOL.edges()}
    for trigger, held in steps:
        before = attrs.evolve(customer)
        expected_ok = POOL.can_fire(customer, trigger, held=held, limit=3)
        try:
            event = POOL.fire(
                customer, trigger, now=NOW, held=held, limit=3, payload=_payload(trigger)
            )
        except InvalidTransition:
            assert not expected_ok
            assert customer == before
            assert customer.pool_state is before.pool_state
            continue
        assert expected_ok
        assert customer.pool_state is legal[(before.pool_state, trigger)]
        assert event is None or event.aggregate_id == customer.id
        assert customer.pool_state in POOL.states


def _payload(trigger: str) -> dict[str, Any] | None:
    return {"owner_id": UUID(int=1)} if trigger == "claim" else None


STATE_NAMES = ["s0", "s1", "s2", "s3", "s4"]


@given(
    edges=st.lists(
        st.tuples(
            st.sampled_from(STATE_NAMES),
            st.sampled_from(["a", "b", "c"]),
            st.sampled_from(STATE_NAMES),
        ),
        max_size=12,
    ),
    final=st.sets(st.sampled_from(STATE_NAMES[1:]), max_size=2),
)
def test_a_random_table_builds_exactly_when_it_is_consistent(
    edges: list[tuple[str, str, str]], final: set[str]
) -> None:
    transitions = [
        Transition(trigger, source=src, target=dst, guard=Guard("g", lambda o: True))
        for src, trigger, dst in edges
    ]
    reached = {"s0"}
    changed = True
    while changed:
        changed = False
        for src, _, dst in edges:
            if src in reached and dst not in reached:
                reached.add(dst)
                changed = True
    consistent = reached == set(STATE_NAMES) and not any(src in final for src, _, _ in edges)
    try:
        machine = Machine(
            name="random", states=STATE_NAMES, initial="s0", final=final, transitions=transitions
        )
    except MachineDefinitionError:
        assert not consistent
        return
    assert consistent
    assert unreachable_states(machine) == frozenset()
    for state in final:
        assert machine.targets(state) == frozenset()


@attrs.define
class Doc:
    id: UUID = DOC_ID
    tenant_id: TenantId = TENANT
    state: str = "draft"
    owner_id: UUID = DOC_OWNER


# -- machines built at run time ------------------------------------------------------------
#
# POOL above is built when the module is imported. These tests declare their machines inside
# the test, so the declaration checks and lookup tables are exercised as each test runs,
# as a host that builds a machine from configuration would.


def pool_machine() -> Machine[PoolState]:
    return Machine(
        name="customer_pool",
        states=PoolState,
        initial=P.IN_POOL,
        final={P.DELETED},
        transitions=POOL.transitions,
        state_attr="pool_state",
    )


def test_a_machine_built_at_run_time_records_its_events_and_reads_stored_forms() -> None:
    machine = pool_machine()
    customer = make_customer()
    owner = UUID(int=99)
    event = machine.fire(customer, "claim", now=NOW, held=0, limit=1, payload={"owner_id": owner})
    assert isinstance(event, MachineSampleClaimed)
    assert (event.tenant_id, event.aggregate_id, event.occurred_at, event.owner_id) == (
        TENANT,
        CUSTOMER_ID,
        NOW,
        owner,
    )
    assert machine.check_state("claimed") is P.CLAIMED
    assert machine.check_state("CLAIMED") is P.CLAIMED
    assert machine.check_state(P.FROZEN) is P.FROZEN
    assert repr(machine) == "Machine('customer_pool', 4 states, 5 transitions)"


def test_a_value_that_is_also_a_member_name_means_the_member_with_that_value() -> None:
    class Flip(enum.Enum):
        A = "B"
        B = "A"

    machine = Machine(
        name="flip",
        states=Flip,
        initial=Flip.A,
        transitions=[Transition("go", source=Flip.A, target=Flip.B)],
    )
    # Stored values win over member names: "A" is the stored value of Flip.B.
    assert machine.check_state("A") is Flip.B
    assert machine.check_state("B") is Flip.A


def test_states_with_unhashable_values_still_build_and_are_found_by_name() -> None:
    shape: Any = enum.Enum("Shape", [("ROUND", ["round"]), ("SQUARE", ["square"])])
    machine = Machine(
        name="shape",
        states=shape,
        initial=shape.ROUND,
        transitions=[Transition("cut", source=shape.ROUND, target=shape.SQUARE)],
    )
    assert machine.check_state("SQUARE") is shape.SQUARE
    assert machine.check_state(shape.ROUND) is shape.ROUND


def test_int_valued_states_are_labelled_by_their_names() -> None:
    class Level(enum.Enum):
        LOW = 1
        HIGH = 2

    machine = Machine(
        name="level",
        states=Level,
        initial=Level.LOW,
        final={Level.HIGH},
        transitions=[Transition("raise_", source=Level.LOW, target=Level.HIGH)],
    )
    assert state_label(Level.LOW) == "LOW"
    with pytest.raises(InvalidTransition) as caught:
        machine.fire(Obj(Level.HIGH), "raise_")
    assert caught.value.to_dict() == {
        "code": "invalid_transition",
        "message": "level: cannot raise_ from state HIGH.",
        "machine": "level",
        "state": "HIGH",
        "trigger": "raise_",
    }


@attrs.define
class Obj:
    state: Any


def test_a_declaration_error_lists_every_problem_one_per_line() -> None:
    with pytest.raises(MachineDefinitionError) as caught:
        build(name="", initial="nowhere", final={"archived"})
    assert str(caught.value) == (
        "state machine '' is badly declared:\n"
        "  - the name must be a non-empty str\n"
        "  - initial state 'nowhere' is not a declared state\n"
        "  - final state 'archived' is not a declared state"
    )


@pytest.mark.parametrize(
    ("overrides", "problems"),
    [
        ({"name": ""}, ["the name must be a non-empty str"]),
        ({"name": 7}, ["the name must be a non-empty str"]),
        (
            {"states": [], "final": ()},
            [
                "no states are declared",
                "initial state 'draft' is not a declared state",
                "transition 'send': source 'draft' is not a declared state",
                "transition 'send': target 'sent' is not a declared state",
                "transition 'finish': source 'sent' is not a declared state",
                "transition 'finish': target 'done' is not a declared state",
            ],
        ),
        ({"states": ["draft", "sent", "done", "sent"]}, ["states are declared twice"]),
        (
            {"transitions": [Transition("send", source="draft", target="sent")]},
            ["state done is unreachable from draft"],
        ),
        (
            {
                "transitions": [
                    Transition("send now", source="draft", target="sent"),
                    Transition("finish", source="sent", target="done"),
                ]
            },
            ["transition 'send now': the trigger must be an identifier"],
        ),
        (
            {
                "transitions": [
                    Transition("send", source="draft", target="sent"),
                    Transition("send", source="draft", target="done"),
                    Transition("finish", source="sent", target="done"),
                ]
            },
            [
                "trigger 'send' from draft: an unguarded transition is followed by another "
                "one that could never fire"
            ],
        ),
    ],
)
def test_each_declaration_problem_is_worded_exactly(
    overrides: dict[str, Any], problems: list[str]
) -> None:
    with pytest.raises(MachineDefinitionError) as caught:
        build(**overrides)
    assert list(caught.value.problems) == problems


# -- guards and refusals, in full ----------------------------------------------------------


def test_a_guard_taking_only_the_object_decides_on_the_object() -> None:
    machine = build(
        transitions=[
            Transition(
                "send", source="draft", target="sent", guard=Guard("mine", lambda d: d.owner_id)
            ),
            Transition("finish", source="sent", target="done"),
        ]
    )
    mine, nobodys = Doc(), Doc(owner_id=None)  # type: ignore[arg-type]
    assert machine.can_fire(mine, "send")
    assert not machine.can_fire(nobodys, "send")
    machine.fire(mine, "send", unrelated=1)
    assert mine.state == "sent"


def test_a_guard_taking_any_keywords_gets_the_object_too() -> None:
    def owner_is(doc: Doc, **context: Any) -> bool:
        return doc.owner_id == context["actor"]

    machine = build(
        transitions=[
            Transition("send", source="draft", target="sent", guard=Guard("owner", owner_is)),
            Transition("finish", source="sent", target="done"),
        ]
    )
    assert machine.can_fire(Doc(), "send", actor=DOC_OWNER)
    assert not machine.can_fire(Doc(), "send", actor=UUID(int=4))


def test_can_fire_and_allowed_triggers_pass_now_to_the_guards() -> None:
    def before_noon(doc: Doc, *, now: datetime) -> bool:
        return now.hour < 12

    machine = build(
        transitions=[
            Transition("send", source="draft", target="sent", guard=Guard("am", before_noon)),
            Transition("finish", source="sent", target="done"),
        ]
    )
    morning, evening = NOW, NOW.replace(hour=20)
    assert machine.can_fire(Doc(), "send", now=morning)
    assert not machine.can_fire(Doc(), "send", now=evening)
    assert machine.allowed_triggers(Doc(), check_guards=True, now=morning) == ["send"]
    assert machine.allowed_triggers(Doc(), check_guards=True, now=evening) == []


def test_a_failed_guard_error_names_machine_state_trigger_and_guard() -> None:
    with pytest.raises(GuardFailed) as caught:
        POOL.fire(make_customer(), "claim", now=NOW, held=2, limit=2)
    assert caught.value.to_dict() == {
        "code": "guard_failed",
        "message": (
            "customer_pool: cannot claim from state in_pool: guard within_holding_limit failed."
        ),
        "machine": "customer_pool",
        "state": "in_pool",
        "trigger": "claim",
        "guard": "within_holding_limit",
    }


def test_a_stored_value_that_is_not_a_state_is_refused_in_full() -> None:
    with pytest.raises(ValidationError) as caught:
        POOL.check_state("lost")
    why = "'lost' is not a state (expected one of in_pool, claimed, frozen, deleted)"
    assert caught.value.to_dict() == {
        "code": "validation_error",
        "message": f"customer_pool.pool_state: {why}",
        "entity": "customer_pool",
        "field": "pool_state",
        "reason": why,
        "row": None,
    }


def test_an_unhashable_stored_state_is_reported_as_corrupt_not_as_a_transition() -> None:
    with pytest.raises(ValueError) as caught:
        POOL.fire(Customer(pool_state=["in_pool"]), "freeze")  # type: ignore[arg-type]
    assert type(caught.value) is ValueError
    assert str(caught.value) == (
        "customer_pool: pool_state=['in_pool'] is not a state of this machine"
    )


def test_an_unknown_stored_state_has_no_triggers_and_no_targets() -> None:
    assert POOL.allowed_triggers(Customer(pool_state="lost")) == []  # type: ignore[arg-type]
    assert POOL.allowed_triggers(Customer(pool_state=["x"])) == []  # type: ignore[arg-type]
    assert POOL.targets("lost") == frozenset()  # type: ignore[arg-type]
    assert POOL.targets(P.IN_POOL) == {P.CLAIMED, P.FROZEN, P.DELETED}
