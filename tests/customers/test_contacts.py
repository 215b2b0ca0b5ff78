"""Contacts: several per customer, one primary, validated channels, birthdays."""

from __future__ import annotations

from datetime import date

import pytest

from crmkit import Crm, NotFound, PermissionDenied, ValidationError
from crmkit.customers import (
    Address,
    Contact,
    add_contact,
    list_contacts,
    phone_key,
    register_customer,
    remove_contact,
    set_primary_contact,
    transfer_customer,
    update_contact,
    update_customer,
)
from tests.customers.team import make_team


def test_the_first_contact_is_primary_and_a_new_primary_replaces_it(crm: Crm, actor) -> None:
    customer = register_customer(crm, actor, name="北京华为科技")
    zhang = add_contact(crm, actor, customer.id, name="张伟", title="采购经理")
    li = add_contact(crm, actor, customer.id, name="李娜")
    assert (zhang.primary, li.primary) == (True, False)
    wang = add_contact(crm, actor, customer.id, name="王芳", primary=True)
    listed = list_contacts(crm, actor, customer.id)
    assert [c.name for c in listed] == ["王芳", "张伟", "李娜"]
    assert [c.primary for c in listed] == [True, False, False]
    set_primary_contact(crm, actor, li.id)
    assert [c.id for c in list_contacts(crm, actor, customer.id) if c.primary] == [li.id]
    remove_contact(crm, actor, li.id)
    remaining = list_contacts(crm, actor, customer.id)
    assert sum(c.primary for c in remaining) == 1
    assert {c.id for c in remaining} == {zhang.id, wang.id}


def test_a_contact_keeps_phones_im_and_birthday(crm: Crm, actor) -> None:
    customer = register_customer(crm, actor, name="Acme")
    added = add_contact(
        crm,
        actor,
        customer.id,
        name="Zhang Wei",
        phones=["+86 138-0013-8000", "010 8888 6666"],
        email="zhang@example.cn",
        wechat="zhangwei_88",
        qq="10001",
        im={"DingTalk": "zw88"},
        birthday=date(1985, 2, 9),
    )
    loaded = list_contacts(crm, actor, customer.id)[0]
    assert loaded.phones == ("+86 138-0013-8000", "010 8888 6666")
    assert loaded.phone_key == phone_key("13800138000")  # the first number answers caller ID
    assert (loaded.birthday, loaded.birthday_md) == (date(1985, 2, 9), "0209")
    assert loaded.im == {"dingtalk": "zw88"}
    assert (loaded.qq, loaded.wechat, loaded.email) == ("10001", "zhangwei_88", "zhang@example.cn")
    changed = update_contact(crm, actor, added.id, birthday=date(1990, 12, 31), title="CEO")
    assert (changed.birthday_md, changed.title) == ("1231", "CEO")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": " "}, "name"),
        ({"name": "A", "email": "not-an-email"}, "email"),
        ({"name": "A", "qq": "0123"}, "qq"),
        ({"name": "A", "phones": ["hello"]}, "phones"),
        # Each phone has its own caller-ID key column, so the count is bounded.
        ({"name": "A", "phones": [f"1390000000{i}" for i in range(6)]}, "phones"),
    ],
)
def test_invalid_contacts_are_refused(crm: Crm, actor, fields, field) -> None:
    customer = register_customer(crm, actor, name="Acme")
    with pytest.raises(ValidationError) as raised:
        add_contact(crm, actor, customer.id, **fields)
    assert (raised.value.entity, raised.value.field) == ("contact", field)
    assert list_contacts(crm, actor, customer.id) == []


def test_a_contact_cannot_be_added_to_a_missing_customer(crm: Crm, actor) -> None:
    import uuid

    with pytest.raises(NotFound):
        add_contact(crm, actor, uuid.uuid4(), name="Nobody")


def test_contacts_follow_the_customer_permissions_and_owner(crm: Crm, actor) -> None:
    team = make_team(crm, actor)
    customer = register_customer(crm, team.li, name="Acme")
    contact = add_contact(crm, team.li, customer.id, name="Zhang Wei")
    assert contact.owner_id == team.li.user_id
    with pytest.raises(PermissionDenied):
        list_contacts(crm, team.wang, customer.id)
    with pytest.raises(PermissionDenied):
        add_contact(crm, team.wang, customer.id, name="Intruder")
    transfer_customer(crm, team.li, customer.id, team.wang.user_id)
    moved = list_contacts(crm, team.wang, customer.id)
    assert [c.owner_id for c in moved] == [team.wang.user_id]
    stored = crm.run(actor.tenant_id, lambda uow: uow.repository(Contact).get(contact.id))
    assert stored.owner_id == team.wang.user_id


def test_addresses_are_validated_and_stored(crm: Crm, actor) -> None:
    office = Address(province="北京市", city="北京市", district="海淀区", street="中关村大街1号")
    customer = register_customer(crm, actor, name="Acme", addresses=[office])
    assert str(customer.addresses[0]) == "北京市北京市海淀区中关村大街1号"
    shipping = {"kind": "shipping", "city": "上海市", "street": "世纪大道100号", "primary": True}
    updated = update_customer(crm, actor, customer.id, addresses=[office, shipping])
    assert [a.kind.value for a in updated.addresses] == ["office", "shipping"]
    with pytest.raises(ValidationError):
        update_customer(crm, actor, customer.id, addresses=[{"kind": "office"}])
    two_primaries = [Address(city="A", primary=True), Address(city="B", primary=True)]
    with pytest.raises(ValidationError):
        update_customer(crm, actor, customer.id, addresses=two_primaries)


def test_a_yearly_rule_reminds_of_contact_birthdays_and_feb_29_falls_on_feb_28(
    crm: Crm, actor, clock
) -> None:
    import pendulum

    from crmkit.rules.reminders import TriggerKind, define_reminder_rule, scan_due_reminders

    customer = register_customer(crm, actor, name="杭州西湖茶业")
    add_contact(crm, actor, customer.id, name="张伟", birthday=date(1985, 3, 14))
    add_contact(crm, actor, customer.id, name="林芳", birthday=date(1992, 2, 29))
    add_contact(crm, actor, customer.id, name="王强")
    define_reminder_rule(
        crm,
        actor,
        name="contact birthdays",
        trigger=TriggerKind.DATE_FIELD,
        resource="contact",
        field="birthday",
        yearly=True,
        subject="{title} {date}",
        lookback_days=1,
    )
    fired = []
    for year in (2027, 2028):  # a common year, then a leap year
        for month, day in ((2, 28), (2, 29), (3, 1), (3, 14)):
            try:
                clock.set(pendulum.datetime(year, month, day, 2, tz="UTC"))  # 10:00 in Shanghai
            except ValueError:
                continue
            fired += [f.subject for f in scan_due_reminders(crm, actor.tenant_id)]
    assert fired == ["林芳 2027-02-28", "张伟 2027-03-14", "林芳 2028-02-29", "张伟 2028-03-14"]
