"""Exchange rates: what one unit of a currency was worth in another, on a given day.

An ``ExchangeRate`` says that on date ``on`` one unit of ``base`` bought ``rate``
units of ``quote`` (USD/CNY 7.10: one dollar for 7.10 yuan). ``ExchangeRates``
keeps a dated history per currency pair and answers "which rate applied on this
day?" with the latest rate published on or before it: a rate dated tomorrow is
never used today. When only the opposite pair is on record its inverse is used,
and a currency converts to itself at exactly 1.

Conversion multiplies the exact amount by the rate and then rounds once, to the
target currency's minor unit, with an explicit rounding mode. Rates never come
from the network here: the host loads them (from its bank, its ERP or a file) and
passes them in, so a conversion is reproducible from the data alone.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal

import attrs

from crmkit.kernel.errors import RateNotFound
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.money import ROUNDING, Money, is_known_currency, to_decimal

__all__ = ["ExchangeRate", "ExchangeRates"]

_ONE = Decimal(1)


def _require_code(code: str, field: str) -> None:
    if not is_known_currency(code):
        raise invalid(
            "ExchangeRate",
            field,
            N_("{code!r} is not an upper-case ISO 4217 currency code"),
            code=code,
        )


def _check_code(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    _require_code(value, attribute.name)


def _to_rate(value: str | int | Decimal) -> Decimal:
    return to_decimal(value, entity="ExchangeRate", field="rate")


def _check_positive(_instance: object, _attribute: object, value: Decimal) -> None:
    if value <= 0:
        raise invalid(
            "ExchangeRate", "rate", N_("a rate must be above zero, not {rate}"), rate=str(value)
        )


def _require_date(value: date) -> None:
    # A datetime is a date subclass, but cannot be ordered against plain dates.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise invalid(
            "ExchangeRate", "on", N_("{value!r} is not a date (a datetime is not one)"), value=value
        )


def _check_date(_instance: object, _attribute: object, value: date) -> None:
    _require_date(value)


@attrs.frozen
class ExchangeRate:
    """One unit of ``base`` is worth ``rate`` units of ``quote`` from ``on`` onwards.

    Attributes:
        base: the currency being priced, e.g. ``"USD"``.
        quote: the currency the price is in, e.g. ``"CNY"``.
        rate: units of ``quote`` per unit of ``base``; above zero. A str, int or
            Decimal (never a float).
        on: the date the rate was published for.

    Raises:
        TypeError: when ``rate`` is a float or not a number type.
        ValidationError: for an unknown currency, a rate that is not above zero (or
            not exactly 1 when base and quote are the same), or an ``on`` that is not a
            plain date.
    """

    base: str = attrs.field(validator=_check_code)
    quote: str = attrs.field(validator=_check_code)
    rate: Decimal = attrs.field(converter=_to_rate, validator=_check_positive)
    on: date = attrs.field(validator=_check_date)

    def __attrs_post_init__(self) -> None:
        if self.base == self.quote and self.rate != _ONE:
            raise invalid(
                "ExchangeRate",
                "rate",
                N_("{code} is worth exactly 1 {code}, not {rate}"),
                code=self.base,
                rate=str(self.rate),
            )

    def inverse(self) -> ExchangeRate:
        """The same rate seen from the other side (USD/CNY 8 becomes CNY/USD 0.125).

        Returns:
            A rate from ``quote`` to ``base`` on the same date, at the decimal
            context's precision (28 significant digits by default).
        """
        return ExchangeRate(self.quote, self.base, _ONE / self.rate, self.on)


class ExchangeRates:
    """A dated history of exchange rates that converts Money on a given day.

    Add rates one by one with ``add`` or build from values with ``from_rates``.
    Lookups use the latest rate on or before the date asked for. Adding a second
    rate for the same pair and date replaces the first (a correction).

    Example:
        >>> rates = ExchangeRates()
        >>> _ = rates.add("USD", "CNY", "7.10", on=date(2024, 1, 2))
        >>> rates.convert(Money("10", "USD"), "CNY", on=date(2024, 1, 5))
        Money('71.00', 'CNY')
    """

    __slots__ = ("_pairs",)

    def __init__(self) -> None:
        """Start with no rates."""
        # Per (base, quote): dates ascending, and the rates in the same order.
        self._pairs: dict[tuple[str, str], tuple[list[date], list[Decimal]]] = {}

    @classmethod
    def from_rates(cls, rates: Iterable[ExchangeRate]) -> ExchangeRates:
        """Build a history from ``ExchangeRate`` values, in any order.

        Args:
            rates: the rates; a later one for the same pair and date wins.

        Returns:
            A new ``ExchangeRates`` holding them.

        Raises:
            TypeError: when an item is not an ``ExchangeRate``.
        """
        history = cls()
        for rate in rates:
            if not isinstance(rate, ExchangeRate):
                raise TypeError(f"expected ExchangeRate, not {type(rate).__name__}")
            history._insert(rate)
        return history

    def add(self, base: str, quote: str, rate: str | int | Decimal, on: date) -> ExchangeRate:
        """Record that on ``on`` one ``base`` was worth ``rate`` ``quote``.

        Args:
            base: the currency being priced, e.g. ``"USD"``.
            quote: the currency the price is in, e.g. ``"CNY"``.
            rate: units of ``quote`` per unit of ``base``, as a str, int or Decimal.
            on: the date the rate applies from.

        Returns:
            The recorded ``ExchangeRate``.

        Raises:
            TypeError: when ``rate`` is a float.
            ValidationError: for an unknown currency, a rate that is not above zero or an
                ``on`` that is not a date. Nothing is recorded then.
        """
        value = ExchangeRate(base, quote, rate, on)
        self._insert(value)
        return value

    def _insert(self, value: ExchangeRate) -> None:
        dates, rates = self._pairs.setdefault((value.base, value.quote), ([], []))
        index = bisect_right(dates, value.on)
        if index and dates[index - 1] == value.on:
            rates[index - 1] = value.rate
            return
        dates.insert(index, value.on)
        rates.insert(index, value.rate)

    def _latest(self, base: str, quote: str, on: date) -> tuple[date, Decimal] | None:
        pair = self._pairs.get((base, quote))
        if pair is None:
            return None
        dates, rates = pair
        index = bisect_right(dates, on)
        if not index:
            return None
        return dates[index - 1], rates[index - 1]

    def lookup(self, base: str, quote: str, on: date) -> ExchangeRate:
        """The rate that applies to ``base``/``quote`` on ``on``, with its own date.

        The latest rate dated on or before ``on`` wins, whichever way round it was
        recorded; when both directions share that date the direct one is used. A
        currency against itself is 1 on ``on``.

        Args:
            base: the currency converted from.
            quote: the currency converted to.
            on: the day of the conversion.

        Returns:
            The applicable rate from ``base`` to ``quote`` (its ``on`` is the date it
            was published for, which may be earlier than the day asked for).

        Raises:
            RateNotFound: when neither direction has a rate on or before ``on``.
            ValidationError: for an unknown currency or an ``on`` that is not a date.
        """
        _require_code(base, "base")
        _require_code(quote, "quote")
        _require_date(on)
        if base == quote:
            return ExchangeRate(base, quote, _ONE, on)
        direct = self._latest(base, quote, on)
        inverse = self._latest(quote, base, on)
        if direct is not None and (inverse is None or direct[0] >= inverse[0]):
            return ExchangeRate(base, quote, direct[1], direct[0])
        if inverse is not None:
            return ExchangeRate(base, quote, _ONE / inverse[1], inverse[0])
        raise RateNotFound(base=base, quote=quote, on=on)

    def rate(self, base: str, quote: str, on: date) -> Decimal:
        """Units of ``quote`` per unit of ``base`` on ``on``.

        Args:
            base: the currency converted from.
            quote: the currency converted to.
            on: the day of the conversion.

        Returns:
            The latest rate on or before ``on`` (the inverse pair's ``1 / rate`` when
            that one is more recent or the only one; exactly 1 for the same currency).

        Raises:
            RateNotFound: when no rate exists on or before ``on``.
            ValidationError: for an unknown currency or an ``on`` that is not a date.
        """
        return self.lookup(base, quote, on).rate

    def convert(self, money: Money, to: str, *, on: date, mode: str = ROUNDING) -> Money:
        """Convert ``money`` into ``to`` at the rate of ``on``, rounded once.

        Args:
            money: the amount to convert.
            to: the target currency code.
            on: the day whose rate applies.
            mode: the rounding mode (``HALF_UP``, ``HALF_EVEN``, ... from
                ``crmkit.kernel.money``).

        Returns:
            The amount in ``to``, rounded to ``to``'s minor unit (also when ``to`` is
            the money's own currency).

        Raises:
            RateNotFound: when no rate exists on or before ``on``.
            ValidationError: for an unknown currency or an ``on`` that is not a date.
        """
        rate = self.rate(money.currency, to, on)
        return Money(money.amount * rate, to).round(mode)

    def __iter__(self) -> Iterator[ExchangeRate]:
        """Every recorded rate, by pair and then by date."""
        for (base, quote), (dates, rates) in sorted(self._pairs.items()):
            for on, rate in zip(dates, rates, strict=True):
                yield ExchangeRate(base, quote, rate, on)

    def __len__(self) -> int:
        """How many rates are recorded."""
        return sum(len(dates) for dates, _ in self._pairs.values())

    def __repr__(self) -> str:
        return f"<ExchangeRates: {len(self)} rates, {len(self._pairs)} pairs>"
