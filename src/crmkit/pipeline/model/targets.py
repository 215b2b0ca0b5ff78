"""Sales targets and commission: plan vs actual, and what a rep earned.

A :class:`Target` sets a value for one organisation unit (a department or a
person), one period (month, quarter or fiscal year — :class:`~crmkit.kernel.periods.Period`)
and one metric (won amount, won deals, new customers, calls made). Actuals are
computed from the records themselves; a department's actual is the sum over everyone
in its subtree, and a department without a target of its own rolls up its members'
personal targets and its sub-departments' targets.

A :class:`CommissionPlan` pays a percentage of a rep's won amount, tiered by how
much of the target the rep attained (below 100%: 3%, from 100%: 5%, from 120%: 7%,
say) — or, on the :attr:`CommissionBasis.RECEIPTS` basis, of the money actually
collected, so an unpaid sale earns nothing. A product category may carry a rate of
its own (:attr:`CommissionPlan.category_rates`): a won deal with product lines is
split by its lines' categories, each part paid at its category's rate. :func:`commission_statement` is a pure function of its inputs, so a
statement recomputes exactly, to the fen, whenever it is asked again.

A :class:`RevenueTier` list slices customers into a *customer pyramid* by the
revenue they brought in a period: a few large accounts at the top, many small
ones at the bottom, and the customers that bought nothing beneath them.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

import attrs

from crmkit.kernel.entity import Entity
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId
from crmkit.kernel.invalid import invalid
from crmkit.kernel.money import Money, round_figure

__all__ = [
    "DEFAULT_PYRAMID",
    "CategoryRate",
    "CommissionBasis",
    "CommissionLine",
    "CommissionPlan",
    "CommissionStatement",
    "Metric",
    "RevenueTier",
    "Target",
    "Tier",
    "UnitKind",
    "check_pyramid",
    "commission_statement",
    "tier_of",
]


class Metric(enum.Enum):
    """What a target counts."""

    WON_AMOUNT = "won_amount"
    WON_DEALS = "won_deals"
    NEW_CUSTOMERS = "new_customers"
    CALLS = "calls"


class UnitKind(enum.Enum):
    """Whose target it is."""

    USER = "user"
    DEPARTMENT = "department"


@attrs.define(eq=False)
class Target(Entity):
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
            raise invalid("target", "value", N_("must not be negative"))
        if (self.metric is Metric.WON_AMOUNT) != (self.currency is not None):
            raise invalid("target", "currency", N_("money targets need a currency, counts none"))


@attrs.frozen
class Tier:
    """From ``attainment`` (1 = 100% of target) upwards, pay ``rate`` (0.05 = 5%)."""

    attainment: Decimal
    rate: Decimal

    def __attrs_post_init__(self) -> None:
        if self.attainment < 0 or not 0 <= self.rate <= 1:
            raise invalid("commission_plan", "tiers", N_("attainment must be >= 0 and rate 0..1"))


@attrs.frozen
class CategoryRate:
    """Pay ``rate`` (0.08 = 8%) on the part of a source sold in product ``category``,
    whatever tier the rep reached."""

    category: str
    rate: Decimal = attrs.field(converter=Decimal)

    def __attrs_post_init__(self) -> None:
        if not self.category.strip() or not 0 <= self.rate <= 1:
            raise invalid(
                "commission_plan",
                "category_rates",
                N_("a category rate needs a category and a rate 0..1"),
            )


@attrs.define(eq=False)
class CommissionPlan(Entity):
    """Percent of won amount, tiered by attainment of the won-amount target, with
    optional rates of their own for product categories.

    Attributes:
        tiers: the rate from each attainment upwards.
        category_rates: per product category, a rate replacing the tier rate on the
            part of a deal (or collection) sold in that category.
    """

    entity_name = N_("commission plan")

    id: uuid.UUID
    tenant_id: TenantId
    name: str
    currency: str
    tiers: tuple[Tier, ...]
    category_rates: tuple[CategoryRate, ...] = ()
    version: int = 0

    def __attrs_post_init__(self) -> None:
        starts = [t.attainment for t in self.tiers]
        if not self.tiers or starts[0] != 0 or starts != sorted(set(starts)):
            raise invalid("commission_plan", "tiers", N_("tiers must start at 0 and rise strictly"))
        categories = [c.category for c in self.category_rates]
        if len(set(categories)) != len(categories):
            raise invalid("commission_plan", "category_rates", N_("each category has one rate"))

    @property
    def rates_by_category(self) -> dict[str, Decimal]:
        """The category rates as a mapping."""
        return {c.category: c.rate for c in self.category_rates}

    def rate_for(self, attainment: Decimal) -> Decimal:
        """The rate of the highest tier reached; below the first (money taken back in
        the period, so less than nothing collected), the first tier's."""
        reached = [t.rate for t in self.tiers if t.attainment <= attainment]
        return reached[-1] if reached else self.tiers[0].rate


class CommissionBasis(enum.Enum):
    """What a commission is a share of.

    ``WON_AMOUNT`` pays when the deal is won; ``RECEIPTS`` pays when the customer's
    money is collected — receipt money allocated to the rep's receivable installments
    — so a sale that is never paid earns nothing.
    """

    WON_AMOUNT = "won_amount"
    RECEIPTS = "receipts"


@attrs.frozen
class CommissionLine:
    """One source of a statement — a won deal, or an installment whose money was
    collected (``deal_id`` is then the installment's id) — its amount and commission."""

    deal_id: uuid.UUID
    amount: Money
    commission: Money
    category: str | None = None


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
    basis: CommissionBasis = CommissionBasis.WON_AMOUNT


def commission_statement(
    plan: CommissionPlan,
    period: str,
    rep_id: uuid.UUID,
    won_deals: Iterable[tuple[uuid.UUID, Money]],
    target: Money | None,
    basis: CommissionBasis = CommissionBasis.WON_AMOUNT,
    category_rates: Mapping[str, Decimal] | None = None,
    mix: Mapping[uuid.UUID, Sequence[tuple[str | None, Decimal]]] | None = None,
) -> CommissionStatement:
    """Compute a statement from its inputs (pure: same inputs, same statement).

    ``won_deals`` are the statement's sources: won deals, or collected installments
    when ``basis`` is :attr:`CommissionBasis.RECEIPTS`; attainment is their sum over
    the won-amount target either way.

    The rate comes from the attainment over the whole period; each line's
    commission is rounded to the minor unit and the total is their sum, so the
    statement adds up line by line.

    Per-category rates: when ``mix`` gives a source's product categories with their
    weights (the net of its order lines per category), the source's amount is cut in
    proportion to them (the parts add up exactly) and each part becomes a line of its
    own, paid at ``category_rates[category]`` — or the tier rate for a category that
    has no rate of its own, and for sources without a mix.

    Raises:
        ValidationError: a category rate outside 0..1.
    """
    rates = dict(category_rates or {})
    if any(not 0 <= r <= 1 for r in rates.values()):
        raise invalid(
            "commission_plan", "category_rates", N_("a category rate must be between 0 and 1")
        )
    deals: Sequence[tuple[uuid.UUID, Money]] = sorted(won_deals, key=lambda d: str(d[0]))
    won = sum((amount for _, amount in deals), Money.zero(plan.currency))
    attainment = None if not target or target.is_zero else (won.amount / target.amount)
    rate = plan.rate_for(attainment if attainment is not None else Decimal(0))
    lines: list[CommissionLine] = []
    for deal, amount in deals:
        weights = [(c, w) for c, w in (mix or {}).get(deal, ()) if w > 0]
        if not rates or not weights:
            lines.append(CommissionLine(deal, amount, (amount * rate).round()))
            continue
        for (category, _), part in zip(
            weights, amount.allocate([w for _, w in weights]), strict=True
        ):
            paid = rates.get(category, rate) if category is not None else rate
            lines.append(CommissionLine(deal, part, (part * paid).round(), category))
    total = sum((line.commission for line in lines), Money.zero(plan.currency))
    shown = None if attainment is None else round_figure(attainment, 4)
    return CommissionStatement(period, rep_id, target, won, shown, rate, tuple(lines), total, basis)


@attrs.frozen
class RevenueTier:
    """A layer of the customer pyramid: customers whose revenue is at least ``minimum``.

    A ``minimum`` of 0 means "any revenue above zero": a customer that bought
    nothing belongs to no tier (the pyramid lists those apart, as ``none``).
    """

    label: str
    minimum: Decimal

    def __attrs_post_init__(self) -> None:
        if self.minimum < 0 or not self.label:
            raise invalid("revenue_tier", "minimum", N_("a tier needs a label and a minimum >= 0"))


DEFAULT_PYRAMID: tuple[RevenueTier, ...] = (
    RevenueTier("A", Decimal(1_000_000)),
    RevenueTier("B", Decimal(100_000)),
    RevenueTier("C", Decimal(10_000)),
    RevenueTier("D", Decimal(0)),
)
"""The usual four layers: >= 1,000,000 / >= 100,000 / >= 10,000 / > 0."""


def check_pyramid(tiers: Sequence[RevenueTier]) -> tuple[RevenueTier, ...]:
    """The tiers, validated: minimums fall strictly and the last is 0, so every
    customer with revenue lands in exactly one tier; labels are unique and not ``none``.

    Raises:
        ValidationError: when the tiers leave a gap or overlap.
    """
    minimums = [t.minimum for t in tiers]
    labels = [t.label for t in tiers]
    if (
        not tiers
        or minimums[-1] != 0
        or minimums != sorted(set(minimums), reverse=True)
        or len(set(labels)) != len(labels)
        or "none" in labels
    ):
        raise invalid(
            "revenue_tier", "minimum", N_("tiers must fall strictly to 0 with unique labels")
        )
    return tuple(tiers)


def tier_of(tiers: Sequence[RevenueTier], revenue: Decimal) -> str:
    """The label of the first tier whose minimum ``revenue`` (> 0) reaches."""
    return next(t.label for t in tiers if revenue >= t.minimum)
