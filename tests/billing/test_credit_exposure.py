"""One credit rule: exposure = open receivables + unbilled orders - unapplied credit, in
the limit's currency, the same for a user asking and for the order confirmation."""

from __future__ import annotations

from datetime import date

import pytest

from crmkit import Crm
from crmkit.billing import (
    CreditDecision,
    CreditLimitCheck,
    check_credit,
    record_receipt,
)
from crmkit.billing.model.credit import decide_credit
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import CurrencyMismatch
from crmkit.kernel.money import Money
from crmkit.kernel.rates import ExchangeRates
from crmkit.pipeline import CreditDecision as PipelineCreditDecision
from crmkit.pipeline.model.orders import OrderStatus
from crmkit.pipeline.services import cancel_order, convert_quote_to_order, record_delivery
from tests.billing.builders import make_plan
from tests.pipeline.test_quotes import approved_quote, customer

ON = date(2026, 3, 2)


def cny(text: str) -> Money:
    return Money(text, "CNY")


def usd(text: str) -> Money:
    return Money(text, "USD")


def test_the_formula_adds_receivables_and_unbilled_orders_and_subtracts_credit() -> None:
    decision = decide_credit(
        limit=cny("100"),
        amount=cny("30"),
        open_receivables=cny("60"),
        unbilled_orders=cny("20"),
        unapplied_credit=cny("10"),
    )
    assert decision.exposure == cny("70")
    assert decision.allowed  # 70 + 30 == 100: exactly at the limit still fits
    over = decide_credit(limit=cny("100"), amount=cny("30.01"), open_receivables=cny("70"))
    assert over.approval_required
    assert decide_credit(limit=None, amount=cny("1e9"), open_receivables=cny("1")).allowed
    with pytest.raises(CurrencyMismatch):
        decide_credit(limit=cny("100"), amount=usd("1"), open_receivables=cny("0"))


def test_billing_and_the_pipeline_share_one_decision_type() -> None:
    assert PipelineCreditDecision is CreditDecision


def test_a_confirmed_order_counts_until_a_plan_covers_it_and_a_held_one_never(
    crm: Crm, actor: Actor
) -> None:
    buyer = customer(crm, actor, credit_limit=cny("50000"))
    first = convert_quote_to_order(crm, actor, approved_quote(crm, actor, buyer=buyer).id)
    assert first.status is OrderStatus.CONFIRMED
    assert first.open_receivables == cny("0")
    held = convert_quote_to_order(crm, actor, approved_quote(crm, actor, buyer=buyer).id)
    # 23,600 confirmed but unbilled + 23,600 more is 47,200: fits under 50,000 ...
    assert held.status is OrderStatus.CONFIRMED
    assert held.open_receivables == cny("23600")
    third = convert_quote_to_order(crm, actor, approved_quote(crm, actor, buyer=buyer).id)
    # ... a third does not: it waits on hold, and a held order is not exposure yet.
    assert third.status is OrderStatus.ON_CREDIT_HOLD
    seen = check_credit(crm, actor, buyer.id, cny("1"), on=ON)
    assert (seen.open_receivables, seen.unbilled_orders) == (cny("0"), cny("47200"))
    # Cancelling a confirmed order takes it out of the exposure.
    cancel_order(crm, actor, first.id, "customer changed mind")
    assert check_credit(crm, actor, buyer.id, cny("1"), on=ON).exposure == cny("23600")


def test_a_delivered_order_without_a_plan_still_counts(crm: Crm, actor: Actor) -> None:
    buyer = customer(crm, actor, credit_limit=cny("1000000"))
    order = convert_quote_to_order(crm, actor, approved_quote(crm, actor, buyer=buyer).id)
    record_delivery(crm, actor, order.id, {1: "10", 2: "2"})
    decision = check_credit(crm, actor, buyer.id, cny("1"), on=ON)
    assert decision.unbilled_orders == cny("23600")  # completed, but nobody billed it


def test_unapplied_credit_lowers_the_exposure(crm: Crm, actor: Actor) -> None:
    buyer = customer(crm, actor, credit_limit=cny("150000"))
    make_plan(crm, actor, customer_id=buyer.id)  # 100,000 open
    assert check_credit(crm, actor, buyer.id, cny("60000"), on=ON).approval_required
    # A prepayment not yet allocated is money we hold for the customer.
    record_receipt(
        crm, actor, customer_id=buyer.id, amount=cny("10000"), received_on=ON,
        idempotency_key="prepay",
    )  # fmt: skip
    slip = record_receipt(
        crm, actor, customer_id=buyer.id, amount=cny("5000"), received_on=ON,
        idempotency_key="slip", confirmed=False,
    )  # fmt: skip
    assert not slip.is_confirmed  # a slip alone is not money yet: it does not count
    decision = check_credit(crm, actor, buyer.id, cny("60000"), on=ON)
    assert (decision.unapplied_credit, decision.exposure) == (cny("10000"), cny("90000"))
    assert decision.allowed


def test_amounts_in_other_currencies_count_at_the_rate_of_the_day(crm: Crm, actor: Actor) -> None:
    buyer = customer(crm, actor, credit_limit=cny("100000"))
    make_plan(crm, actor, customer_id=buyer.id, total="10000.00", currency="USD")
    rates = ExchangeRates()
    rates.add("USD", "CNY", "7.10", date(2026, 1, 1))
    rates.add("USD", "CNY", "7.20", ON)
    decision = check_credit(crm, actor, buyer.id, usd("1000"), rates=rates, on=ON)
    assert decision.open_receivables == cny("72000")
    assert decision.amount == cny("7200")
    assert decision.allowed  # 72,000 + 7,200 <= 100,000
    earlier = check_credit(crm, actor, buyer.id, usd("1000"), rates=rates, on=date(2026, 2, 1))
    assert earlier.open_receivables == cny("71000")


def test_without_a_rate_a_foreign_amount_cannot_be_judged_and_asks_for_approval(
    crm: Crm, actor: Actor
) -> None:
    buyer = customer(crm, actor, credit_limit=cny("100000"))
    make_plan(crm, actor, customer_id=buyer.id, total="10.00", currency="USD")
    decision = check_credit(crm, actor, buyer.id, cny("1"), on=ON)
    assert decision.unconverted == ("USD",)
    assert decision.approval_required
    unlimited = customer(crm, actor)
    make_plan(crm, actor, customer_id=unlimited.id, total="10.00", currency="USD")
    assert check_credit(crm, actor, unlimited.id, cny("1"), on=ON).allowed


def test_the_order_confirmation_decides_exactly_as_check_credit(crm: Crm, actor: Actor) -> None:
    buyer = customer(crm, actor, credit_limit=cny("130000"))
    make_plan(crm, actor, customer_id=buyer.id)  # 100,000 open
    record_receipt(
        crm, actor, customer_id=buyer.id, amount=cny("2000"), received_on=ON,
        idempotency_key="credit",
    )  # fmt: skip
    asked = check_credit(crm, actor, buyer.id, cny("23600"), on=ON)
    inside = crm.run(
        actor.tenant_id, lambda uow: CreditLimitCheck().check(uow, buyer.id, cny("23600"), ON)
    )
    assert asked == inside
    order = convert_quote_to_order(crm, actor, approved_quote(crm, actor, buyer=buyer).id)
    assert order.open_receivables == asked.exposure == cny("98000")
    assert order.status is OrderStatus.CONFIRMED  # 98,000 + 23,600 <= 130,000
