"""After the credit-override flow refuses, the salesperson asks again: a new approval
request, linked to the refused one, whose approval releases the order."""

from __future__ import annotations

import uuid

import pytest

from crmkit import Crm
from crmkit.billing import credit_overrides, resubmit_credit_override
from crmkit.billing.approvals import CREDIT_RESUBMISSION_DOCUMENT
from crmkit.billing.approvals import register_document_hooks as register_billing_hooks
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import PermissionDenied, ValidationError
from crmkit.pipeline.model.orders import OrderStatus, SalesOrder
from crmkit.pipeline.registrations import register_document_hooks
from crmkit.pipeline.services import cancel_order, release_credit_hold
from crmkit.rules.approvals import (
    ApprovalRequest,
    DocumentLocked,
    RequestStatus,
    approval_of,
    approve_request,
    reject_request,
    set_flow_active,
    withdraw_request,
)
from tests.billing.builders import second_admin
from tests.billing.test_credit_override import (
    cny,
    credit_flow,
    held_order,
    person,
    request_of,
    stored,
)


@pytest.fixture(autouse=True)
def _hooks() -> None:
    register_document_hooks()
    register_billing_hooks()


def resubmission(crm: Crm, actor: Actor, override_id: uuid.UUID) -> ApprovalRequest:
    found = crm.run(
        actor.tenant_id,
        lambda uow: approval_of(uow, CREDIT_RESUBMISSION_DOCUMENT, override_id),
    )
    assert found is not None
    return found


def refused(crm: Crm, actor: Actor, cfo: Actor) -> tuple[SalesOrder, ApprovalRequest]:
    order = held_order(crm, actor)
    first = request_of(crm, actor, order.id)
    assert first is not None
    reject_request(crm, cfo, first.id, comment="先回款")
    return order, first


def test_a_rejected_override_is_asked_again_and_its_approval_releases_the_order(
    crm: Crm, actor: Actor
) -> None:
    cfo = person(actor, "财务总监")
    credit_flow(crm, actor, cfo)
    order, first = refused(crm, actor, cfo)
    again = resubmit_credit_override(
        crm, actor, order.id, amount=cny("20000"), reason="客户已预付 3,600"
    )
    assert (again.round, again.previous_request_id) == (2, first.id)
    assert (again.amount, again.exposure, again.limit) == (cny("20000"), cny("23600"), cny("30000"))
    request = resubmission(crm, actor, again.id)
    assert request.status is RequestStatus.IN_REVIEW
    assert request.facts["previous_request"] == first.id
    assert (request.facts["amount"], request.facts["order_amount"]) == (cny("20000"), cny("23600"))
    assert request.trail[-1].comment == "客户已预付 3,600"
    # While the new request is in review nobody releases the order by hand.
    with pytest.raises(DocumentLocked):
        release_credit_hold(crm, second_admin(crm, actor), order.id)
    approve_request(crm, cfo, request.id)
    released = stored(crm, actor, order.id)
    assert (released.status, released.released_by) == (OrderStatus.CONFIRMED, cfo.user_id)


def test_each_refusal_may_be_followed_by_another_round(crm: Crm, actor: Actor) -> None:
    cfo = person(actor, "财务总监")
    credit_flow(crm, actor, cfo)
    order, _first = refused(crm, actor, cfo)
    second = resubmit_credit_override(crm, actor, order.id, reason="大客户")
    assert second.amount == cny("23600")  # the order total unless asked otherwise
    with pytest.raises(DocumentLocked):  # still in review: nothing to ask again yet
        resubmit_credit_override(crm, actor, order.id, reason="再试")
    reject_request(crm, cfo, resubmission(crm, actor, second.id).id, comment="仍然不行")
    third = resubmit_credit_override(crm, actor, order.id, reason="已签担保")
    assert (third.round, third.previous_request_id) == (3, resubmission(crm, actor, second.id).id)
    history = credit_overrides(crm, actor, order.id)
    assert [o.round for o in history] == [2, 3]
    assert stored(crm, actor, order.id).status is OrderStatus.ON_CREDIT_HOLD


def test_an_order_whose_resubmission_is_in_review_is_locked(crm: Crm, actor: Actor) -> None:
    cfo = person(actor, "财务总监")
    credit_flow(crm, actor, cfo)
    order, _first = refused(crm, actor, cfo)
    again = resubmit_credit_override(crm, actor, order.id, reason="x")
    with pytest.raises(DocumentLocked) as locked:
        cancel_order(crm, actor, order.id, "客户取消")
    assert locked.value.fields["document_type"] == CREDIT_RESUBMISSION_DOCUMENT
    withdraw_request(crm, actor, resubmission(crm, actor, again.id).id)
    assert cancel_order(crm, actor, order.id, "客户取消").status is OrderStatus.CANCELLED


def test_only_a_refused_override_of_a_held_order_is_asked_again(crm: Crm, actor: Actor) -> None:
    cfo = person(actor, "财务总监")
    credit_flow(crm, actor, cfo)
    order = held_order(crm, actor)
    with pytest.raises(DocumentLocked):  # the first request is still in review
        resubmit_credit_override(crm, actor, order.id, reason="x")
    first = request_of(crm, actor, order.id)
    assert first is not None
    reject_request(crm, cfo, first.id, comment="no")
    with pytest.raises(ValidationError, match="why"):
        resubmit_credit_override(crm, actor, order.id, reason="  ")
    with pytest.raises(ValidationError, match="at most"):
        resubmit_credit_override(crm, actor, order.id, reason="x", amount=cny("23600.01"))
    with pytest.raises(PermissionDenied):
        resubmit_credit_override(crm, person(actor, "别人"), order.id, reason="x")
    set_flow_active(crm, actor, first.flow_id, active=False)
    with pytest.raises(ValidationError, match="by hand"):
        resubmit_credit_override(crm, actor, order.id, reason="x")
    release_credit_hold(crm, second_admin(crm, actor), order.id)
    with pytest.raises(ValidationError, match="not on hold"):
        resubmit_credit_override(crm, actor, order.id, reason="x")
