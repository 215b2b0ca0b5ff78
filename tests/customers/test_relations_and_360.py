"""Relations between customers (with the group hierarchy's cycle check) and the 360 view."""

from __future__ import annotations

import pytest

from crmkit import Crm, PermissionDenied, ValidationError
from crmkit.customers import (
    HierarchyCycle,
    RelationKind,
    add_contact,
    customer_360,
    list_relations,
    register_360_part,
    register_customer,
    relate_customers,
    unrelate_customers,
    update_customer,
)
from crmkit.customers.queries.view import _PARTS
from tests.customers.team import make_team


def test_the_group_hierarchy_refuses_cycles_and_second_parents(crm: Crm, actor) -> None:
    group, east, shanghai = (
        register_customer(crm, actor, name=n) for n in ("华为集团", "华东公司", "上海分公司")
    )
    relate_customers(crm, actor, group.id, east.id, RelationKind.PARENT)
    relate_customers(crm, actor, shanghai.id, east.id, "subsidiary")  # east is its parent
    with pytest.raises(HierarchyCycle):
        relate_customers(crm, actor, shanghai.id, group.id, "parent")
    with pytest.raises(ValidationError):
        relate_customers(crm, actor, east.id, group.id, "subsidiary")  # already recorded
    other = register_customer(crm, actor, name="另一集团")
    with pytest.raises(ValidationError):
        relate_customers(crm, actor, other.id, east.id, "parent")  # east has a parent already
    with pytest.raises(ValidationError):
        relate_customers(crm, actor, group.id, group.id, "partner")
    kinds = {(r.from_id, r.to_id, r.kind) for r in list_relations(crm, actor, east.id)}
    assert kinds == {
        (group.id, east.id, RelationKind.PARENT),
        (east.id, shanghai.id, RelationKind.PARENT),
    }


def test_relations_can_be_removed_and_are_in_the_history(crm: Crm, actor) -> None:
    one, two = register_customer(crm, actor, name="甲"), register_customer(crm, actor, name="乙")
    relation = relate_customers(crm, actor, one.id, two.id, "competitor", note="same market")
    unrelate_customers(crm, actor, relation.id)
    assert list_relations(crm, actor, one.id) == []
    actions = [r.action for r in customer_360(crm, actor, two.id).history]
    assert actions[:2] == ["unrelate", "relate"]


def test_relations_to_customers_the_actor_cannot_see_are_left_out(crm: Crm, actor) -> None:
    team = make_team(crm, actor)
    mine = register_customer(crm, team.li, name="Li's")
    theirs = register_customer(crm, team.wang, name="Wang's")
    relate_customers(crm, actor, mine.id, theirs.id, "partner")
    assert list_relations(crm, team.li, mine.id) == []
    assert len(list_relations(crm, actor, mine.id)) == 1
    with pytest.raises(PermissionDenied):
        relate_customers(crm, team.li, mine.id, theirs.id, "supplier")


def test_the_360_view_gathers_every_part_the_actor_may_see(crm: Crm, actor) -> None:
    team = make_team(crm, actor)
    customer = register_customer(crm, team.li, name="北京华为科技")
    partner = register_customer(crm, team.li, name="深圳腾讯")
    add_contact(crm, team.li, customer.id, name="张伟")
    relate_customers(crm, team.li, customer.id, partner.id, "partner")
    update_customer(crm, team.li, customer.id, level="A")
    register_360_part("notes", "customer", lambda uow, grants, c: [f"note on {c.name}"])
    register_360_part("tickets", "no_such_grant_resource", lambda uow, grants, c: ["secret"])
    try:
        view = customer_360(crm, team.li, customer.id)
    finally:
        _PARTS.pop("notes")
        _PARTS.pop("tickets")
    assert view.customer.id == customer.id
    assert [c.name for c in view.contacts] == ["张伟"]
    assert [r.to_id for r in view.relations] == [partner.id]
    assert view.history[0].action == "update"
    assert view.parts == {"notes": ["note on 北京华为科技"]}
    with pytest.raises(PermissionDenied):
        customer_360(crm, team.wang, customer.id)
