"""Input-handling defects the generated boundary test (``test_boundary_all.py``) found,
each pinned on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from crmkit import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import ValidationError
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Query
from crmkit.rules.notifications import inbox
from crmkit.rules.permissions import list_denials


@pytest.mark.parametrize("page", [{"limit": 2**63}, {"offset": 10**30}])
def test_a_page_past_64_bits_is_refused_as_it_is_built(page: dict[str, Any]) -> None:
    # SQLite raised OverflowError binding it; memory answered; now one error everywhere.
    with pytest.raises(ValidationError) as caught:
        Query(**page)
    assert caught.value.field == next(iter(page))


@pytest.mark.parametrize("service", [inbox, list_denials])
@pytest.mark.parametrize("page", [{"limit": 2**63}, {"offset": 10**30}])
def test_a_listing_refuses_a_page_past_64_bits_on_every_backend(
    crm: Crm, actor: Actor, service: Any, page: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError) as caught:
        service(crm, actor, **page)
    assert caught.value.field == next(iter(page))


def test_an_unknown_choice_typed_as_text_is_refused_naming_its_field(
    crm: Crm, actor: Actor
) -> None:
    # Each of these took "robot" into ``SomeEnum(value)`` and let ValueError escape.
    from crmkit.customers import (
        FieldType,
        define_assignment_rule,
        define_custom_field,
        register_customer,
        relate_customers,
    )
    from crmkit.rules.numbering import define_numbering_rule
    from crmkit.rules.permissions import define_sharing_rule, share_record

    one = register_customer(crm, actor, name="华东精工")
    other = register_customer(crm, actor, name="华北精工")
    grantee = actor.user_id
    calls: list[tuple[str, Any]] = [
        ("kind", lambda: relate_customers(crm, actor, one.id, other.id, "robot")),
        (
            "grantee_kind",
            lambda: share_record(
                crm, actor, "customer", one.id, grantee_kind="robot", grantee=grantee
            ),
        ),
        (
            "access",
            lambda: share_record(
                crm, actor, "customer", one.id, grantee_kind="user", grantee=grantee, access="robot"
            ),
        ),
        (
            "grantee_kind",
            lambda: define_sharing_rule(
                crm,
                actor,
                "rule",
                resource="customer",
                condition=F("level").eq("Z"),
                grantee_kind="robot",
                grantee=grantee,
            ),
        ),
        (
            "access",
            lambda: define_sharing_rule(
                crm,
                actor,
                "rule",
                resource="customer",
                condition=F("level").eq("Z"),
                grantee_kind="user",
                grantee=grantee,
                access="USER",
            ),
        ),
        (
            "reset",
            lambda: define_numbering_rule(
                crm, actor, doc_type="quote", pattern="Q-{seq:4}", reset="robot"
            ),
        ),
        (
            "strategy",
            lambda: define_assignment_rule(
                crm, actor, name="rule", members=[grantee], strategy="ROUND_ROBIN"
            ),
        ),
        ("type", lambda: define_custom_field(crm, actor, key="k", label="K", type="TEXT")),
    ]
    assert FieldType
    for field, call in calls:
        with pytest.raises(ValidationError) as caught:
            call()
        assert caught.value.field == field, field


@pytest.mark.parametrize("entity", ["", "robot", "Customer"])
def test_custom_fields_of_an_unknown_entity_are_refused_naming_it(
    crm: Crm, actor: Actor, entity: str
) -> None:
    # list_custom_fields raised KeyError; define_custom_field stored a field for no record.
    from crmkit.customers import define_custom_field, list_custom_fields

    with pytest.raises(ValidationError) as listed:
        list_custom_fields(crm, actor, entity)
    with pytest.raises(ValidationError) as defined:
        define_custom_field(crm, actor, key="k", label="K", type="text", entity=entity)
    assert listed.value.field == defined.value.field == "entity"


@pytest.mark.parametrize("doc_type", ["\ud800", "a\x00b"])
def test_a_document_type_no_store_can_hold_is_refused_naming_it(
    crm: Crm, actor: Actor, doc_type: str
) -> None:
    # The rule's id is derived from the text: a lone surrogate broke uuid5 with
    # UnicodeEncodeError before any lookup (random boundary run).
    from crmkit.rules.numbering import define_numbering_rule, get_numbering_rule

    for call in (
        lambda: get_numbering_rule(crm, actor, doc_type),
        lambda: define_numbering_rule(crm, actor, doc_type, "C{seq:4}"),
    ):
        with pytest.raises(ValidationError) as caught:
            call()
        assert caught.value.field == "doc_type"


@pytest.mark.parametrize(
    ("start", "field"),
    [(dt.date(9999, 12, 31), "start"), ("2026-13-01", "start"), (dt.date(1, 1, 1), "start")],
)
def test_a_sequence_start_outside_the_calendar_is_refused_naming_it(
    crm: Crm, actor: Actor, start: Any, field: str
) -> None:
    # Adding the steps' offsets to 9999-12-31 raised OverflowError (random boundary run).
    from crmkit.customers import register_customer
    from crmkit.pipeline import define_sequence_template, start_sequence
    from crmkit.pipeline.model import StepAction, StepPlan

    customer = register_customer(crm, actor, name="华东精工")
    template = define_sequence_template(
        crm, actor, "onboarding", [StepPlan(StepAction.CALL, "call", after_days=3)]
    )
    with pytest.raises(ValidationError) as caught:
        start_sequence(crm, actor, template.id, customer.id, start=start)
    assert caught.value.field == field
    started = start_sequence(crm, actor, template.id, customer.id, start="2026-03-02")
    assert [step.due_on for step in started] == [dt.date(2026, 3, 5)]


@pytest.mark.parametrize("value", [Decimal("sNaN"), Decimal("1"), "1", 1.0])
def test_a_version_or_day_count_that_is_no_whole_number_is_a_type_error(
    crm: Crm, actor: Actor, value: Any
) -> None:
    # Decimal('sNaN') reached a comparison and raised decimal.InvalidOperation (random
    # boundary run); the type check at the door refuses every non-int before the body.
    import uuid

    from crmkit.pipeline import configure_sales_documents, move_opportunity

    # Refused before the body runs: no deal needs to exist.
    with pytest.raises(TypeError) as caught:
        move_opportunity(crm, actor, uuid.uuid4(), "qualify", expected_version=value)
    assert str(caught.value) == f"expected_version must be int | None, not {type(value).__name__}"
    with pytest.raises(TypeError) as caught:
        configure_sales_documents(crm, actor, notice_days=value)
    assert str(caught.value) == f"notice_days must be int | None, not {type(value).__name__}"


@pytest.mark.parametrize("document_type", ["\ud800", "a\x00b"])
def test_an_approval_for_a_document_type_no_store_can_hold_is_refused_naming_it(
    crm: Crm, actor: Actor, document_type: str
) -> None:
    # The request's id is derived from the type: a lone surrogate broke uuid5 with
    # UnicodeEncodeError (random boundary run).
    import uuid

    from crmkit.rules.approvals import submit_for_approval

    with pytest.raises(ValidationError) as caught:
        submit_for_approval(
            crm, actor, document_type=document_type, document_id=uuid.uuid4(), title="probe"
        )
    assert caught.value.field == "document_type"


@pytest.mark.parametrize(
    ("given", "stored"), [("1", "1.00"), ("12.3", "12.30"), ("0.125", "0.125")]
)
def test_an_amount_reads_back_alike_on_every_backend(
    crm: Crm, actor: Actor, given: str, stored: str
) -> None:
    # SQL gives an amount back padded to the currency's minor unit ("1.00"), memory kept
    # the Decimal as given ("1"): a 360 view read after a receipt of "1" differed
    # (random boundary run). A finer amount keeps its places everywhere.
    from crmkit.customers import get_customer, register_customer

    customer = register_customer(crm, actor, name="华东精工", credit_limit=Money(given, "CNY"))
    again = get_customer(crm, actor, customer.id)
    assert again.credit_limit is not None
    assert str(again.credit_limit.amount) == stored


def test_reminder_states_are_read_as_states_on_every_backend(crm: Crm, actor: Actor) -> None:
    # A text of 100,000 nines went into the filter one character a value: memory found
    # nothing, PostgreSQL ran out of bind parameters (random boundary run).
    from crmkit.rules.reminders import FiringState, my_reminders

    for states in ("9" * 100_000, ["due", "robot"]):
        with pytest.raises(ValidationError) as caught:
            my_reminders(crm, actor, states=states)  # type: ignore[arg-type]
        assert caught.value.field == "states"
    # One state typed as text is one state, not its letters.
    assert my_reminders(crm, actor, states="due") == []  # type: ignore[arg-type]
    assert my_reminders(crm, actor, states=[FiringState.DUE, "snoozed"]) == []  # type: ignore[list-item]
