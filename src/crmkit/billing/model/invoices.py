"""Invoices: the tax documents issued against contracts and orders.

A customer is invoiced when the contract says so — often several invoices per
order (one per delivery or per installment), and sometimes one invoice across
several orders of the same customer. Each :class:`Invoice` therefore carries the
parts of the documents it covers (:class:`InvoicedPart`), and a document's
*invoiced* amount is the sum of its parts over issued invoices, shown beside what
was contracted and what was received.

Each line has its own tax rate (13%, 9%, 6%, 0% in China). Tax is computed per
line and rounded per line, or computed exactly and rounded once per invoice and
then shared back to the lines with :meth:`Money.allocate` — as the tenant
configures (:class:`TaxRounding`). Either way the line taxes add up to the
invoice's tax to the minor unit.

An invoice is *requested*, *issued* (it gets its number), *sent*, and may be
*voided*. An issued invoice is never deleted: voiding it issues a linked
*red-letter* invoice with every amount negated (红字发票), so the totals per
document fall back by exactly the voided amount.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import NewType
from uuid import UUID

import attrs

from crmkit.billing.model.plans import Direction
from crmkit.kernel.entity import Entity
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId
from crmkit.kernel.invalid import invalid
from crmkit.kernel.money import Money

__all__ = [
    "Invoice",
    "InvoiceEvent",
    "InvoiceId",
    "InvoiceIssued",
    "InvoiceLine",
    "InvoiceState",
    "InvoiceVoided",
    "InvoicedPart",
    "TaxRounding",
    "price_lines",
]

InvoiceId = NewType("InvoiceId", UUID)


_invalid = functools.partial(invalid, "invoice")


def _to_rate(value: str | int | Decimal) -> Decimal:
    if isinstance(value, float):
        raise TypeError("tax_rate takes a str, int or Decimal, not a float")
    rate = Decimal(value)
    if not (0 <= rate < 1):
        raise _invalid("tax_rate", N_("{rate} is not a rate from 0 up to 1"), rate=str(rate))
    return rate


class TaxRounding(enum.Enum):
    """Where tax is rounded to the minor unit."""

    PER_LINE = "per_line"
    PER_INVOICE = "per_invoice"


@attrs.frozen
class InvoiceLine:
    """One invoice line: a net amount and its tax rate (``"0.13"`` for 13%).

    ``tax`` is filled in by :func:`price_lines`.
    """

    description: str
    net: Money
    tax_rate: Decimal = attrs.field(converter=_to_rate)
    tax: Money | None = None

    @property
    def gross(self) -> Money:
        """Net plus tax (tax must be priced first)."""
        if self.tax is None:
            raise _invalid("tax", N_("is not computed yet"))
        return self.net + self.tax


def price_lines(lines: Sequence[InvoiceLine], rounding: TaxRounding) -> tuple[InvoiceLine, ...]:
    """Compute every line's tax, rounded per line or once per invoice.

    Args:
        lines: the lines, all in one currency, nets at the minor unit.
        rounding: per line, or per invoice (the exact taxes are summed, rounded once
            and shared back to the lines in proportion, so lines still add up).

    Returns:
        The lines with ``tax`` set.

    Raises:
        ValidationError: no lines, mixed currencies, or a net below the minor unit.
    """
    if not lines:
        raise _invalid("lines", N_("an invoice needs at least one line"))
    currency = lines[0].net.currency
    for line in lines:
        if line.net.currency != currency:
            raise _invalid("lines", N_("all lines must be in {currency}"), currency=currency)
        line.net.to_minor_units()
    exact = [line.net * line.tax_rate for line in lines]
    if rounding is TaxRounding.PER_LINE:
        taxes = [tax.round() for tax in exact]
    else:
        total = sum(exact, Money.zero(currency)).round()
        weights = [abs(tax.amount) for tax in exact]
        taxes = total.allocate(weights) if any(weights) else [Money.zero(currency)] * len(lines)
    return tuple(attrs.evolve(line, tax=tax) for line, tax in zip(lines, taxes, strict=True))


@attrs.frozen
class InvoicedPart:
    """The part of one document (contract, order) an invoice covers."""

    document_type: str
    document_id: UUID
    amount: Money


class InvoiceState(enum.Enum):
    """An invoice's life: requested, issued, sent, voided."""

    REQUESTED = "requested"
    ISSUED = "issued"
    SENT = "sent"
    VOIDED = "voided"


def _parts(values: Iterable[InvoicedPart]) -> tuple[InvoicedPart, ...]:
    return tuple(values)


def _lines(values: Iterable[InvoiceLine]) -> tuple[InvoiceLine, ...]:
    return tuple(values)


@attrs.define(eq=False)
class Invoice(Entity):
    """A sales (or purchase) invoice.

    Attributes:
        id: the invoice's id.
        tenant_id: the owning tenant.
        direction: receivable (we invoice a customer) or payable (a supplier's invoice).
        customer_id: the counterparty; every part belongs to this customer's documents.
        lines: priced lines.
        parts: the documents covered and how much of each; they add up to ``gross``.
        rounding: how the tax was rounded.
        net, tax, gross: totals of the lines.
        state: requested, issued, sent or voided.
        requested_at: when it was requested (UTC).
        number: the invoice number, given when issued.
        issued_on: the day it was issued.
        reverses: for a red-letter invoice, the invoice it voids.
        reversed_by: for a voided invoice, its red-letter invoice.
        version: optimistic-locking counter.
    """

    entity_name = N_("invoice")

    id: InvoiceId
    tenant_id: TenantId
    direction: Direction
    customer_id: UUID
    lines: tuple[InvoiceLine, ...] = attrs.field(converter=_lines)
    parts: tuple[InvoicedPart, ...] = attrs.field(converter=_parts)
    rounding: TaxRounding
    net: Money
    tax: Money
    gross: Money
    requested_at: datetime
    state: InvoiceState = InvoiceState.REQUESTED
    number: str = ""
    issued_on: date | None = None
    reverses: UUID | None = None
    reversed_by: UUID | None = None
    version: int = 0

    @property
    def is_red_letter(self) -> bool:
        """True for the negative invoice that voids another."""
        return self.reverses is not None

    def red_letter(self, id: InvoiceId, *, now: datetime, number: str, on: date) -> Invoice:
        """The linked negative invoice that voids this one (issued at once)."""
        return Invoice(
            id=id,
            tenant_id=self.tenant_id,
            direction=self.direction,
            customer_id=self.customer_id,
            lines=[
                attrs.evolve(line, net=-line.net, tax=None if line.tax is None else -line.tax)
                for line in self.lines
            ],
            parts=[attrs.evolve(part, amount=-part.amount) for part in self.parts],
            rounding=self.rounding,
            net=-self.net,
            tax=-self.tax,
            gross=-self.gross,
            requested_at=now,
            state=InvoiceState.ISSUED,
            number=number,
            issued_on=on,
            reverses=self.id,
        )


@attrs.frozen(kw_only=True)
class InvoiceEvent(DomainEvent):
    """Base of the events of a :class:`Invoice` (its ``aggregate_id``)."""

    aggregate_type = "invoice"


@attrs.frozen(kw_only=True)
class InvoiceIssued(InvoiceEvent):
    """An invoice was issued with its number."""

    number: str
    gross: Money


@attrs.frozen(kw_only=True)
class InvoiceVoided(InvoiceEvent):
    """An invoice was voided by a red-letter invoice."""

    red_letter_id: UUID
