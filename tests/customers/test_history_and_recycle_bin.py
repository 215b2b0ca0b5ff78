"""Change history on every write, and the recycle bin (delete -> restore -> purge)."""

from __future__ import annotations

import pytest

from crmkit import Crm, NotFound, PermissionDenied, ValidationError
from crmkit.customers import (
    ChangeRecord,
    Contact,
    add_contact,
    customer_history,
    delete_customer,
    get_customer,
    list_contacts,
    list_customers,
    list_recycle_bin,
    list_relations,
    purge_customer,
    register_customer,
    relate_customers,
    restore_customer,
    search_customers,
    update_customer,
    user_history,
)
from tests.customers.team import make_team


def test_every_change_is_recorded_with_who_when_old_and_new(crm: Crm, actor, clock) -> None:
    customer = register_customer(crm, actor, name="Acme", level="B")
    clock.advance(hours=1)
    update_customer(crm, actor, customer.id, level="A", region="华北")
    records = customer_history(crm, actor, customer.id)
    updates = {r.field: r for r in records if r.action == "update"}
    assert set(updates) == {"level", "region"}
    assert (updates["level"].old_value, updates["level"].new_value) == ("B", "A")
    assert (updates["region"].old_value, updates["region"].new_value) == (None, "华北")
    assert updates["level"].user_id == actor.user_id
    assert updates["level"].changed_at == clock.now()
    created = {r.field for r in records if r.action == "create"}
    assert {"name", "level", "owner_id"} <= created
    assert records[0].action == "update"  # newest first


def test_history_is_queryable_per_user_within_the_actors_scope(crm: Crm, actor) -> None:
    team = make_team(crm, actor)
    mine = register_customer(crm, team.li, name="Li's")
    theirs = register_customer(crm, team.wang, name="Wang's")
    update_customer(crm, team.li, mine.id, level="A")
    by_li = user_history(crm, actor, team.li.user_id)
    assert {r.customer_id for r in by_li} == {mine.id}
    assert user_history(crm, team.li, team.wang.user_id) == []  # cannot see Wang's customer
    assert {r.customer_id for r in user_history(crm, team.manager, team.wang.user_id)} == {
        theirs.id
    }
    with pytest.raises(PermissionDenied):
        customer_history(crm, team.li, theirs.id)


def test_contact_edits_land_in_the_customer_history(crm: Crm, actor) -> None:
    customer = register_customer(crm, actor, name="Acme")
    add_contact(crm, actor, customer.id, name="张伟", title="经理")
    actions = {(r.action, r.field) for r in customer_history(crm, actor, customer.id)}
    assert ("contact_add", "contact.张伟.title") in actions


def test_delete_hides_the_customer_and_restore_brings_it_back_with_contacts(
    crm: Crm, actor
) -> None:
    customer = register_customer(crm, actor, name="北京华为科技")
    add_contact(crm, actor, customer.id, name="张伟")
    add_contact(crm, actor, customer.id, name="李娜")
    delete_customer(crm, actor, customer.id)
    assert list_customers(crm, actor) == []
    assert search_customers(crm, actor, "bjhw") == []
    with pytest.raises(NotFound):
        get_customer(crm, actor, customer.id)
    with pytest.raises(NotFound):
        delete_customer(crm, actor, customer.id)
    assert [c.id for c in list_recycle_bin(crm, actor)] == [customer.id]
    restored = restore_customer(crm, actor, customer.id)
    assert restored.deleted_at is None
    assert sorted(c.name for c in list_contacts(crm, actor, customer.id)) == ["张伟", "李娜"]
    assert list_recycle_bin(crm, actor) == []
    actions = [r.action for r in customer_history(crm, actor, customer.id)]
    assert actions.index("restore") < actions.index("delete")  # newest first


def test_purge_removes_everything_but_the_history(crm: Crm, actor) -> None:
    customer = register_customer(crm, actor, name="Acme")
    other = register_customer(crm, actor, name="Parent Group")
    add_contact(crm, actor, customer.id, name="张伟")
    relate_customers(crm, actor, other.id, customer.id, "parent")
    with pytest.raises(ValidationError):
        purge_customer(crm, actor, customer.id)  # must be in the bin first
    delete_customer(crm, actor, customer.id)
    purge_customer(crm, actor, customer.id)

    def stored(uow):
        contacts = uow.repository(Contact).query()
        return uow.repository(type(customer)).find(customer.id), contacts

    assert stored_result(crm, actor, stored) == (None, [])
    history = customer_history(crm, actor, customer.id)
    assert history[0].action == "purge"
    purge = history[0]
    assert (purge.field, purge.old_value, purge.new_value) == ("name", "Acme", None)
    assert list_relations(crm, actor, other.id) == []
    with pytest.raises(NotFound):
        restore_customer(crm, actor, customer.id)


def stored_result(crm: Crm, actor, work):
    return crm.run(actor.tenant_id, work)


def test_delete_restore_and_purge_are_permission_gated(crm: Crm, actor) -> None:
    team = make_team(crm, actor)
    customer = register_customer(crm, team.li, name="Acme")
    with pytest.raises(PermissionDenied):
        delete_customer(crm, team.wang, customer.id)
    delete_customer(crm, team.li, customer.id)
    assert [c.id for c in list_recycle_bin(crm, team.li)] == [customer.id]
    assert list_recycle_bin(crm, team.wang) == []
    with pytest.raises(PermissionDenied):
        restore_customer(crm, team.li, customer.id)  # reps may delete, not restore
    with pytest.raises(PermissionDenied):
        purge_customer(crm, team.li, customer.id)
    purge_customer(crm, team.manager, customer.id)
    records = crm.run(actor.tenant_id, lambda uow: uow.repository(ChangeRecord).query())
    assert any(r.action == "purge" and r.user_id == team.manager.user_id for r in records)
