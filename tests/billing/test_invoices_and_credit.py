"""Invoices with per-line tax and red-letter voids; the credit-limit check."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit import Crm
from crmkit.billing import (
    InvoiceLine,
    InvoiceState,
    TaxRounding,
    allocate_receipt,
    check_credit,
    credit_check,
    document_summary,
    issue_invoice,
    price_lines,
    record_receipt,
    request_invoice,
    send_invoice,
    void_invoice,
)
from crmkit.customers import register_customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import IdempotencyConflict, InvalidTransition, ValidationError
from crmkit.kernel.money import Money
from tests.billing.builders import make_customer, make_document, make_plan


def cny(text: str) -> Money:
    return Money(text, "CNY")


LINES = [
    InvoiceLine("software", cny("0.05"), "0.13"),
    InvoiceLine("freight", cny("0.05"), "0.09"),
    InvoiceLine("service", cny("0.05"), "0.06"),
    InvoiceLine("books", cny("100.00"), "0"),
]


def test_tax_is_rounded_per_line_or_once_per_invoice() -> None:
    per_line = price_lines(LINES, TaxRounding.PER_LINE)
    assert [line.tax for line in per_line] == [cny("0.01"), cny("0.00"), cny("0.00"), cny("0")]
    per_invoice = price_lines(LINES, TaxRounding.PER_INVOICE)
    # 0.0065 + 0.0045 + 0.003 = 0.014 -> 0.01 once, shared back to the lines.
    assert sum((line.tax for line in per_invoice if line.tax), cny("0")) == cny("0.01")


@given(
    nets=st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=10),
    rates=st.lists(st.sampled_from(["0.13", "0.09", "0.06", "0"]), min_size=10, max_size=10),
)
def test_line_taxes_always_add_up_to_the_invoice_tax(nets: list[int], rates: list[str]) -> None:
    lines = [
        InvoiceLine(f"#{n}", Money.from_minor_units(net, "CNY"), rate)
        for n, (net, rate) in enumerate(zip(nets, rates, strict=False))
    ]
    priced = price_lines(lines, TaxRounding.PER_INVOICE)
    exact = sum((line.net.amount * line.tax_rate for line in lines), Decimal(0))
    total = sum((line.tax for line in priced if line.tax), cny("0"))
    assert total == Money(exact, "CNY").round()
    assert all(line.tax is not None and line.tax.is_rounded for line in priced)


def test_several_invoices_per_order_and_a_red_letter_void(crm: Crm, actor: Actor) -> None:
    view = make_plan(crm, actor, total="11300.00")
    document = make_document(
        customer_id=view.plan.customer_id, document_id=view.plan.document_id, total="11300.00"
    )
    first = request_invoice(
        crm,
        actor,
        customer_id=document.customer_id,
        lines=[InvoiceLine("first delivery", cny("5000"), "0.13")],
        documents=[("contract", document.document_id, None)],
    )
    assert (first.net, first.tax, first.gross) == (cny("5000"), cny("650"), cny("5650"))
    issued = issue_invoice(
        crm, actor, first.id, number="FP-001", issued_on=date(2026, 3, 2), idempotency_key="i1"
    )
    assert issued.state is InvoiceState.ISSUED
    assert (
        issue_invoice(
            crm, actor, first.id, number="FP-001", issued_on=date(2026, 3, 2), idempotency_key="i1"
        ).number
        == "FP-001"
    )
    with pytest.raises(IdempotencyConflict):
        issue_invoice(
            crm, actor, first.id, number="FP-002", issued_on=date(2026, 3, 2), idempotency_key="i1"
        )
    send_invoice(crm, actor, first.id)
    receipt = record_receipt(
        crm,
        actor,
        customer_id=document.customer_id,
        amount=cny("3390"),
        received_on=date(2026, 3, 2),
        idempotency_key="r",
    )
    allocate_receipt(crm, actor, receipt.id, idempotency_key="a")
    summary = document_summary(crm, actor, document)
    assert (summary.contracted, summary.invoiced, summary.received) == (
        cny("11300"),
        cny("5650"),
        cny("3390"),
    )
    assert summary.to_invoice == cny("5650")
    red = void_invoice(
        crm, actor, first.id, number="FP-001-R", on=date(2026, 3, 3), idempotency_key="v1"
    )
    assert (red.gross, red.reverses, red.state) == (cny("-5650"), first.id, InvoiceState.ISSUED)
    assert document_summary(crm, actor, document).invoiced == cny("0")
    with pytest.raises(InvalidTransition):
        void_invoice(
            crm, actor, first.id, number="FP-001-R2", on=date(2026, 3, 3), idempotency_key="v2"
        )


def test_one_invoice_can_cover_several_orders_of_a_customer(crm: Crm, actor: Actor) -> None:
    a = make_document(total="1130.00", customer_id=make_customer(crm, actor).id)
    b = make_document(total="2260.00", customer_id=a.customer_id)
    lines = [InvoiceLine("goods", cny("3000"), "0.13")]
    with pytest.raises(ValidationError, match="add up"):
        request_invoice(
            crm,
            actor,
            customer_id=a.customer_id,
            lines=lines,
            documents=[
                ("contract", a.document_id, cny("1130")),
                ("contract", b.document_id, cny("2000")),
            ],
        )
    invoice = request_invoice(
        crm,
        actor,
        customer_id=a.customer_id,
        lines=lines,
        documents=[
            ("contract", a.document_id, cny("1130")),
            ("contract", b.document_id, cny("2260")),
        ],
    )
    issue_invoice(
        crm, actor, invoice.id, number="FP-9", issued_on=date(2026, 3, 2), idempotency_key="i"
    )
    assert document_summary(crm, actor, a).invoiced == cny("1130")
    assert document_summary(crm, actor, b).invoiced == cny("2260")


def test_an_order_over_the_credit_limit_needs_an_approval(crm: Crm, actor: Actor) -> None:
    customer = register_customer(crm, actor, name="杭州西湖茶业", credit_limit=cny("150000"))
    make_plan(crm, actor, customer_id=customer.id)  # 100,000 open
    fits = check_credit(crm, actor, customer.id, cny("50000"))
    assert fits.allowed
    assert not fits.approval_required
    assert fits.open_receivables == cny("100000")
    port = credit_check(crm)
    over = port(actor, customer.id, cny("50000.01"))
    assert over.approval_required
    assert over.limit == cny("150000")
    unlimited = register_customer(crm, actor, name="无额度客户")
    assert check_credit(crm, actor, unlimited.id, cny("1000000")).allowed
