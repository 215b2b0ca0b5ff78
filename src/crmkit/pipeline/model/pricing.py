"""Pricing: price lists, volume tiers, line discounts and a total discount.

A sales team quotes from **price lists**. A tenant keeps several: one per
currency, some only for a customer level ("A customers get the A list"), each
valid from one date until another (the 2026 list replaces the 2025 one on
1 January). An item of a list has a base unit price and optional **volume
tiers** ("from 100 units: 88.00"). Quoting a customer picks the most specific
list that covers the customer's level, the currency and the day.

A priced line is quantity times unit price, **rounded to the currency's minor
unit on each line**; its line discount is a :class:`DiscountRate` and is rounded
on the line too. A document's subtotal is the sum of its rounded net lines, its
total discount is one more rate on that subtotal, and its total is what is left
— so every figure on a printed quote adds up to the cent. Tax is billing's
business, not the quote's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, NewType

import attrs

from crmkit.kernel.entity import Entity
from crmkit.kernel.errors import CurrencyMismatch
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId
from crmkit.kernel.invalid import invalid
from crmkit.kernel.money import Money

__all__ = [
    "DiscountRate",
    "LineItem",
    "PriceList",
    "PriceListId",
    "PriceListItem",
    "Totals",
    "VolumeTier",
    "choose_price_list",
    "price_line",
    "totals",
]

PriceListId = NewType("PriceListId", uuid.UUID)
_ENTITY = N_("price list")
_ONE = Decimal(1)


def _to_rate(value: Decimal | str | int) -> Decimal:
    # Floats carry binary noise (0.1 is 0.1000000000000000055...): refuse them like Money does.
    if isinstance(value, float | bool):
        raise TypeError("a discount rate is a Decimal or a string such as '0.15', never a float")
    return Decimal(value)


def _check_rate(_instance: Any, _attribute: Any, value: Decimal) -> None:
    if not value.is_finite() or not Decimal(0) <= value <= _ONE:
        raise invalid("discount", "rate", N_("must be between 0 and 1, got {rate}"), rate=value)


@attrs.frozen
class DiscountRate:
    """A discount as a fraction of the price: ``DiscountRate("0.15")`` is 15% off.

    Always a ``Decimal`` between 0 and 1, so 150% off or a float cannot exist.

    Attributes:
        rate: the fraction taken off (0 = no discount, 1 = free).
    """

    rate: Decimal = attrs.field(converter=_to_rate, validator=_check_rate)

    @classmethod
    def none(cls) -> DiscountRate:
        """No discount."""
        return cls(Decimal(0))

    @classmethod
    def percent(cls, value: Decimal | str | int) -> DiscountRate:
        """A rate from a percentage: ``DiscountRate.percent("12.5")`` is 12.5% off."""
        return cls(_to_rate(value) / 100)

    @property
    def as_percent(self) -> Decimal:
        """The rate in percent (``Decimal("15")`` for 0.15)."""
        value = (self.rate * 100).normalize()
        # normalize() writes 10 as 1E+1; keep whole percentages whole.
        return value.quantize(_ONE) if value.as_tuple().exponent > 0 else value  # type: ignore[operator]

    def off(self, amount: Money) -> Money:
        """The discount on ``amount``, rounded to the currency's minor unit."""
        return (amount * self.rate).round()

    def __str__(self) -> str:
        return f"{self.as_percent:f}%"


@attrs.frozen
class VolumeTier:
    """From ``min_quantity`` units on, each unit costs ``unit_price``."""

    min_quantity: Decimal = attrs.field(converter=Decimal)
    unit_price: Money

    def __attrs_post_init__(self) -> None:
        if self.min_quantity <= 0:
            raise invalid(_ENTITY, "tiers", N_("a tier starts at a positive quantity"))
        if self.unit_price.is_negative:
            raise invalid(_ENTITY, "tiers", N_("a price must not be negative"))


def _tiers(value: Iterable[VolumeTier]) -> tuple[VolumeTier, ...]:
    return tuple(value)


@attrs.frozen
class PriceListItem:
    """One product on a price list: its base unit price and volume tiers.

    Attributes:
        product_code: the product's code (SKU).
        name: what the line says on a quote.
        unit_price: the price of one unit below the first tier.
        tiers: cheaper unit prices from a quantity on, in any order.
        unit: the unit of measure shown on documents.
    """

    product_code: str
    name: str
    unit_price: Money
    tiers: tuple[VolumeTier, ...] = attrs.field(default=(), converter=_tiers)
    unit: str = "pcs"

    def __attrs_post_init__(self) -> None:
        if not self.product_code.strip():
            raise invalid(_ENTITY, "product_code", N_("is required"))
        if self.unit_price.is_negative:
            raise invalid(_ENTITY, "unit_price", N_("a price must not be negative"))
        for tier in self.tiers:
            if tier.unit_price.currency != self.unit_price.currency:
                raise CurrencyMismatch(
                    left=self.unit_price.currency, right=tier.unit_price.currency
                )
        starts = [t.min_quantity for t in self.tiers]
        if len(set(starts)) != len(starts):
            raise invalid(
                _ENTITY,
                "tiers",
                N_("two tiers of {code} start at the same quantity"),
                code=self.product_code,
            )

    def unit_price_for(self, quantity: Decimal) -> Money:
        """The unit price at ``quantity``: the tier with the largest start not above it."""
        price = self.unit_price
        best = Decimal(0)
        for tier in self.tiers:
            if best < tier.min_quantity <= quantity:
                best, price = tier.min_quantity, tier.unit_price
        return price


@attrs.define(eq=False)
class PriceList(Entity):
    """A tenant's list of prices in one currency, for one customer level or all.

    Attributes:
        currency: every price on the list is in it.
        customer_level: the customer level it is for (``A``); ``None`` for every level.
        valid_from, valid_to: the days it applies, both inclusive; ``valid_to`` open if None.
        items: the products and their prices.
    """

    entity_name = _ENTITY

    id: PriceListId
    tenant_id: TenantId
    name: str
    currency: str
    valid_from: date
    items: tuple[PriceListItem, ...]
    valid_to: date | None = None
    customer_level: str | None = None
    version: int = 0

    def __attrs_post_init__(self) -> None:
        if not self.name.strip():
            raise invalid(_ENTITY, "name", N_("is required"))
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise invalid(_ENTITY, "valid_to", N_("must not be before valid_from"))
        codes = [i.product_code for i in self.items]
        if len(set(codes)) != len(codes):
            raise invalid(_ENTITY, "items", N_("each product appears once on a list"))
        for item in self.items:
            if item.unit_price.currency != self.currency:
                raise CurrencyMismatch(left=self.currency, right=item.unit_price.currency)

    def covers(self, level: str | None, currency: str, on: date) -> bool:
        """Whether the list applies to a customer of ``level``, in ``currency``, on ``on``."""
        return (
            self.currency == currency
            and (self.customer_level is None or self.customer_level == level)
            and self.valid_from <= on
            and (self.valid_to is None or on <= self.valid_to)
        )

    def item(self, product_code: str) -> PriceListItem:
        """The list's entry for ``product_code``.

        Raises:
            ValidationError: the product is not on the list.
        """
        for item in self.items:
            if item.product_code == product_code:
                return item
        raise invalid(
            _ENTITY,
            "items",
            N_("{code} is not on price list {name}"),
            code=product_code,
            name=self.name,
        )


def choose_price_list(
    lists: Iterable[PriceList], level: str | None, currency: str, on: date
) -> PriceList:
    """The list to quote from: a list for the customer's level beats a general one,
    and among equals the one that started most recently wins.

    Raises:
        ValidationError: no list covers that level, currency and day.
    """
    covering = [pl for pl in lists if pl.covers(level, currency, on)]
    if not covering:
        raise invalid(
            _ENTITY,
            "currency",
            N_("no price list in {currency} is valid on {on} for level {level}"),
            currency=currency,
            on=on.isoformat(),
            level=level or "-",
        )
    return max(covering, key=lambda pl: (pl.customer_level is not None, pl.valid_from, pl.id))


@attrs.frozen
class LineItem:
    """A priced line of a quote, contract or order.

    The amounts are derived at construction so a stored line always agrees with
    its own arithmetic: ``gross = round(quantity * unit_price)``, ``discount_amount
    = round(gross * discount)``, ``net = gross - discount_amount``.

    Attributes:
        line_no: position on the document, from 1.
        product_code, description, unit: what is sold.
        quantity: how many (a positive Decimal; fractional units such as 2.5 m are fine).
        unit_price: price of one unit before the line discount.
        discount: the line discount.
        list_price: the price list's unit price, kept to show how far the line moved off it.
        category: the product category, when known (commission may pay a rate per category).
    """

    line_no: int
    product_code: str
    description: str
    quantity: Decimal = attrs.field(converter=Decimal)
    unit_price: Money
    discount: DiscountRate = attrs.field(factory=DiscountRate.none)
    unit: str = "pcs"
    list_price: Money | None = None
    category: str | None = None
    gross: Money = attrs.field(init=False)
    discount_amount: Money = attrs.field(init=False)
    net: Money = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        if self.line_no < 1:
            raise invalid("line", "line_no", N_("must be a whole number of at least 1"))
        if not self.quantity.is_finite() or self.quantity <= 0:
            raise invalid("line", "quantity", N_("must be positive"))
        if self.unit_price.is_negative:
            raise invalid("line", "unit_price", N_("a price must not be negative"))
        gross = (self.unit_price * self.quantity).round()
        cut = self.discount.off(gross)
        object.__setattr__(self, "gross", gross)
        object.__setattr__(self, "discount_amount", cut)
        object.__setattr__(self, "net", gross - cut)

    @property
    def currency(self) -> str:
        """The line's currency."""
        return self.unit_price.currency

    @property
    def list_gross(self) -> Money:
        """What the line would cost at list price with no discount, rounded."""
        return ((self.list_price or self.unit_price) * self.quantity).round()


def price_line(
    line_no: int,
    price_list: PriceList,
    product_code: str,
    quantity: Decimal | str | int,
    discount: DiscountRate | None = None,
    *,
    unit_price: Money | None = None,
    description: str | None = None,
) -> LineItem:
    """Price one line from a list: the tier for the quantity, unless ``unit_price`` overrides.

    Raises:
        ValidationError: the product is not on the list, or the quantity is not positive.
        CurrencyMismatch: an override price is not in the list's currency.
    """
    qty = Decimal(quantity)
    item = price_list.item(product_code)
    listed = item.unit_price_for(qty)
    if unit_price is not None and unit_price.currency != price_list.currency:
        raise CurrencyMismatch(left=price_list.currency, right=unit_price.currency)
    return LineItem(
        line_no=line_no,
        product_code=product_code,
        description=description or item.name,
        quantity=qty,
        unit_price=unit_price or listed,
        discount=discount or DiscountRate.none(),
        unit=item.unit,
        list_price=listed,
    )


@attrs.frozen
class Totals:
    """The money of a document, every figure rounded and adding up exactly.

    Attributes:
        list_total: the lines at list price, undiscounted.
        subtotal: the sum of the rounded net lines.
        total_discount: the document-level rate applied to the subtotal.
        total_discount_amount: that discount, rounded.
        total: ``subtotal - total_discount_amount``.
    """

    list_total: Money
    subtotal: Money
    total_discount: DiscountRate
    total_discount_amount: Money
    total: Money

    @property
    def effective_discount(self) -> DiscountRate:
        """How far the total is below the list total, as one rate (0 for a free list)."""
        if self.list_total.is_zero:
            return DiscountRate.none()
        given = Decimal(1) - self.total.amount / self.list_total.amount
        # A price raised above the list is no discount at all.
        return DiscountRate(min(max(given, Decimal(0)), _ONE))


def check_line_numbers(entity: str, lines: Sequence[LineItem]) -> None:
    """Refuse the lines of a deal or document that number one line twice."""
    numbers = [line.line_no for line in lines]
    if len(set(numbers)) != len(numbers):
        raise invalid(entity, "lines", N_("line numbers must be unique"))


def totals(lines: Sequence[LineItem], total_discount: DiscountRate, currency: str) -> Totals:
    """Sum a document's lines and apply its total discount.

    Raises:
        CurrencyMismatch: a line is in another currency than the document.
    """
    zero = Money.zero(currency)
    for line in lines:
        if line.currency != currency:
            raise CurrencyMismatch(left=currency, right=line.currency)
    subtotal = sum((line.net for line in lines), zero)
    listed = sum((line.list_gross for line in lines), zero)
    cut = total_discount.off(subtotal)
    return Totals(listed, subtotal, total_discount, cut, subtotal - cut)
