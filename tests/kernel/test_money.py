from __future__ import annotations

import pickle
from decimal import Decimal
from fractions import Fraction

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.kernel.errors import CurrencyMismatch, ValidationError
from crmkit.kernel.money import (
    CEILING,
    DOWN,
    FLOOR,
    HALF_EVEN,
    HALF_UP,
    ROUNDING,
    UP,
    Money,
    is_known_currency,
    minor_unit,
    round_figure,
    to_decimal,
)
from tests.strategies import currencies, money, ratios


def cny(amount: str) -> Money:
    return Money(amount, "CNY")


def units_of(value: Money) -> Fraction:
    return Fraction(value.amount) * Fraction(10) ** value.minor_unit


# ------------------------------------------------------------------ construction


@pytest.mark.parametrize("amount", ["12.00", 12, Decimal("12.00")])
def test_amount_accepts_str_int_and_decimal(amount: str | int | Decimal) -> None:
    assert Money(amount, "CNY").amount == Decimal("12.00")
    assert isinstance(Money(amount, "CNY").amount, Decimal)


def test_float_amount_raises_type_error_asking_for_a_string() -> None:
    with pytest.raises(TypeError, match="pass a string"):
        Money(19.99, "CNY")  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", [True, None, [1], b"1"])
def test_non_number_amount_raises_type_error(amount: object) -> None:
    with pytest.raises(TypeError):
        Money(amount, "CNY")  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity", "sNaN", Decimal("NaN")])
def test_non_finite_amount_raises_validation_error(amount: str | Decimal) -> None:
    with pytest.raises(ValidationError) as caught:
        Money(amount, "CNY")
    assert caught.value.fields["entity"] == "Money"
    assert caught.value.fields["field"] == "amount"


def test_text_that_is_not_a_number_raises_validation_error() -> None:
    with pytest.raises(ValidationError, match="not a number"):
        Money("12,30", "CNY")


@pytest.mark.parametrize("currency", ["ZZZ", "cny", "", "RMB", 156])
def test_unknown_or_lower_case_currency_raises_validation_error(currency: object) -> None:
    with pytest.raises(ValidationError) as caught:
        Money("1", currency)  # type: ignore[arg-type]
    assert caught.value.fields["field"] == "currency"


def test_amount_is_stored_as_given_without_rounding() -> None:
    assert Money("1.005", "CNY").amount.as_tuple() == Decimal("1.005").as_tuple()
    assert Money("1.5", "JPY").amount == Decimal("1.5")
    assert Money("7.1", "CNY").amount.as_tuple() == Decimal("7.1").as_tuple()


def test_of_builds_the_same_money_as_the_constructor() -> None:
    assert Money.of("12.30", "CNY") == Money(Decimal("12.30"), "CNY")


def test_zero_is_written_at_the_minor_unit() -> None:
    assert str(Money.zero("CNY").amount) == "0.00"
    assert str(Money.zero("JPY").amount) == "0"
    assert str(Money.zero("KWD").amount) == "0.000"
    assert Money.zero("CNY").is_zero


def test_zero_of_unknown_currency_raises() -> None:
    with pytest.raises(ValidationError):
        Money.zero("ZZZ")


def test_money_is_frozen() -> None:
    value = cny("1")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        value.amount = Decimal(2)  # type: ignore[misc]


def test_money_has_slots() -> None:
    assert not hasattr(cny("1"), "__dict__")


def test_to_decimal_refuses_floats_and_keeps_exponents() -> None:
    assert to_decimal("1.50").as_tuple() == Decimal("1.50").as_tuple()
    with pytest.raises(TypeError, match="float"):
        to_decimal(0.1)  # type: ignore[arg-type]


def test_known_currencies_are_upper_case_iso_codes() -> None:
    assert is_known_currency("CNY")
    assert not is_known_currency("cny")
    assert not is_known_currency("ZZZ")


# -------------------------------------------------------------------- minor unit


@pytest.mark.parametrize(("currency", "digits"), [("JPY", 0), ("CNY", 2), ("USD", 2), ("KWD", 3)])
def test_minor_unit_comes_from_babel(currency: str, digits: int) -> None:
    assert minor_unit(currency) == digits
    assert Money("1", currency).minor_unit == digits


def test_minor_unit_of_unknown_currency_raises() -> None:
    with pytest.raises(ValidationError):
        minor_unit("ZZZ")


def test_from_and_to_minor_units_round_trip() -> None:
    assert Money.from_minor_units(1234, "CNY") == cny("12.34")
    assert Money.from_minor_units(-5, "KWD").amount == Decimal("-0.005")
    assert cny("12.3").to_minor_units() == 1230
    assert Money("1500", "JPY").to_minor_units() == 1500


def test_to_minor_units_of_an_unrounded_amount_raises() -> None:
    with pytest.raises(ValidationError, match="round it first"):
        cny("0.001").to_minor_units()
    assert not cny("0.001").is_rounded
    assert cny("0.010").is_rounded


# -------------------------------------------------------------------- arithmetic


def test_adding_and_subtracting_the_same_currency() -> None:
    assert cny("12.30") + cny("0.70") == cny("13")
    assert cny("12.30") - cny("0.70") == cny("11.60")


def test_mixing_currencies_raises() -> None:
    with pytest.raises(CurrencyMismatch) as caught:
        cny("1") + Money("1", "USD")
    assert (caught.value.fields["left"], caught.value.fields["right"]) == ("CNY", "USD")
    with pytest.raises(CurrencyMismatch):
        cny("1") - Money("1", "USD")


def test_comparing_mixed_currencies_raises() -> None:
    with pytest.raises(CurrencyMismatch):
        assert cny("1") < Money("2", "USD")
    with pytest.raises(CurrencyMismatch):
        assert cny("1") >= Money("2", "USD")


def test_adding_a_plain_zero_is_refused() -> None:
    with pytest.raises(TypeError, match=r"Money\.zero"):
        cny("1") + 0  # type: ignore[operator]
    with pytest.raises(TypeError, match=r"Money\.zero"):
        0 + cny("1")  # type: ignore[operator]
    with pytest.raises(TypeError):
        cny("1") - Decimal(0)  # type: ignore[operator]


def test_sum_without_a_start_raises_and_with_a_zero_start_works() -> None:
    lines = [cny("1.10"), cny("2.20"), cny("3.30")]
    with pytest.raises(TypeError, match="sum"):
        sum(lines)  # type: ignore[arg-type]
    assert sum(lines, Money.zero("CNY")) == cny("6.60")


def test_multiplying_by_int_or_decimal() -> None:
    assert cny("12.30") * 3 == cny("36.90")
    assert 3 * cny("12.30") == cny("36.90")
    assert cny("100") * Decimal("0.13") == cny("13")


def test_multiplication_keeps_every_digit() -> None:
    assert (cny("10.05") * Decimal("0.5")).amount == Decimal("5.025")


@pytest.mark.parametrize("factor", [1.5, True])
def test_multiplying_by_float_or_bool_raises(factor: object) -> None:
    with pytest.raises(TypeError):
        cny("1") * factor  # type: ignore[operator]


def test_multiplying_money_by_money_raises() -> None:
    with pytest.raises(TypeError, match="Money by Money"):
        cny("2") * cny("3")  # type: ignore[operator]


def test_multiplying_by_something_else_is_not_supported() -> None:
    with pytest.raises(TypeError):
        cny("2") * "3"  # type: ignore[operator]


def test_dividing_by_int_or_decimal() -> None:
    assert cny("10") / 4 == cny("2.5")
    assert cny("10") / Decimal("2.5") == cny("4")


def test_division_is_not_rounded_to_the_minor_unit() -> None:
    assert (cny("100") / 3).amount == Decimal(100) / 3


@pytest.mark.parametrize("divisor", [2.0, Money("1", "CNY")])
def test_dividing_by_float_or_money_raises(divisor: object) -> None:
    with pytest.raises(TypeError):
        cny("1") / divisor  # type: ignore[operator]


def test_dividing_a_number_by_money_raises() -> None:
    with pytest.raises(TypeError):
        2 / cny("1")  # type: ignore[operator]


def test_dividing_by_zero_raises_zero_division_error() -> None:
    with pytest.raises(ZeroDivisionError):
        cny("1") / 0


def test_negation_and_absolute_value() -> None:
    assert -cny("1.50") == cny("-1.50")
    assert abs(cny("-1.50")) == cny("1.50")
    assert +cny("1.50") == cny("1.50")


def test_sign_predicates_and_truth() -> None:
    assert cny("0.00").is_zero
    assert not cny("0.00")
    assert cny("0.01").is_positive
    assert cny("0.01")
    assert cny("-0.01").is_negative
    assert cny("-0.01")
    assert not cny("-0.01").is_positive
    assert not cny("0").is_negative


def test_results_of_arithmetic_are_plain_valid_money() -> None:
    result = cny("1") + cny("2")
    assert type(result) is Money
    assert attrs.asdict(result) == {"amount": Decimal("3"), "currency": "CNY"}
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        result.currency = "USD"  # type: ignore[misc]


# --------------------------------------------------------- equality and ordering


def test_equal_amounts_written_differently_are_equal_with_equal_hashes() -> None:
    assert cny("1.0") == cny("1.00") == cny("1")
    assert hash(cny("1.0")) == hash(cny("1.00"))
    assert len({cny("1.0"), cny("1.00"), cny("1")}) == 1


def test_same_amount_in_different_currencies_is_not_equal() -> None:
    assert cny("1") != Money("1", "USD")


def test_money_is_not_equal_to_a_bare_number() -> None:
    assert cny("1") != Decimal(1)
    assert cny("0") != 0  # type: ignore[comparison-overlap]


def test_ordering_within_a_currency() -> None:
    assert cny("1") < cny("1.01") <= cny("1.010") < cny("2")
    assert cny("2") > cny("1") >= cny("1.00")
    assert max(cny("3"), cny("10"), cny("-1")) == cny("10")


def test_ordering_against_a_number_raises_type_error() -> None:
    with pytest.raises(TypeError):
        assert cny("1") < 2  # type: ignore[operator]


def test_money_survives_pickling() -> None:
    value = cny("12.30") + cny("0.01")
    assert pickle.loads(pickle.dumps(value)) == value


# ---------------------------------------------------------------------- rounding


def test_round_uses_half_up_to_the_minor_unit_by_default() -> None:
    assert str(cny("0.125").round().amount) == "0.13"
    assert str(cny("-0.125").round().amount) == "-0.13"
    assert str(cny("7.1").round().amount) == "7.10"


def test_round_half_even_is_bankers_rounding() -> None:
    assert cny("0.125").round(HALF_EVEN) == cny("0.12")
    assert cny("0.135").round(HALF_EVEN) == cny("0.14")


@pytest.mark.parametrize(
    ("mode", "expected"), [(UP, "0.13"), (DOWN, "0.12"), (CEILING, "0.13"), (FLOOR, "0.12")]
)
def test_round_accepts_the_exported_modes(mode: str, expected: str) -> None:
    assert cny("0.121").round(mode) == cny(expected)


def test_round_uses_each_currency_minor_unit() -> None:
    assert str(Money("1234.5", "JPY").round().amount) == "1235"
    assert str(Money("1.2345", "KWD").round().amount) == "1.235"


def test_round_to_explicit_places() -> None:
    assert str(cny("1234.5678").round(places=3).amount) == "1234.568"
    assert cny("1250").round(places=-2) == cny("1300")


def test_round_with_an_unknown_mode_raises() -> None:
    with pytest.raises(TypeError):
        cny("1").round("ROUND_SIDEWAYS")


# -------------------------------------------------------------------- allocation


def test_split_puts_the_extra_cent_first() -> None:
    assert cny("100").split(3) == [cny("33.34"), cny("33.33"), cny("33.33")]


def test_split_of_a_negative_amount_keeps_the_sign() -> None:
    assert cny("-100").split(3) == [cny("-33.34"), cny("-33.33"), cny("-33.33")]


def test_split_into_fewer_than_one_part_raises() -> None:
    with pytest.raises(ValidationError):
        cny("1").split(0)


def test_split_into_a_non_int_raises_type_error() -> None:
    with pytest.raises(TypeError):
        cny("1").split(2.0)  # type: ignore[arg-type]


def test_allocate_by_ratios_gives_leftover_cents_to_the_largest_remainders() -> None:
    # Exact shares 0.7, 0.2, 0.1 of 0.05: 0.035 / 0.010 / 0.005.
    assert cny("0.05").allocate([7, 2, 1]) == [cny("0.04"), cny("0.01"), cny("0.00")]


def test_allocate_ties_go_to_the_earliest_part() -> None:
    assert cny("0.01").allocate([1, 0, 1]) == [cny("0.01"), cny("0"), cny("0")]
    assert cny("0.02").allocate([1, 1, 1]) == [cny("0.01"), cny("0.01"), cny("0")]


def test_allocate_with_decimal_ratios() -> None:
    parts = cny("1000").allocate([Decimal("0.3"), Decimal("0.3"), Decimal("0.4")])
    assert parts == [cny("300"), cny("300"), cny("400")]


def test_allocate_gives_nothing_to_a_zero_ratio() -> None:
    assert cny("0.03").allocate([0, 1, 1, 0]) == [cny("0"), cny("0.02"), cny("0.01"), cny("0")]


def test_allocate_in_a_currency_without_minor_units() -> None:
    assert Money("100", "JPY").allocate([1, 1, 1]) == [
        Money("34", "JPY"),
        Money("33", "JPY"),
        Money("33", "JPY"),
    ]


def test_allocating_an_amount_finer_than_the_minor_unit_raises() -> None:
    with pytest.raises(ValidationError, match="round it first"):
        cny("10.005").allocate([1, 1])


@pytest.mark.parametrize("bad", [[], [0, 0], [1, -1], [Decimal("NaN")], [Decimal("-0.5"), 2]])
def test_allocate_refuses_ratios_without_a_positive_sum_or_below_zero(
    bad: list[int | Decimal],
) -> None:
    with pytest.raises(ValidationError) as caught:
        cny("1").allocate(bad)
    assert caught.value.fields["field"] == "ratios"


def test_allocate_refuses_float_ratios() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        cny("1").allocate([0.5, 0.5])  # type: ignore[list-item]


# -------------------------------------------------------------------- formatting


def test_format_in_zh_cn() -> None:
    assert cny("1234.5").format("zh_CN") == "¥1,234.50"


def test_format_follows_the_locale_chosen_for_the_context() -> None:
    from crmkit.kernel.i18n import use_locale

    assert cny("1234.5").format() == "CN¥1,234.50"
    with use_locale("zh_CN"):
        assert cny("1234.5").format() == "¥1,234.50"


def test_format_in_en_us_names_the_yuan() -> None:
    assert cny("1234.5").format("en_US") == "CN¥1,234.50"


def test_format_dollars_in_zh_cn() -> None:
    assert Money("1234.5", "USD").format("zh_CN") == "US$1,234.50"


def test_format_uses_the_currency_digits() -> None:
    assert Money("1234", "JPY").format("en_US") == "¥1,234"
    assert Money("1.5", "KWD").format("en_US") == "KWD1.500"


def test_format_rounds_for_display_only() -> None:
    value = cny("0.125")
    assert value.format("zh_CN") == "¥0.13"  # crmkit's one rule, half up (not babel's)
    assert value.round(HALF_EVEN).format("zh_CN") == "¥0.12"
    assert value.amount == Decimal("0.125")


def test_str_is_plain_amount_and_code_at_least_at_the_minor_unit() -> None:
    assert str(cny("1234.5")) == "1234.50 CNY"
    assert str(cny("-1")) == "-1.00 CNY"
    assert str(cny("1.005")) == "1.005 CNY"
    assert str(Money("1E+3", "JPY")) == "1000 JPY"


def test_repr_shows_the_amount_as_stored() -> None:
    assert repr(cny("1234.50")) == "Money('1234.50', 'CNY')"


# ------------------------------------------------------------------- properties


@given(money("CNY"), money("CNY"))
def test_addition_commutes(a: Money, b: Money) -> None:
    assert a + b == b + a


@given(money("CNY"), money("CNY"), money("CNY"))
def test_addition_associates(a: Money, b: Money, c: Money) -> None:
    assert (a + b) + c == a + (b + c)


@given(money())
def test_zero_is_the_identity_and_negation_the_inverse(a: Money) -> None:
    zero = Money.zero(a.currency)
    assert a + zero == a
    assert (a + -a).is_zero
    assert a - a == zero
    negated = -a
    assert -negated == a


@given(money("USD"), money("USD"))
def test_subtraction_is_adding_the_negation(a: Money, b: Money) -> None:
    assert a - b == a + -b


@given(
    money("CNY", extra_places=2),
    money("CNY", extra_places=2),
    st.integers(min_value=-1000, max_value=1000)
    | st.decimals(min_value=-1000, max_value=1000, places=3, allow_nan=False),
)
def test_multiplication_distributes_over_addition(a: Money, b: Money, k: int | Decimal) -> None:
    assert (a + b) * k == a * k + b * k


@given(money(extra_places=3))
def test_equal_money_has_equal_hash(a: Money) -> None:
    padded = Money(a.amount.quantize(Decimal(1).scaleb(-12)), a.currency)
    assert padded == a
    assert hash(padded) == hash(a)


@given(money(extra_places=2), st.sampled_from([HALF_UP, HALF_EVEN, UP, DOWN, CEILING, FLOOR]))
def test_rounding_lands_on_the_minor_unit_within_one_unit(a: Money, mode: str) -> None:
    rounded = a.round(mode)
    assert rounded.is_rounded
    assert -rounded.amount.as_tuple().exponent == a.minor_unit  # type: ignore[operator]
    assert abs(units_of(rounded) - units_of(a)) < 1
    assert rounded.round(mode) == rounded


@given(money(extra_places=2))
def test_half_up_rounding_is_at_most_half_a_unit_away(a: Money) -> None:
    assert abs(units_of(a.round(HALF_UP)) - units_of(a)) <= Fraction(1, 2)


@given(money(extra_places=2))
def test_repr_round_trips(a: Money) -> None:
    assert eval(repr(a), {"Money": Money}) == a


@given(money(extra_places=2))
def test_str_keeps_every_digit(a: Money) -> None:
    text, code = str(a).split()
    assert Decimal(text) == a.amount
    assert code == a.currency


@given(money(), ratios())
def test_allocation_adds_up_exactly_and_stays_within_one_unit_of_each_share(
    total: Money, weights: list[int | Decimal]
) -> None:
    parts = total.allocate(weights)
    assert len(parts) == len(weights)
    assert sum(parts, Money.zero(total.currency)) == total
    whole = sum(Fraction(w) for w in weights)
    for part, weight in zip(parts, weights, strict=True):
        assert part.currency == total.currency
        assert part.is_rounded
        assert -part.amount.as_tuple().exponent == total.minor_unit  # type: ignore[operator]
        share = units_of(total) * Fraction(weight) / whole
        assert abs(units_of(part) - share) < 1
        if weight == 0:
            assert part.is_zero
        assert not (part.is_positive and total.is_negative)
        assert not (part.is_negative and total.is_positive)


@given(money(), st.integers(min_value=1, max_value=50))
def test_split_parts_add_up_and_differ_by_at_most_one_unit(total: Money, n: int) -> None:
    parts = total.split(n)
    assert len(parts) == n
    assert sum(parts, Money.zero(total.currency)) == total
    units = [part.to_minor_units() for part in parts]
    assert max(units) - min(units) <= 1
    assert sorted(units, key=abs, reverse=True) == units


@given(money(), ratios())
def test_allocation_is_deterministic(total: Money, weights: list[int | Decimal]) -> None:
    assert total.allocate(weights) == total.allocate(list(weights))


@given(currencies())
def test_every_strategy_currency_is_known(currency: str) -> None:
    assert is_known_currency(currency)


# ---------------------------------------------------------------- one rounding rule


def test_crmkit_rounds_every_figure_half_up() -> None:
    assert ROUNDING == HALF_UP
    assert cny("50.005").round() == cny("50.01")
    assert round_figure(Decimal("50.005"), 2) == Decimal("50.01")
    assert round_figure(Decimal("-50.005"), 2) == Decimal("-50.01")  # away from zero
    assert round_figure(Decimal("6.25"), 1) == Decimal("6.3")
    assert round_figure(Decimal("0.00125"), 4) == Decimal("0.0013")
    assert round_figure(Decimal(7), 2) == Decimal("7.00")
    assert str(round_figure(Decimal("2.5"), 0)) == "3"


def test_money_is_shown_with_the_same_rule_it_is_rounded_with() -> None:
    # babel alone would show these half-even: ¥1.00, ¥0.12, ¥2 and ¥1,234.56.
    assert Money("1.005", "CNY").format("zh_CN") == "¥1.01"
    assert Money("0.125", "CNY").format("zh_CN") == "¥0.13"
    assert Money("2.5", "JPY").format("zh_CN") == "JP¥3"
    assert Money("1234.565", "CNY").format("zh_TW") == "CN¥1,234.57"
    assert Money("-0.125", "CNY").format("en_US") == "-CN¥0.13"
    for text in ("1.005", "0.125", "1234.565", "-0.125", "99.995"):
        assert Money(text, "CNY").format("zh_CN") == Money(text, "CNY").round().format("zh_CN")


# --------------------------------------------- refusals: what they say and name
#
# A host shows these errors to people or logs them: the whole error is compared, so a
# wrong entity, field or value in a message is a failure, not a detail.

MONEY_NOTE = "both sides must be Money; to add up amounts use sum(lines, Money.zero('CNY'))"


def invalid(entity: str, field: str, why: str) -> dict[str, object]:
    return {
        "code": "validation_error",
        "message": f"{entity}.{field}: {why}",
        "entity": entity,
        "field": field,
        "reason": why,
        "row": None,
    }


def mismatch(left: str, right: str) -> dict[str, object]:
    return {
        "code": "currency_mismatch",
        "message": f"Cannot combine {left} and {right} amounts; convert one first.",
        "left": left,
        "right": right,
    }


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("12,30", "'12,30' is not a number"),
        ("NaN", "NaN is not a finite number"),
        (Decimal("-Infinity"), "-Infinity is not a finite number"),
    ],
)
def test_to_decimal_names_a_bare_value_decimal_value(value: str | Decimal, why: str) -> None:
    with pytest.raises(ValidationError) as caught:
        to_decimal(value)
    assert caught.value.to_dict() == invalid("Decimal", "value", why)


def test_to_decimal_names_the_owner_it_is_given() -> None:
    with pytest.raises(ValidationError) as caught:
        to_decimal("x", entity="quote_line", field="discount")
    assert caught.value.to_dict() == invalid("quote_line", "discount", "'x' is not a number")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "Decimal.value takes a str, int or Decimal, not NoneType"),
        ([1], "Decimal.value takes a str, int or Decimal, not list"),
        (
            0.1,
            "Decimal.value takes a str, int or Decimal, not a float (binary floats cannot "
            "hold 0.1 exactly): pass a string, e.g. '0.1'",
        ),
    ],
)
def test_to_decimal_says_which_type_it_refused(value: object, message: str) -> None:
    with pytest.raises(TypeError) as caught:
        to_decimal(value)  # type: ignore[arg-type]
    assert str(caught.value) == message


class Price(Decimal):
    """A host's own Decimal subclass: still a Decimal, so Money takes it."""


def test_a_decimal_subclass_is_a_decimal() -> None:
    assert to_decimal(Price("1.50")).as_tuple() == Decimal("1.50").as_tuple()
    assert Money(Price("1.50"), "CNY") == cny("1.50")
    assert cny("10.00") * Price("0.5") == cny("5")
    assert cny("10.00") / Price("4") == cny("2.5")


@pytest.mark.parametrize("make", [lambda: Money("1", "cny"), lambda: minor_unit("cny")])
def test_an_unknown_currency_is_named_in_the_error(make: object) -> None:
    with pytest.raises(ValidationError) as caught:
        make()  # type: ignore[operator]
    assert caught.value.to_dict() == invalid(
        "Money", "currency", "'cny' is not an upper-case ISO 4217 currency code"
    )


def test_to_minor_units_of_an_unrounded_amount_names_amount_currency_and_digits() -> None:
    with pytest.raises(ValidationError) as caught:
        Money("1.2345", "KWD").to_minor_units()
    assert caught.value.to_dict() == invalid(
        "Money", "amount", "1.2345 has more decimals than KWD allows (3); round it first"
    )


@pytest.mark.parametrize(("units", "kind"), [("1234", "str"), (True, "bool"), (12.0, "float")])
def test_from_minor_units_takes_only_an_int(units: object, kind: str) -> None:
    with pytest.raises(TypeError) as caught:
        Money.from_minor_units(units, "CNY")  # type: ignore[arg-type]
    assert str(caught.value) == f"units must be an int, not {kind}"


@pytest.mark.parametrize(("parts", "kind"), [("3", "str"), (True, "bool"), (2.0, "float")])
def test_split_takes_only_an_int(parts: object, kind: str) -> None:
    with pytest.raises(TypeError) as caught:
        cny("1").split(parts)  # type: ignore[arg-type]
    assert str(caught.value) == f"parts must be an int, not {kind}"


@pytest.mark.parametrize("parts", [0, -2])
def test_split_into_fewer_than_one_part_names_the_count(parts: int) -> None:
    with pytest.raises(ValidationError) as caught:
        cny("1").split(parts)
    assert caught.value.to_dict() == invalid("Money", "parts", f"cannot split into {parts} parts")


@pytest.mark.parametrize(
    ("ratios", "why"),
    [
        ([1, -1], "ratio -1 is not zero or more"),
        ([Decimal("-0.5"), 2], "ratio -0.5 is not zero or more"),
        ([Decimal("NaN")], "ratio NaN is not zero or more"),
        ([0, 0], "ratios must have a positive sum"),
        ([], "ratios must have a positive sum"),
    ],
)
def test_allocate_refusals_name_the_ratio(ratios: list[int | Decimal], why: str) -> None:
    with pytest.raises(ValidationError) as caught:
        cny("1").allocate(ratios)
    assert caught.value.to_dict() == invalid("Money", "ratios", why)


@pytest.mark.parametrize(
    ("ratio", "message"),
    [
        (0.5, "ratios must be ints or Decimals, not float (pass a Decimal, e.g. Decimal('0.3'))"),
        ("1", "ratios must be ints or Decimals, not str"),
        (True, "ratios must be ints or Decimals, not bool"),
    ],
)
def test_allocate_says_which_ratio_type_it_refused(ratio: object, message: str) -> None:
    with pytest.raises(TypeError) as caught:
        cny("1").allocate([1, ratio])  # type: ignore[list-item]
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("compute", "message"),
    [
        (lambda: cny("1") + 0, f"Money + int is not supported: {MONEY_NOTE}"),
        (lambda: 0 + cny("1"), f"int + Money is not supported: {MONEY_NOTE}"),
        (lambda: cny("1") - Decimal(1), f"Money - Decimal is not supported: {MONEY_NOTE}"),
        (lambda: 1.5 - cny("1"), f"float - Money is not supported: {MONEY_NOTE}"),
        (lambda: cny("1") + 0.5, f"Money + float is not supported: {MONEY_NOTE}"),
        (
            lambda: cny("1") * 1.5,
            "cannot multiply Money by a float (1.5); pass a Decimal, e.g. Decimal('1.5')",
        ),
        (lambda: cny("1") * True, "cannot multiply Money by a bool"),
        (
            lambda: cny("1") * cny("2"),
            "cannot multiply Money by Money; multiply by an int or a Decimal",
        ),
        (
            lambda: cny("1") / 2.0,
            "cannot divide Money by a float (2.0); pass a Decimal, e.g. Decimal('2.0')",
        ),
        (lambda: cny("1") / False, "cannot divide Money by a bool"),
        (
            lambda: cny("1") / cny("2"),
            "cannot divide Money by Money; divide by an int or a Decimal",
        ),
    ],
)
def test_arithmetic_refusals_say_what_to_do_instead(compute: object, message: str) -> None:
    with pytest.raises(TypeError) as caught:
        compute()  # type: ignore[operator]
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "compute",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
)
def test_mixing_currencies_names_left_and_right_as_written(compute: object) -> None:
    with pytest.raises(CurrencyMismatch) as caught:
        compute(cny("1"), Money("1", "USD"))  # type: ignore[operator]
    assert caught.value.to_dict() == mismatch("CNY", "USD")
    with pytest.raises(CurrencyMismatch) as caught:
        compute(Money("1", "USD"), cny("1"))  # type: ignore[operator]
    assert caught.value.to_dict() == mismatch("USD", "CNY")


@pytest.mark.parametrize(
    "compare", [lambda a, b: a < b, lambda a, b: a <= b, lambda a, b: a > b, lambda a, b: a >= b]
)
def test_every_ordering_against_a_number_raises_type_error(compare: object) -> None:
    with pytest.raises(TypeError, match="not supported between instances of 'Money' and 'int'"):
        compare(cny("1"), 1)  # type: ignore[operator]


def test_equal_amounts_are_neither_less_nor_greater() -> None:
    assert not cny("1") < cny("1.00")
    assert not cny("1") > cny("1.00")
    assert cny("1") <= cny("1.00")
    assert cny("1") >= cny("1.00")


class HostMoney(Money):
    """A host's own subclass of Money: arithmetic treats it as Money."""


def test_a_money_subclass_adds_and_subtracts_as_money() -> None:
    assert cny("1.50") + HostMoney("2", "CNY") == cny("3.50")
    assert cny("1.50") - HostMoney("2", "CNY") == cny("-0.50")


def test_format_can_show_the_locale_pattern_digits_instead_of_the_currency_ones() -> None:
    assert Money("1234.5", "JPY").format("en_US") == "¥1,235"
    assert Money("1234.5", "JPY").format("en_US", currency_digits=False) == "¥1,234.50"
