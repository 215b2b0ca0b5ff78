"""Money: an exact amount of one currency.

A ``Money`` is a ``Decimal`` amount paired with an ISO 4217 currency code that babel
knows. It never holds a float (``Money(19.99, "CNY")`` raises ``TypeError``: pass
``"19.99"``), never rounds behind your back, and refuses to mix currencies: adding
or comparing CNY with USD raises ``CurrencyMismatch`` instead of producing a
number that means nothing. There is no ``Money + 0`` either, so ``sum()`` needs an
explicit start: ``sum(lines, Money.zero("CNY"))``.

Each currency has a *minor unit*: the number of decimal places its smallest coin
takes (JPY 0, CNY 2, KWD 3; :mod:`crmkit.kernel.currency`). ``round()`` brings an
amount to it with an explicit rounding mode (crmkit's one rule and the modes are in
:mod:`crmkit.kernel.decimals`), and ``allocate()`` / ``split()`` cut an amount into
parts of whole minor units that add up to the original exactly, so an installment
plan or a cost split never loses or invents a cent. The currency and rounding names
are importable from here too, where they have always been.

Arithmetic is on the hot path of every invoice and report, so results of ``+``,
``-``, ``*`` and ``/`` skip re-validation: both operands were valid already, and
the currency is carried over unchanged.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Iterable
from decimal import Decimal

import attrs
from babel.numbers import format_currency

from crmkit.kernel.currency import (
    check_currency,
    is_known_currency,
    minor_quantum,
    minor_scale,
    minor_unit,
)
from crmkit.kernel.decimals import (
    CEILING,
    DOWN,
    FLOOR,
    HALF_DOWN,
    HALF_EVEN,
    HALF_UP,
    ROUNDING,
    UP,
    round_figure,
    to_decimal,
)
from crmkit.kernel.errors import CurrencyMismatch, ValidationError, reason
from crmkit.kernel.i18n import N_, current_locale

__all__ = [
    "CEILING",
    "DOWN",
    "FLOOR",
    "HALF_DOWN",
    "HALF_EVEN",
    "HALF_UP",
    "ROUNDING",
    "UP",
    "Money",
    "is_known_currency",
    "minor_unit",
    "round_figure",
    "to_decimal",
]


def _money_validate_currency(_instance: object, _attribute: object, value: str) -> None:
    check_currency(value)


def _to_amount(value: str | int | Decimal) -> Decimal:
    return to_decimal(value, entity="Money", field="amount")


def _check_factor(value: object, operation: str) -> None:
    """Raise the helpful error for a factor ``*`` and ``/`` do not take."""
    if isinstance(value, Money):
        raise TypeError(f"cannot {operation} Money by Money; {operation} by an int or a Decimal")
    if isinstance(value, float):
        raise TypeError(
            f"cannot {operation} Money by a float ({value!r}); pass a Decimal, "
            f"e.g. Decimal('{value!r}')"
        )
    if isinstance(value, bool):
        raise TypeError(f"cannot {operation} Money by a bool")


@attrs.frozen(repr=False)
class Money:
    """An exact amount of one currency.

    Build it from a string, an int or a Decimal: ``Money("12.30", "CNY")``. The
    amount is kept exactly as given (``Money("1.005", "CNY")`` stays 1.005 until
    you ``round()`` it). Equality is numeric within a currency
    (``Money("1.0", "CNY") == Money("1.00", "CNY")``) and the hash agrees with it.

    Attributes:
        amount: the amount, a finite ``Decimal``.
        currency: the upper-case ISO 4217 code, e.g. ``"CNY"``.

    Raises:
        TypeError: when the amount is a float (pass ``"19.99"``) or not a number type.
        ValidationError: when the amount is NaN, Infinity or unparsable text, or the
            currency is not a known upper-case ISO 4217 code.
    """

    amount: Decimal = attrs.field(converter=_to_amount)
    currency: str = attrs.field(validator=_money_validate_currency)

    # ----------------------------------------------------------------- constructors

    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str) -> Money:
        """Build a Money; the same as ``Money(amount, currency)``.

        Args:
            amount: a str, int or Decimal (never a float).
            currency: an upper-case ISO 4217 code.

        Returns:
            The new Money.

        Raises:
            TypeError: for a float or another non-number amount.
            ValidationError: for a non-finite amount or an unknown currency.
        """
        return cls(amount, currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Zero in ``currency``, written at its minor unit (``0.00`` for CNY).

        Use it as the start of a sum: ``sum(lines, Money.zero("CNY"))``.

        Args:
            currency: an upper-case ISO 4217 code.

        Returns:
            A zero amount of that currency.

        Raises:
            ValidationError: for an unknown currency.
        """
        return _make(Decimal(0).scaleb(-minor_unit(currency)), currency)

    @classmethod
    def from_minor_units(cls, units: int, currency: str) -> Money:
        """Build a Money from a count of minor units (``1234`` CNY fen is ``12.34``).

        Args:
            units: the whole number of minor units; may be negative.
            currency: an upper-case ISO 4217 code.

        Returns:
            The amount, written at the currency's minor unit.

        Raises:
            TypeError: when ``units`` is not an int.
            ValidationError: for an unknown currency.
        """
        if not isinstance(units, int) or isinstance(units, bool):
            raise TypeError(f"units must be an int, not {type(units).__name__}")
        return _make(_from_units(units, minor_unit(currency)), currency)

    # -------------------------------------------------------------------- queries

    @property
    def minor_unit(self) -> int:
        """The number of decimal places of this currency's smallest unit."""
        return _precision(self.currency)

    @property
    def is_zero(self) -> bool:
        """True when the amount is zero (of any exponent, either sign)."""
        return not self.amount

    @property
    def is_positive(self) -> bool:
        """True when the amount is above zero."""
        return self.amount > 0

    @property
    def is_negative(self) -> bool:
        """True when the amount is below zero."""
        return self.amount < 0

    @property
    def is_rounded(self) -> bool:
        """True when the amount has no digits below the currency's minor unit."""
        numerator, denominator = self.amount.as_integer_ratio()
        return (numerator * minor_scale(self.currency)) % denominator == 0

    def to_minor_units(self) -> int:
        """The amount as a whole number of minor units (``12.34`` CNY is ``1234``).

        Returns:
            The count of minor units, negative for a negative amount.

        Raises:
            ValidationError: when the amount has digits below the minor unit; round first.
        """
        numerator, denominator = self.amount.as_integer_ratio()
        units, rest = divmod(numerator * minor_scale(self.currency), denominator)
        if rest:
            raise ValidationError(
                entity="Money",
                field="amount",
                reason=reason(
                    N_(
                        "{amount} has more decimals than {currency} allows ({digits}); "
                        "round it first"
                    ),
                    amount=str(self.amount),
                    currency=self.currency,
                    digits=_precision(self.currency),
                ),
            )
        return units

    # ----------------------------------------------------------------- arithmetic

    def __add__(self, other: Money) -> Money:
        if type(other) is Money or isinstance(other, Money):
            currency = self.currency
            if other.currency != currency:
                raise CurrencyMismatch(left=currency, right=other.currency)
            # _make inlined: this is the hottest line of the library.
            result: Money = _new(Money)
            _set_amount(result, self.amount + other.amount)
            _set_currency(result, currency)
            return result
        _refuse_plain_number(other, "+")
        return NotImplemented

    def __radd__(self, other: Money) -> Money:
        _refuse_plain_number(other, "+", reflected=True)
        return NotImplemented

    def __sub__(self, other: Money) -> Money:
        if type(other) is Money or isinstance(other, Money):
            currency = self.currency
            if other.currency != currency:
                raise CurrencyMismatch(left=currency, right=other.currency)
            # _make inlined: this is the hottest line of the library.
            result: Money = _new(Money)
            _set_amount(result, self.amount - other.amount)
            _set_currency(result, currency)
            return result
        _refuse_plain_number(other, "-")
        return NotImplemented

    def __rsub__(self, other: Money) -> Money:
        _refuse_plain_number(other, "-", reflected=True)
        return NotImplemented

    def __mul__(self, factor: int | Decimal) -> Money:
        kind = type(factor)
        if kind is Decimal or kind is int:
            result: Money = _new(Money)
            _set_amount(result, self.amount * factor)
            _set_currency(result, self.currency)
            return result
        _check_factor(factor, "multiply")
        if isinstance(factor, int | Decimal):
            return _make(self.amount * factor, self.currency)
        return NotImplemented

    __rmul__ = __mul__

    def __truediv__(self, divisor: int | Decimal) -> Money:
        kind = type(divisor)
        if kind is Decimal or kind is int:
            result: Money = _new(Money)
            _set_amount(result, self.amount / divisor)
            _set_currency(result, self.currency)
            return result
        _check_factor(divisor, "divide")
        if isinstance(divisor, int | Decimal):
            return _make(self.amount / divisor, self.currency)
        return NotImplemented

    def __neg__(self) -> Money:
        return _make(-self.amount, self.currency)

    def __pos__(self) -> Money:
        return self

    def __abs__(self) -> Money:
        return _make(abs(self.amount), self.currency)

    def __bool__(self) -> bool:
        return bool(self.amount)

    # ------------------------------------------------------------------ ordering

    def _comparable(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return False
        if other.currency != self.currency:
            raise CurrencyMismatch(left=self.currency, right=other.currency)
        return True

    def __lt__(self, other: Money) -> bool:
        if not self._comparable(other):
            return NotImplemented
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        if not self._comparable(other):
            return NotImplemented
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        if not self._comparable(other):
            return NotImplemented
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        if not self._comparable(other):
            return NotImplemented
        return self.amount >= other.amount

    # ------------------------------------------------------------------ rounding

    def round(self, mode: str = ROUNDING, *, places: int | None = None) -> Money:
        """Round to the currency's minor unit (or to ``places`` decimals).

        Args:
            mode: a rounding mode from this module (``HALF_UP``, ``HALF_EVEN``, ...) or
                the matching ``decimal.ROUND_*`` constant; crmkit's one rule,
                :data:`ROUNDING` (half up), unless told otherwise.
            places: decimals to keep instead of the minor unit; may be negative
                (``-2`` rounds to hundreds).

        Returns:
            The rounded amount, written with exactly that many decimals.

        Raises:
            TypeError: for an unknown rounding mode.
        """
        quantum = minor_quantum(self.currency) if places is None else Decimal(1).scaleb(-places)
        return _make(self.amount.quantize(quantum, rounding=mode), self.currency)

    # ---------------------------------------------------------------- allocation

    def allocate(self, ratios: Iterable[int | Decimal]) -> list[Money]:
        """Cut the amount into parts proportional to ``ratios`` that add up exactly.

        Every part is a whole number of minor units. Each part first gets the floor
        of its exact share; the minor units left over go one each to the parts with
        the largest remainders, ties to the earliest. So every part is within one
        minor unit of its exact share, and a zero ratio always gets zero. A negative
        amount gives parts that are all zero or negative.

        Args:
            ratios: ints or Decimals, each zero or more, with a positive sum.

        Returns:
            One Money per ratio, in order, at the currency's minor unit.

        Raises:
            TypeError: for a float or another non-number ratio.
            ValidationError: when the amount is not at the minor unit (round it
                first), a ratio is negative, or the ratios sum to zero or are empty.
        """
        weights = _weights(ratios)
        total = self.to_minor_units()
        units = _largest_remainder(abs(total), weights)
        digits = _precision(self.currency)
        sign = -1 if total < 0 else 1
        return [_make(_from_units(sign * part, digits), self.currency) for part in units]

    def split(self, parts: int) -> list[Money]:
        """Cut the amount into ``parts`` nearly equal parts that add up exactly.

        Parts differ by at most one minor unit; the larger ones come first
        (``Money("100", "CNY").split(3)`` is 33.34, 33.33, 33.33).

        Args:
            parts: how many parts, at least 1.

        Returns:
            ``parts`` amounts at the currency's minor unit.

        Raises:
            TypeError: when ``parts`` is not an int.
            ValidationError: when ``parts`` is below 1 or the amount is not at the
                minor unit.
        """
        if not isinstance(parts, int) or isinstance(parts, bool):
            raise TypeError(f"parts must be an int, not {type(parts).__name__}")
        if parts < 1:
            raise ValidationError(
                entity="Money",
                field="parts",
                reason=reason(N_("cannot split into {parts} parts"), parts=parts),
            )
        return self.allocate([1] * parts)

    # ---------------------------------------------------------------- formatting

    def format(self, locale: str | None = None, *, currency_digits: bool = True) -> str:
        """Format for people with babel: ``¥1,234.50`` in zh_CN, ``CN¥1,234.50`` in en_US.

        The digits shown are rounded with :data:`ROUNDING` (half up), as ``round()``
        rounds: ``Money("1.005", "CNY")`` shows ``¥1.01``, never babel's own half-even
        ``¥1.00``.

        Args:
            locale: a babel locale name such as ``zh_CN``, ``zh_TW`` or ``en_US``;
                by default the locale chosen with :func:`crmkit.kernel.i18n.use_locale`.
            currency_digits: show the currency's own number of decimals (True) or the
                locale pattern's.

        Returns:
            The localised text.
        """
        # babel quantizes with the decimal context's rounding: make it crmkit's rule.
        with decimal.localcontext() as context:
            context.rounding = ROUNDING
            return str(
                format_currency(
                    self.amount,
                    self.currency,
                    locale=locale or current_locale(),
                    currency_digits=currency_digits,
                )
            )

    def __str__(self) -> str:
        text = format(self.amount, "f")
        digits = _precision(self.currency)
        if digits:
            whole, _, fraction = text.partition(".")
            if len(fraction) < digits:
                text = f"{whole}.{fraction.ljust(digits, '0')}"
        return f"{text} {self.currency}"

    def __repr__(self) -> str:
        return f"Money({str(self.amount)!r}, {self.currency!r})"


_precision = minor_unit

_new = object.__new__
_set_amount = Money.__dict__["amount"].__set__
_set_currency = Money.__dict__["currency"].__set__


def _make(amount: Decimal, currency: str) -> Money:
    # Results of arithmetic on valid Money: skip the converter and the validator.
    money: Money = _new(Money)
    _set_amount(money, amount)
    _set_currency(money, currency)
    return money


def _from_units(units: int, digits: int) -> Decimal:
    # Built from text so the result is exact whatever the decimal context's precision.
    return Decimal(f"{units}e-{digits}")


def _refuse_plain_number(other: object, operator: str, *, reflected: bool = False) -> None:
    # Python's own "unsupported operand" message would not say what to do instead.
    if isinstance(other, int | float | Decimal):
        kind = type(other).__name__
        expression = f"{kind} {operator} Money" if reflected else f"Money {operator} {kind}"
        raise TypeError(
            f"{expression} is not supported: both sides must be Money; "
            f"to add up amounts use sum(lines, Money.zero('CNY'))"
        )


def _weights(ratios: Iterable[int | Decimal]) -> list[int]:
    """Scale the ratios to integers with the same proportions, exactly."""
    fractions: list[tuple[int, int]] = []
    for ratio in ratios:
        if isinstance(ratio, bool) or not isinstance(ratio, int | Decimal):
            raise TypeError(
                f"ratios must be ints or Decimals, not {type(ratio).__name__}"
                + (" (pass a Decimal, e.g. Decimal('0.3'))" if isinstance(ratio, float) else "")
            )
        if not ((isinstance(ratio, int) or ratio.is_finite()) and ratio >= 0):
            raise ValidationError(
                entity="Money",
                field="ratios",
                reason=reason(N_("ratio {ratio} is not zero or more"), ratio=str(ratio)),
            )
        fractions.append(ratio.as_integer_ratio())
    common = math.lcm(*(denominator for _, denominator in fractions)) if fractions else 1
    weights = [numerator * (common // denominator) for numerator, denominator in fractions]
    if sum(weights) <= 0:
        raise ValidationError(
            entity="Money",
            field="ratios",
            reason=reason(N_("ratios must have a positive sum")),
        )
    return weights


def _largest_remainder(total: int, weights: list[int]) -> list[int]:
    """Share ``total`` (>= 0) by ``weights`` (sum > 0) in whole units, exactly."""
    whole = sum(weights)
    shares: list[int] = []
    remainders: list[int] = []
    for weight in weights:
        share, remainder = divmod(total * weight, whole)
        shares.append(share)
        remainders.append(remainder)
    left = total - sum(shares)
    if left:
        # sorted(reverse=True) is stable: equal remainders keep index order, so ties
        # go to the earliest part.
        order = sorted(range(len(weights)), key=remainders.__getitem__, reverse=True)
        for index in order[:left]:
            shares[index] += 1
    return shares
