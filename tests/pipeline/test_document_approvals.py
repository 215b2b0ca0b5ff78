"""Quotes and contracts go through the tenant's approval flow when it has one."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from crmkit import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import InvalidTransition
from crmkit.kernel.ids import UserId
from crmkit.kernel.money import Money
from crmkit.kernel.query import F
from crmkit.pipeline.model.contracts import Contract, ContractStatus
from crmkit.pipeline.model.pricing import DiscountRate
from crmkit.pipeline.model.quotes import Quote, QuoteStatus
from crmkit.pipeline.registrations import register_document_hooks
from crmkit.pipeline.services import (
    LineRequest,
    approve_contract,
    approve_quote,
    configure_sales_documents,
    create_quote,
    revise_quote,
    submit_contract,
    submit_quote,
)
from crmkit.rules.approvals import (
    Approvers,
    DocumentLocked,
    FlowStage,
    NoApprover,
    RequestStatus,
    approval_of,
    approve_request,
    define_flow,
    reject_request,
    return_request,
    set_flow_active,
)
from tests.billing.builders import second_admin
from tests.pipeline.test_contracts import service_contract
from tests.pipeline.test_quotes import customer, price_book


@pytest.fixture(autouse=True)
def _hooks() -> None:
    """Other tests may register their own hooks for these document types: take ours back."""
    register_document_hooks()


def person(actor: Actor, name: str) -> Actor:
    return Actor(actor.tenant_id, UserId(uuid.uuid4()), name)


def discounted_quote(crm: Crm, actor: Actor) -> Quote:
    """A draft quote 20 % off, over the 10 % threshold."""
    configure_sales_documents(crm, actor, discount_threshold=DiscountRate("0.10"))
    price_book(crm, actor)
    return create_quote(
        crm,
        actor,
        customer_id=customer(crm, actor).id,
        currency="CNY",
        lines=[LineRequest("GATEWAY", "2")],
        total_discount=DiscountRate("0.20"),
    )


def stored_quote(crm: Crm, actor: Actor, quote_id: uuid.UUID) -> Quote:
    return crm.run(actor.tenant_id, lambda uow: uow.repository(Quote).get(quote_id))


def test_a_quote_over_the_threshold_is_decided_by_the_flow(crm: Crm, actor: Actor) -> None:
    boss = person(actor, "王经理")
    define_flow(
        crm, actor, name="报价审批", document_type="quote",
        stages=[FlowStage("经理", [Approvers.named(boss.user_id)])],
    )  # fmt: skip
    quote = discounted_quote(crm, actor)
    assert submit_quote(crm, actor, quote.id).status is QuoteStatus.IN_APPROVAL
    request = crm.run(actor.tenant_id, lambda uow: approval_of(uow, "quote", quote.id))
    assert request is not None
    assert request.status is RequestStatus.IN_REVIEW
    assert request.facts["amount"] == Money("9280.00", "CNY")  # 2 x 5800 x 0.8
    assert request.facts["discount"] == Decimal("0.2")
    assert request.title == quote.number

    approve_request(crm, boss, request.id)
    approved = stored_quote(crm, actor, quote.id)
    assert (approved.status, approved.decided_by) == (QuoteStatus.APPROVED, boss.user_id)


def test_a_rejected_or_returned_quote_goes_back_to_draft_and_can_be_resubmitted(
    crm: Crm, actor: Actor
) -> None:
    boss = person(actor, "王经理")
    define_flow(
        crm, actor, name="报价审批", document_type="quote",
        stages=[FlowStage("经理", [Approvers.named(boss.user_id)])],
    )  # fmt: skip
    quote = discounted_quote(crm, actor)
    submit_quote(crm, actor, quote.id)
    request_id = crm.run(actor.tenant_id, lambda uow: approval_of(uow, "quote", quote.id)).id  # type: ignore[union-attr]
    reject_request(crm, boss, request_id, comment="折扣太大")
    assert stored_quote(crm, actor, quote.id).status is QuoteStatus.DRAFT

    assert submit_quote(crm, actor, quote.id).status is QuoteStatus.IN_APPROVAL
    return_request(crm, boss, request_id, comment="补充说明")
    assert stored_quote(crm, actor, quote.id).status is QuoteStatus.DRAFT

    submit_quote(crm, actor, quote.id)
    assert approve_request(crm, boss, request_id).status is RequestStatus.APPROVED
    assert stored_quote(crm, actor, quote.id).status is QuoteStatus.APPROVED


def test_a_quote_in_review_cannot_be_edited_nor_decided_by_hand(crm: Crm, actor: Actor) -> None:
    boss = person(actor, "王经理")
    define_flow(
        crm, actor, name="报价审批", document_type="quote",
        stages=[FlowStage("经理", [Approvers.named(boss.user_id)])],
    )  # fmt: skip
    quote = discounted_quote(crm, actor)
    submit_quote(crm, actor, quote.id)
    with pytest.raises(DocumentLocked):
        revise_quote(crm, actor, quote.id, total_discount=DiscountRate("0.05"))
    with pytest.raises(DocumentLocked):
        approve_quote(crm, actor, quote.id)
    assert stored_quote(crm, actor, quote.id).status is QuoteStatus.IN_APPROVAL


def test_a_flow_no_stage_applies_to_approves_the_quote_on_submission(
    crm: Crm, actor: Actor
) -> None:
    define_flow(
        crm, actor, name="大额报价", document_type="quote",
        stages=[FlowStage("总监", [Approvers.named(uuid.uuid4())],
                          when=F("amount").gt(Money("1000000", "CNY")))],
    )  # fmt: skip
    quote = discounted_quote(crm, actor)
    assert submit_quote(crm, actor, quote.id).status is QuoteStatus.APPROVED
    assert stored_quote(crm, actor, quote.id).status is QuoteStatus.APPROVED


def test_a_flow_nobody_can_approve_leaves_the_quote_a_draft(crm: Crm, actor: Actor) -> None:
    define_flow(
        crm, actor, name="报价审批", document_type="quote",
        stages=[FlowStage("经理", [Approvers.manager()])],
    )  # fmt: skip  # the actor has no manager in the org chart
    quote = discounted_quote(crm, actor)
    with pytest.raises(NoApprover):
        submit_quote(crm, actor, quote.id)
    assert stored_quote(crm, actor, quote.id).status is QuoteStatus.DRAFT
    assert crm.run(actor.tenant_id, lambda uow: approval_of(uow, "quote", quote.id)) is None


def test_without_an_active_flow_manual_approval_keeps_working(crm: Crm, actor: Actor) -> None:
    flow = define_flow(
        crm, actor, name="报价审批", document_type="quote",
        stages=[FlowStage("经理", [Approvers.named(uuid.uuid4())])],
    )  # fmt: skip
    set_flow_active(crm, actor, flow.id, False)
    quote = discounted_quote(crm, actor)
    assert submit_quote(crm, actor, quote.id).status is QuoteStatus.IN_APPROVAL
    assert approve_quote(crm, second_admin(crm, actor), quote.id).status is QuoteStatus.APPROVED
    assert crm.run(actor.tenant_id, lambda uow: approval_of(uow, "quote", quote.id)) is None


def test_a_contract_flow_activates_or_returns_the_contract(crm: Crm, actor: Actor) -> None:
    legal = person(actor, "法务")
    define_flow(
        crm, actor, name="合同审批", document_type="contract",
        stages=[FlowStage("法务", [Approvers.named(legal.user_id)],
                          when=F("amount").ge(Money("10000", "CNY")))],
    )  # fmt: skip
    contract = service_contract(crm, actor)
    assert submit_contract(crm, actor, contract.id).status is ContractStatus.IN_APPROVAL
    request = crm.run(actor.tenant_id, lambda uow: approval_of(uow, "contract", contract.id))
    assert request is not None
    assert request.facts["amount"] == Money("36000", "CNY")
    with pytest.raises(DocumentLocked):
        approve_contract(crm, actor, contract.id)

    reject_request(crm, legal, request.id, comment="条款缺失")
    load = lambda uow: uow.repository(Contract).get(contract.id)  # noqa: E731
    assert crm.run(actor.tenant_id, load).status is ContractStatus.DRAFT
    submit_contract(crm, actor, contract.id)
    approve_request(crm, legal, request.id)
    active = crm.run(actor.tenant_id, load)
    assert (active.status, active.decided_by) == (ContractStatus.ACTIVE, legal.user_id)


def test_unapproving_a_quote_takes_it_back_to_draft_and_records_it(crm: Crm, actor: Actor) -> None:
    from crmkit.rules.approvals import unapprove_request

    boss = person(actor, "王经理")
    define_flow(
        crm, actor, name="报价审批", document_type="quote",
        stages=[FlowStage("经理", [Approvers.named(boss.user_id)])],
    )  # fmt: skip
    quote = discounted_quote(crm, actor)
    submit_quote(crm, actor, quote.id)
    request_id = crm.run(actor.tenant_id, lambda uow: approval_of(uow, "quote", quote.id)).id  # type: ignore[union-attr]
    approve_request(crm, boss, request_id)
    unapprove_request(crm, boss, request_id, comment="折扣录错")
    back = stored_quote(crm, actor, quote.id)
    assert (back.status, back.decided_by) == (QuoteStatus.DRAFT, None)
    events = crm.run(actor.tenant_id, lambda uow: uow.outbox.pending(limit=100))
    unapproved = [e for e in events if e.event_type == "QuoteUnapproved"]
    assert [(e.by, e.reason) for e in unapproved] == [(boss.user_id, "折扣录错")]  # type: ignore[attr-defined]
    # A draft again: revised, or submitted again into the same request.
    assert submit_quote(crm, actor, quote.id).status is QuoteStatus.IN_APPROVAL
    approve_request(crm, boss, request_id)
    assert stored_quote(crm, actor, quote.id).status is QuoteStatus.APPROVED


def test_a_converted_quote_cannot_be_unapproved(crm: Crm, actor: Actor) -> None:
    from crmkit.pipeline.services import convert_quote_to_order
    from crmkit.rules.approvals import unapprove_request

    boss = person(actor, "王经理")
    define_flow(
        crm, actor, name="报价审批", document_type="quote",
        stages=[FlowStage("经理", [Approvers.named(boss.user_id)])],
    )  # fmt: skip
    quote = discounted_quote(crm, actor)
    submit_quote(crm, actor, quote.id)
    request_id = crm.run(actor.tenant_id, lambda uow: approval_of(uow, "quote", quote.id)).id  # type: ignore[union-attr]
    approve_request(crm, boss, request_id)
    convert_quote_to_order(crm, actor, quote.id)
    with pytest.raises(InvalidTransition):
        unapprove_request(crm, boss, request_id)
    request = crm.run(actor.tenant_id, lambda uow: approval_of(uow, "quote", quote.id))
    assert request is not None
    assert request.status is RequestStatus.APPROVED


def test_unapproving_a_contract_takes_it_out_of_force(crm: Crm, actor: Actor) -> None:
    from crmkit.rules.approvals import unapprove_request

    legal = person(actor, "法务")
    define_flow(
        crm, actor, name="合同审批", document_type="contract",
        stages=[FlowStage("法务", [Approvers.named(legal.user_id)])],
    )  # fmt: skip
    contract = service_contract(crm, actor)
    submit_contract(crm, actor, contract.id)
    request = crm.run(actor.tenant_id, lambda uow: approval_of(uow, "contract", contract.id))
    assert request is not None
    approve_request(crm, legal, request.id)
    unapprove_request(crm, legal, request.id, comment="金额有误")
    load = lambda uow: uow.repository(Contract).get(contract.id)  # noqa: E731
    back = crm.run(actor.tenant_id, load)
    assert (back.status, back.decided_by) == (ContractStatus.DRAFT, None)
    assert submit_contract(crm, actor, contract.id).status is ContractStatus.IN_APPROVAL
