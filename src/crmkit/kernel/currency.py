"""Currencies: the ISO 4217 codes crmkit accepts, and each one's minor unit.

A currency is an upper-case ISO 4217 code that babel knows (historic ones included).
Its *minor unit* is the number of decimal places its smallest coin takes (JPY 0,
CNY 2, KWD 3), read from babel's CLDR data. Both are looked up on first use and
cached: importing crmkit reads no currency table.
"""

from __future__ import annotations

import functools
from decimal import Decimal

from babel.numbers import get_currency_precision, list_currencies

from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid

__all__ = ["check_currency", "is_known_currency", "minor_quantum", "minor_scale", "minor_unit"]


@functools.cache
def _known_currencies() -> frozenset[str]:
    # Loaded on first use, not at import: importing crmkit must stay free of work.
    return frozenset(list_currencies())


def is_known_currency(code: str) -> bool:
    """Tell whether ``code`` is an upper-case ISO 4217 code that babel knows.

    Args:
        code: a currency code such as ``"CNY"``.

    Returns:
        True for known codes (historic ones included), False otherwise.
    """
    return isinstance(code, str) and code.isupper() and code in _known_currencies()


def check_currency(code: object, entity: str = "Money") -> None:
    """Raise unless ``code`` is a known upper-case ISO 4217 code.

    Args:
        code: the value given as a currency.
        entity: names the owner of the currency in the ``ValidationError``.

    Raises:
        ValidationError: ``code`` is not a str, not upper case, or unknown to babel.
    """
    if not isinstance(code, str) or not is_known_currency(code):
        raise invalid(
            entity,
            "currency",
            N_("{code!r} is not an upper-case ISO 4217 currency code"),
            code=code,
        )


@functools.cache
def minor_unit(currency: str) -> int:
    """The number of decimal places of ``currency``'s smallest unit (CNY 2, JPY 0, KWD 3).

    Args:
        currency: an upper-case ISO 4217 code.

    Returns:
        The currency's precision from babel's CLDR data; cached after the first call.

    Raises:
        ValidationError: when babel does not know the currency.
    """
    check_currency(currency)
    return int(get_currency_precision(currency))


@functools.cache
def minor_quantum(currency: str) -> Decimal:
    """One minor unit of ``currency`` as a Decimal exponent (``0.01`` for CNY), for quantize."""
    return Decimal(1).scaleb(-minor_unit(currency))


@functools.cache
def minor_scale(currency: str) -> int:
    """How many minor units make one unit of ``currency`` (``100`` for CNY, ``1`` for JPY)."""
    return int(10 ** minor_unit(currency))
