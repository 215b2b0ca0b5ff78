"""Decimal figures: read exactly from what a caller passes, rounded by one rule.

Amounts, rates, quantities and percentages are ``Decimal`` throughout crmkit.
:func:`to_decimal` is the one way text, ints and Decimals become one: exactly, never
through a float. Every figure crmkit computes is rounded with :data:`ROUNDING`, half
up (四舍五入): :func:`round_figure` for percentages and ratios, ``Money.round()`` for
amounts. The rounding modes are ``decimal``'s, named here so callers need not import
it to pick another one.
"""

from __future__ import annotations

import decimal
from decimal import Decimal

from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid

__all__ = [
    "CEILING",
    "DOWN",
    "FLOOR",
    "HALF_DOWN",
    "HALF_EVEN",
    "HALF_UP",
    "ROUNDING",
    "UP",
    "round_figure",
    "to_decimal",
]

HALF_UP = decimal.ROUND_HALF_UP
"""Round halves away from zero (0.125 -> 0.13): the usual commercial rule."""
HALF_EVEN = decimal.ROUND_HALF_EVEN
"""Round halves to the even neighbour (0.125 -> 0.12): banker's rounding."""
HALF_DOWN = decimal.ROUND_HALF_DOWN
"""Round halves towards zero (0.125 -> 0.12)."""
UP = decimal.ROUND_UP
"""Round away from zero (0.121 -> 0.13)."""
DOWN = decimal.ROUND_DOWN
"""Truncate towards zero (0.129 -> 0.12)."""
CEILING = decimal.ROUND_CEILING
"""Round towards positive infinity."""
FLOOR = decimal.ROUND_FLOOR
"""Round towards negative infinity."""

ROUNDING = HALF_UP
"""crmkit's one rounding rule: half up, away from zero (0.125 -> 0.13, -0.125 -> -0.13).

Every figure crmkit computes is rounded with it: ``Money.round()`` and conversions,
line and tax amounts, weighted and average amounts in reports, percentages and
ratios (:func:`round_figure`), and the digits ``Money.format`` shows. It is what
Chinese finance (四舍五入) and most invoices expect. Python's ``Decimal.quantize``
without a mode, ``round()`` on a Decimal and babel's formatting would round half
even instead, so crmkit never relies on them."""


def round_figure(value: Decimal | int, places: int) -> Decimal:
    """Round a computed figure (a percentage, a ratio, an average) with :data:`ROUNDING`.

    Args:
        value: the exact figure.
        places: decimals to keep (``1`` for ``12.5`` %); may be negative.

    Returns:
        The figure written with exactly ``places`` decimals.
    """
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUNDING)


def to_decimal(
    value: str | int | Decimal, *, entity: str = "Decimal", field: str = "value"
) -> Decimal:
    """Turn a string, an int or a Decimal into a finite ``Decimal``, exactly.

    Args:
        value: ``"19.99"``, ``1999`` or ``Decimal("19.99")``. Floats are refused
            because ``19.99`` as a float is not 19.99.
        entity: names the owner of the value in a ``ValidationError``.
        field: names the field in a ``ValidationError``.

    Returns:
        The value as a ``Decimal``; the exponent of a string or Decimal is kept as given.

    Raises:
        TypeError: for a float, a bool or any other type.
        ValidationError: for text that is not a number, and for NaN or Infinity.
    """
    if type(value) is Decimal:
        number = value
    elif isinstance(value, str):
        try:
            number = Decimal(value)
        except decimal.InvalidOperation:
            raise invalid(entity, field, N_("{value!r} is not a number"), value=value) from None
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, int) and not isinstance(value, bool):
        number = Decimal(value)
    elif isinstance(value, float):
        raise TypeError(
            f"{entity}.{field} takes a str, int or Decimal, not a float "
            f"(binary floats cannot hold {value!r} exactly): pass a string, e.g. '{value!r}'"
        )
    else:
        raise TypeError(f"{entity}.{field} takes a str, int or Decimal, not {type(value).__name__}")
    if not number.is_finite():
        raise invalid(entity, field, N_("{value} is not a finite number"), value=str(number))
    return number
