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

import functools
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NewType
from uuid import UUID

import attrs

from crmkit.kernel.entity import Entity
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId
from crmkit.kernel.invalid import invalid
from crmkit.kernel.limits import DATE_MAX, check_amount, to_amount, to_date
from crmkit.kernel.money import Money, to_decimal

__all__ = [
    "DAYS_MAX",
    "SIGNING",
    "InstallmentDraft",
    "PaymentTerms",
    "PaymentTermsId",
    "TermLine",
    "check_lines",
    "due_after",
    "schedule",
]

PaymentTermsId = NewType("PaymentTermsId", UUID)

SIGNING = "signing"
"""The milestone every document has: the day it was signed or confirmed."""

_HUNDRED = Decimal(100)
#: The most days a line may fall due after its milestone (about a hundred years).
DAYS_MAX = 36_500


_invalid = functools.partial(invalid, "payment_terms")


def _to_percent(value: str | int | Decimal | None) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, float):
        raise TypeError("percent takes a str, int or Decimal, not a float")
    # NaN, Infinity and text that is no number are refused by name, not by decimal.
    percent = to_decimal(value, entity="payment_terms", field="percent")
    return check_amount(percent, entity="payment_terms", field="percent")


def _to_line_amount(value: Any) -> Money | None:
    return None if value is None else to_amount(value, entity="payment_terms", field="amount")


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
    amount: Money | None = attrs.field(default=None, converter=_to_line_amount)
    milestone: str = SIGNING
    days: int = 0

    def __attrs_post_init__(self) -> None:
        for field in ("label", "milestone"):
            if not isinstance(getattr(self, field), str):
                raise _invalid(field, N_("must be text"))
        if not isinstance(self.days, int) or isinstance(self.days, bool):
            raise _invalid("days", N_("must be a whole number"))
        if (self.percent is None) == (self.amount is None):
            raise _invalid("percent", N_("give either a percentage or an amount, not both"))
        if self.percent is not None and not (0 < self.percent <= _HUNDRED):
            raise _invalid(
                "percent", N_("{value} is not above 0 and at most 100"), value=str(self.percent)
            )
        if self.amount is not None and not self.amount.is_positive:
            raise _invalid("amount", N_("must be above zero"))
        if not 0 <= self.days <= DAYS_MAX:
            raise _invalid("days", N_("must be between 0 and {maximum}"), maximum=DAYS_MAX)
        if not self.label.strip():
            raise _invalid("label", N_("is required"))


def _lines(values: Iterable[TermLine]) -> tuple[TermLine, ...]:
    return tuple(values)


def _check_lines(_instance: Any, _attribute: Any, lines: tuple[TermLine, ...]) -> None:
    check_lines(lines)


def check_lines(lines: Sequence[TermLine]) -> None:
    """Refuse payment-term lines that cannot make a plan: none at all, or percentages
    that do not add up to 100 (60% would otherwise silently bill 100%).

    Raises:
        ValidationError: naming ``lines``.
    """
    if not lines:
        raise _invalid("lines", N_("payment terms need at least one line"))
    if not all(isinstance(line, TermLine) for line in lines):
        raise _invalid("lines", N_("must be payment-term lines"))
    percents = [line.percent for line in lines if line.percent is not None]
    if percents and sum(percents) != _HUNDRED:
        raise _invalid(
            "lines",
            N_("the percentages add up to {total}, not 100"),
            total=str(sum(percents)),
        )


@attrs.define(eq=False)
class PaymentTerms(Entity):
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


@attrs.frozen
class InstallmentDraft:
    """One installment :func:`schedule` proposes: label, amount and due date (if known)."""

    label: str
    amount: Money
    due_date: date | None
    milestone: str
    days: int


def due_after(start: date, days: int) -> date:
    """``days`` after ``start``; a due date past the calendar crmkit keeps is refused.

    Raises:
        ValidationError: the day falls after :data:`crmkit.kernel.limits.DATE_MAX`.
    """
    if (DATE_MAX - start).days < days:
        raise _invalid(
            "milestones",
            N_("{days} days after {start} is past {end}"),
            days=days,
            start=start.isoformat(),
            end=DATE_MAX.isoformat(),
        )
    return start + timedelta(days=days)


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
    check_lines(lines)  # inline lines get the checks a stored template gets
    milestones = {
        name: to_date(day, entity="payment_terms", field="milestones")
        for name, day in milestones.items()
    }
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
        due = None if start is None else due_after(start, line.days)
        drafts.append(InstallmentDraft(line.label, amount, due, line.milestone, line.days))
    return drafts
