"""Opportunity product lines: the amount follows them exactly; quotes start from them;
a declined or expired quote no longer opens the proposal gate."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit import Crm, ValidationError
from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import FixedClock
from crmkit.kernel.errors import CurrencyMismatch, InvalidTransition
from crmkit.kernel.money import Money
from crmkit.pipeline import (
    DealLine,
    Opportunity,
    add_opportunity_line,
    define_sales_process,
    move_opportunity,
    open_opportunity,
    remove_opportunity_line,
    set_opportunity_amount,
    set_opportunity_lines,
    win_opportunity,
)
from crmkit.pipeline.model.opportunities import default_process, lines_total
from crmkit.pipeline.model.pricing import DiscountRate, LineItem
from crmkit.pipeline.model.quotes import Quote
from crmkit.pipeline.services import LineRequest, create_quote, decline_quote, submit_quote
from tests.pipeline.test_quotes import customer, price_book


def open_deal(crm: Crm, actor: Actor, amount: str = "100000") -> Opportunity:
    process = define_sales_process(
        crm, actor, "standard", default_process(actor.tenant_id, uuid.uuid4()).stages
    )
    return open_opportunity(
        crm,
        actor,
        customer_id=customer(crm, actor).id,
        name="产线改造",
        amount=Money(amount, "CNY"),
        process_id=process.id,
        expected_close=date(2026, 6, 30),
    )


def stored(crm: Crm, actor: Actor, deal_id: uuid.UUID) -> Opportunity:
    return crm.run(actor.tenant_id, lambda uow: uow.repository(Opportunity).get(deal_id))


def test_lines_set_the_amount_exactly_and_survive_storage(crm: Crm, actor: Actor) -> None:
    deal = open_deal(crm, actor)
    deal = set_opportunity_lines(
        crm,
        actor,
        deal.id,
        [
            DealLine("SENSOR", "3", "工业传感器", Money("333.33", "CNY"), category="hardware"),
            DealLine(
                "MES",
                "1",
                "MES 授权",
                Money("10000", "CNY"),
                category="software",
                unit="套",
                discount=DiscountRate("0.125"),
            ),
        ],
    )
    # 3 x 333.33 = 999.99; 10000 less 12.5% = 8750.00
    assert deal.amount == Money("9749.99", "CNY")
    assert [line.net for line in deal.lines] == [Money("999.99", "CNY"), Money("8750.00", "CNY")]
    again = stored(crm, actor, deal.id)
    assert again.lines == deal.lines
    assert again.amount == deal.amount
    assert again.category_mix() == [("hardware", Decimal("999.99")), ("software", Decimal("8750"))]


def test_adding_and_removing_lines_keeps_the_amount_in_step(crm: Crm, actor: Actor) -> None:
    price_book(crm, actor)
    deal = open_deal(crm, actor)
    deal = add_opportunity_line(crm, actor, deal.id, DealLine("SENSOR", "60"))  # list tier
    assert deal.lines[0].unit_price == Money("1100.00", "CNY")
    assert deal.lines[0].description == "工业传感器"
    deal = add_opportunity_line(
        crm, actor, deal.id, DealLine("SVC", "2", "实施服务", Money("4000", "CNY"))
    )
    assert [line.line_no for line in deal.lines] == [1, 2]
    assert deal.amount == Money("74000.00", "CNY")
    deal = remove_opportunity_line(crm, actor, deal.id, 1)
    assert deal.amount == Money("8000.00", "CNY")
    with pytest.raises(ValidationError):
        remove_opportunity_line(crm, actor, deal.id, 1)
    with pytest.raises(ValidationError):
        set_opportunity_amount(crm, actor, deal.id, Money("1", "CNY"))  # lines rule it
    deal = remove_opportunity_line(crm, actor, deal.id, 2)
    assert deal.lines == ()
    assert deal.amount == Money("8000.00", "CNY")
    deal = set_opportunity_amount(crm, actor, deal.id, Money("9000", "CNY"))
    assert stored(crm, actor, deal.id).amount == Money("9000", "CNY")


def test_bad_lines_and_closed_deals_are_refused(crm: Crm, actor: Actor) -> None:
    deal = open_deal(crm, actor)
    with pytest.raises(CurrencyMismatch):
        set_opportunity_lines(crm, actor, deal.id, [DealLine("X", "1", "X", Money("10", "USD"))])
    with pytest.raises(ValidationError):
        set_opportunity_lines(crm, actor, deal.id, [DealLine("X", "1", None, Money("1", "CNY"))])
    with pytest.raises(ValidationError):
        set_opportunity_lines(crm, actor, deal.id, [DealLine("X", "0", "X", Money("1", "CNY"))])
    assert stored(crm, actor, deal.id).lines == ()
    win_opportunity(crm, actor, deal.id)
    with pytest.raises(InvalidTransition):
        add_opportunity_line(crm, actor, deal.id, DealLine("X", "1", "X", Money("1", "CNY")))


def test_a_quote_can_start_from_the_deals_lines(crm: Crm, actor: Actor) -> None:
    price_book(crm, actor)
    deal = open_deal(crm, actor)
    set_opportunity_lines(
        crm,
        actor,
        deal.id,
        [
            DealLine("SENSOR", "10", category="hardware", discount=DiscountRate("0.05")),
            DealLine("GATEWAY", "1", "网关（定制）", Money("5600", "CNY"), category="hardware"),
        ],
    )
    deal = stored(crm, actor, deal.id)
    quote = create_quote(
        crm, actor, customer_id=deal.customer_id, currency="CNY", opportunity_id=deal.id
    )
    assert quote.total == deal.amount == Money("17000.00", "CNY")
    assert [(q.product_code, q.description, q.category) for q in quote.lines] == [
        ("SENSOR", "工业传感器", "hardware"),
        ("GATEWAY", "网关（定制）", "hardware"),
    ]
    with pytest.raises(ValidationError):
        create_quote(
            crm, actor, customer_id=deal.customer_id, currency="USD", opportunity_id=deal.id
        )


def test_a_declined_quote_no_longer_opens_the_proposal_gate(crm: Crm, actor: Actor) -> None:
    price_book(crm, actor)
    deal = open_deal(crm, actor)
    quote = create_quote(
        crm,
        actor,
        customer_id=deal.customer_id,
        currency="CNY",
        lines=[LineRequest("SENSOR", "1")],
        opportunity_id=deal.id,
    )
    decline_quote(crm, actor, submit_quote(crm, actor, quote.id).id, "too dear")
    assert "quote" not in stored(crm, actor, deal.id).documents
    with pytest.raises(ValidationError) as raised:
        move_opportunity(crm, actor, deal.id, "proposal")
    assert "document:quote" in str(raised.value)
    # A new quote for the deal opens it again.
    create_quote(
        crm,
        actor,
        customer_id=deal.customer_id,
        currency="CNY",
        lines=[LineRequest("SENSOR", "1")],
        opportunity_id=deal.id,
    )
    assert move_opportunity(crm, actor, deal.id, "proposal").stage == "proposal"


def test_an_expired_quote_no_longer_opens_the_proposal_gate(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    price_book(crm, actor)
    deal = open_deal(crm, actor)
    create_quote(
        crm,
        actor,
        customer_id=deal.customer_id,
        currency="CNY",
        lines=[LineRequest("SENSOR", "1")],
        opportunity_id=deal.id,
        valid_days=10,
    )
    clock.advance(days=11)
    with pytest.raises(ValidationError):
        move_opportunity(crm, actor, deal.id, "proposal")
    quotes = crm.run(actor.tenant_id, lambda uow: uow.repository(Quote).query())
    assert len(quotes) == 1


@given(
    st.lists(
        st.tuples(
            st.integers(1, 10_000).map(lambda n: Decimal(n) / 100),
            st.integers(1, 5_000_000).map(lambda c: Money(Decimal(c) / 100, "CNY")),
            st.integers(0, 100).map(lambda p: DiscountRate(Decimal(p) / 100)),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_a_deals_amount_is_always_the_sum_of_its_rounded_lines(
    specs: list[tuple[Decimal, Money, DiscountRate]],
) -> None:
    deal = Opportunity(
        id=uuid.uuid4(),  # type: ignore[arg-type]
        tenant_id=uuid.uuid4(),  # type: ignore[arg-type]
        name="d",
        customer_id=uuid.uuid4(),
        amount=Money("0", "CNY"),
        process_id=uuid.uuid4(),
        stage="initial",
        probability=10,
        created_at=FixedClock("2026-03-02T09:00:00Z").now(),
        stage_entered_at=FixedClock("2026-03-02T09:00:00Z").now(),
    )
    lines = [
        LineItem(n, f"P{n}", "p", quantity, price, discount)
        for n, (quantity, price, discount) in enumerate(specs, 1)
    ]
    deal.set_lines(lines, deal.created_at)
    assert deal.amount == lines_total(lines, "CNY")
    assert deal.amount == sum(
        ((p * q).round() - d.off((p * q).round()) for q, p, d in specs), Money.zero("CNY")
    )
    assert sum(w for _, w in deal.category_mix()) == deal.amount.amount
