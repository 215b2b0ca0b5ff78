"""The first aggregate end to end through the services, on every backend."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crmkit import ConcurrencyConflict, Crm, NotFound, ValidationError
from crmkit.customers import (
    Customer,
    CustomerChanged,
    CustomerRegistered,
    DuplicatePolicy,
    add_contact,
    check_customer_name,
    get_customer,
    list_customers,
    match_caller,
    register_customer,
    search_customers,
    update_contact,
    update_customer,
)
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Query
from tests.customers.team import make_team


def test_registering_stores_the_customer_and_records_the_event(crm: Crm, actor) -> None:
    created = register_customer(
        crm, actor, name="  北京  华为科技  ", level="A", credit_limit=Money("500000", "CNY")
    )
    loaded = get_customer(crm, actor, created.id)
    assert loaded.name == "北京 华为科技"  # whitespace normalised
    assert (loaded.owner_id, loaded.version) == (actor.user_id, 1)
    assert loaded.credit_limit == Money("500000.00", "CNY")
    events = crm.run(actor.tenant_id, lambda uow: uow.outbox.pending())
    assert [type(e) for e in events] == [CustomerRegistered]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Ok", "credit_limit": Money("-1", "CNY")}, "credit_limit"),
    ],
)
def test_invalid_input_is_refused_and_nothing_is_stored(crm: Crm, actor, fields, field) -> None:
    with pytest.raises(ValidationError) as raised:
        register_customer(crm, actor, **fields)
    assert (raised.value.entity, raised.value.field) == ("customer", field)
    assert list_customers(crm, actor) == []


def test_an_update_records_old_and_new_values(crm: Crm, actor) -> None:
    created = register_customer(crm, actor, name="Acme", level="B")
    updated = update_customer(crm, actor, created.id, level="A", tags=("vip",))
    assert (updated.level, updated.tags, updated.version) == ("A", ("vip",), 2)
    events = crm.run(actor.tenant_id, lambda uow: uow.outbox.pending())
    changed = [e for e in events if isinstance(e, CustomerChanged)]
    assert changed[0].changes == {"level": ("B", "A"), "tags": ("", "vip")}


def test_an_update_that_changes_nothing_writes_nothing(crm: Crm, actor) -> None:
    created = register_customer(crm, actor, name="Acme", level="B")
    same = update_customer(crm, actor, created.id, level="B")
    assert same.version == 1


def test_an_edit_from_a_stale_form_is_refused(crm: Crm, actor) -> None:
    created = register_customer(crm, actor, name="Acme")
    update_customer(crm, actor, created.id, expected_version=1, level="A")
    with pytest.raises(ConcurrencyConflict):
        update_customer(crm, actor, created.id, expected_version=1, level="C")
    assert get_customer(crm, actor, created.id).level == "A"


def test_a_bad_update_leaves_the_customer_unchanged(crm: Crm, actor) -> None:
    created = register_customer(crm, actor, name="Acme", level="B")
    with pytest.raises(ValidationError):
        update_customer(crm, actor, created.id, level="A", name="")
    with pytest.raises(ValidationError) as raised:
        update_customer(crm, actor, created.id, version=99)
    assert raised.value.field == "version"
    assert get_customer(crm, actor, created.id).level == "B"


def test_unknown_customers_are_not_found(crm: Crm, actor) -> None:
    with pytest.raises(NotFound):
        get_customer(crm, actor, crm.new_id())


def test_money_filters_run_in_storage(crm: Crm, actor) -> None:
    for name, limit in [("Small", "1000"), ("Big", "900000.50"), ("None", None)]:
        register_customer(
            crm, actor, name=name, credit_limit=Money(limit, "CNY") if limit else None
        )
    big = list_customers(crm, actor, Query(where=F("credit_limit.amount").gt(Decimal("5000"))))
    assert [c.name for c in big] == ["Big"]
    assert isinstance(big[0], Customer)


def test_search_finds_customers_by_pinyin_initials_and_characters(crm: Crm, actor) -> None:
    for name in ("北京华为科技有限公司", "上海浦东发展", "Acme Trading"):
        register_customer(crm, actor, name=name)
    for text in ("bjhw", "huawei", "北京", "華為"):
        assert [c.name for c in search_customers(crm, actor, text)] == ["北京华为科技有限公司"]
    assert search_customers(crm, actor, "xyz") == []


def test_an_incoming_call_finds_the_customer(crm: Crm, actor) -> None:
    register_customer(crm, actor, name="腾达", phone="0755-8888 6666")
    assert [m.customer.name for m in match_caller(crm, actor, "+86 755 88886666")] == ["腾达"]


def test_a_call_from_a_contacts_mobile_opens_the_contact_for_whoever_sees_the_customer(
    crm: Crm, actor
) -> None:
    team = make_team(crm, actor)  # reps hold customer grants only, none on contacts
    customer = register_customer(crm, team.li, name="腾达")
    add_contact(crm, team.li, customer.id, name="陈静", phones=["139 1234 5678"])
    for who in (team.li, team.manager):
        matches = match_caller(crm, who, "+8613912345678")
        assert [(m.customer.id, m.contact and m.contact.name) for m in matches] == [
            (customer.id, "陈静")
        ]
    assert match_caller(crm, team.wang, "+8613912345678") == []  # not Wang's customer


def test_a_call_from_a_contacts_last_phone_finds_them_after_an_edit(crm: Crm, actor) -> None:
    customer = register_customer(crm, actor, name="腾达")
    contact = add_contact(crm, actor, customer.id, name="陈静", phones=["13912345678"])
    numbers = [f"1390000000{i}" for i in range(1, 5)]
    update_contact(crm, actor, contact.id, phones=[*numbers, "0755-8888 6666"])
    assert [m.contact and m.contact.name for m in match_caller(crm, actor, "075588886666")] == [
        "陈静"
    ]
    assert match_caller(crm, actor, "13912345678") == []


def test_a_call_from_any_of_a_contacts_phones_opens_the_contact(crm: Crm, actor) -> None:
    customer = register_customer(crm, actor, name="腾达")
    add_contact(crm, actor, customer.id, name="陈静", phones=["0755-8888 6666", "139 1234 5678"])
    for number in ("+86 755 88886666", "+8613912345678"):
        matches = match_caller(crm, actor, number)
        assert [(m.customer.id, m.contact and m.contact.name) for m in matches] == [
            (customer.id, "陈静")
        ]


def test_duplicate_names_are_blocked_when_asked(crm: Crm, actor) -> None:
    first = register_customer(crm, actor, name="北京华为科技有限公司")
    check = check_customer_name(crm, actor, "北京华为科技（有限公司）")
    assert check.is_duplicate
    assert list(check.matches) == [first.id]
    with pytest.raises(ValidationError) as raised:
        register_customer(crm, actor, name="北京 华为科技", duplicates=DuplicatePolicy.BLOCK)
    assert raised.value.field == "name"
    assert len(list_customers(crm, actor)) == 1
