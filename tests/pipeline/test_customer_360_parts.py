"""The pipeline and billing add their records to the customer 360 view, within scope."""

from __future__ import annotations

import uuid

from crmkit import Crm
from crmkit.customers import customer_360, register_customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.money import Money
from crmkit.pipeline import define_sales_process, open_opportunity
from crmkit.pipeline.model.activities import ActivityKind
from crmkit.pipeline.model.opportunities import default_process
from crmkit.pipeline.services import log_activity
from crmkit.rules.permissions import Grant, Scope, define_role, set_member
from tests.billing.builders import make_plan
from tests.customers.team import make_team


def _deal(crm: Crm, actor: Actor, customer_id: uuid.UUID, name: str, owner=None):
    process = define_sales_process(
        crm, actor, f"p-{name}", default_process(actor.tenant_id, uuid.uuid4()).stages
    )
    return open_opportunity(
        crm,
        actor,
        customer_id=customer_id,
        name=name,
        amount=Money("100000", "CNY"),
        process_id=process.id,
        **({} if owner is None else {"owner_id": owner}),
    )


def test_the_360_view_lists_deals_activities_and_installments(crm: Crm, actor: Actor) -> None:
    customer = register_customer(crm, actor, name="北京华为科技")
    other = register_customer(crm, actor, name="深圳腾讯")
    first = _deal(crm, actor, customer.id, "MES 一期")
    second = _deal(crm, actor, customer.id, "MES 二期")
    _deal(crm, actor, other.id, "别家的商机")
    call = log_activity(
        crm,
        actor,
        kind=ActivityKind.CALL,
        subject="需求沟通",
        customer_id=customer.id,
        duration_minutes=15,
    )
    make_plan(crm, actor, customer_id=customer.id, owner_id=actor.user_id)

    parts = customer_360(crm, actor, customer.id).parts

    assert [d.id for d in parts["opportunities"]] == [second.id, first.id]  # newest first
    assert [a.id for a in parts["activities"]] == [call.id]
    assert [i.seq for i in parts["installments"]] == [1, 2, 3]
    assert {i.customer_id for i in parts["installments"]} == {customer.id}
    assert parts["quotes"] == parts["contracts"] == parts["orders"] == ()
    assert parts["receipts"] == ()


def test_each_part_keeps_to_the_readers_scope_or_is_left_out(crm: Crm, actor: Actor) -> None:
    team = make_team(crm, actor)
    define_role(
        crm,
        actor,
        "deal rep",
        grants=[
            Grant("customer", "view", Scope.TENANT),
            Grant("opportunity", "view", Scope.OWN),
        ],
    )
    set_member(crm, actor, team.wang.user_id, name=team.wang.name, roles=["deal rep"])
    customer = register_customer(crm, actor, name="杭州海康电子")
    mine = _deal(crm, actor, customer.id, "海康安防", owner=team.wang.user_id)
    _deal(crm, actor, customer.id, "海康扩容")  # the administrator's

    parts = customer_360(crm, team.wang, customer.id).parts

    assert [d.id for d in parts["opportunities"]] == [mine.id]
    assert set(parts) == {"opportunities"}  # no grant on the other resources at all
