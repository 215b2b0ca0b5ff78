"""Billing wired to the rules: refunds and expense claims through approval flows,
invoice numbers from numbering rules, and the sales-order credit check on receivables."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from crmkit import Crm, NotFound
from crmkit.billing import (
    CategoryLimit,
    ClaimState,
    ExpenseClaim,
    ExpenseLine,
    InvoiceLine,
    OverLimit,
    Refund,
    RefundState,
    approve_expense_claim,
    approve_refund,
    draft_expense_claim,
    issue_invoice,
    pay_refund,
    record_receipt,
    request_invoice,
    request_refund,
    set_expense_limits,
    submit_expense_claim,
)
from crmkit.billing.registrations import register_document_hooks
from crmkit.billing.services.credit import credit_decision
from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import FixedClock
from crmkit.kernel.ids import UserId
from crmkit.kernel.money import Money
from crmkit.kernel.query import F
from crmkit.pipeline.model.orders import OrderStatus
from crmkit.pipeline.services import convert_quote_to_order
from crmkit.ports import UnitOfWork
from crmkit.rules.approvals import (
    ApprovalSubject,
    Approvers,
    DocumentLocked,
    FlowStage,
    RequestStatus,
    approval_of,
    approve_request,
    define_flow,
    describe_document,
    reject_request,
)
from crmkit.rules.numbering import define_numbering_rule
from tests.billing.builders import make_customer, make_plan, second_admin
from tests.pipeline.test_quotes import approved_quote, customer


def cny(text: str) -> Money:
    return Money(text, "CNY")


@pytest.fixture(autouse=True)
def _hooks() -> None:
    """Other tests may register their own hooks for these document types: take ours back."""
    register_document_hooks()


def person(actor: Actor, name: str) -> Actor:
    return Actor(actor.tenant_id, UserId(uuid.uuid4()), name)


def a_refund(crm: Crm, actor: Actor, key: str = "f1") -> Refund:
    receipt = record_receipt(
        crm,
        actor,
        customer_id=make_customer(crm, actor).id,
        amount=cny("800"),
        received_on=date(2026, 2, 1),
        idempotency_key=f"r-{key}",
    )
    return request_refund(
        crm, actor, receipt.id, amount=cny("300"), reason_text="多付", idempotency_key=key
    )


def stored_refund(crm: Crm, actor: Actor, refund_id: uuid.UUID) -> Refund:
    return crm.run(actor.tenant_id, lambda uow: uow.repository(Refund).get(refund_id))


def test_a_refund_flow_approves_the_refund_in_the_deciding_transaction(
    crm: Crm, actor: Actor
) -> None:
    cfo = person(actor, "财务总监")
    define_flow(
        crm, actor, name="退款审批", document_type="refund",
        stages=[FlowStage("财务", [Approvers.named(cfo.user_id)])],
    )  # fmt: skip
    refund = a_refund(crm, actor)
    request = crm.run(actor.tenant_id, lambda uow: approval_of(uow, "refund", refund.id))
    assert request is not None
    assert request.facts["amount"] == cny("300")
    with pytest.raises(DocumentLocked):
        approve_refund(crm, second_admin(crm, actor), refund.id)
    with pytest.raises(DocumentLocked):  # nothing is paid while the flow decides
        pay_refund(crm, actor, refund.id, idempotency_key="p0")

    approve_request(crm, cfo, request.id)
    assert stored_refund(crm, actor, refund.id).state is RefundState.APPROVED
    pay_refund(crm, actor, refund.id, idempotency_key="p1")
    assert stored_refund(crm, actor, refund.id).state is RefundState.REFUNDED


def test_a_refund_the_flow_rejects_is_rejected(crm: Crm, actor: Actor) -> None:
    cfo = person(actor, "财务总监")
    define_flow(
        crm, actor, name="退款审批", document_type="refund",
        stages=[FlowStage("财务", [Approvers.named(cfo.user_id)])],
    )  # fmt: skip
    refund = a_refund(crm, actor)
    request_id = crm.run(actor.tenant_id, lambda uow: approval_of(uow, "refund", refund.id)).id  # type: ignore[union-attr]
    assert reject_request(crm, cfo, request_id).status is RequestStatus.REJECTED
    assert stored_refund(crm, actor, refund.id).state is RefundState.REJECTED


def test_without_a_refund_flow_approval_stays_manual(crm: Crm, actor: Actor) -> None:
    refund = a_refund(crm, actor)
    assert refund.state is RefundState.REQUESTED
    assert crm.run(actor.tenant_id, lambda uow: approval_of(uow, "refund", refund.id)) is None
    assert approve_refund(crm, second_admin(crm, actor), refund.id).state is RefundState.APPROVED


def test_an_expense_flow_plays_the_extra_stage_for_claims_over_a_limit(
    crm: Crm, actor: Actor
) -> None:
    manager, director = person(actor, "王经理"), person(actor, "孙总监")
    define_flow(
        crm, actor, name="报销审批", document_type="expense_claim",
        stages=[
            FlowStage("经理", [Approvers.named(manager.user_id)]),
            FlowStage("总监", [Approvers.named(director.user_id)],
                      when=F("needs_extra_approval").eq(True)),
        ],
    )  # fmt: skip
    set_expense_limits(
        crm, actor, [CategoryLimit("meals", "rep", cny("500"), OverLimit.EXTRA_APPROVAL)]
    )
    line = ExpenseLine("meals", cny("800"), date(2026, 2, 10), "dinner")
    claim = draft_expense_claim(crm, actor, [line])
    assert submit_expense_claim(crm, actor, claim.id, roles=["rep"]).needs_extra_approval
    request = crm.run(actor.tenant_id, lambda uow: approval_of(uow, "expense_claim", claim.id))
    assert request is not None
    assert [s.name for s in request.route] == ["经理", "总监"]
    with pytest.raises(DocumentLocked):
        approve_expense_claim(crm, second_admin(crm, actor), claim.id)

    approve_request(crm, manager, request.id)
    load = lambda uow: uow.repository(ExpenseClaim).get(claim.id)  # noqa: E731
    assert crm.run(actor.tenant_id, load).state is ClaimState.SUBMITTED
    approve_request(crm, director, request.id)
    assert crm.run(actor.tenant_id, load).state is ClaimState.APPROVED


def test_an_expense_claim_the_flow_returns_is_rejected(crm: Crm, actor: Actor) -> None:
    manager = person(actor, "王经理")
    define_flow(
        crm, actor, name="报销审批", document_type="expense_claim",
        stages=[FlowStage("经理", [Approvers.named(manager.user_id)])],
    )  # fmt: skip
    claim = draft_expense_claim(
        crm, actor, [ExpenseLine("meals", cny("80"), date(2026, 2, 10), "lunch")]
    )
    submit_expense_claim(crm, actor, claim.id, roles=["rep"])
    request = crm.run(actor.tenant_id, lambda uow: approval_of(uow, "expense_claim", claim.id))
    assert request is not None
    reject_request(crm, manager, request.id)
    load = lambda uow: uow.repository(ExpenseClaim).get(claim.id)  # noqa: E731
    assert crm.run(actor.tenant_id, load).state is ClaimState.REJECTED


def test_approvals_read_stored_refunds_and_claims_as_billing_describes_them(
    crm: Crm, actor: Actor
) -> None:
    refund = a_refund(crm, actor)
    claim = draft_expense_claim(
        crm, actor, [ExpenseLine("meals", cny("80"), date(2026, 2, 10), "lunch")]
    )
    submit_expense_claim(crm, actor, claim.id, roles=["rep"])

    def read(uow: UnitOfWork) -> list[ApprovalSubject | None]:
        return [
            describe_document(uow, "refund", refund.id),
            describe_document(uow, "expense_claim", claim.id),
            # Ids billing does not hold, read as a decided request reads its document.
            describe_document(uow, "refund", uuid.uuid4(), required=False),
            describe_document(uow, "expense_claim", refund.id, required=False),
        ]

    of_refund, of_claim, *unknown = crm.run(actor.tenant_id, read)
    assert unknown == [None, None]
    with pytest.raises(NotFound):  # a submission needs the document
        crm.run(actor.tenant_id, lambda uow: describe_document(uow, "refund", claim.id))
    assert of_refund is not None
    assert of_claim is not None
    assert (of_refund.resource, of_refund.record.id) == ("refund", refund.id)
    assert of_refund.facts == {"amount": cny("300")}
    assert of_refund.owner_id == actor.user_id
    assert (of_claim.resource, of_claim.record.id) == ("expense_claim", claim.id)
    assert of_claim.facts == {"amount": cny("80"), "needs_extra_approval": False}
    assert of_claim.owner_id == actor.user_id


def an_invoice_request(crm: Crm, actor: Actor) -> uuid.UUID:
    view = make_plan(crm, actor, total="1130.00")
    return request_invoice(
        crm,
        actor,
        customer_id=view.plan.customer_id,
        lines=[InvoiceLine("delivery", cny("1000"), "0.13")],
        documents=[("contract", view.plan.document_id, None)],
    ).id


def test_invoices_are_numbered_by_the_default_rule_unless_a_number_is_given(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    year = clock.now().year
    on = date(2026, 3, 2)
    first = issue_invoice(
        crm, actor, an_invoice_request(crm, actor), issued_on=on, idempotency_key="1"
    )
    second = issue_invoice(
        crm, actor, an_invoice_request(crm, actor), issued_on=on, idempotency_key="2"
    )
    manual = issue_invoice(
        crm, actor, an_invoice_request(crm, actor), number="手工-7", issued_on=on, idempotency_key="3"
    )  # fmt: skip
    assert (first.number, second.number) == (f"FP-{year}-000001", f"FP-{year}-000002")
    assert manual.number == "手工-7"
    # A retry returns the first result: no number is used up twice.
    again = issue_invoice(crm, actor, first.id, issued_on=on, idempotency_key="1")
    assert again.number == first.number


def test_a_tenants_own_invoice_rule_wins(crm: Crm, actor: Actor, clock: FixedClock) -> None:
    define_numbering_rule(crm, actor, doc_type="invoice", pattern="INV{seq:3}")
    issued = issue_invoice(
        crm, actor, an_invoice_request(crm, actor), issued_on=date(2026, 3, 2), idempotency_key="1"
    )
    assert issued.number == "INV001"


def test_the_default_order_credit_check_counts_billings_open_receivables(
    crm: Crm, actor: Actor
) -> None:
    buyer = customer(crm, actor, credit_limit=cny("30000"))
    # The customer owes 10,000 on a contract billed earlier: 23,600 more does not fit.
    make_plan(crm, actor, total="10000.00", customer_id=buyer.id)
    held = convert_quote_to_order(crm, actor, approved_quote(crm, actor, buyer=buyer).id)
    assert held.status is OrderStatus.ON_CREDIT_HOLD
    assert held.open_receivables == cny("10000")


def test_an_order_with_a_receivable_plan_counts_once(crm: Crm, actor: Actor) -> None:
    buyer = customer(crm, actor, credit_limit=cny("100000"))
    order = convert_quote_to_order(crm, actor, approved_quote(crm, actor, buyer=buyer).id)
    assert order.status is OrderStatus.CONFIRMED

    def exposure(uow: UnitOfWork) -> Money:
        return credit_decision(uow, buyer.id, cny("1"), on=date(2026, 3, 2)).exposure

    assert crm.run(actor.tenant_id, exposure) == cny("23600")  # unbilled: the order's total
    make_plan(
        crm,
        actor,
        total="23600.00",
        customer_id=buyer.id,
        document_type="sales_order",
        document_id=order.id,
    )
    assert crm.run(actor.tenant_id, exposure) == cny("23600")  # billed: its installments
