"""Hypothesis strategies shared by the whole test suite (one module, per the house style).

Import what you need: ``from tests.strategies import money, currencies``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import strategies as st

from crmkit.kernel.money import Money, minor_unit

__all__ = [
    "CURRENCIES",
    "chinese_names",
    "currencies",
    "money",
    "rate_dates",
    "rate_values",
    "ratios",
]

# Currencies with every minor unit the code has to handle: 0 (JPY, KRW), 2, 3 (KWD, BHD)
# and 4 (CLF).
CURRENCIES = ("CNY", "USD", "EUR", "HKD", "TWD", "JPY", "KRW", "KWD", "BHD", "CLF")

# Large enough for any invoice, small enough that products stay within 28 digits.
_MAX_UNITS = 10**14


def currencies() -> st.SearchStrategy[str]:
    """ISO 4217 codes covering minor units 0, 2, 3 and 4."""
    return st.sampled_from(CURRENCIES)


def money(
    currency: str | st.SearchStrategy[str] | None = None,
    *,
    max_units: int = _MAX_UNITS,
    min_units: int | None = None,
    extra_places: int = 0,
) -> st.SearchStrategy[Money]:
    """Money amounts.

    Args:
        currency: a fixed code, a strategy of codes, or None for ``currencies()``.
        max_units: the largest absolute amount, in minor units.
        min_units: the smallest amount in minor units (default ``-max_units``); pass 0
            for amounts that are never negative.
        extra_places: digits allowed below the minor unit; 0 gives amounts at the
            currency's minor unit, as ``allocate`` requires.
    """
    codes = (
        currencies()
        if currency is None
        else st.just(currency)
        if isinstance(currency, str)
        else currency
    )
    low = -max_units if min_units is None else min_units

    @st.composite
    def build(draw: st.DrawFn) -> Money:
        code = draw(codes)
        scale = 10**extra_places
        units = draw(st.integers(min_value=low * scale, max_value=max_units * scale))
        digits = minor_unit(code) + extra_places
        return Money(Decimal(units).scaleb(-digits), code)

    return build()


def ratios(max_size: int = 12) -> st.SearchStrategy[list[int | Decimal]]:
    """Allocation ratios: ints and Decimals, each >= 0, at least one positive."""
    ratio: st.SearchStrategy[int | Decimal] = st.one_of(
        st.integers(min_value=0, max_value=1000),
        st.decimals(min_value=0, max_value=100, places=3, allow_nan=False, allow_infinity=False),
    )
    return st.lists(ratio, min_size=1, max_size=max_size).filter(lambda xs: sum(xs) > 0)


def rate_values() -> st.SearchStrategy[Decimal]:
    """Exchange rates above zero, from 0.000001 to 100000, up to 6 decimals."""
    return st.decimals(
        min_value=Decimal("0.000001"),
        max_value=Decimal("100000"),
        places=6,
        allow_nan=False,
        allow_infinity=False,
    )


def rate_dates() -> st.SearchStrategy[date]:
    """Dates a rate could be published for."""
    return st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))


def _common_characters() -> str:
    # The 3,755 common characters of GB 2312 level 1 (rows 0xB0..0xD7), in pinyin order.
    found = []
    for row in range(0xB0, 0xD8):
        for cell in range(0xA1, 0xFF):
            try:
                found.append(bytes((row, cell)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return "".join(found)


COMMON_CHARACTERS = _common_characters()


def chinese_names(min_size: int = 1, max_size: int = 6) -> st.SearchStrategy[str]:
    """Names of common Chinese characters (any of them, polyphonic ones included)."""
    return st.text(st.sampled_from(COMMON_CHARACTERS), min_size=min_size, max_size=max_size)
