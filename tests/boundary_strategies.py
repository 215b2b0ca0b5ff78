"""Hypothesis strategies for what a person can type or upload (the input boundary).

A host puts crmkit behind forms and file uploads, so any field of any public service
may receive text of every kind, numbers as text, amounts far too large or too fine,
naive or textual datetimes, far dates and negative numbers. These strategies produce
such values for any field, so a generated test can feed them to every public service
(``tests/adapters/test_boundary_parity.py`` drives the customer, contact, deal, plan
and receipt services; the service registry's conformance suite can drive all).

Each strategy yields plain values (never a ``Money`` that could not be built): a
value is what arrives from outside, and the service must store it exactly or refuse
it with a ``CrmError``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import strategies as st

from crmkit.kernel.money import Money

__all__ = [
    "form_values",
    "user_amounts",
    "user_dates",
    "user_decimals",
    "user_instants",
    "user_ints",
    "user_money",
    "user_texts",
]

#: Text no store keeps alike unless the domain refuses it first.
AWKWARD_TEXTS = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "name\udfff",
    "\U0001f600 emoji",
    "重庆长安汽车",
    "  spaces   inside  ",
    "'; DROP TABLE customers; --",
    "%_\\",
    "x" * 201,
    "9" * 100_000,
)
NUMBER_TEXTS = (
    "0",
    "-0",
    "100",
    "1e20",
    "1e-30",
    "NaN",
    "-Infinity",
    "Infinity",
    "sNaN",
    " 12.50 ",
    "1,000",
    "12.345678901",
    "8999999999999.999999",
    "9000000000000",
)


def user_texts() -> st.SearchStrategy[str]:
    """Any text: every code point (NUL and lone surrogates included), long and short."""
    every_char = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
    return st.one_of(
        st.sampled_from(AWKWARD_TEXTS),
        st.text(max_size=30),
        st.text(alphabet=every_char, max_size=12),
        st.integers(min_value=0, max_value=12_000).map(lambda n: "字" * n),
    )


def user_decimals() -> st.SearchStrategy[Decimal]:
    """Finite decimals from tiny to huge, and NaN / Infinity."""
    return st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False, places=2, max_value=10**9),
        st.decimals(allow_nan=False, allow_infinity=False),
        st.sampled_from(NUMBER_TEXTS)
        .filter(lambda t: t.strip() not in ("1,000",))
        .map(lambda t: Decimal(t.strip())),
    )


def user_money(currency: str = "CNY") -> st.SearchStrategy[Money]:
    """Money that can be built (finite), with amounts from tiny to huge."""
    return user_decimals().filter(lambda d: d.is_finite()).map(lambda d: Money(d, currency))


def user_amounts(currency: str = "CNY") -> st.SearchStrategy[object]:
    """What arrives in an amount field: Money, bare numbers, numeric text, mappings."""
    return st.one_of(
        user_money(currency),
        st.sampled_from(NUMBER_TEXTS),
        user_ints(),
        user_decimals(),
        st.builds(
            lambda amount, code: {"amount": amount, "currency": code},
            st.sampled_from(NUMBER_TEXTS),
            st.sampled_from(("CNY", "cny", "XXX", "")),
        ),
    )


def user_ints() -> st.SearchStrategy[int]:
    """Whole numbers: negative, zero, small, and past 64 bits."""
    return st.one_of(
        st.integers(min_value=-5, max_value=400),
        st.integers(),
        st.sampled_from((-(2**63) - 1, 2**63, 10**30)),
    )


def _offsets() -> st.SearchStrategy[dt.tzinfo]:
    minutes = st.integers(min_value=-14 * 60, max_value=14 * 60)
    return minutes.map(lambda m: dt.timezone(dt.timedelta(minutes=m)))


def user_instants() -> st.SearchStrategy[object]:
    """Instants: aware (any offset), naive, as ISO text with and without offset, garbage."""
    aware = st.builds(
        lambda d, tz: d.replace(tzinfo=tz),
        st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)),
        _offsets(),
    )
    naive = st.datetimes()
    return st.one_of(
        aware,
        naive,
        aware.map(lambda d: d.isoformat()),
        naive.map(lambda d: d.isoformat()),
        st.sampled_from(("2026-03-01 09:00", "yesterday", "2026-02-30T00:00:00+08:00")),
    )


def user_dates() -> st.SearchStrategy[object]:
    """Dates of the whole calendar, as dates and ISO text, and text that is no date."""
    return st.one_of(
        st.dates(),
        st.sampled_from((dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(2999, 12, 31))),
        st.dates().map(lambda d: d.isoformat()),
        st.sampled_from(("2026-13-01", "01/03/2026", "", "2026-3-1")),
    )


def form_values() -> st.SearchStrategy[object]:
    """Any of the above: what an untyped form field or an upload cell may carry."""
    return st.one_of(
        st.none(),
        user_texts(),
        st.sampled_from(NUMBER_TEXTS),
        user_ints(),
        user_decimals(),
        user_money(),
        user_instants(),
        user_dates(),
        st.lists(user_texts(), max_size=3),
    )
