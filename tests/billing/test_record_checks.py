"""Billing reads and writes check the records they touch (issue 14), on every backend.

Each test starts from :mod:`tests.rules.permissions.record_org`: reps Li (East) and Chen
(North), Li's manager Wang, finance clerk Zhao, analyst Qian (amounts and credit limits
hidden), a non-member and another tenant's administrator.
"""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from crmkit import Crm
from crmkit.billing import (
    allocate_receipts,
    apply_credit,
    approve_expense_claim,
    approve_refund,
    cancel_invoice,
    check_credit,
    customer_credit,
    document_summary,
    draft_expense_claim,
    ledger_entries,
    record_receipt,
    request_invoice,
    request_refund,
    submit_expense_claim,
)
from crmkit.billing.model.expenses import ClaimState, ExpenseLine
from crmkit.billing.model.invoices import InvoiceLine
from crmkit.billing.model.receipts import RefundState
from crmkit.customers.model import Customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import NotFound, PermissionDenied
from crmkit.kernel.money import Money
from crmkit.rules.approvals import SelfApprovalForbidden, configure_approvals
from tests.billing.builders import make_document, make_plan, second_admin
from tests.rules.permissions.record_org import Org, customer_of, make_org

ON = date(2026, 3, 2)


@pytest.fixture
def org(crm: Crm, actor: Actor) -> Org:
    return make_org(crm, actor)


def _receipt(crm: Crm, who: Actor, customer: Customer, amount: str, key: str | None = None):  # type: ignore[no-untyped-def]
    return record_receipt(
        crm,
        who,
        customer_id=customer.id,
        amount=Money(amount, "CNY"),
        received_on=ON,
        idempotency_key=key or uuid.uuid4().hex,
    )


def _billed(crm: Crm, org: Org, owner: Actor, total: str = "1000.00") -> Customer:
    """A customer of ``owner`` with a 30/60/10 plan of ``total`` owned by ``owner``."""
    buyer = customer_of(crm, owner, credit_limit=Money("5000", "CNY"))
    make_plan(crm, org.admin, customer_id=buyer.id, owner_id=owner.user_id, total=total)
    return buyer


def test_ledger_entries_show_only_entries_of_customers_the_reader_may_view(
    crm: Crm, org: Org
) -> None:
    mine, theirs = _billed(crm, org, org.li), _billed(crm, org, org.chen)
    _receipt(crm, org.zhao, mine, "100")
    _receipt(crm, org.zhao, theirs, "200")
    assert {e.customer_id for e in ledger_entries(crm, org.zhao)} == {mine.id, theirs.id}
    assert {e.customer_id for e in ledger_entries(crm, org.li)} == {mine.id}
    assert {e.customer_id for e in ledger_entries(crm, org.wang)} == {mine.id}  # his team
    assert {e.customer_id for e in ledger_entries(crm, org.chen)} == {theirs.id}
    with pytest.raises(PermissionDenied):
        ledger_entries(crm, org.stranger)


def test_customer_credit_answers_only_for_a_customer_the_reader_may_view(
    crm: Crm, org: Org
) -> None:
    mine = _billed(crm, org, org.li, total="100.00")
    _receipt(crm, org.li, mine, "150")
    assert customer_credit(crm, org.li, mine.id) == {"CNY": Money("150", "CNY")}
    for outsider in (org.chen, org.stranger):
        with pytest.raises(PermissionDenied):
            customer_credit(crm, outsider, mine.id)
    with pytest.raises(NotFound):
        customer_credit(crm, org.li, uuid.uuid4())


def test_check_credit_needs_a_member_who_may_view_the_customer(crm: Crm, org: Org) -> None:
    mine = _billed(crm, org, org.li)
    assert check_credit(crm, org.li, mine.id, Money("10", "CNY")).limit == Money("5000", "CNY")
    for outsider in (org.chen, org.stranger):
        with pytest.raises(PermissionDenied):
            check_credit(crm, outsider, mine.id, Money("10", "CNY"))


def test_check_credit_hides_a_limit_and_amounts_the_readers_role_hides(crm: Crm, org: Org) -> None:
    mine = _billed(crm, org, org.li)
    seen = check_credit(crm, org.qian, mine.id, Money("10", "CNY"))
    assert seen.limit is None
    assert seen.open_receivables == Money.zero("CNY")
    assert not seen.complete
    assert seen.allowed  # the answer itself is still given: 1,000 + 10 fits under 5,000
    assert check_credit(crm, org.admin, mine.id, Money("10", "CNY")).limit == Money("5000", "CNY")


def test_record_receipt_needs_a_customer_the_actor_may_view(crm: Crm, org: Org) -> None:
    theirs = customer_of(crm, org.chen)
    with pytest.raises(PermissionDenied):
        _receipt(crm, org.li, theirs, "10")
    with pytest.raises(NotFound):
        record_receipt(
            crm,
            org.zhao,
            customer_id=uuid.uuid4(),
            amount=Money("10", "CNY"),
            received_on=ON,
            idempotency_key="no-such-customer",
        )
    assert _receipt(crm, org.zhao, theirs, "10").customer_id == theirs.id


def test_apply_credit_and_batch_allocation_refuse_another_reps_receipts(crm: Crm, org: Org) -> None:
    theirs = _billed(crm, org, org.chen, total="100.00")
    receipt = _receipt(crm, org.chen, theirs, "50")
    with pytest.raises(PermissionDenied):
        apply_credit(crm, org.li, theirs.id, currency="CNY", idempotency_key="a")
    with pytest.raises(PermissionDenied):
        allocate_receipts(crm, org.li, [receipt.id], idempotency_key="b")
    assert customer_credit(crm, org.chen, theirs.id) == {"CNY": Money("50", "CNY")}
    assert allocate_receipts(crm, org.chen, [receipt.id], idempotency_key="b")
    assert customer_credit(crm, org.chen, theirs.id) == {}


def test_apply_credit_draws_only_on_receipts_the_actor_may_allocate(crm: Crm, org: Org) -> None:
    mine = _billed(crm, org, org.li, total="100.00")
    _receipt(crm, org.zhao, mine, "30")  # the clerk's receipt: Li may not allocate it
    _receipt(crm, org.li, mine, "20")
    entries = apply_credit(crm, org.li, mine.id, currency="CNY", idempotency_key="c")
    assert sum((e.amount for e in entries), Money.zero("CNY")) == Money("20", "CNY")


def test_an_idempotency_key_replays_only_for_the_user_who_sent_it(crm: Crm, org: Org) -> None:
    mine = customer_of(crm, org.li)
    first = _receipt(crm, org.zhao, mine, "10", key="bank-0001")
    again = _receipt(crm, org.zhao, mine, "10", key="bank-0001")
    assert again.id == first.id
    own = _receipt(crm, org.li, mine, "10", key="bank-0001")
    assert own.id != first.id
    assert own.owner_id == org.li.user_id


def test_an_invoice_needs_a_customer_the_actor_may_view_and_is_cancelled_by_reach(
    crm: Crm, org: Org
) -> None:
    theirs = customer_of(crm, org.chen)

    def invoice(who: Actor):  # type: ignore[no-untyped-def]
        return request_invoice(
            crm,
            who,
            customer_id=theirs.id,
            lines=[InvoiceLine("goods", Money("100", "CNY"), "0.13")],
            documents=[("contract", uuid.uuid4(), None)],
        )

    with pytest.raises(PermissionDenied):
        invoice(org.li)
    requested = invoice(org.admin)
    with pytest.raises(PermissionDenied):  # a cancel grant over her own reach only
        cancel_invoice(crm, org.li, requested.id)


def test_a_refund_from_a_customers_credit_needs_the_customer(crm: Crm, org: Org) -> None:
    theirs = customer_of(crm, org.chen)
    with pytest.raises(PermissionDenied):
        request_refund(
            crm,
            org.li,
            customer_id=theirs.id,
            amount=Money("10", "CNY"),
            reason_text="overpaid",
            idempotency_key="f",
        )


def test_nobody_approves_their_own_refund_or_expense_claim_unless_the_tenant_allows_it(
    crm: Crm, org: Org
) -> None:
    mine = customer_of(crm, org.admin)
    receipt = _receipt(crm, org.admin, mine, "100")
    refund = request_refund(
        crm,
        org.admin,
        receipt.id,
        amount=Money("10", "CNY"),
        reason_text="overpaid",
        idempotency_key="f",
    )
    claim = draft_expense_claim(
        crm, org.admin, [ExpenseLine("meals", Money("80", "CNY"), ON, "lunch")]
    )
    submit_expense_claim(crm, org.admin, claim.id, roles=[])
    with pytest.raises(SelfApprovalForbidden):
        approve_refund(crm, org.admin, refund.id)
    with pytest.raises(SelfApprovalForbidden):
        approve_expense_claim(crm, org.admin, claim.id)
    checker = second_admin(crm, org.admin)
    assert approve_refund(crm, checker, refund.id).state is RefundState.APPROVED
    configure_approvals(crm, org.admin, allow_self_approval=True)
    assert approve_expense_claim(crm, org.admin, claim.id).state is ClaimState.APPROVED


def test_a_plan_needs_a_customer_the_actor_may_view(crm: Crm, org: Org) -> None:
    theirs = customer_of(crm, org.chen)
    with pytest.raises(PermissionDenied):
        make_plan(crm, org.li, customer_id=theirs.id, owner_id=org.li.user_id)
    with pytest.raises(NotFound):
        make_plan(crm, org.admin, customer_id=uuid.uuid4())
    assert make_plan(crm, org.chen, customer_id=theirs.id, owner_id=org.chen.user_id).plan


def test_a_document_summary_needs_the_documents_customer(crm: Crm, org: Org) -> None:
    view = make_plan(crm, org.admin, customer_id=customer_of(crm, org.chen).id)
    document = make_document(customer_id=view.plan.customer_id, document_id=view.plan.document_id)
    assert document_summary(crm, org.admin, document).received == Money.zero("CNY")
    with pytest.raises(PermissionDenied):  # Li views invoices, but not Chen's customer
        document_summary(crm, org.li, document)


def test_another_tenant_learns_nothing_about_this_tenants_customers(crm: Crm, org: Org) -> None:
    mine = _billed(crm, org, org.li)
    _receipt(crm, org.zhao, mine, "100")
    assert ledger_entries(crm, org.outsider) == []
    for probe in (
        lambda: check_credit(crm, org.outsider, mine.id, Money("10", "CNY")),
        lambda: customer_credit(crm, org.outsider, mine.id),
        lambda: _receipt(crm, org.outsider, mine, "10"),
    ):
        with pytest.raises(NotFound):
            probe()
