"""Sales targets and commission: plan vs actual, and what a rep earned.

A :class:`Target` sets a value for one organisation unit (a department or a
person), one period (month, quarter or fiscal year — :class:`~crmkit.kernel.periods.Period`)
and one metric (won amount, new customers, ...). Actuals are computed from the
records themselves; a department's actual is the sum over everyone in its subtree,
and a department without a target of its own rolls its children's targets up.

A :class:`CommissionPlan` pays a percentage of a rep's won amount, tiered by how
much of the target the rep attained (below 100%: 3%, from 100%: 5%, from 120%: 7%,
say). :func:`commission_statement` is a pure function of its inputs, so a
statement recomputes exactly, to the fen, whenever it is asked again.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal

import attrs

from crmkit.kernel.errors import ValidationError, reason
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId
from crmkit.kernel.money import Money

__all__ = [
    "CommissionLine",
    "CommissionPlan",
    "CommissionStatement",
    "Metric",
    "Target",
    "Tier",
    "UnitKind",
    "commission_statement",
]


class Metric(enum.Enum):
    """What a target counts."""

    WON_AMOUNT = "won_amount"
    WON_DEALS = "won_deals"
    NEW_CUSTOMERS = "new_customers"


class UnitKind(enum.Enum):
    """Whose target it is."""

    USER = "user"
    DEPARTMENT = "department"


@attrs.define(eq=False)
class Target:
    """A planned value for one unit, period and metric.

    Attributes:
        period: a period label (``2026-03``, ``2026-Q1``, ``FY2026``; see ``Period.parse``).
        value: the planned figure; money metrics are in ``currency``.
    """

    entity_name = N_("target")

    id: uuid.UUID
    tenant_id: TenantId
    unit_kind: UnitKind
    unit_id: uuid.UUID
    period: str
    metric: Metric
    value: Decimal
    currency: str | None = None
    version: int = 0

    def __attrs_post_init__(self) -> None:
        if self.value < 0:
            raise ValidationError(
                entity="target", field="value", reason=reason(N_("must not be negative"))
            )
        if (self.metric is Metric.WON_AMOUNT) != (self.currency is not None):
            raise ValidationError(
                entity="target",
                field="currency",
                reason=reason(N_("money targets need a currency, counts none")),
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Target) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)


@attrs.frozen
class Tier:
    """From ``attainment`` (1 = 100% of target) upwards, pay ``rate`` (0.05 = 5%)."""

    attainment: Decimal
    rate: Decimal

    def __attrs_post_init__(self) -> None:
        if self.attainment < 0 or not 0 <= self.rate <= 1:
            raise ValidationError(
                entity="commission_plan",
                field="tiers",
                reason=reason(N_("attainment must be >= 0 and rate 0..1")),
            )


@attrs.define(eq=False)
class CommissionPlan:
    """Percent of won amount, tiered by attainment of the won-amount target."""

    entity_name = N_("commission plan")

    id: uuid.UUID
    tenant_id: TenantId
    name: str
    currency: str
    tiers: tuple[Tier, ...]
    version: int = 0

    def __attrs_post_init__(self) -> None:
        starts = [t.attainment for t in self.tiers]
        if not self.tiers or starts[0] != 0 or starts != sorted(set(starts)):
            raise ValidationError(
                entity="commission_plan",
                field="tiers",
                reason=reason(N_("tiers must start at 0 and rise strictly")),
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CommissionPlan) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def rate_for(self, attainment: Decimal) -> Decimal:
        """The rate of the highest tier reached."""
        return [t.rate for t in self.tiers if t.attainment <= attainment][-1]


@attrs.frozen
class CommissionLine:
    """One won deal in a statement: its amount and the commission on it."""

    deal_id: uuid.UUID
    amount: Money
    commission: Money


@attrs.frozen
class CommissionStatement:
    """A rep's commission for a period, line by line."""

    period: str
    rep_id: uuid.UUID
    target: Money | None
    won: Money
    attainment: Decimal | None
    rate: Decimal
    lines: tuple[CommissionLine, ...]
    total: Money


def commission_statement(
    plan: CommissionPlan,
    period: str,
    rep_id: uuid.UUID,
    won_deals: Iterable[tuple[uuid.UUID, Money]],
    target: Money | None,
) -> CommissionStatement:
    """Compute a statement from its inputs (pure: same inputs, same statement).

    The rate comes from the attainment over the whole period; each deal's
    commission is rounded to the minor unit and the total is their sum, so the
    statement adds up line by line.
    """
    deals: Sequence[tuple[uuid.UUID, Money]] = sorted(won_deals, key=lambda d: str(d[0]))
    won = sum((amount for _, amount in deals), Money.zero(plan.currency))
    attainment = None if not target or target.is_zero else (won.amount / target.amount)
    rate = plan.rate_for(attainment if attainment is not None else Decimal(0))
    lines = tuple(CommissionLine(deal, amount, (amount * rate).round()) for deal, amount in deals)
    total = sum((line.commission for line in lines), Money.zero(plan.currency))
    shown = None if attainment is None else attainment.quantize(Decimal("0.0001"))
    return CommissionStatement(period, rep_id, target, won, shown, rate, lines, total)
