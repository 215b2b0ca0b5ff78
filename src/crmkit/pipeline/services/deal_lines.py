"""Product lines of opportunities: what a deal is about, and so what it is worth.

A deal's lines are :class:`~crmkit.pipeline.model.pricing.LineItem` values, the same
as a quote's: product code (the reference to the product) and name (a snapshot, so
renaming a product does not rewrite old deals), category (commission may pay a rate
per category), quantity, unit, unit price and discount, with each line's net computed
and rounded exactly. While a deal has lines its amount is their total (as Salesforce
derives Amount from opportunity products); without lines the amount is set by hand
(:func:`set_opportunity_amount`). Lines change only while the deal is open.

A line asks for its unit price, or leaves it to the price list the customer's quotes
would use (the customer's level, the deal's currency, today). A quote drawn up for
the deal may start from its lines (:func:`crmkit.pipeline.services.create_quote`
without ``lines``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

import attrs

from crmkit.crm import Crm
from crmkit.customers.model import Customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Query
from crmkit.pipeline.model.opportunities import Opportunity
from crmkit.pipeline.model.pricing import (
    DiscountRate,
    LineItem,
    PriceList,
    choose_price_list,
    price_line,
)
from crmkit.pipeline.services.opportunities import act_on_deal
from crmkit.ports import UnitOfWork

__all__ = [
    "DealLine",
    "add_opportunity_line",
    "remove_opportunity_line",
    "set_opportunity_amount",
    "set_opportunity_lines",
]


@attrs.frozen
class DealLine:
    """A product line a rep puts on a deal.

    Attributes:
        product_code: the product's code (its reference).
        quantity: how many units (positive; fractions such as 2.5 m are fine).
        name: the product's name as it should stay on the deal; the price list's
            name when left out and priced from the list.
        unit_price: the unit price in the deal's currency; ``None`` takes it from the
            customer's price list (with its volume tiers).
        category: the product category (for per-category commission).
        unit: the unit of measure (the price list's when priced from it).
        discount: the line discount.
    """

    product_code: str
    quantity: Decimal = attrs.field(converter=Decimal)
    name: str | None = None
    unit_price: Money | None = None
    category: str | None = None
    unit: str | None = None
    discount: DiscountRate = attrs.field(factory=DiscountRate.none)

    def __attrs_post_init__(self) -> None:
        if not self.product_code.strip():
            raise invalid("opportunity", "lines", N_("a line needs a product"))


def _price_list(uow: UnitOfWork, deal: Opportunity, on: date) -> PriceList:
    customer = uow.repository(Customer).get(deal.customer_id)
    currency = deal.amount.currency
    lists = uow.repository(PriceList).query(Query(where=F("currency").eq(currency)))
    return choose_price_list(lists, customer.level, currency, on)


def _priced(uow: UnitOfWork, deal: Opportunity, line_no: int, line: DealLine, on: date) -> LineItem:
    if line.unit_price is None:
        item = price_line(
            line_no,
            _price_list(uow, deal, on),
            line.product_code,
            line.quantity,
            line.discount,
            description=line.name,
        )
        return attrs.evolve(item, category=line.category, unit=line.unit or item.unit)
    if not (line.name or "").strip():
        raise invalid(
            "opportunity",
            "lines",
            N_("{code} needs a name when priced by hand"),
            code=line.product_code,
        )
    return LineItem(
        line_no=line_no,
        product_code=line.product_code,
        description=line.name or "",
        quantity=line.quantity,
        unit_price=line.unit_price,
        discount=line.discount,
        unit=line.unit or "pcs",
        category=line.category,
    )


def set_opportunity_lines(
    crm: Crm,
    actor: Actor,
    deal_id: uuid.UUID,
    lines: Sequence[DealLine],
    *,
    expected_version: int | None = None,
) -> Opportunity:
    """Replace the deal's product lines (numbered 1, 2, ... in the order given).

    With any line the amount becomes their total; with none the deal keeps the amount
    it had, to be set by hand again.

    Raises:
        InvalidTransition: the deal is closed.
        ValidationError: a line is invalid, or no price list covers a line priced from it.
        CurrencyMismatch: a unit price is not in the deal's currency.
        ConcurrencyConflict: it changed since ``expected_version``.
        PermissionDenied: the actor may not edit the deal.
    """

    def replace(uow: UnitOfWork, deal: Opportunity, now: datetime) -> list[DomainEvent]:
        priced = [_priced(uow, deal, n, line, now.date()) for n, line in enumerate(lines, 1)]
        return [deal.set_lines(priced, now)]

    return act_on_deal(crm, actor, deal_id, expected_version, replace)


def add_opportunity_line(
    crm: Crm,
    actor: Actor,
    deal_id: uuid.UUID,
    line: DealLine,
    *,
    expected_version: int | None = None,
) -> Opportunity:
    """Add a product line after the deal's last one; the amount becomes the lines' total.

    Raises:
        see :func:`set_opportunity_lines`.
    """

    def add(uow: UnitOfWork, deal: Opportunity, now: datetime) -> list[DomainEvent]:
        next_no = max((existing.line_no for existing in deal.lines), default=0) + 1
        priced = _priced(uow, deal, next_no, line, now.date())
        return [deal.set_lines([*deal.lines, priced], now)]

    return act_on_deal(crm, actor, deal_id, expected_version, add)


def remove_opportunity_line(
    crm: Crm,
    actor: Actor,
    deal_id: uuid.UUID,
    line_no: int,
    *,
    expected_version: int | None = None,
) -> Opportunity:
    """Take line ``line_no`` off the deal (the others keep their numbers).

    Raises:
        ValidationError: the deal has no such line.
        InvalidTransition: the deal is closed.
    """

    def remove(_uow: UnitOfWork, deal: Opportunity, now: datetime) -> list[DomainEvent]:
        kept = [existing for existing in deal.lines if existing.line_no != line_no]
        if len(kept) == len(deal.lines):
            raise invalid("opportunity", "lines", N_("has no line {line_no}"), line_no=line_no)
        return [deal.set_lines(kept, now)]

    return act_on_deal(crm, actor, deal_id, expected_version, remove)


def set_opportunity_amount(
    crm: Crm,
    actor: Actor,
    deal_id: uuid.UUID,
    amount: Money,
    *,
    expected_version: int | None = None,
) -> Opportunity:
    """Set the expected value of a deal without product lines.

    Raises:
        ValidationError: the deal has lines (edit them instead), or the amount is negative.
        InvalidTransition: the deal is closed.
    """

    def set_amount(_uow: UnitOfWork, deal: Opportunity, _now: datetime) -> list[DomainEvent]:
        deal.set_amount(amount)
        return []

    return act_on_deal(crm, actor, deal_id, expected_version, set_amount)
