"""One search box over customers, contacts, leads and opportunities, within the actor's
scope; and a merged customer comes back only through undoing its merge."""

from __future__ import annotations

import uuid

import pytest

from crmkit import Crm, ValidationError
from crmkit.customers import (
    SearchHit,
    add_contact,
    delete_customer,
    get_customer,
    global_search,
    merge_customers,
    register_customer,
    register_search_part,
    restore_customer,
    undo_merge,
)
from crmkit.customers.queries import search_all
from crmkit.customers.queries.search_all import prefix_variants
from crmkit.kernel.actor import Actor
from crmkit.kernel.ids import UserId
from crmkit.kernel.money import Money
from crmkit.pipeline import create_lead, define_sales_process, open_opportunity
from crmkit.pipeline.model.opportunities import default_process
from crmkit.rules.permissions import FieldAccess, FieldRule, Grant, Scope, define_role, set_member
from tests.customers.team import make_team


def _titles(found: tuple[SearchHit, ...]) -> list[str]:
    return [hit.title for hit in found]


def _deal(crm: Crm, actor: Actor, customer_id: uuid.UUID, name: str) -> uuid.UUID:
    process = define_sales_process(
        crm, actor, "standard", default_process(actor.tenant_id, uuid.uuid4()).stages
    )
    deal = open_opportunity(
        crm,
        actor,
        customer_id=customer_id,
        name=name,
        amount=Money("100000", "CNY"),
        process_id=process.id,
    )
    return deal.id


def test_one_search_finds_every_kind_with_its_customer(crm: Crm, actor: Actor) -> None:
    huawei = register_customer(crm, actor, name="北京华为科技有限公司")
    register_customer(crm, actor, name="上海银行")
    contact = add_contact(crm, actor, huawei.id, name="华晓明", phones=["13912345678"])
    lead = create_lead(crm, actor, name="华夏物流询价", company="华夏物流")
    deal_id = _deal(crm, actor, huawei.id, "华为 MES 集成")

    found = global_search(crm, actor, "华")

    # The name behind its region opens with 华 (北京 | 华为).
    assert found.of("customer") == (SearchHit("customer", huawei.id, huawei.name, huawei.id),)
    assert found.of("contact") == (SearchHit("contact", contact.id, "华晓明", huawei.id),)
    assert found.of("lead") == (SearchHit("lead", lead.id, "华夏物流询价", None),)
    assert found.of("opportunity") == (
        SearchHit("opportunity", deal_id, "华为 MES 集成", huawei.id),
    )
    assert found.kinds == ("customer", "contact", "lead", "opportunity")
    assert _titles(global_search(crm, actor, "bjhw").of("customer")) == ["北京华为科技有限公司"]
    assert _titles(global_search(crm, actor, "huawei").of("customer")) == ["北京华为科技有限公司"]


def test_contacts_are_found_by_pinyin_initials_surname_reading_and_phone(
    crm: Crm, actor: Actor
) -> None:
    customer = register_customer(crm, actor, name="深圳腾达电子")
    zeng = add_contact(crm, actor, customer.id, name="曾小贤", phones=["0755-8765 4321"])
    add_contact(crm, actor, customer.id, name="张伟")

    for text in ("zeng", "zxx", "ZengXiao", "曾小", "+86 755 8765 4321"):
        assert [h.id for h in global_search(crm, actor, text).of("contact")] == [zeng.id], text
    assert global_search(crm, actor, "ceng").of("contact") == ()


def test_latin_names_are_found_in_title_case(crm: Crm, actor: Actor) -> None:
    customer = register_customer(crm, actor, name="Acme Trading")
    lead = create_lead(crm, actor, name="Website enquiry", company="Acme Trading")
    deal_id = _deal(crm, actor, customer.id, "Acme Rollout")

    found = global_search(crm, actor, "acme")

    assert [h.id for h in found.of("customer")] == [customer.id]
    assert [h.id for h in found.of("lead")] == [lead.id]
    assert [h.id for h in found.of("opportunity")] == [deal_id]
    assert prefix_variants("acme rollout") == ("acme rollout", "Acme Rollout")


def test_each_kind_stays_within_the_actors_view_scope(crm: Crm, actor: Actor) -> None:
    team = make_team(crm, actor)
    define_role(
        crm,
        actor,
        "rep",
        grants=[
            *[Grant("customer", op, Scope.OWN) for op in ("view", "create", "edit")],
            Grant("contact", "view", Scope.OWN),
            Grant("lead", "view", Scope.OWN),
            Grant("lead", "create", Scope.OWN),
        ],
    )
    mine = register_customer(crm, team.li, name="杭州海康电子")
    theirs = register_customer(crm, team.wang, name="杭州海润电子")
    add_contact(crm, actor, mine.id, name="何海")
    add_contact(crm, actor, theirs.id, name="何海涛")
    create_lead(crm, team.li, name="海康扩容")
    create_lead(crm, team.wang, name="海润扩容")
    _deal(crm, actor, mine.id, "海康安防")

    # Pinyin finds customers and contacts; leads and deals are found by their names.
    as_li, as_admin = global_search(crm, team.li, "h"), global_search(crm, actor, "h")
    assert [h.id for h in as_li.of("customer")] == [mine.id]
    assert _titles(as_li.of("contact")) == ["何海"]
    assert len(as_admin.of("customer")) == 2
    assert sorted(_titles(as_admin.of("contact"))) == ["何海", "何海涛"]

    as_li, as_admin = global_search(crm, team.li, "海"), global_search(crm, actor, "海")
    assert _titles(as_li.of("lead")) == ["海康扩容"]
    assert as_li.of("opportunity") == ()  # no grant on opportunities at all
    assert sorted(_titles(as_admin.of("lead"))) == ["海康扩容", "海润扩容"]
    assert _titles(as_admin.of("opportunity")) == ["海康安防"]


def test_leads_and_deals_are_found_by_pinyin_initials_characters_and_phone(
    crm: Crm, actor: Actor
) -> None:
    customer = register_customer(crm, actor, name="华夏物流集团")
    lead = create_lead(
        crm, actor, name="王经理", company="华夏物流股份有限公司", phone="021-6543 2100"
    )
    person = create_lead(crm, actor, name="曾小贤")
    deal_id = _deal(crm, actor, customer.id, "华夏仓储扩容")

    for text in ("huaxia", "hx", "HuaXia", "华夏", "華夏物流"):
        assert [h.id for h in global_search(crm, actor, text).of("lead")] == [lead.id], text
    for text in ("王经", "+86 21 6543 2100"):
        assert [h.id for h in global_search(crm, actor, text).of("lead")] == [lead.id], text
    # A lead without a company is found by the person's name, read as a person's.
    assert [h.id for h in global_search(crm, actor, "zengxiao").of("lead")] == [person.id]
    for text in ("huaxiacangchu", "hxcc", "华夏仓"):
        assert [h.id for h in global_search(crm, actor, text).of("opportunity")] == [deal_id]
    assert global_search(crm, actor, "cangchu").of("opportunity") == ()


def test_a_kind_whose_searched_field_is_hidden_is_left_out(crm: Crm, actor: Actor) -> None:
    define_role(
        crm,
        actor,
        "viewer",
        grants=[Grant("lead", "view", Scope.TENANT), Grant("contact", "view", Scope.TENANT)],
        field_rules=[FieldRule("lead", "company", FieldAccess.HIDDEN)],
    )
    viewer = Actor(tenant_id=actor.tenant_id, user_id=UserId(uuid.uuid4()), name="Viewer")
    set_member(crm, actor, viewer.user_id, name=viewer.name, roles=["viewer"])
    create_lead(crm, actor, name="Quote request", company="Globex")

    for text in ("Glob", "globex", "Globex 公司"):
        assert global_search(crm, viewer, text).of("lead") == (), text
    assert [h.title for h in global_search(crm, actor, "Glob").of("lead")] == ["Quote request"]


def test_limits_blank_text_and_registered_parts(crm: Crm, actor: Actor) -> None:
    customer = register_customer(crm, actor, name="天津港务")
    for n in range(4):
        add_contact(crm, actor, customer.id, name=f"田{n}")

    assert len(global_search(crm, actor, "tian", limit_per_kind=3).of("contact")) == 3
    assert len(global_search(crm, actor, "   ")) == 0
    for bad in (0, 101):
        with pytest.raises(ValidationError):
            global_search(crm, actor, "tian", limit_per_kind=bad)

    seen: list[tuple[str, int]] = []

    def probe(_uow: object, _grants: object, text: str, limit: int) -> list[SearchHit]:
        seen.append((text, limit))
        return [SearchHit("probe", customer.id, text, None)] * (limit + 5)

    register_search_part("probe", probe)
    try:
        found = global_search(crm, actor, "  天津   港 ", limit_per_kind=2)
    finally:
        search_all._PARTS.pop("probe")
    assert seen == [("天津 港", 2)]
    assert found.of("probe") == (SearchHit("probe", customer.id, "天津 港", None),) * 2
    assert found.kinds[-1] == "probe"


def test_restore_refuses_a_merged_customer_and_undo_merge_brings_it_back(
    crm: Crm, actor: Actor
) -> None:
    survivor = register_customer(crm, actor, name="北京华为科技有限公司")
    duplicate = register_customer(crm, actor, name="北京华为科技（有限公司）")
    result = merge_customers(crm, actor, survivor.id, [duplicate.id])

    with pytest.raises(ValidationError) as refused:
        restore_customer(crm, actor, duplicate.id)
    assert str(result.merge_id) in str(refused.value)
    assert get_customer(crm, actor, survivor.id).deleted_at is None

    undo_merge(crm, actor, result.merge_id)
    assert get_customer(crm, actor, duplicate.id).deleted_at is None

    # Once the merge is undone, an ordinary delete restores as usual.
    delete_customer(crm, actor, duplicate.id)
    assert restore_customer(crm, actor, duplicate.id).deleted_at is None
