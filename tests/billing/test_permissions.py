"""Billing respects the permissions policy: grants gate commands, scopes narrow reports."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from crmkit import Crm
from crmkit.billing import aging_report, get_plan, record_receipt
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import PermissionDenied
from crmkit.kernel.ids import UserId
from crmkit.kernel.money import Money
from crmkit.rules.permissions import Grant, Scope, define_role, set_member
from tests.billing.builders import make_plan

ON = date(2026, 3, 2)


@pytest.fixture
def rep(crm: Crm, actor: Actor) -> Actor:
    """A sales rep who may view their own plans and installments, and nothing else."""
    define_role(
        crm,
        actor,
        "rep",
        grants=[
            Grant("installment", "view", Scope.OWN),
            Grant("billing_plan", "view", Scope.OWN),
        ],
    )
    user = UserId(uuid.uuid4())
    set_member(crm, actor, user, name="李娜", roles=["rep"])
    return Actor(actor.tenant_id, user, "李娜")


def test_a_rep_sees_the_aging_of_their_own_customers_only(
    crm: Crm, actor: Actor, rep: Actor
) -> None:
    mine = make_plan(crm, actor, owner_id=rep.user_id)
    make_plan(crm, actor)  # another rep's contract
    assert len(aging_report(crm, actor, ON)) == 2
    table = aging_report(crm, rep, ON)
    assert table.column("customer_id") == [str(mine.plan.customer_id)]


def test_a_rep_cannot_record_receipts_or_open_other_reps_plans(
    crm: Crm, actor: Actor, rep: Actor
) -> None:
    theirs = make_plan(crm, actor)
    with pytest.raises(PermissionDenied):
        record_receipt(
            crm,
            rep,
            customer_id=theirs.plan.customer_id,
            amount=Money("1", "CNY"),
            received_on=ON,
            idempotency_key="r",
        )
    with pytest.raises(PermissionDenied):
        get_plan(crm, rep, theirs.plan.id)
    assert get_plan(crm, actor, theirs.plan.id).plan.id == theirs.plan.id
