"""Payables: the plan of a purchase document, payments to the supplier allocated oldest
due first, and payable aging — kept apart from the receivables of the same counterparty."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from crmkit import Crm
from crmkit.billing import (
    Direction,
    DocumentRef,
    LedgerEntry,
    PlanView,
    aging_report,
    allocate_receipt,
    create_plan,
    get_plan,
    record_receipt,
)
from crmkit.billing.services.credit import open_receivables
from crmkit.kernel.actor import Actor
from crmkit.kernel.money import Money
from tests.billing.builders import TERMS_30_60_10, make_customer, make_document, make_plan

ON = date(2026, 3, 2)


def cny(text: str) -> Money:
    return Money(text, "CNY")


def purchase(crm: Crm, actor: Actor, **fields: str) -> DocumentRef:
    """A purchase order from a supplier (the counterparty sits in ``customer_id``: a
    supplier is registered like a customer)."""
    supplier = make_customer(crm, actor).id
    return make_document(
        document_type="purchase_order", number="CG-001", customer_id=supplier, **fields
    )


def payable_plan(crm: Crm, actor: Actor, document: DocumentRef) -> PlanView:
    return create_plan(
        crm,
        actor,
        document,
        terms=TERMS_30_60_10,
        milestones={"signing": date(2025, 8, 1), "delivery": date(2026, 1, 20)},
        direction=Direction.PAYABLE,
    )


def pay(crm: Crm, actor: Actor, supplier: UUID, amount: str, key: str) -> list[LedgerEntry]:
    payment = record_receipt(
        crm,
        actor,
        customer_id=supplier,
        amount=cny(amount),
        received_on=date(2026, 2, 1),
        idempotency_key=f"pay-{key}",
        direction=Direction.PAYABLE,
    )
    return list(allocate_receipt(crm, actor, payment.id, idempotency_key=f"alloc-{key}"))


def test_a_purchase_gets_a_payable_plan_whose_installments_add_up(crm: Crm, actor: Actor) -> None:
    view = payable_plan(crm, actor, purchase(crm, actor))
    assert view.plan.direction is Direction.PAYABLE
    assert all(i.direction is Direction.PAYABLE for i in view.installments)
    assert [i.amount for i in view.installments] == [cny("30000"), cny("60000"), cny("10000")]
    assert sum((i.amount for i in view.installments), cny("0")) == view.plan.total
    assert [i.due_date for i in view.installments] == [date(2025, 8, 1), date(2026, 1, 20), None]


def test_one_document_may_have_a_receivable_and_a_payable_plan(crm: Crm, actor: Actor) -> None:
    document = purchase(crm, actor)
    payable = payable_plan(crm, actor, document)
    receivable = create_plan(
        crm, actor, document, terms=TERMS_30_60_10, milestones={"signing": date(2026, 1, 5)}
    )
    assert payable.plan.id != receivable.plan.id
    assert receivable.plan.direction is Direction.RECEIVABLE


def test_payments_go_to_the_oldest_payable_due_first(crm: Crm, actor: Actor) -> None:
    document = purchase(crm, actor)
    view = payable_plan(crm, actor, document)
    # A receivable of the same counterparty, due even earlier, is not a payment's target.
    sale = make_plan(
        crm, actor, customer_id=document.customer_id, signed=date(2025, 1, 1), number="HT-9"
    )
    entries = pay(crm, actor, document.customer_id, "50000", "1")
    first, second, third = view.installments
    assert [(e.installment_id, e.amount) for e in entries] == [
        (first.id, cny("30000")),
        (second.id, cny("20000")),
    ]
    after = get_plan(crm, actor, view.plan.id)
    assert [i.paid for i in after.installments] == [cny("30000"), cny("20000"), cny("0")]
    assert after.outstanding == cny("50000")
    assert get_plan(crm, actor, sale.plan.id).paid == cny("0")
    assert third.id not in {e.installment_id for e in entries}


def test_an_overpayment_stays_unallocated_once_every_payable_is_paid(
    crm: Crm, actor: Actor
) -> None:
    document = purchase(crm, actor, total="1000.00")
    view = payable_plan(crm, actor, document)
    entries = pay(crm, actor, document.customer_id, "1200", "1")
    assert sum((e.amount for e in entries), cny("0")) == cny("1000")
    assert get_plan(crm, actor, view.plan.id).outstanding == cny("0")


def test_payable_aging_lists_only_payables(crm: Crm, actor: Actor) -> None:
    document = purchase(crm, actor)
    payable_plan(crm, actor, document)
    pay(crm, actor, document.customer_id, "10000", "1")
    sale = make_plan(crm, actor, signed=date(2026, 2, 20), delivered=None, accepted=None)

    (row,) = aging_report(crm, actor, ON, direction=Direction.PAYABLE).to_dicts()
    assert row["customer_id"] == str(document.customer_id)
    # 30,000 due 2025-08-01 (213 days) less 10,000 paid; 60,000 due 2026-01-20 (41 days);
    # the 10,000 after acceptance has no due date yet.
    assert (row["over_180"], row["31-60"], row["not_due"], row["total"]) == (
        Decimal("20000"),
        Decimal("60000"),
        Decimal("10000"),
        Decimal("90000"),
    )
    (receivable,) = aging_report(crm, actor, ON).to_dicts()
    assert receivable["customer_id"] == str(sale.plan.customer_id)


def test_payables_never_count_as_a_customers_receivables(crm: Crm, actor: Actor) -> None:
    document = purchase(crm, actor)
    payable_plan(crm, actor, document)
    owed = crm.run(actor.tenant_id, lambda uow: open_receivables(uow, document.customer_id, "CNY"))
    assert owed == cny("0")
