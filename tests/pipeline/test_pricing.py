"""Pricing: discount rates, price lists with tiers and validity, exact line and document money."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.kernel.converter import structure, unstructure
from crmkit.kernel.errors import CurrencyMismatch, ValidationError
from crmkit.kernel.ids import TenantId
from crmkit.kernel.money import Money
from crmkit.pipeline.model.pricing import (
    DiscountRate,
    LineItem,
    PriceList,
    PriceListId,
    PriceListItem,
    VolumeTier,
    choose_price_list,
    price_line,
    totals,
)

TENANT = TenantId(uuid.uuid4())


def make_list(
    *,
    level: str | None = None,
    currency: str = "CNY",
    valid_from: date = date(2026, 1, 1),
    valid_to: date | None = None,
    price: str = "100.00",
) -> PriceList:
    return PriceList(
        id=PriceListId(uuid.uuid4()),
        tenant_id=TENANT,
        name=f"{level or 'all'} {currency} {valid_from.year}",
        currency=currency,
        valid_from=valid_from,
        valid_to=valid_to,
        customer_level=level,
        items=(
            PriceListItem(
                "SKU-1",
                "工业传感器 Sensor",
                Money(price, currency),
                tiers=(
                    VolumeTier(Decimal(100), Money("80.00", currency)),
                    VolumeTier(Decimal(10), Money("90.00", currency)),
                ),
            ),
        ),
    )


@pytest.mark.parametrize("bad", ["1.01", "-0.01", "NaN"])
def test_a_discount_rate_stays_between_zero_and_one(bad: str) -> None:
    with pytest.raises(ValidationError):
        DiscountRate(Decimal(bad))


def test_a_discount_rate_refuses_floats() -> None:
    with pytest.raises(TypeError):
        DiscountRate(0.1)  # type: ignore[arg-type]


def test_a_discount_rate_reads_percentages() -> None:
    assert DiscountRate.percent("12.5") == DiscountRate(Decimal("0.125"))
    assert str(DiscountRate("0.15")) == "15%"


@pytest.mark.parametrize(
    ("quantity", "unit_price"),
    [("1", "100.00"), ("9", "100.00"), ("10", "90.00"), ("99.5", "90.00"), ("100", "80.00")],
)
def test_volume_tiers_lower_the_unit_price_from_their_quantity_on(
    quantity: str, unit_price: str
) -> None:
    line = price_line(1, make_list(), "SKU-1", quantity)
    assert line.unit_price == Money(unit_price, "CNY")
    assert line.list_price == line.unit_price


def test_the_customers_level_list_beats_the_general_one_and_the_newest_wins() -> None:
    general = make_list()
    older_a = make_list(level="A", valid_from=date(2025, 1, 1), valid_to=date(2026, 12, 31))
    newer_a = make_list(level="A", valid_from=date(2026, 3, 1))
    lists = [general, older_a, newer_a]
    assert choose_price_list(lists, "A", "CNY", date(2026, 3, 5)) == newer_a
    assert choose_price_list(lists, "A", "CNY", date(2026, 2, 5)) == older_a
    assert choose_price_list(lists, "B", "CNY", date(2026, 2, 5)) == general
    assert choose_price_list(lists, None, "CNY", date(2026, 2, 5)) == general


def test_no_list_for_the_currency_or_day_is_an_error_naming_them() -> None:
    lists = [make_list(valid_to=date(2026, 6, 30))]
    with pytest.raises(ValidationError, match="USD"):
        choose_price_list(lists, None, "USD", date(2026, 3, 1))
    with pytest.raises(ValidationError, match="2026-07-01"):
        choose_price_list(lists, None, "CNY", date(2026, 7, 1))


def test_a_list_refuses_mixed_currencies_duplicates_and_backwards_dates() -> None:
    with pytest.raises(CurrencyMismatch):
        PriceList(
            id=PriceListId(uuid.uuid4()),
            tenant_id=TENANT,
            name="x",
            currency="CNY",
            valid_from=date(2026, 1, 1),
            items=(PriceListItem("A", "a", Money("1", "USD")),),
        )
    item = PriceListItem("A", "a", Money("1", "CNY"))
    with pytest.raises(ValidationError):
        PriceList(
            id=PriceListId(uuid.uuid4()),
            tenant_id=TENANT,
            name="x",
            currency="CNY",
            valid_from=date(2026, 1, 1),
            items=(item, item),
        )
    with pytest.raises(ValidationError):
        make_list(valid_to=date(2025, 12, 31))


def test_a_product_not_on_the_list_is_named() -> None:
    with pytest.raises(ValidationError, match="SKU-404"):
        price_line(1, make_list(), "SKU-404", "1")


def test_lines_round_per_line_and_the_total_is_the_sum_of_rounded_lines() -> None:
    # 3 x 0.333 = 0.999 -> 1.00 per line; three lines make 3.00, not round(2.997) = 3.00 by luck:
    # with a 10% line discount each line is 1.00 - 0.10 = 0.90, and 0.90 x 3 = 2.70.
    lines = [
        LineItem(n, "P", "p", Decimal(3), Money("0.333", "CNY"), DiscountRate("0.1"))
        for n in (1, 2, 3)
    ]
    money = totals(lines, DiscountRate("0.05"), "CNY")
    assert [line.net for line in lines] == [Money("0.90", "CNY")] * 3
    assert money.subtotal == Money("2.70", "CNY")
    assert money.total_discount_amount == Money("0.14", "CNY")  # 0.135 rounds half up
    assert money.total == Money("2.56", "CNY")


def test_a_document_refuses_a_line_in_another_currency() -> None:
    line = LineItem(1, "P", "p", Decimal(1), Money("1", "USD"))
    with pytest.raises(CurrencyMismatch):
        totals([line], DiscountRate.none(), "CNY")


def test_the_effective_discount_compares_the_total_with_the_list() -> None:
    line = price_line(1, make_list(), "SKU-1", "1", DiscountRate("0.10"))
    money = totals([line], DiscountRate("0.10"), "CNY")
    assert money.total == Money("81.00", "CNY")
    assert money.effective_discount == DiscountRate("0.19")
    raised = price_line(1, make_list(), "SKU-1", "1", unit_price=Money("120", "CNY"))
    assert totals([raised], DiscountRate.none(), "CNY").effective_discount == DiscountRate.none()


def test_a_priced_line_survives_a_round_trip_through_the_converter() -> None:
    line = price_line(2, make_list(), "SKU-1", "12.5", DiscountRate("0.075"))
    assert structure(unstructure(line), LineItem) == line


amounts = st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False)
quantities = st.decimals(min_value=Decimal("0.01"), max_value=10**4, places=2, allow_nan=False)
rates = st.decimals(min_value=0, max_value=1, places=4, allow_nan=False).map(DiscountRate)


@given(
    st.lists(st.tuples(amounts, quantities, rates), min_size=1, max_size=8),
    rates,
    st.sampled_from(["CNY", "JPY", "KWD"]),
)
def test_document_money_adds_up_to_the_minor_unit(
    specs: list[tuple[Decimal, Decimal, DiscountRate]], total_discount: DiscountRate, currency: str
) -> None:
    lines = [
        LineItem(n, "P", "p", qty, Money(price, currency), rate)
        for n, (price, qty, rate) in enumerate(specs, start=1)
    ]
    money = totals(lines, total_discount, currency)
    for line in lines:
        assert line.gross.is_rounded
        assert line.net.is_rounded
        assert line.discount_amount.is_rounded
        assert line.net + line.discount_amount == line.gross
        assert not line.net.is_negative
    assert money.subtotal == sum((line.net for line in lines), Money.zero(currency))
    assert money.total + money.total_discount_amount == money.subtotal
    assert money.total.is_rounded
    assert not money.total.is_negative
    assert 0 <= money.effective_discount.rate <= 1
