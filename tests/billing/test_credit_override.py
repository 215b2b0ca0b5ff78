"""Credit-limit overrides: an order put on credit hold goes through the tenant's
``"credit_override"`` approval flow when it has one; without one it is released by hand.
And what ``check_credit`` shows a user: the decision on everything, the exposure in scope."""

from __future__ import annotations

import re
import uuid
from datetime import date
from pathlib import Path

import pytest

from crmkit import Crm
from crmkit.billing import check_credit
from crmkit.billing.services.credit import credit_decision
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import InvalidTransition
from crmkit.kernel.ids import UserId
from crmkit.kernel.money import Money
from crmkit.kernel.query import F
from crmkit.pipeline.model.orders import OrderStatus, SalesOrder
from crmkit.pipeline.registrations import register_document_hooks
from crmkit.pipeline.services import cancel_order, convert_quote_to_order, release_credit_hold
from crmkit.pipeline.services.approvals import CREDIT_OVERRIDE_DOCUMENT
from crmkit.rules.approvals import (
    ApprovalRequest,
    Approvers,
    DocumentLocked,
    FlowStage,
    RequestStatus,
    approval_of,
    approve_request,
    define_flow,
    reject_request,
    withdraw_request,
)
from crmkit.rules.permissions import Grant, Scope, define_role, set_member
from tests.billing.builders import make_plan, second_admin
from tests.pipeline.test_quotes import approved_quote, customer


def cny(text: str) -> Money:
    return Money(text, "CNY")


@pytest.fixture(autouse=True)
def _hooks() -> None:
    """Other tests may register their own hooks for these document types: take ours back."""
    register_document_hooks()


def person(actor: Actor, name: str) -> Actor:
    return Actor(actor.tenant_id, UserId(uuid.uuid4()), name)


def credit_flow(crm: Crm, actor: Actor, approver: Actor, **stage: object) -> None:
    define_flow(
        crm, actor, name="超信用额度审批", document_type=CREDIT_OVERRIDE_DOCUMENT,
        stages=[FlowStage("财务", [Approvers.named(approver.user_id)], **stage)],  # type: ignore[arg-type]
    )  # fmt: skip


def held_order(crm: Crm, actor: Actor) -> SalesOrder:
    """A second 23,600 order against a 30,000 limit: the first fits, this one is held."""
    buyer = customer(crm, actor, credit_limit=cny("30000"))
    first = convert_quote_to_order(crm, actor, approved_quote(crm, actor, buyer=buyer).id)
    assert first.status is OrderStatus.CONFIRMED
    return convert_quote_to_order(crm, actor, approved_quote(crm, actor, buyer=buyer).id)


def request_of(crm: Crm, actor: Actor, order_id: uuid.UUID) -> ApprovalRequest | None:
    return crm.run(
        actor.tenant_id, lambda uow: approval_of(uow, CREDIT_OVERRIDE_DOCUMENT, order_id)
    )


def stored(crm: Crm, actor: Actor, order_id: uuid.UUID) -> SalesOrder:
    return crm.run(actor.tenant_id, lambda uow: uow.repository(SalesOrder).get(order_id))


def test_the_flow_approval_releases_the_hold_in_the_deciding_transaction(
    crm: Crm, actor: Actor
) -> None:
    cfo = person(actor, "财务总监")
    credit_flow(crm, actor, cfo)
    order = held_order(crm, actor)
    assert order.status is OrderStatus.ON_CREDIT_HOLD
    request = request_of(crm, actor, order.id)
    assert request is not None
    assert request.status is RequestStatus.IN_REVIEW
    assert (request.facts["amount"], request.facts["exposure"], request.facts["limit"]) == (
        cny("23600"),
        cny("23600"),
        cny("30000"),
    )
    with pytest.raises(DocumentLocked):
        release_credit_hold(crm, second_admin(crm, actor), order.id)
    assert stored(crm, actor, order.id).status is OrderStatus.ON_CREDIT_HOLD

    approve_request(crm, cfo, request.id)
    released = stored(crm, actor, order.id)
    assert (released.status, released.released_by) == (OrderStatus.CONFIRMED, cfo.user_id)


def test_a_rejected_override_leaves_the_order_on_hold_for_a_manual_decision(
    crm: Crm, actor: Actor
) -> None:
    cfo = person(actor, "财务总监")
    credit_flow(crm, actor, cfo)
    order = held_order(crm, actor)
    request = request_of(crm, actor, order.id)
    assert request is not None
    assert reject_request(crm, cfo, request.id, comment="先回款").status is RequestStatus.REJECTED
    assert stored(crm, actor, order.id).status is OrderStatus.ON_CREDIT_HOLD
    # Closed requests unlock the order: a person allowed to approve orders decides by hand.
    assert (
        release_credit_hold(crm, second_admin(crm, actor), order.id).status is OrderStatus.CONFIRMED
    )


def test_an_order_in_review_is_cancelled_only_once_its_request_is_withdrawn(
    crm: Crm, actor: Actor
) -> None:
    cfo = person(actor, "财务总监")
    credit_flow(crm, actor, cfo)
    order = held_order(crm, actor)
    request = request_of(crm, actor, order.id)
    assert request is not None
    # The CFO is looking at this order: nobody changes it under them.
    with pytest.raises(DocumentLocked):
        cancel_order(crm, actor, order.id, "客户取消")
    assert stored(crm, actor, order.id).status is OrderStatus.ON_CREDIT_HOLD
    withdraw_request(crm, actor, request.id, comment="客户取消")
    assert cancel_order(crm, actor, order.id, "客户取消").status is OrderStatus.CANCELLED
    with pytest.raises(InvalidTransition):  # a withdrawn request is decided no more
        approve_request(crm, cfo, request.id)
    assert stored(crm, actor, order.id).status is OrderStatus.CANCELLED


def test_a_route_no_stage_applies_to_releases_the_order_at_once(crm: Crm, actor: Actor) -> None:
    cfo = person(actor, "财务总监")
    credit_flow(crm, actor, cfo, when=F("amount").gt(cny("100000")))
    order = held_order(crm, actor)
    assert order.status is OrderStatus.CONFIRMED
    assert stored(crm, actor, order.id).status is OrderStatus.CONFIRMED
    request = request_of(crm, actor, order.id)
    assert request is not None
    assert request.status is RequestStatus.APPROVED


def test_a_withdrawn_request_unlocks_the_manual_release(crm: Crm, actor: Actor) -> None:
    cfo = person(actor, "财务总监")
    credit_flow(crm, actor, cfo)
    order = held_order(crm, actor)
    request = request_of(crm, actor, order.id)
    assert request is not None
    withdraw_request(crm, actor, request.id)
    assert stored(crm, actor, order.id).status is OrderStatus.ON_CREDIT_HOLD
    checker = second_admin(crm, actor)  # the order is the actor's own
    assert release_credit_hold(crm, checker, order.id).released_by == checker.user_id


def test_without_a_flow_the_hold_is_released_by_hand(crm: Crm, actor: Actor) -> None:
    order = held_order(crm, actor)
    assert order.status is OrderStatus.ON_CREDIT_HOLD
    assert request_of(crm, actor, order.id) is None
    checker = second_admin(crm, actor)  # the order is the actor's own
    released = release_credit_hold(crm, checker, order.id)
    assert (released.status, released.released_by) == (OrderStatus.CONFIRMED, checker.user_id)


def test_an_order_within_the_limit_is_never_submitted(crm: Crm, actor: Actor) -> None:
    credit_flow(crm, actor, person(actor, "财务总监"))
    buyer = customer(crm, actor, credit_limit=cny("30000"))
    order = convert_quote_to_order(crm, actor, approved_quote(crm, actor, buyer=buyer).id)
    assert order.status is OrderStatus.CONFIRMED
    assert request_of(crm, actor, order.id) is None


# -- what check_credit shows a user ------------------------------------------------------------


def rep_of(crm: Crm, actor: Actor) -> Actor:
    """A rep who may view every customer, but the installments of their own deals only."""
    define_role(
        crm,
        actor,
        "rep",
        grants=[Grant("customer", "view", Scope.TENANT), Grant("installment", "view", Scope.OWN)],
    )
    user = UserId(uuid.uuid4())
    set_member(crm, actor, user, name="李娜", roles=["rep"])
    return Actor(actor.tenant_id, user, "李娜")


def test_check_credit_decides_on_everything_but_shows_a_rep_only_their_exposure(
    crm: Crm, actor: Actor
) -> None:
    rep = rep_of(crm, actor)
    buyer = customer(crm, actor, credit_limit=cny("150000"))
    make_plan(crm, actor, customer_id=buyer.id, owner_id=rep.user_id, total="20000.00")
    make_plan(crm, actor, customer_id=buyer.id, number="HT-002")  # 100,000 on another rep's deal

    seen = check_credit(crm, rep, buyer.id, cny("40000"))
    assert (seen.open_receivables, seen.complete) == (cny("20000"), False)
    assert seen.approval_required  # 120,000 + 40,000 is over 150,000, whoever owns the debt
    everything = check_credit(crm, actor, buyer.id, cny("40000"))
    assert (everything.open_receivables, everything.complete) == (cny("120000"), True)
    assert everything.approval_required
    # The order confirmation counts everything too.
    decided = crm.run(
        actor.tenant_id, lambda uow: credit_decision(uow, buyer.id, cny("1"), on=date(2026, 3, 2))
    )
    assert decided.open_receivables == cny("120000")


def test_a_user_who_may_view_no_installment_still_gets_the_decision(crm: Crm, actor: Actor) -> None:
    define_role(crm, actor, "viewer", grants=[Grant("customer", "view", Scope.TENANT)])
    stranger = Actor(actor.tenant_id, UserId(uuid.uuid4()), "访客")
    set_member(crm, actor, stranger.user_id, name=stranger.name, roles=["viewer"])
    buyer = customer(crm, actor, credit_limit=cny("150000"))
    make_plan(crm, actor, customer_id=buyer.id)
    seen = check_credit(crm, stranger, buyer.id, cny("50000.01"))
    assert (seen.open_receivables, seen.complete, seen.allowed) == (cny("0"), False, False)
    assert check_credit(crm, stranger, buyer.id, cny("50000")).allowed


def test_the_credit_override_example_in_the_billing_page_runs() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "billing.md").read_text("utf-8")
    section = text.split("## Credit limits and overrides", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    exec(compile(code.group(1), "docs/billing.md", "exec"), {"__name__": "credit_doc"})
