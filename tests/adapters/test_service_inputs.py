"""Input-handling defects the generated boundary test (``test_boundary_all.py``) found,
each pinned on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from crmkit import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import ValidationError
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
