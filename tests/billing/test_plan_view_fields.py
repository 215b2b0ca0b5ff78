"""A plan's view is built for its reader: hidden installment amounts and what they add up to."""

from __future__ import annotations

import uuid
from datetime import date

from crmkit import Crm
from crmkit.billing import get_plan
from crmkit.kernel.actor import Actor
from crmkit.kernel.ids import UserId
from crmkit.kernel.money import Money
from crmkit.rules.permissions import FieldAccess, FieldRule, Grant, Scope, define_role, set_member
from tests.billing.builders import make_plan


def test_an_analyst_hiding_installment_amounts_sees_the_schedule_not_the_figures(
    crm: Crm, actor: Actor
) -> None:
    define_role(
        crm,
        actor,
        "analyst",
        grants=[Grant(r, "view", Scope.TENANT) for r in ("billing_plan", "installment")],
        field_rules=[FieldRule("installment", "amount", FieldAccess.HIDDEN)],
    )
    analyst = Actor(actor.tenant_id, UserId(uuid.uuid4()), "分析员")
    set_member(crm, actor, analyst.user_id, name=analyst.name, roles=["analyst"])
    plan = make_plan(crm, actor, total="100000.00").plan
    on = date(2026, 3, 31)

    seen = get_plan(crm, analyst, plan.id)
    assert [i.amount for i in seen.installments] == [None, None, None]
    assert [i.due_date for i in seen.installments] == [
        i.due_date for i in get_plan(crm, actor, plan.id).installments
    ]
    assert seen.overdue(on) is None
    assert "overdue" in seen.omitted
    assert seen.paid == Money("0", "CNY")  # allocations are not the hidden amounts

    full = get_plan(crm, actor, plan.id)
    assert full.omitted == frozenset()
    assert full.overdue(on) == Money("90000.00", "CNY")
