"""Payment terms: how a contract's or an order's total is cut into installments.

A finance clerk thinks of payment terms as a short table: "30% on signing, 60% on
delivery, 10% ninety days after acceptance", or "a 10,000 deposit on signing, the
rest in two halves". A :class:`PaymentTerms` template says exactly that as data:
each :class:`TermLine` takes either a fixed amount or a percentage, and falls due
a number of days after a named *milestone* (``signing``, ``delivery``,
``acceptance``, ...). :func:`schedule` turns a template, a document total and the
milestone dates known so far into installments whose amounts add up to the total
to the minor unit: fixed amounts are taken first and the percentages share what
is left through :meth:`Money.allocate`, so no cent is lost or invented. A
milestone whose date is not known yet leaves its installment without a due date
until someone sets it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NewType
from uuid import UUID

import attrs

from crmkit.kernel.errors import ValidationError, reason
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId
from crmkit.kernel.money import Money

__all__ = [
    "SIGNING",
    "InstallmentDraft",
    "PaymentTerms",
    "PaymentTermsId",
    "TermLine",
    "schedule",
]

PaymentTermsId = NewType("PaymentTermsId", UUID)

SIGNING = "signing"
"""The milestone every document has: the day it was signed or confirmed."""

_HUNDRED = Decimal(100)


def _invalid(field: str, message: str, **params: Any) -> ValidationError:
    return ValidationError(entity="payment_terms", field=field, reason=reason(message, **params))


def _to_percent(value: str | int | Decimal | None) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, float):
        raise TypeError("percent takes a str, int or Decimal, not a float")
    return Decimal(value)


@attrs.frozen
class TermLine:
    """One line of payment terms.

    Attributes:
        label: what the line is called on a plan ("deposit", "on delivery").
        percent: share of the total left after fixed amounts, in percent (0-100);
            exactly one of ``percent`` and ``amount`` is set.
        amount: a fixed amount in the document's currency.
        milestone: the event the due date counts from (``"signing"``, ``"delivery"``).
        days: days after the milestone the line falls due (0 = on the day).
    """

    label: str
    percent: Decimal | None = attrs.field(default=None, converter=_to_percent)
    amount: Money | None = None
    milestone: str = SIGNING
    days: int = 0

    def __attrs_post_init__(self) -> None:
        if (self.percent is None) == (self.amount is None):
            raise _invalid("percent", N_("give either a percentage or an amount, not both"))
        if self.percent is not None and not (0 < self.percent <= _HUNDRED):
            raise _invalid(
                "percent", N_("{value} is not above 0 and at most 100"), value=str(self.percent)
            )
        if self.amount is not None and not self.amount.is_positive:
            raise _invalid("amount", N_("must be above zero"))
        if self.days < 0:
            raise _invalid("days", N_("must not be negative"))
        if not self.label.strip():
            raise _invalid("label", N_("is required"))


def _lines(values: Iterable[TermLine]) -> tuple[TermLine, ...]:
    return tuple(values)


def _check_lines(_instance: Any, _attribute: Any, lines: tuple[TermLine, ...]) -> None:
    if not lines:
        raise _invalid("lines", N_("payment terms need at least one line"))
    percents = [line.percent for line in lines if line.percent is not None]
    if percents and sum(percents) != _HUNDRED:
        raise _invalid(
            "lines",
            N_("the percentages add up to {total}, not 100"),
            total=str(sum(percents)),
        )


@attrs.define(eq=False)
class PaymentTerms:
    """A tenant's named payment-term template (stored, reused across documents).

    Attributes:
        id: the template's id.
        tenant_id: the owning tenant.
        name: what clerks pick it by ("30/60/10").
        lines: the installments it produces, in order.
        version: optimistic-locking counter.
    """

    entity_name = N_("payment terms")

    id: PaymentTermsId
    tenant_id: TenantId
    name: str
    lines: tuple[TermLine, ...] = attrs.field(converter=_lines, validator=_check_lines)
    version: int = 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PaymentTerms) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)


@attrs.frozen
class InstallmentDraft:
    """One installment :func:`schedule` proposes: label, amount and due date (if known)."""

    label: str
    amount: Money
    due_date: date | None
    milestone: str
    days: int


def schedule(
    total: Money, lines: Sequence[TermLine], milestones: Mapping[str, date]
) -> list[InstallmentDraft]:
    """Cut ``total`` into installments following ``lines``; the parts add up exactly.

    Args:
        total: the document total, at its currency's minor unit.
        lines: the payment-term lines (usually ``PaymentTerms.lines``).
        milestones: the dates known so far by milestone name (``{"signing": ...}``).

    Returns:
        One draft per line, in order; a line whose milestone has no date yet gets
        ``due_date=None``.

    Raises:
        ValidationError: the total is not positive or not at the minor unit, a fixed
            amount is in another currency, the fixed amounts exceed the total, or
            there are no percentage lines to absorb what the fixed amounts leave.
    """
    if not total.is_positive:
        raise _invalid("total", N_("must be above zero"))
    total.to_minor_units()  # refuses amounts below the minor unit
    fixed = [line.amount for line in lines if line.amount is not None]
    if any(amount.currency != total.currency for amount in fixed):
        raise _invalid("amount", N_("fixed amounts must be in {currency}"), currency=total.currency)
    rest = total - sum(fixed, Money.zero(total.currency))
    percent_lines = [line for line in lines if line.percent is not None]
    if rest.is_negative:
        raise _invalid("lines", N_("the fixed amounts exceed the total {total}"), total=str(total))
    if not percent_lines and not rest.is_zero:
        raise _invalid(
            "lines",
            N_("the fixed amounts add up to {fixed}, not the total {total}"),
            fixed=str(total - rest),
            total=str(total),
        )
    ratios = [line.percent or Decimal(0) for line in percent_lines]
    shares = iter(rest.allocate(ratios) if percent_lines else [])
    drafts = []
    for line in lines:
        amount = line.amount if line.amount is not None else next(shares)
        if amount.is_zero:
            continue  # a percentage of nothing left after the fixed amounts
        start = milestones.get(line.milestone)
        due = None if start is None else start + timedelta(days=line.days)
        drafts.append(InstallmentDraft(line.label, amount, due, line.milestone, line.days))
    return drafts
