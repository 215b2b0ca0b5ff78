from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.kernel.errors import NotFound, RateNotFound, ValidationError
from crmkit.kernel.money import DOWN, HALF_EVEN, HALF_UP, Money
from crmkit.kernel.rates import ExchangeRate, ExchangeRates
from tests.strategies import currencies, money, rate_dates, rate_values

JAN_1 = date(2024, 1, 1)
JAN_2 = date(2024, 1, 2)
JAN_3 = date(2024, 1, 3)
JAN_10 = date(2024, 1, 10)


def usd_cny() -> ExchangeRates:
    rates = ExchangeRates()
    rates.add("USD", "CNY", "7.10", on=JAN_2)
    rates.add("USD", "CNY", "7.20", on=JAN_10)
    return rates


# ---------------------------------------------------------------- ExchangeRate


def test_exchange_rate_is_a_frozen_value() -> None:
    rate = ExchangeRate("USD", "CNY", "7.10", JAN_1)
    assert rate.rate == Decimal("7.10")
    assert rate == ExchangeRate("USD", "CNY", Decimal("7.1"), JAN_1)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        rate.rate = Decimal(8)  # type: ignore[misc]


@pytest.mark.parametrize("rate", ["0", "-7.1", 0])
def test_rate_must_be_positive(rate: str | int) -> None:
    with pytest.raises(ValidationError) as caught:
        ExchangeRate("USD", "CNY", rate, JAN_1)
    assert caught.value.fields["field"] == "rate"


def test_float_rate_raises_type_error() -> None:
    with pytest.raises(TypeError, match="float"):
        ExchangeRate("USD", "CNY", 7.1, JAN_1)  # type: ignore[arg-type]


@pytest.mark.parametrize("rate", ["NaN", "Infinity"])
def test_non_finite_rate_raises_validation_error(rate: str) -> None:
    with pytest.raises(ValidationError):
        ExchangeRate("USD", "CNY", rate, JAN_1)


def test_unknown_currency_in_a_rate_raises() -> None:
    with pytest.raises(ValidationError) as caught:
        ExchangeRate("USD", "RMB", "7.1", JAN_1)
    assert caught.value.fields["field"] == "quote"


def test_rate_date_must_be_a_plain_date() -> None:
    with pytest.raises(ValidationError) as caught:
        ExchangeRate("USD", "CNY", "7.1", datetime(2024, 1, 1, 12))
    assert caught.value.fields["field"] == "on"


def test_a_currency_against_itself_can_only_be_one() -> None:
    assert ExchangeRate("CNY", "CNY", "1", JAN_1).rate == 1
    with pytest.raises(ValidationError):
        ExchangeRate("CNY", "CNY", "2", JAN_1)


def test_inverse_flips_the_pair() -> None:
    inverse = ExchangeRate("USD", "CNY", "8", JAN_1).inverse()
    assert inverse == ExchangeRate("CNY", "USD", "0.125", JAN_1)


# --------------------------------------------------------------- ExchangeRates


def test_rate_is_the_latest_on_or_before_the_date() -> None:
    rates = usd_cny()
    assert rates.rate("USD", "CNY", JAN_2) == Decimal("7.10")
    assert rates.rate("USD", "CNY", JAN_3) == Decimal("7.10")
    assert rates.rate("USD", "CNY", JAN_10) == Decimal("7.20")
    assert rates.rate("USD", "CNY", date(2030, 1, 1)) == Decimal("7.20")


def test_a_rate_dated_after_the_date_is_not_used() -> None:
    rates = ExchangeRates()
    rates.add("USD", "CNY", "7.20", on=JAN_10)
    with pytest.raises(RateNotFound) as caught:
        rates.rate("USD", "CNY", JAN_3)
    assert caught.value.fields["base"] == "USD"
    assert caught.value.fields["on"] == JAN_3


def test_rate_not_found_is_a_not_found() -> None:
    with pytest.raises(NotFound):
        ExchangeRates().rate("USD", "CNY", JAN_1)


def test_rates_added_out_of_order_are_looked_up_by_date() -> None:
    rates = ExchangeRates()
    rates.add("USD", "CNY", "7.30", on=JAN_10)
    rates.add("USD", "CNY", "7.00", on=JAN_1)
    rates.add("USD", "CNY", "7.10", on=JAN_3)
    assert rates.rate("USD", "CNY", JAN_2) == Decimal("7.00")
    assert rates.rate("USD", "CNY", date(2024, 1, 9)) == Decimal("7.10")
    assert [r.on for r in rates] == [JAN_1, JAN_3, JAN_10]


def test_adding_a_rate_for_the_same_day_replaces_it() -> None:
    rates = ExchangeRates()
    rates.add("USD", "CNY", "7.00", on=JAN_1)
    rates.add("USD", "CNY", "7.05", on=JAN_1)
    assert rates.rate("USD", "CNY", JAN_1) == Decimal("7.05")
    assert len(rates) == 1


def test_inverse_pair_is_used_when_only_it_is_known() -> None:
    rates = ExchangeRates()
    rates.add("CNY", "USD", "0.125", on=JAN_1)
    assert rates.rate("USD", "CNY", JAN_2) == Decimal(8)
    looked_up = rates.lookup("USD", "CNY", JAN_2)
    assert (looked_up.base, looked_up.quote, looked_up.on) == ("USD", "CNY", JAN_1)


def test_the_most_recent_direction_wins() -> None:
    rates = ExchangeRates()
    rates.add("USD", "CNY", "7", on=JAN_1)
    rates.add("CNY", "USD", "0.125", on=JAN_3)
    assert rates.rate("USD", "CNY", JAN_2) == Decimal(7)
    assert rates.rate("USD", "CNY", JAN_3) == Decimal(8)


def test_the_direct_rate_wins_a_tie_with_the_inverse() -> None:
    rates = ExchangeRates()
    rates.add("CNY", "USD", "0.125", on=JAN_1)
    rates.add("USD", "CNY", "7", on=JAN_1)
    assert rates.rate("USD", "CNY", JAN_1) == Decimal(7)
    assert rates.rate("CNY", "USD", JAN_1) == Decimal("0.125")


def test_same_currency_converts_at_exactly_one_without_any_rate() -> None:
    rates = ExchangeRates()
    assert rates.rate("CNY", "CNY", JAN_1) == 1
    assert rates.lookup("CNY", "CNY", JAN_1) == ExchangeRate("CNY", "CNY", "1", JAN_1)


def test_lookup_with_an_unknown_currency_raises_validation_error() -> None:
    with pytest.raises(ValidationError):
        usd_cny().rate("USD", "XYZ", JAN_3)


def test_lookup_with_a_datetime_raises_validation_error() -> None:
    with pytest.raises(ValidationError):
        usd_cny().rate("USD", "CNY", datetime(2024, 1, 3, 10))


def test_a_bad_rate_leaves_nothing_behind() -> None:
    rates = usd_cny()
    with pytest.raises(ValidationError):
        rates.add("USD", "CNY", "-1", on=JAN_3)
    assert len(rates) == 2
    assert rates.rate("USD", "CNY", JAN_3) == Decimal("7.10")


def test_from_rates_builds_the_same_history() -> None:
    values = [
        ExchangeRate("USD", "CNY", "7.20", JAN_10),
        ExchangeRate("EUR", "CNY", "7.80", JAN_1),
        ExchangeRate("USD", "CNY", "7.10", JAN_2),
    ]
    rates = ExchangeRates.from_rates(values)
    assert rates.rate("USD", "CNY", JAN_3) == Decimal("7.10")
    assert sorted(rates, key=lambda r: (r.base, r.on)) == sorted(
        values, key=lambda r: (r.base, r.on)
    )
    assert list(ExchangeRates.from_rates(rates)) == list(rates)


def test_from_rates_refuses_other_items() -> None:
    with pytest.raises(TypeError):
        ExchangeRates.from_rates([("USD", "CNY", "7.1", JAN_1)])  # type: ignore[list-item]


# -------------------------------------------------------------------- convert


def test_convert_rounds_half_up_to_the_target_minor_unit() -> None:
    rates = ExchangeRates()
    rates.add("USD", "CNY", "7.1234", on=JAN_1)
    converted = rates.convert(Money("10.05", "USD"), "CNY", on=JAN_2)
    assert converted == Money("71.59", "CNY")  # 10.05 x 7.1234 = 71.59017
    assert str(converted.amount) == "71.59"


def test_convert_takes_an_explicit_rounding_mode() -> None:
    rates = ExchangeRates()
    rates.add("USD", "CNY", "7.125", on=JAN_1)
    assert rates.convert(Money("1", "USD"), "CNY", on=JAN_1) == Money("7.13", "CNY")
    assert rates.convert(Money("1", "USD"), "CNY", on=JAN_1, mode=HALF_EVEN) == Money("7.12", "CNY")
    assert rates.convert(Money("1", "USD"), "CNY", on=JAN_1, mode=DOWN) == Money("7.12", "CNY")


def test_convert_to_a_currency_without_minor_units() -> None:
    rates = ExchangeRates()
    rates.add("CNY", "JPY", "20.5", on=JAN_1)
    assert str(rates.convert(Money("10.01", "CNY"), "JPY", on=JAN_1).amount) == "205"


def test_convert_through_the_inverse_pair() -> None:
    rates = ExchangeRates()
    rates.add("USD", "CNY", "8", on=JAN_1)
    assert rates.convert(Money("100", "CNY"), "USD", on=JAN_1) == Money("12.50", "USD")


def test_convert_to_the_same_currency_only_rounds() -> None:
    converted = ExchangeRates().convert(Money("1.005", "CNY"), "CNY", on=JAN_1)
    assert converted == Money("1.01", "CNY")


def test_convert_without_a_rate_raises_rate_not_found() -> None:
    with pytest.raises(RateNotFound):
        usd_cny().convert(Money("1", "USD"), "CNY", on=JAN_1)
    with pytest.raises(RateNotFound):
        usd_cny().convert(Money("1", "USD"), "EUR", on=JAN_10)


# ------------------------------------------------------------------ properties


@given(
    money(extra_places=2),
    currencies(),
    rate_values(),
    rate_dates(),
    st.sampled_from([HALF_UP, HALF_EVEN]),
    st.booleans(),
)
def test_converting_never_gives_more_precision_than_the_minor_unit(
    amount: Money, to: str, rate: Decimal, on: date, mode: str, inverse: bool
) -> None:
    rates = ExchangeRates()
    if amount.currency != to:
        if inverse:
            rates.add(to, amount.currency, rate, on=on)
        else:
            rates.add(amount.currency, to, rate, on=on)
    converted = rates.convert(amount, to, on=on, mode=mode)
    assert converted.currency == to
    assert converted.is_rounded
    assert -converted.amount.as_tuple().exponent == converted.minor_unit  # type: ignore[operator]


@given(st.lists(st.tuples(rate_dates(), rate_values()), min_size=1, max_size=20), rate_dates())
def test_lookup_matches_a_linear_scan(history: list[tuple[date, Decimal]], on: date) -> None:
    rates = ExchangeRates()
    for published, value in history:
        rates.add("EUR", "CNY", value, on=published)
    latest: dict[date, Decimal] = {}
    for published, value in history:
        latest[published] = value
    usable = [d for d in latest if d <= on]
    if not usable:
        with pytest.raises(RateNotFound):
            rates.rate("EUR", "CNY", on)
    else:
        assert rates.rate("EUR", "CNY", on) == latest[max(usable)]


@given(rate_values(), rate_dates())
def test_inverse_lookup_is_the_reciprocal(rate: Decimal, on: date) -> None:
    rates = ExchangeRates()
    rates.add("USD", "CNY", rate, on=on)
    assert rates.rate("CNY", "USD", on) == Decimal(1) / rate
