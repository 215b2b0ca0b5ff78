"""Merging customers, in detail: who may, what each refusal says, what is recorded.

tests/customers/test_merge.py covers what a merge and its undo do to the rows; these pin
the rest a host sees: the whole error of each refusal, the stored merge record, the history
entries and events of both steps, the value a field takes from which customer, and the
contacts' primary flags and owners.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import attrs
import pytest

from crmkit import Crm, NotFound, PermissionDenied, ValidationError
from crmkit.customers import (
    ChangeRecord,
    Contact,
    CustomerMergeUndone,
    CustomerRelation,
    CustomersMerged,
    HierarchyCycle,
    MergeRecord,
    add_contact,
    customer_history,
    get_customer,
    list_contacts,
    merge_customers,
    register_customer,
    relate_customers,
    undo_merge,
)
from crmkit.customers.model.customer import CustomerChanged
from crmkit.customers.model.merge import Moved
from crmkit.customers.services.merge_parts import _PARTS, register_merge_part, repoint_part
from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import FixedClock
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Query
from crmkit.pipeline import define_sales_process, open_opportunity
from crmkit.pipeline.model.opportunities import Opportunity, default_process
from crmkit.rules.permissions import (
    Grant,
    Scope,
    define_department,
    define_role,
    set_member,
)
from tests.customers.team import make_team


def _merge_error(field: str, why: str) -> dict[str, Any]:
    return {
        "code": "validation_error",
        "message": f"customer_merge.{field}: {why}",
        "entity": "customer_merge",
        "field": field,
        "reason": why,
        "row": None,
    }


def _record(crm: Crm, actor: Actor, merge_id: uuid.UUID) -> MergeRecord:
    return crm.run(actor.tenant_id, lambda uow: uow.repository(MergeRecord).get(merge_id))


def _history(crm: Crm, actor: Actor, customer_id: uuid.UUID, action: str) -> list[Any]:
    return sorted(
        (
            (r.field, r.old_value, r.new_value, r.user_id)
            for r in customer_history(crm, actor, customer_id, limit=None)
            if r.action == action
        ),
        key=str,
    )


# -- refusals ---------------------------------------------------------------------------------


def test_each_bad_request_is_refused_with_its_reason(crm: Crm, actor: Actor) -> None:
    a = register_customer(crm, actor, name="A")
    b = register_customer(crm, actor, name="B")
    cases = [
        ((a.id, []), None, _merge_error("merged_ids", "name at least one customer to merge")),
        (
            (a.id, [b.id, a.id]),
            None,
            _merge_error("merged_ids", "a customer can be merged only once, and not into itself"),
        ),
        (
            (a.id, [b.id, b.id]),
            None,
            _merge_error("merged_ids", "a customer can be merged only once, and not into itself"),
        ),
        ((a.id, [b.id]), {"owner_id": b.id}, _merge_error("owner_id", "cannot be merged")),
        (
            (a.id, [b.id]),
            {"level": uuid.uuid4()},
            _merge_error("level", "must come from one of the merged customers"),
        ),
    ]
    for (survivor, others), choose, error in cases:
        with pytest.raises(ValidationError) as refused:
            merge_customers(crm, actor, survivor, others, choose=choose)
        assert refused.value.to_dict() == error
    # Either customer of the merge may be the source of a chosen field.
    assert merge_customers(crm, actor, a.id, [b.id], choose={"level": a.id}).merged_ids == (b.id,)


def test_a_choose_mapping_of_the_wrong_shape_is_a_type_error(crm: Crm, actor: Actor) -> None:
    a = register_customer(crm, actor, name="A")
    b = register_customer(crm, actor, name="B")
    for choose, message in [
        ([("level", b.id)], "choose must be Mapping[str, UUID] | None, not list"),
        ({1: b.id}, "choose must be Mapping[str, UUID] | None, not dict holding int"),
        ({"level": str(b.id)}, "choose must be Mapping[str, UUID] | None, not dict holding str"),
    ]:
        with pytest.raises(TypeError) as refused:
            merge_customers(crm, actor, a.id, [b.id], choose=choose)  # type: ignore[arg-type]
        assert str(refused.value) == message
    assert get_customer(crm, actor, b.id).deleted_at is None


def test_merging_a_customer_in_the_recycle_bin_is_not_found(crm: Crm, actor: Actor) -> None:
    a = register_customer(crm, actor, name="A")
    b = register_customer(crm, actor, name="B")
    c = register_customer(crm, actor, name="C")
    merge_customers(crm, actor, a.id, [b.id])
    with pytest.raises(NotFound) as missing:
        merge_customers(crm, actor, c.id, [b.id])
    assert missing.value.to_dict() == {
        "code": "not_found",
        "message": f"No customer with id {b.id}.",
        "entity": "customer",
        "id": str(b.id),
    }


def test_undoing_an_unknown_or_undone_merge_is_refused(crm: Crm, actor: Actor) -> None:
    unknown = uuid.uuid4()
    with pytest.raises(NotFound) as missing:
        undo_merge(crm, actor, unknown)
    assert missing.value.to_dict() == {
        "code": "not_found",
        "message": f"No customer_merge with id {unknown}.",
        "entity": "customer_merge",
        "id": str(unknown),
    }
    a = register_customer(crm, actor, name="A")
    b = register_customer(crm, actor, name="B")
    result = merge_customers(crm, actor, a.id, [b.id])
    undo_merge(crm, actor, result.merge_id)
    with pytest.raises(ValidationError) as again:
        undo_merge(crm, actor, result.merge_id)
    assert again.value.to_dict() == _merge_error("undone_at", "is undone already")


def test_an_undo_needs_every_area_that_moved_rows(
    crm: Crm, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    survivor = register_customer(crm, actor, name="Acme")
    duplicate = register_customer(crm, actor, name="Acme Ltd")
    add_contact(crm, actor, duplicate.id, name="Emily")
    result = merge_customers(crm, actor, survivor.id, [duplicate.id])
    monkeypatch.delitem(_PARTS, "customers.contacts")
    with pytest.raises(ValidationError) as refused:
        undo_merge(crm, actor, result.merge_id)
    assert refused.value.to_dict() == _merge_error(
        "moved", "the area that moved customers.contacts is not loaded"
    )
    # Nothing was put back: the history part (undone first) rolled back too.
    assert _record(crm, actor, result.merge_id).undone_at is None
    with pytest.raises(NotFound):
        get_customer(crm, actor, duplicate.id)
    assert _history(crm, actor, duplicate.id, "create") == []


# -- who may merge -------------------------------------------------------------------------------


def _only(crm: Crm, admin: Actor, code: str, grants: list[Grant]) -> Actor:
    define_role(crm, admin, code, grants=grants)
    user = Actor(tenant_id=admin.tenant_id, user_id=uuid.uuid4(), name=code)  # type: ignore[arg-type]
    set_member(crm, admin, user.user_id, name=user.name, roles=[code])
    return user


def test_folding_a_customer_away_needs_delete_or_edit_on_it(crm: Crm, actor: Actor) -> None:
    north = "华北"
    view = Grant("customer", "view", Scope.TENANT)
    edit_north = Grant("customer", "edit", Scope.CUSTOM, F("region").eq(north))
    # Edits the northern customers only, deletes any.
    deleter = _only(
        crm, actor, "deleter", [view, edit_north, Grant("customer", "delete", Scope.TENANT)]
    )
    # Edits the northern customers only, deletes none.
    editor = _only(crm, actor, "editor", [view, edit_north])

    def pair() -> tuple[Any, Any]:
        return (
            register_customer(crm, actor, name=f"北方{uuid.uuid4().hex[:6]}", region=north),
            register_customer(crm, actor, name=f"南方{uuid.uuid4().hex[:6]}", region="华南"),
        )

    kept, south = pair()
    result = merge_customers(crm, deleter, kept.id, [south.id])  # delete is enough
    undo_merge(crm, deleter, result.merge_id)
    kept, other_north = pair()[0], pair()[0]
    merge_customers(crm, editor, kept.id, [other_north.id])  # edit is enough
    kept, south = pair()
    with pytest.raises(PermissionDenied) as refused:
        merge_customers(crm, editor, kept.id, [south.id])
    assert (refused.value.fields["operation"], refused.value.fields["resource"]) == (
        "delete",
        "customer",
    )
    with pytest.raises(PermissionDenied) as refused:
        merge_customers(crm, deleter, south.id, [kept.id])  # may not edit the survivor
    assert refused.value.fields["operation"] == "edit"
    assert get_customer(crm, actor, south.id).deleted_at is None


def test_only_who_could_make_the_merge_may_undo_it(crm: Crm, actor: Actor) -> None:
    team = make_team(crm, actor)
    mine = register_customer(crm, team.li, name="Li's Acme")
    dup = register_customer(crm, team.li, name="Li's Acme (dup)")
    result = merge_customers(crm, team.li, mine.id, [dup.id])
    with pytest.raises(PermissionDenied):
        undo_merge(crm, team.wang, result.merge_id)
    assert _record(crm, actor, result.merge_id).undone_at is None
    assert undo_merge(crm, team.manager, result.merge_id).id == mine.id


# -- values ---------------------------------------------------------------------------------------


def test_empty_values_are_filled_from_the_first_other_that_has_one(crm: Crm, actor: Actor) -> None:
    survivor = register_customer(crm, actor, name="Acme", level="", tags=[])
    first = register_customer(crm, actor, name="Acme 1", level="", industry="制造")
    second = register_customer(
        crm, actor, name="Acme 2", level="B", industry="贸易", tags=["vip"], email="b@acme.cn"
    )
    result = merge_customers(crm, actor, survivor.id, [first.id, second.id])
    merged = result.survivor
    assert (merged.level, merged.industry, merged.tags, merged.email) == (
        "B",
        "制造",
        ("vip",),
        "b@acme.cn",
    )
    record = _record(crm, actor, result.merge_id)
    # Only what changed is kept for the undo, as plain data.
    assert record.fields_before == {"level": "", "industry": None, "tags": [], "email": None}


def test_a_chosen_field_may_come_from_the_survivor_or_any_other(crm: Crm, actor: Actor) -> None:
    survivor = register_customer(crm, actor, name="Acme", level="A", region="华北")
    first = register_customer(crm, actor, name="Acme 1", level="B", region="华东")
    second = register_customer(crm, actor, name="Acme 2", level="C", source="展会")
    result = merge_customers(
        crm,
        actor,
        survivor.id,
        [first.id, second.id],
        choose={"level": second.id, "region": survivor.id, "name": first.id, "source": first.id},
    )
    merged = result.survivor
    # A chosen empty value stands: the gap is not filled from the others.
    assert (merged.level, merged.region, merged.name, merged.source) == (
        "C",
        "华北",
        "Acme 1",
        None,
    )
    assert _record(crm, actor, result.merge_id).fields_before == {"level": "A", "name": "Acme"}


def test_the_survivors_custom_values_stand_and_the_first_others_fill_its_gaps(
    crm: Crm, actor: Actor
) -> None:
    from crmkit.customers import define_custom_field

    for key in ("tier", "note", "code"):
        define_custom_field(crm, actor, key=key, label=key.title(), type="text")
    survivor = register_customer(crm, actor, name="甲", custom={"tier": "gold"})
    first = register_customer(crm, actor, name="乙", custom={"tier": "silver", "note": "一"})
    second = register_customer(crm, actor, name="丙", custom={"note": "二", "code": "C-7"})
    result = merge_customers(crm, actor, survivor.id, [first.id, second.id])
    assert result.survivor.custom == {"tier": "gold", "note": "一", "code": "C-7"}
    undo_merge(crm, actor, result.merge_id)
    assert get_customer(crm, actor, survivor.id).custom == {"tier": "gold"}


# -- what is recorded ----------------------------------------------------------------------------


def test_a_merge_and_its_undo_record_who_when_and_what(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    survivor = register_customer(crm, actor, name="Acme")
    duplicate = register_customer(crm, actor, name="Acme Ltd", level="A")
    clock.advance(hours=1)
    merged_at = clock.now()
    own_history = len(customer_history(crm, actor, duplicate.id, limit=None))
    result = merge_customers(crm, actor, survivor.id, [duplicate.id])
    assert result.moved == {"customers.history": own_history}
    record = _record(crm, actor, result.merge_id)
    assert (record.survivor_id, record.merged_ids, record.merged_at, record.merged_by) == (
        survivor.id,
        (duplicate.id,),
        merged_at,
        actor.user_id,
    )
    assert record.fields_before == {"level": None}
    assert {(m.part, m.from_id) for m in record.moved} == {("customers.history", duplicate.id)}
    gone = crm.run(actor.tenant_id, lambda uow: uow.repository(type(survivor)).get(duplicate.id))
    assert (gone.deleted_at, gone.deleted_by) == (merged_at, actor.user_id)
    merge_id = str(result.merge_id)
    assert ("merge_id", None, merge_id, actor.user_id) in _history(crm, actor, survivor.id, "merge")
    assert ("level", None, "A", actor.user_id) in _history(crm, actor, survivor.id, "merge")
    assert {
        ("merged_into", None, str(survivor.id), actor.user_id),
        ("merge_id", None, merge_id, actor.user_id),
    } <= set(_history(crm, actor, duplicate.id, "merge"))
    assert any(
        field == "deleted_at" and old is None and new and user == actor.user_id
        for field, old, new, user in _history(crm, actor, duplicate.id, "merge")
    )

    clock.advance(hours=1)
    undone_at = clock.now()
    restored = undo_merge(crm, actor, result.merge_id)
    assert restored.level is None
    record = _record(crm, actor, result.merge_id)
    assert (record.undone_at, record.undone_by) == (undone_at, actor.user_id)
    back = get_customer(crm, actor, duplicate.id)
    assert (back.deleted_at, back.deleted_by, back.level) == (None, None, "A")
    assert ("merge_id", merge_id, None, actor.user_id) in _history(
        crm, actor, survivor.id, "unmerge"
    )
    assert ("level", "A", None, actor.user_id) in _history(crm, actor, survivor.id, "unmerge")
    assert any(
        field == "deleted_at" and user == actor.user_id
        for field, _old, _new, user in _history(crm, actor, duplicate.id, "unmerge")
    )
    events = crm.run(actor.tenant_id, lambda uow: uow.outbox.pending(limit=1000))
    done = [e for e in events if isinstance(e, CustomersMerged | CustomerMergeUndone)]
    assert [(type(e), e.tenant_id, e.aggregate_id, e.occurred_at) for e in done] == [
        (CustomersMerged, actor.tenant_id, survivor.id, merged_at),
        (CustomerMergeUndone, actor.tenant_id, survivor.id, undone_at),
    ]
    assert all((e.merge_id, e.merged_ids) == (result.merge_id, (duplicate.id,)) for e in done)


def test_the_undo_puts_back_values_the_survivor_was_edited_to_since(crm: Crm, actor: Actor) -> None:
    from crmkit.customers import update_customer

    survivor = register_customer(crm, actor, name="Acme", tags=["老客户"])
    duplicate = register_customer(crm, actor, name="Acme Ltd", credit_limit=Money("5000", "CNY"))
    result = merge_customers(crm, actor, survivor.id, [duplicate.id])
    assert result.survivor.credit_limit == Money("5000", "CNY")
    update_customer(crm, actor, survivor.id, credit_limit=Money("8000", "CNY"))
    restored = undo_merge(crm, actor, result.merge_id)
    # Stored as plain data and read back into the field's type.
    assert (restored.credit_limit, restored.tags) == (None, ("老客户",))


# -- contacts -------------------------------------------------------------------------------------


def test_merged_contacts_follow_the_survivors_owner_and_one_primary_stays(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    department = define_department(crm, actor, "华北销售部")
    rep = uuid.uuid4()
    set_member(crm, actor, rep, name="Li Na", department_id=department.id)
    survivor = register_customer(crm, actor, name="Acme", owner_id=rep, department_id=department.id)
    first = register_customer(crm, actor, name="Acme 1")
    second = register_customer(crm, actor, name="Acme 2")
    # The survivor has no contact: the first merged customer's primary (in the order the
    # merged customers were given) stays primary, every other one does not.
    add_contact(crm, actor, second.id, name="二号", primary=True)
    clock.advance(seconds=1)
    add_contact(crm, actor, first.id, name="一号", primary=True)
    clock.advance(seconds=1)
    add_contact(crm, actor, first.id, name="一号乙")
    result = merge_customers(crm, actor, survivor.id, [first.id, second.id])
    assert result.moved["customers.contacts"] == 3
    contacts = crm.run(
        actor.tenant_id,
        lambda uow: uow.repository(Contact).query(Query(where=F("customer_id").eq(survivor.id))),
    )
    assert sorted((c.name, c.primary, c.owner_id, c.department_id) for c in contacts) == [
        ("一号", True, rep, department.id),
        ("一号乙", False, rep, department.id),
        ("二号", False, rep, department.id),
    ]
    record = _record(crm, actor, result.merge_id)
    moved = [(m.from_id, m.data) for m in record.moved if m.part == "customers.contacts"]
    assert [from_id for from_id, _ in moved] == [first.id, first.id, second.id]
    assert [data["primary"] for _, data in moved] == ["1", "", "1"]
    # The contacts' owner and department were their customers' (the registering admin).
    assert {(d["owner_id"], d["department_id"]) for _, d in moved} == {(str(actor.user_id), None)}

    undo_merge(crm, actor, result.merge_id)
    assert [(c.name, c.primary) for c in list_contacts(crm, actor, first.id)] == [
        ("一号", True),
        ("一号乙", False),
    ]
    assert [(c.name, c.primary, c.owner_id) for c in list_contacts(crm, actor, second.id)] == [
        ("二号", True, actor.user_id)
    ]


def test_contacts_moved_from_an_owned_customer_come_back_to_its_owner(
    crm: Crm, actor: Actor
) -> None:
    department = define_department(crm, actor, "华东销售部")
    rep = uuid.uuid4()
    set_member(crm, actor, rep, name="Wang Fang", department_id=department.id)
    survivor = register_customer(crm, actor, name="Acme")
    owned = register_customer(crm, actor, name="Acme 1", owner_id=rep, department_id=department.id)
    add_contact(crm, actor, owned.id, name="王")
    result = merge_customers(crm, actor, survivor.id, [owned.id])
    moved = [m.data for m in _record(crm, actor, result.merge_id).moved if m.part.endswith("ts")]
    assert [(d["owner_id"], d["department_id"]) for d in moved] == [(str(rep), str(department.id))]
    undo_merge(crm, actor, result.merge_id)
    [contact] = list_contacts(crm, actor, owned.id)
    assert (contact.owner_id, contact.department_id) == (rep, department.id)


# -- relations ------------------------------------------------------------------------------------


def test_relations_moved_and_dropped_are_recorded_and_restored_exactly(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    group = register_customer(crm, actor, name="集团")
    survivor = register_customer(crm, actor, name="华为科技")
    duplicate = register_customer(crm, actor, name="华为科技 (dup)")
    partner = register_customer(crm, actor, name="联想")
    relate_customers(crm, actor, survivor.id, partner.id, "partner")
    clock.advance(minutes=5)
    relate_customers(crm, actor, group.id, duplicate.id, "parent", note="控股 51%")
    relate_customers(crm, actor, duplicate.id, partner.id, "partner", note="重复")

    def relations() -> dict[uuid.UUID, tuple[Any, ...]]:
        rows = crm.run(actor.tenant_id, lambda uow: uow.repository(CustomerRelation).query(Query()))
        return {
            r.id: (r.from_id, r.to_id, r.kind, r.note, r.created_at, r.created_by) for r in rows
        }

    before = relations()
    result = merge_customers(crm, actor, survivor.id, [duplicate.id])
    after = relations()
    assert sorted((f, t, k.value) for f, t, k, *_ in after.values()) == sorted(
        [(survivor.id, partner.id, "partner"), (group.id, survivor.id, "parent")]
    )
    moved = {
        m.id: m for m in _record(crm, actor, result.merge_id).moved if m.part.endswith("relations")
    }
    dropped = [m for m in moved.values() if m.data.get("dropped")]
    assert len(dropped) == 1
    [drop] = dropped
    assert drop.from_id == duplicate.id
    assert drop.data == {
        "dropped": "1",
        "to_id": str(partner.id),
        "kind": "partner",
        "created_at": before[drop.id][4].isoformat(),
        "created_by": str(actor.user_id),
        "note": "重复",
    }
    [parent] = [m for m in moved.values() if not m.data.get("dropped")]
    assert (parent.from_id, parent.data) == (group.id, {"to_id": str(duplicate.id)})

    undo_merge(crm, actor, result.merge_id)
    assert relations() == before


def test_a_second_parent_is_dropped_and_the_survivors_own_parent_kept(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    old_group = register_customer(crm, actor, name="老集团")
    new_group = register_customer(crm, actor, name="新集团")
    survivor = register_customer(crm, actor, name="子公司")
    duplicate = register_customer(crm, actor, name="子公司 (dup)")
    # The duplicate's parent relation is older; the survivor's is kept all the same.
    relate_customers(crm, actor, old_group.id, duplicate.id, "parent")
    clock.advance(days=1)
    relate_customers(crm, actor, new_group.id, survivor.id, "parent")
    merge_customers(crm, actor, survivor.id, [duplicate.id])
    rows = crm.run(actor.tenant_id, lambda uow: uow.repository(CustomerRelation).query(Query()))
    assert [(r.from_id, r.to_id) for r in rows] == [(new_group.id, survivor.id)]


def test_two_merged_parents_keep_the_older_relation(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    groups = [register_customer(crm, actor, name=f"集团{i}") for i in range(2)]
    survivor = register_customer(crm, actor, name="子公司")
    dups = [register_customer(crm, actor, name=f"子公司 {i}") for i in range(2)]
    relate_customers(crm, actor, groups[1].id, dups[1].id, "parent")
    clock.advance(days=1)
    relate_customers(crm, actor, groups[0].id, dups[0].id, "parent")
    merge_customers(crm, actor, survivor.id, [dups[0].id, dups[1].id])
    rows = crm.run(actor.tenant_id, lambda uow: uow.repository(CustomerRelation).query(Query()))
    assert [(r.from_id, r.to_id) for r in rows] == [(groups[1].id, survivor.id)]


def test_a_subsidiary_keeps_its_parent_when_merged_with_a_sibling(crm: Crm, actor: Actor) -> None:
    # Two parent edges into different customers are no clash: each child has one parent.
    group = register_customer(crm, actor, name="集团")
    survivor = register_customer(crm, actor, name="集团 (dup)")
    child_a = register_customer(crm, actor, name="子A")
    child_b = register_customer(crm, actor, name="子B")
    relate_customers(crm, actor, survivor.id, child_a.id, "parent")
    relate_customers(crm, actor, group.id, child_b.id, "parent")
    merge_customers(crm, actor, survivor.id, [group.id])
    rows = crm.run(actor.tenant_id, lambda uow: uow.repository(CustomerRelation).query(Query()))
    assert sorted((r.from_id, r.to_id) for r in rows) == sorted(
        [(survivor.id, child_a.id), (survivor.id, child_b.id)]
    )


def test_a_looping_hierarchy_is_refused_with_its_reason(crm: Crm, actor: Actor) -> None:
    top = register_customer(crm, actor, name="Top")
    middle = register_customer(crm, actor, name="Middle")
    bottom = register_customer(crm, actor, name="Bottom")
    relate_customers(crm, actor, top.id, middle.id, "parent")
    relate_customers(crm, actor, middle.id, bottom.id, "parent")
    # Bottom folded into Top makes Top the child of Middle, whose parent is Top.
    with pytest.raises(HierarchyCycle) as refused:
        merge_customers(crm, actor, top.id, [bottom.id])
    assert refused.value.to_dict() == {
        "code": "hierarchy_cycle",
        "message": refused.value.message(),
        "entity": "customer_relation",
        "field": "from_id",
        "reason": "the group hierarchy would loop",
        "row": None,
    }
    assert "customer_relation.from_id" in refused.value.message()
    rows = crm.run(actor.tenant_id, lambda uow: uow.repository(CustomerRelation).query(Query()))
    assert sorted((r.from_id, r.to_id) for r in rows) == sorted(
        [(top.id, middle.id), (middle.id, bottom.id)]
    )


def test_relations_that_stay_where_they_are_are_not_recorded(crm: Crm, actor: Actor) -> None:
    survivor = register_customer(crm, actor, name="Acme")
    duplicate = register_customer(crm, actor, name="Acme (dup)")
    partner = register_customer(crm, actor, name="Partner")
    relate_customers(crm, actor, survivor.id, partner.id, "partner")
    result = merge_customers(crm, actor, survivor.id, [duplicate.id])
    assert "customers.relations" not in result.moved


# -- parts registered by areas ---------------------------------------------------------------------


def test_a_part_registered_at_run_time_moves_its_rows_and_puts_them_back(
    crm: Crm, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A host loading an area late registers its part after import; the default field is
    # customer_id.
    name = "pipeline.opportunities"
    monkeypatch.setitem(_PARTS, name, _PARTS[name])
    register_merge_part(name, *repoint_part(Opportunity))
    assert _PARTS[name].name == name
    survivor = register_customer(crm, actor, name="深圳腾达电子股份有限公司")
    duplicates = [register_customer(crm, actor, name=f"深圳腾达电子 {i}") for i in range(2)]
    process = define_sales_process(
        crm, actor, "standard", default_process(actor.tenant_id, uuid.uuid4()).stages
    )
    deals = [
        open_opportunity(
            crm,
            actor,
            customer_id=customer.id,
            name=f"MES {n}",
            amount=Money("1000", "CNY"),
            process_id=process.id,
        )
        for n, customer in enumerate([*duplicates, duplicates[1], survivor])
    ]

    def owners() -> list[uuid.UUID]:
        return [
            crm.run(
                actor.tenant_id, lambda uow, d=d: uow.repository(Opportunity).get(d.id)
            ).customer_id
            for d in deals
        ]

    result = merge_customers(crm, actor, survivor.id, [d.id for d in duplicates])
    assert result.moved[name] == 3
    assert owners() == [survivor.id] * 4
    record = _record(crm, actor, result.merge_id)
    moved = sorted((m.id, m.from_id) for m in record.moved if m.part == name)
    assert moved == sorted(
        [
            (deals[0].id, duplicates[0].id),
            (deals[1].id, duplicates[1].id),
            (deals[2].id, duplicates[1].id),
        ]
    )
    undo_merge(crm, actor, result.merge_id)
    assert owners() == [duplicates[0].id, duplicates[1].id, duplicates[1].id, survivor.id]


def test_history_follows_the_merge_and_goes_back(crm: Crm, actor: Actor) -> None:
    survivor = register_customer(crm, actor, name="Acme")
    duplicate = register_customer(crm, actor, name="Acme Ltd")

    def history_of(customer_id: uuid.UUID) -> set[uuid.UUID]:
        rows = crm.run(
            actor.tenant_id,
            lambda uow: uow.repository(ChangeRecord).query(
                Query(where=F("customer_id").eq(customer_id))
            ),
        )
        return {r.id for r in rows}

    own = history_of(duplicate.id)
    result = merge_customers(crm, actor, survivor.id, [duplicate.id])
    assert own <= history_of(survivor.id)
    assert not own & history_of(duplicate.id)
    undo_merge(crm, actor, result.merge_id)
    assert own <= history_of(duplicate.id)
    assert not own & history_of(survivor.id)


def test_the_pair_repoint_part_makes_moves_rows_and_puts_them_back(crm: Crm, actor: Actor) -> None:
    # Called directly, as a host composing its own part would: the part name is left empty
    # for register_merge_part to fill in.
    survivor = register_customer(crm, actor, name="Acme")
    duplicate = register_customer(crm, actor, name="Acme Ltd")
    move, undo = repoint_part(ChangeRecord)

    def rows_of(customer_id: uuid.UUID) -> list[uuid.UUID]:
        found = crm.run(
            actor.tenant_id,
            lambda uow: uow.repository(ChangeRecord).query(
                Query(where=F("customer_id").eq(customer_id))
            ),
        )
        return [r.id for r in found]

    own, theirs = rows_of(survivor.id), rows_of(duplicate.id)
    moved = crm.run(actor.tenant_id, lambda uow: move(uow, [duplicate.id], survivor.id))
    assert moved == [Moved(part="", id=i, from_id=duplicate.id) for i in theirs]
    assert sorted(rows_of(survivor.id)) == sorted(own + theirs)
    crm.run(actor.tenant_id, lambda uow: undo(uow, moved))
    assert (rows_of(survivor.id), rows_of(duplicate.id)) == (own, theirs)


def test_the_oldest_of_two_primary_contacts_keeps_the_flag(crm: Crm, actor: Actor) -> None:
    # Rows written before the services kept one primary per customer: whichever was
    # entered first (not whichever has the lower id) stays the survivor's primary.
    survivor = register_customer(crm, actor, name="Acme")
    duplicate = register_customer(crm, actor, name="Acme Ltd")
    now = crm.now()
    lower_id_newer = Contact(
        id=uuid.UUID(int=1),
        tenant_id=actor.tenant_id,
        customer_id=duplicate.id,
        name="新",
        created_at=now,
        primary=True,
    )
    higher_id_older = attrs.evolve(
        lower_id_newer, id=uuid.UUID(int=2), name="旧", created_at=now - timedelta(days=30)
    )
    crm.run(
        actor.tenant_id,
        lambda uow: uow.repository(Contact).add_many([lower_id_newer, higher_id_older]),
    )
    result = merge_customers(crm, actor, survivor.id, [duplicate.id])
    contacts = list_contacts(crm, actor, survivor.id)
    assert sorted((c.name, c.primary) for c in contacts) == [("新", False), ("旧", True)]
    moved = [m.id for m in _record(crm, actor, result.merge_id).moved if m.part.endswith("ts")]
    assert moved == [higher_id_older.id, lower_id_newer.id]


def test_the_undo_restores_an_overwritten_value_of_its_own_type_and_records_it(
    crm: Crm, actor: Actor
) -> None:
    survivor = register_customer(
        crm, actor, name="Acme", level="B", credit_limit=Money("8000", "CNY")
    )
    duplicate = register_customer(
        crm, actor, name="Acme Ltd", level="A", credit_limit=Money("5000", "CNY")
    )
    result = merge_customers(
        crm,
        actor,
        survivor.id,
        [duplicate.id],
        choose={"credit_limit": duplicate.id, "level": duplicate.id},
    )
    assert result.survivor.credit_limit == Money("5000", "CNY")
    restored = undo_merge(crm, actor, result.merge_id)
    assert (restored.credit_limit, restored.level) == (Money("8000", "CNY"), "B")
    assert get_customer(crm, actor, survivor.id).credit_limit == Money("8000", "CNY")
    events = crm.run(actor.tenant_id, lambda uow: uow.outbox.pending(limit=1000))
    changed = [
        e.changes
        for e in events
        if isinstance(e, CustomerChanged) and e.aggregate_id == survivor.id
    ]
    # The merge's change, then the undo's, which names the values it put back.
    assert len(changed) == 2
    assert changed[1]["level"] == ("A", "B")
    assert set(changed[1]) == {"level", "credit_limit"}


def test_a_merge_may_not_write_a_field_read_only_for_the_actor(crm: Crm, actor: Actor) -> None:
    from crmkit.rules.permissions.model.roles import FieldAccess, FieldRule

    grants = [Grant("customer", op, Scope.TENANT) for op in ("view", "edit", "delete")]
    clerk = _only(crm, actor, "clerk", grants)
    define_role(
        crm,
        actor,
        "clerk",
        grants=grants,
        field_rules=[FieldRule("customer", "level", FieldAccess.READ_ONLY)],
    )
    survivor = register_customer(crm, actor, name="Acme", level="B")
    duplicate = register_customer(crm, actor, name="Acme Ltd", level="A", region="华北")
    with pytest.raises(PermissionDenied) as refused:
        merge_customers(crm, clerk, survivor.id, [duplicate.id], choose={"level": duplicate.id})
    assert (refused.value.fields["operation"], refused.value.fields["field"]) == ("edit", "level")
    assert get_customer(crm, actor, duplicate.id).deleted_at is None
    # Leaving the read-only field as it is, the merge goes through.
    assert merge_customers(crm, clerk, survivor.id, [duplicate.id]).survivor.region == "华北"


def test_the_merge_history_names_only_the_fields_that_changed(crm: Crm, actor: Actor) -> None:
    survivor = register_customer(crm, actor, name="Acme", level="B")
    duplicate = register_customer(crm, actor, name="Acme Ltd", level="A", region="华北")
    result = merge_customers(crm, actor, survivor.id, [duplicate.id])
    assert {f for f, *_ in _history(crm, actor, survivor.id, "merge")} == {"region", "merge_id"}
    assert {f for f, *_ in _history(crm, actor, duplicate.id, "merge")} == {
        "deleted_at",
        "deleted_by",
        "merged_into",
        "merge_id",
    }
    events = crm.run(actor.tenant_id, lambda uow: uow.outbox.pending(limit=1000))
    [changed] = [
        e for e in events if isinstance(e, CustomerChanged) and e.aggregate_id == survivor.id
    ]
    assert (changed.changes, changed.occurred_at) == ({"region": (None, "华北")}, crm.now())
    assert result.survivor.region == "华北"
