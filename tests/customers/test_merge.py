"""Merging duplicate customers into a survivor, and undoing the merge."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from crmkit import Crm, NotFound, PermissionDenied, ValidationError
from crmkit.billing import get_plan
from crmkit.customers import (
    ChangeRecord,
    Contact,
    Customer,
    CustomerMergeUndone,
    CustomerRelation,
    CustomersMerged,
    HierarchyCycle,
    MergeRecord,
    add_contact,
    customer_history,
    get_customer,
    list_contacts,
    list_recycle_bin,
    list_relations,
    merge_customers,
    register_customer,
    relate_customers,
    undo_merge,
)
from crmkit.kernel.actor import Actor
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Query
from crmkit.pipeline import define_sales_process, open_opportunity
from crmkit.pipeline.model.opportunities import Opportunity, default_process
from crmkit.rules.permissions import bootstrap_tenant, define_department, set_member
from tests.billing.builders import make_plan
from tests.customers.team import make_team


def _rows(crm: Crm, tenant: TenantId, entity: type[Any], where: Any) -> list[Any]:
    return crm.run(tenant, lambda uow: uow.repository(entity).query(Query(where=where)))


def test_merge_moves_contacts_and_history_and_bins_the_duplicate(crm: Crm, actor: Actor) -> None:
    survivor = register_customer(crm, actor, name="北京华为科技有限公司", level="A")
    duplicate = register_customer(crm, actor, name="北京华为科技（有限公司）", phone="010-62345678")
    zhang = add_contact(crm, actor, survivor.id, name="张伟")
    chen = add_contact(crm, actor, duplicate.id, name="陈静")
    assert chen.primary

    result = merge_customers(crm, actor, survivor.id, [duplicate.id])

    assert result.merged_ids == (duplicate.id,)
    assert result.moved["customers.contacts"] == 1
    contacts = list_contacts(crm, actor, survivor.id)
    assert [(c.name, c.primary) for c in contacts] == [("张伟", True), ("陈静", False)]
    assert zhang.id in {c.id for c in contacts}
    # The survivor keeps its name and level and takes the phone it lacked.
    merged = get_customer(crm, actor, survivor.id)
    assert (merged.name, merged.level, merged.phone) == (
        "北京华为科技有限公司",
        "A",
        "010-62345678",
    )
    # The duplicate is in the recycle bin, not purged, and says where it went.
    with pytest.raises(NotFound):
        get_customer(crm, actor, duplicate.id)
    assert duplicate.id in {c.id for c in list_recycle_bin(crm, actor)}
    marker = [r for r in customer_history(crm, actor, duplicate.id) if r.field == "merged_into"]
    assert [r.new_value for r in marker] == [str(survivor.id)]
    # The survivor's history now includes the duplicate's registration and the merge.
    history = customer_history(crm, actor, survivor.id, limit=None)
    created = [r for r in history if r.action == "create" and r.field == "name"]
    assert sorted(r.new_value for r in created) == sorted([survivor.name, duplicate.name])
    assert any(r.field == "merge_id" and r.new_value == str(result.merge_id) for r in history)
    assert any((r.field or "").startswith("contact.陈静") for r in history)


def test_chosen_fields_come_from_the_named_customer(crm: Crm, actor: Actor) -> None:
    survivor = register_customer(crm, actor, name="Acme Trading", level="B", region=None)
    first = register_customer(crm, actor, name="Acme Trading Co.", level="A", region="华东")
    second = register_customer(crm, actor, name="ACME", region="华北", industry="贸易")

    result = merge_customers(
        crm, actor, survivor.id, [first.id, second.id], choose={"level": first.id}
    )

    merged = result.survivor
    assert merged.level == "A"  # chosen
    assert merged.region == "华东"  # the survivor's was empty: first non-empty, in order
    assert merged.industry == "贸易"
    assert merged.name == "Acme Trading"  # the survivor's own value


def test_undo_puts_every_row_and_value_back(crm: Crm, actor: Actor) -> None:
    survivor = register_customer(crm, actor, name="Acme", level="B")
    duplicate = register_customer(crm, actor, name="Acme Ltd", level="A", email="a@acme.cn")
    contact = add_contact(crm, actor, duplicate.id, name="Emily")
    result = merge_customers(
        crm, actor, survivor.id, [duplicate.id], choose={"level": duplicate.id}
    )
    assert get_customer(crm, actor, survivor.id).level == "A"

    restored = undo_merge(crm, actor, result.merge_id)

    assert (restored.level, restored.email) == ("B", None)
    back = get_customer(crm, actor, duplicate.id)
    assert (back.deleted_at, back.level, back.email) == (None, "A", "a@acme.cn")
    assert [(c.id, c.primary) for c in list_contacts(crm, actor, duplicate.id)] == [
        (contact.id, True)
    ]
    assert list_contacts(crm, actor, survivor.id) == []
    assert any(r.action == "unmerge" for r in customer_history(crm, actor, survivor.id))
    with pytest.raises(ValidationError):
        undo_merge(crm, actor, result.merge_id)


def test_opportunity_and_receivable_plan_follow_the_merge_and_come_back(
    crm: Crm, actor: Actor
) -> None:
    survivor = register_customer(crm, actor, name="深圳腾达电子股份有限公司")
    duplicate = register_customer(crm, actor, name="深圳腾达电子")
    process = define_sales_process(
        crm, actor, "standard", default_process(actor.tenant_id, uuid.uuid4()).stages
    )
    deal = open_opportunity(
        crm,
        actor,
        customer_id=duplicate.id,
        name="MES 集成",
        amount=Money("520000", "CNY"),
        process_id=process.id,
    )
    plan = make_plan(crm, actor, customer_id=duplicate.id)

    result = merge_customers(crm, actor, survivor.id, [duplicate.id])

    assert result.moved["pipeline.opportunities"] == 1
    assert result.moved["billing.plans"] == 1
    assert result.moved["billing.installments"] == 3
    moved_deal = crm.run(actor.tenant_id, lambda uow: uow.repository(Opportunity).get(deal.id))
    assert moved_deal.customer_id == survivor.id
    view = get_plan(crm, actor, plan.plan.id)
    assert view.plan.customer_id == survivor.id
    assert {i.customer_id for i in view.installments} == {survivor.id}

    undo_merge(crm, actor, result.merge_id)

    back_deal = crm.run(actor.tenant_id, lambda uow: uow.repository(Opportunity).get(deal.id))
    assert back_deal.customer_id == duplicate.id
    view = get_plan(crm, actor, plan.plan.id)
    assert view.plan.customer_id == duplicate.id
    assert {i.customer_id for i in view.installments} == {duplicate.id}


def test_relations_are_repointed_without_self_relations_or_duplicates(
    crm: Crm, actor: Actor
) -> None:
    group = register_customer(crm, actor, name="华为集团")
    survivor = register_customer(crm, actor, name="华为科技")
    duplicate = register_customer(crm, actor, name="华为科技 (dup)")
    partner = register_customer(crm, actor, name="联想")
    relate_customers(crm, actor, group.id, survivor.id, "parent")
    relate_customers(crm, actor, group.id, duplicate.id, "parent")  # would be a second parent
    relate_customers(crm, actor, duplicate.id, partner.id, "partner")
    relate_customers(
        crm, actor, survivor.id, duplicate.id, "competitor"
    )  # would be a self-relation

    result = merge_customers(crm, actor, survivor.id, [duplicate.id])

    assert result.moved["customers.relations"] == 3
    kinds = sorted(
        (r.from_id, r.to_id, r.kind.value) for r in list_relations(crm, actor, survivor.id)
    )
    assert kinds == sorted(
        [(group.id, survivor.id, "parent"), (survivor.id, partner.id, "partner")]
    )
    undo_merge(crm, actor, result.merge_id)
    assert len(list_relations(crm, actor, duplicate.id)) == 3
    assert len(list_relations(crm, actor, survivor.id)) == 2


def test_a_merge_that_would_loop_the_group_hierarchy_is_refused(crm: Crm, actor: Actor) -> None:
    survivor = register_customer(crm, actor, name="Parent Co")
    child = register_customer(crm, actor, name="Child Co")
    duplicate = register_customer(crm, actor, name="Parent Co (dup)")
    relate_customers(crm, actor, survivor.id, child.id, "parent")
    relate_customers(crm, actor, child.id, duplicate.id, "parent")

    with pytest.raises(HierarchyCycle):
        merge_customers(crm, actor, survivor.id, [duplicate.id])

    assert get_customer(crm, actor, duplicate.id).deleted_at is None
    assert len(list_relations(crm, actor, duplicate.id)) == 1


def test_bad_requests_are_refused(crm: Crm, actor: Actor) -> None:
    a = register_customer(crm, actor, name="A")
    b = register_customer(crm, actor, name="B")
    with pytest.raises(ValidationError):
        merge_customers(crm, actor, a.id, [])
    with pytest.raises(ValidationError):
        merge_customers(crm, actor, a.id, [a.id])
    with pytest.raises(ValidationError):
        merge_customers(crm, actor, a.id, [b.id, b.id])
    with pytest.raises(ValidationError):
        merge_customers(crm, actor, a.id, [b.id], choose={"owner_id": b.id})
    with pytest.raises(ValidationError):
        merge_customers(crm, actor, a.id, [b.id], choose={"level": uuid.uuid4()})
    with pytest.raises(NotFound):
        merge_customers(crm, actor, a.id, [uuid.uuid4()])
    with pytest.raises(NotFound):
        undo_merge(crm, actor, uuid.uuid4())
    assert get_customer(crm, actor, b.id).deleted_at is None


def test_a_rep_cannot_merge_a_colleagues_customer(crm: Crm, actor: Actor) -> None:
    team = make_team(crm, actor)
    mine = register_customer(crm, team.li, name="Li's Acme")
    theirs = register_customer(crm, team.wang, name="Wang's Acme")
    with pytest.raises(PermissionDenied):
        merge_customers(crm, team.li, mine.id, [theirs.id])
    with pytest.raises(PermissionDenied):
        merge_customers(crm, team.li, theirs.id, [mine.id])
    assert get_customer(crm, team.wang, theirs.id).deleted_at is None
    # Her manager reaches both reps' customers.
    merge_customers(crm, team.manager, mine.id, [theirs.id])
    assert get_customer(crm, team.manager, mine.id).owner_id == team.li.user_id


def test_a_merge_and_its_undo_are_stored_and_emit_events(crm: Crm, actor: Actor) -> None:
    a = register_customer(crm, actor, name="A")
    b = register_customer(crm, actor, name="B")
    result = merge_customers(crm, actor, a.id, [b.id])
    record = crm.run(actor.tenant_id, lambda uow: uow.repository(MergeRecord).get(result.merge_id))
    assert (record.survivor_id, record.merged_ids, record.undone_at) == (a.id, (b.id,), None)
    assert {m.part for m in record.moved} == {"customers.history"}
    undo_merge(crm, actor, result.merge_id)
    events = crm.run(actor.tenant_id, lambda uow: uow.outbox.pending(limit=1000))
    merged = [e for e in events if isinstance(e, CustomersMerged)]
    undone = [e for e in events if isinstance(e, CustomerMergeUndone)]
    assert [(e.aggregate_id, e.merge_id, e.merged_ids) for e in merged + undone] == [
        (a.id, result.merge_id, (b.id,))
    ] * 2


# -- merge then undo leaves every row as it was ------------------------------------------------

_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "level": st.sampled_from(["A", "B", "C"]),
        "region": st.sampled_from(["华北", "华东"]),
        "email": st.sampled_from(["a@x.cn", "b@y.cn"]),
        "tags": st.lists(st.sampled_from(["vip", "重点"]), max_size=2, unique=True),
    },
)
# Owners and departments vary so undo must restore the moved contacts' owner and
# department (they follow the survivor while merged); the primary flags vary so undo must
# give each merged customer its own primary contact back.
_OWNERS = [None, uuid.UUID(int=71), uuid.UUID(int=72)]
_DEPARTMENTS = [None, uuid.UUID(int=81), uuid.UUID(int=82)]
_CUSTOMER = st.tuples(
    _FIELDS,
    st.lists(st.booleans(), max_size=3),  # one contact per flag: asked to be primary?
    st.sampled_from(_OWNERS),
    st.sampled_from(_DEPARTMENTS),
)
_KINDS = ["parent", "partner", "competitor"]


def _state(crm: Crm, tenant: TenantId, history_ids: set[uuid.UUID]) -> dict[str, Any]:
    def plain(row: Any) -> dict[str, Any]:
        return {k: v for k, v in attrs.asdict(row, recurse=False).items() if k != "version"}

    def read(uow: Any) -> dict[str, Any]:
        return {
            "customers": {c.id: plain(c) for c in uow.repository(Customer).query(Query())},
            "contacts": {c.id: plain(c) for c in uow.repository(Contact).query(Query())},
            "relations": {r.id: plain(r) for r in uow.repository(CustomerRelation).query(Query())},
            "history": {
                r.id: r.customer_id
                for r in uow.repository(ChangeRecord).query(Query())
                if r.id in history_ids
            },
        }

    return crm.run(tenant, read)


def test_merges_are_listed_and_a_merged_customer_redirects_to_its_survivor(
    crm: Crm, actor: Actor
) -> None:
    from crmkit.customers.queries.merges import list_merges, merged_into

    first = register_customer(crm, actor, name="杭州海康电子")
    second = register_customer(crm, actor, name="杭州海康电子（杭州）")
    final = register_customer(crm, actor, name="海康威视集团")
    add_contact(crm, actor, second.id, name="何海")
    early = merge_customers(crm, actor, first.id, [second.id])
    late = merge_customers(crm, actor, final.id, [first.id])

    # A chain of merges redirects to the customer that carries everything now.
    assert merged_into(crm, actor, second.id) == final.id
    assert merged_into(crm, actor, first.id) == final.id
    assert merged_into(crm, actor, final.id) is None
    listed = list_merges(crm, actor, first.id)
    assert [m.merge_id for m in listed] == [late.merge_id, early.merge_id]
    assert listed[1].merged_ids == (second.id,)
    assert listed[1].moved.get("customers.contacts") == 1
    assert [m.merge_id for m in list_merges(crm, actor, second.id)] == [early.merge_id]

    undo_merge(crm, actor, late.merge_id)
    assert merged_into(crm, actor, second.id) == first.id
    assert merged_into(crm, actor, first.id) is None
    assert list_merges(crm, actor, final.id)[0].undone_by == actor.user_id
    undo_merge(crm, actor, early.merge_id)
    assert merged_into(crm, actor, second.id) is None


def test_merge_lookups_need_view_on_the_customer(crm: Crm, actor: Actor) -> None:
    from crmkit.customers.queries.merges import list_merges, merged_into

    team = make_team(crm, actor)
    mine = register_customer(crm, team.li, name="深圳腾达电子")
    dup = register_customer(crm, team.li, name="深圳腾达电子有限公司")
    merge_customers(crm, team.li, mine.id, [dup.id])
    assert merged_into(crm, team.li, dup.id) == mine.id
    with pytest.raises(PermissionDenied):
        merged_into(crm, team.wang, dup.id)
    with pytest.raises(PermissionDenied):
        list_merges(crm, team.wang, mine.id)


@pytest.mark.parametrize("backend", ["memory", "sqlite"], indirect=True)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    customers=st.lists(_CUSTOMER, min_size=2, max_size=4),
    relations=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 3), st.sampled_from(_KINDS)), max_size=5
    ),
    data=st.data(),
)
def test_merge_then_undo_leaves_every_row_as_before(
    crm: Crm,
    customers: list[tuple[dict[str, Any], list[bool], uuid.UUID | None, uuid.UUID | None]],
    relations: list[tuple[int, int, str]],
    data: st.DataObject,
) -> None:
    tenant = TenantId(uuid.uuid4())
    actor = Actor(tenant, UserId(uuid.uuid4()), "admin")
    bootstrap_tenant(crm, tenant, actor.user_id, actor.name)
    # owners and departments must exist in the tenant (an unknown id is refused)
    for department_id in filter(None, _DEPARTMENTS):
        define_department(crm, actor, f"Dept {department_id.int}", id=department_id)
    for owner_id in filter(None, _OWNERS):
        set_member(crm, actor, UserId(owner_id), name=f"Rep {owner_id.int}")
    ids = []
    for index, (fields, contacts, owner, department) in enumerate(customers):
        customer = register_customer(
            crm, actor, name=f"Acme {index}", owner_id=owner, department_id=department, **fields
        )
        ids.append(customer.id)
        for n, primary in enumerate(contacts):
            add_contact(crm, actor, customer.id, name=f"Contact {index}-{n}", primary=primary)
    for a, b, kind in relations:
        if a < len(ids) and b < len(ids):
            # A self, repeated, second-parent or looping relation is refused: not stored.
            with contextlib.suppress(ValidationError):
                relate_customers(crm, actor, ids[a], ids[b], kind)
    survivor = data.draw(st.sampled_from(ids))
    rest = [i for i in ids if i != survivor]
    others = data.draw(st.lists(st.sampled_from(rest), min_size=1, unique=True))
    involved = [survivor, *others]
    choose = data.draw(
        st.dictionaries(
            st.sampled_from(["level", "region", "email", "tags", "name"]), st.sampled_from(involved)
        )
    )
    history_ids = {r.id for r in _rows(crm, tenant, ChangeRecord, F("id").not_null())}
    before = _state(crm, tenant, history_ids)

    try:
        result = merge_customers(crm, actor, survivor, others, choose=choose)
    except HierarchyCycle:
        event("refused: the hierarchy would loop")
        assert _state(crm, tenant, history_ids) == before
        return
    event(f"merged {len(others)} into 1")
    after_merge = _state(crm, tenant, history_ids)
    assert all(after_merge["customers"][o]["deleted_at"] is not None for o in others)
    assert {c["customer_id"] for c in after_merge["contacts"].values()} <= set(ids) - set(others)
    assert set(after_merge["history"].values()) <= set(ids) - set(others)

    undo_merge(crm, actor, result.merge_id)

    assert _state(crm, tenant, history_ids) == before
