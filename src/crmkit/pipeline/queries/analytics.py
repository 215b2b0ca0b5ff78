"""Pipeline analytics: funnel, forecast, win rate, stage conversion, loss reasons, cycle.

Each analytic is a method of the :class:`PipelineAnalytics` read-model port and
returns a :class:`~crmkit.kernel.report.ReportTable`. The SQL adapter implements
it with aggregate queries that run inside the database (``GROUP BY`` over the
opportunity and stage-change tables); :class:`MemoryPipelineAnalytics` does the
same arithmetic in Python for the memory adapter. Both take a ``scope`` filter
expression — the permission evaluator's — so a manager's funnel counts only the
deals the manager may see. Amounts are grouped per currency, never mixed.
"""

from __future__ import annotations

import abc
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from crmkit.billing import Direction, EntryKind, Installment, LedgerEntry
from crmkit.customers.model import Customer
from crmkit.kernel.money import Money, round_figure
from crmkit.kernel.query import TRUE, Expr, F, Query
from crmkit.kernel.report import ReportTable
from crmkit.pipeline.model.activities import Activity, ActivityKind
from crmkit.pipeline.model.campaigns import Campaign
from crmkit.pipeline.model.leads import Lead
from crmkit.pipeline.model.opportunities import (
    Opportunity,
    OpportunityStatus,
    SalesProcess,
    StageChange,
)
from crmkit.pipeline.model.targets import DEFAULT_PYRAMID, RevenueTier, check_pyramid, tier_of
from crmkit.ports import UnitOfWork

__all__ = [
    "CALLS_COLUMNS",
    "COLLECTED_COLUMNS",
    "CONVERSION_COLUMNS",
    "CYCLE_COLUMNS",
    "FORECAST_COLUMNS",
    "FUNNEL_COLUMNS",
    "LOST_COLUMNS",
    "NEW_CUSTOMER_COLUMNS",
    "PIPELINE_COLUMNS",
    "PYRAMID_COLUMNS",
    "ROI_COLUMNS",
    "WIN_RATE_COLUMNS",
    "WON_COLUMNS",
    "PipelineAnalytics",
]

FUNNEL_COLUMNS = ("stage", "currency", "deals", "amount", "weighted")
FORECAST_COLUMNS = ("period", "owner_id", "currency", "deals", "amount", "weighted")
WIN_RATE_COLUMNS = ("owner_id", "won", "lost", "win_rate")
CONVERSION_COLUMNS = ("from_stage", "to_stage", "reached", "advanced", "rate")
LOST_COLUMNS = ("reason", "currency", "deals", "amount")
CYCLE_COLUMNS = ("currency", "won", "average_amount", "average_days")
WON_COLUMNS = ("owner_id", "currency", "deals", "amount")
NEW_CUSTOMER_COLUMNS = ("owner_id", "customers")
CALLS_COLUMNS = ("owner_id", "calls")
PIPELINE_COLUMNS = ("owner_id", "currency", "deals", "amount", "weighted")
PYRAMID_COLUMNS = ("tier", "currency", "customers", "revenue")
COLLECTED_COLUMNS = ("owner_id", "installment_id", "document_id", "currency", "collected")
ROI_COLUMNS = (
    "campaign",
    "channel",
    "currency",
    "cost",
    "leads",
    "opportunities",
    "won",
    "won_amount",
    "roi",
)

#: The deal fields each column of the deal tables is computed from, so a report omits a
#: column over a field hidden from its reader (see
#: :func:`crmkit.rules.permissions.reader.aggregate`). A money column reads ``amount``
#: and so does its currency; counts of deals read no field and always show.
DEAL_COLUMN_SOURCES: dict[str, tuple[str, ...]] = {
    "stage": ("stage",),
    "currency": ("amount",),
    "amount": ("amount",),
    "weighted": ("amount", "probability"),
    "period": ("expected_close",),
    "owner_id": ("owner_id",),
    "won": ("status",),
    "lost": ("status",),
    "win_rate": ("status",),
    "reason": ("lost_reason",),
    "average_amount": ("amount",),
    "average_days": ("created_at", "closed_at"),
    "from_stage": ("stage",),
    "to_stage": ("stage",),
    "reached": ("stage",),
    "advanced": ("stage",),
    "rate": ("stage",),
}


def weighted(amount_times_probability: Decimal, currency: str) -> Decimal:
    """Sum of amount x probability (percent) as an amount of ``currency``, rounded to its
    minor unit with crmkit's one rule (half up), as ``Opportunity.weighted_amount`` is."""
    return Money(Decimal(amount_times_probability) / 100, currency).round().amount


def percent(part: int, whole: int) -> Decimal:
    """``part / whole`` in percent with one decimal (0 when ``whole`` is 0)."""
    if not whole:
        return Decimal("0.0")
    return round_figure(Decimal(part) * 100 / whole, 1)


class PipelineAnalytics(abc.ABC):
    """Read model of the pipeline, run where the data is.

    Each storage implements the methods; :meth:`customer_pyramid` checks its tiers and
    states which deals count as revenue here, once, so no storage can accept a pyramid
    another refuses or count other deals, then calls the storage's ``_customer_pyramid``.
    """

    @abc.abstractmethod
    def funnel(self, scope: Expr = TRUE) -> ReportTable:
        """Open deals per stage and currency: count, amount, weighted amount."""

    @abc.abstractmethod
    def forecast(self, start: date, end: date, scope: Expr = TRUE) -> ReportTable:
        """Open deals expected to close in [start, end], per month and owner."""

    @abc.abstractmethod
    def win_rate(self, since: datetime, until: datetime, scope: Expr = TRUE) -> ReportTable:
        """Deals closed in [since, until) per owner: won, lost and the win rate in percent."""

    @abc.abstractmethod
    def stage_conversion(self, process: SalesProcess, scope: Expr = TRUE) -> ReportTable:
        """For each pair of consecutive stages: deals that reached the first, and the share
        of those that went on to reach the next."""

    @abc.abstractmethod
    def lost_reasons(self, since: datetime, until: datetime, scope: Expr = TRUE) -> ReportTable:
        """Deals lost in [since, until) per reason and currency."""

    @abc.abstractmethod
    def cycle(self, since: datetime, until: datetime, scope: Expr = TRUE) -> ReportTable:
        """Deals won in [since, until) per currency: count, average amount, average days
        from creation to close (one decimal)."""

    @abc.abstractmethod
    def won_by_owner(self, since: datetime, until: datetime, scope: Expr = TRUE) -> ReportTable:
        """Deals won in [since, until) per owner and currency: count and amount."""

    @abc.abstractmethod
    def new_customers_by_owner(
        self, since: datetime, until: datetime, scope: Expr = TRUE
    ) -> ReportTable:
        """Customers created in [since, until) per owner (``scope`` is over customers)."""

    @abc.abstractmethod
    def calls_by_owner(self, since: datetime, until: datetime, scope: Expr = TRUE) -> ReportTable:
        """Call activities that took place in [since, until) per owner (``scope`` is over
        activities): the actuals of a ``calls`` target."""

    @abc.abstractmethod
    def pipeline_by_owner(self, start: date, end: date, scope: Expr = TRUE) -> ReportTable:
        """Open deals expected to close in [start, end] per owner and currency: count,
        amount and weighted amount (the pipeline a coverage ratio divides)."""

    def customer_pyramid(
        self,
        since: datetime,
        until: datetime,
        tiers: Sequence[RevenueTier] = DEFAULT_PYRAMID,
        scope: Expr = TRUE,
        customer_scope: Expr = TRUE,
    ) -> ReportTable:
        """Customers per revenue tier and currency: how many, and the revenue they brought.

        A customer's revenue is its won amount (deals won in [since, until) within
        ``scope``) in one currency; it lands in the first tier whose minimum it reaches,
        once per currency it bought in. Customers of ``customer_scope`` that bought
        nothing in the period form the last row, tier ``none`` with currency ``""``.
        Tiers are listed top down, then currency; empty tiers are left out.

        Raises:
            ValidationError: when ``tiers`` leave a gap (see ``check_pyramid``).
        """
        checked = check_pyramid(tiers)
        won = closed_in(since, until, scope, OpportunityStatus.WON)
        return self._customer_pyramid(won, customer_scope, checked)

    @abc.abstractmethod
    def collected_by_installment(self, start: date, end: date, scope: Expr = TRUE) -> ReportTable:
        """Money collected on receivable installments in [start, end]: per installment
        (of ``scope``, a filter over billing's installments) and the document it bills,
        the receipt money allocated to it on those business days less allocations taken
        back on them.

        Installments whose net is zero are left out; rows are ordered by owner, then
        installment id. This is the basis of commission paid on collections.
        """

    @abc.abstractmethod
    def campaign_roi(self, scope: Expr = TRUE) -> ReportTable:
        """Per campaign: cost, leads and deals it produced, won revenue in the campaign's
        currency, and ROI in percent (``None`` while nothing was spent)."""

    @abc.abstractmethod
    def _customer_pyramid(
        self, won: Expr, customer_scope: Expr, tiers: tuple[RevenueTier, ...]
    ) -> ReportTable:
        """:meth:`customer_pyramid` on this storage: the customers of ``customer_scope`` tiered
        by their revenue from the deals of ``won``, ``tiers`` already checked."""


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _owner(deal: Opportunity) -> str:
    return str(deal.owner_id or "")


def _open_closing(start: date, end: date, scope: Expr) -> Expr:
    """Open deals of ``scope`` expected to close in [start, end]."""
    return (
        scope
        & F("status").eq(OpportunityStatus.OPEN)
        & F("expected_close").ge(start)
        & F("expected_close").le(end)
    )


def closed_in(since: datetime, until: datetime, scope: Expr, *statuses: OpportunityStatus) -> Expr:
    """Deals of ``scope`` closed in [since, until) with one of ``statuses``: the period
    every report of closed deals counts in."""
    return (
        scope
        & F("status").is_in(list(statuses))
        & F("closed_at").ge(since)
        & F("closed_at").lt(until)
    )


def _tally(
    deals: Iterable[Opportunity],
    key: Callable[[Opportunity], tuple[str, ...]],
    *,
    weigh: bool = False,
) -> list[tuple[Any, ...]]:
    """Rows of ``key`` + (deals, amount[, weighted amount]) sorted by key; the key's
    last part is the currency, so amounts are never summed across currencies."""
    groups: dict[tuple[str, ...], list[Decimal]] = defaultdict(
        lambda: [Decimal(0), Decimal(0), Decimal(0)]
    )
    for deal in deals:
        bucket = groups[key(deal)]
        bucket[0] += 1
        bucket[1] += deal.amount.amount
        bucket[2] += deal.amount.amount * deal.probability
    return [
        (*k, int(n), total, weighted(w, k[-1])) if weigh else (*k, int(n), total)
        for k, (n, total, w) in sorted(groups.items())
    ]


class MemoryPipelineAnalytics(PipelineAnalytics):
    """:class:`PipelineAnalytics` over the memory adapter's rows."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def _deals(self, where: Expr) -> list[Opportunity]:
        return self._uow.repository(Opportunity).query(Query(where=where))

    def funnel(self, scope: Expr = TRUE) -> ReportTable:
        deals = self._deals(scope & F("status").eq(OpportunityStatus.OPEN))
        return ReportTable.of(
            FUNNEL_COLUMNS, _tally(deals, lambda d: (d.stage, d.amount.currency), weigh=True)
        )

    def forecast(self, start: date, end: date, scope: Expr = TRUE) -> ReportTable:
        def key(deal: Opportunity) -> tuple[str, ...]:
            assert deal.expected_close is not None
            return (_month(deal.expected_close), _owner(deal), deal.amount.currency)

        deals = self._deals(_open_closing(start, end, scope))
        return ReportTable.of(FORECAST_COLUMNS, _tally(deals, key, weigh=True))

    def _closed(self, since: datetime, until: datetime, scope: Expr) -> list[Opportunity]:
        return self._deals(
            closed_in(since, until, scope, OpportunityStatus.WON, OpportunityStatus.LOST)
        )

    def win_rate(self, since: datetime, until: datetime, scope: Expr = TRUE) -> ReportTable:
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for deal in self._closed(since, until, scope):
            counts[_owner(deal)][0 if deal.status is OpportunityStatus.WON else 1] += 1
        return ReportTable.of(
            WIN_RATE_COLUMNS,
            [
                (owner, won, lost, percent(won, won + lost))
                for owner, (won, lost) in sorted(counts.items())
            ],
        )

    def stage_conversion(self, process: SalesProcess, scope: Expr = TRUE) -> ReportTable:
        visible = {d.id for d in self._deals(scope & F("process_id").eq(process.id))}
        reached: dict[str, set[Any]] = defaultdict(set)
        for change in self._uow.repository(StageChange).query(Query()):
            if change.opportunity_id in visible:
                reached[change.to_stage].add(change.opportunity_id)
        return _conversion_rows(
            process,
            {k: len(v) for k, v in reached.items()},
            lambda a, b: len(reached[a] & reached[b]),
        )

    def lost_reasons(self, since: datetime, until: datetime, scope: Expr = TRUE) -> ReportTable:
        lost = [d for d in self._closed(since, until, scope) if d.status is OpportunityStatus.LOST]
        return ReportTable.of(
            LOST_COLUMNS, _tally(lost, lambda d: (d.lost_reason or "", d.amount.currency))
        )

    def won_by_owner(self, since: datetime, until: datetime, scope: Expr = TRUE) -> ReportTable:
        won = [d for d in self._closed(since, until, scope) if d.status is OpportunityStatus.WON]
        return ReportTable.of(WON_COLUMNS, _tally(won, lambda d: (_owner(d), d.amount.currency)))

    def new_customers_by_owner(
        self, since: datetime, until: datetime, scope: Expr = TRUE
    ) -> ReportTable:
        where = scope & F("created_at").ge(since) & F("created_at").lt(until)
        return self._count_by_owner(Customer, where, NEW_CUSTOMER_COLUMNS)

    def calls_by_owner(self, since: datetime, until: datetime, scope: Expr = TRUE) -> ReportTable:
        where = (
            scope
            & F("kind").eq(ActivityKind.CALL)
            & F("occurred_at").ge(since)
            & F("occurred_at").lt(until)
        )
        return self._count_by_owner(Activity, where, CALLS_COLUMNS)

    def _count_by_owner(
        self, entity: type[Customer | Activity], where: Expr, columns: tuple[str, ...]
    ) -> ReportTable:
        counts: dict[str, int] = defaultdict(int)
        for record in self._uow.repository(entity).query(Query(where=where)):
            counts[str(record.owner_id or "")] += 1
        return ReportTable.of(columns, sorted(counts.items()))

    def pipeline_by_owner(self, start: date, end: date, scope: Expr = TRUE) -> ReportTable:
        deals = self._deals(_open_closing(start, end, scope))
        return ReportTable.of(
            PIPELINE_COLUMNS,
            _tally(deals, lambda d: (_owner(d), d.amount.currency), weigh=True),
        )

    def _customer_pyramid(
        self, won: Expr, customer_scope: Expr, tiers: tuple[RevenueTier, ...]
    ) -> ReportTable:
        population = {
            c.id for c in self._uow.repository(Customer).query(Query(where=customer_scope))
        }
        revenue: dict[tuple[Any, str], Decimal] = defaultdict(Decimal)
        for deal in self._deals(won):
            if deal.customer_id in population:
                revenue[(deal.customer_id, deal.amount.currency)] += deal.amount.amount
        groups: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
        buyers = set()
        for (customer, currency), total in revenue.items():
            if total > 0:
                buyers.add(customer)
                bucket = groups[(tier_of(tiers, total), currency)]
                bucket[0] += 1
                bucket[1] += total
        return pyramid_rows(
            tiers,
            {key: (int(n), total) for key, (n, total) in groups.items()},
            len(population - buyers),
        )

    def collected_by_installment(self, start: date, end: date, scope: Expr = TRUE) -> ReportTable:
        items: dict[Any, Installment] = {
            i.id: i
            for i in self._uow.repository(Installment).query(
                Query(where=scope & F("direction").eq(Direction.RECEIVABLE))
            )
        }
        where = (
            F("kind").is_in([EntryKind.ALLOCATION, EntryKind.DEALLOCATION])
            & F("posted_on").ge(start)
            & F("posted_on").le(end)
        )
        net: dict[tuple[str, str, str, str], Decimal] = defaultdict(Decimal)
        for entry in self._uow.repository(LedgerEntry).query(Query(where=where)):
            item = items.get(entry.installment_id)
            if item is not None:
                key = (
                    str(item.owner_id or ""),
                    str(item.id),
                    str(item.document_id),
                    entry.amount.currency,
                )
                net[key] += entry.amount.amount
        return ReportTable.of(
            COLLECTED_COLUMNS,
            [(*key, total) for key, total in sorted(net.items()) if total],
        )

    def campaign_roi(self, scope: Expr = TRUE) -> ReportTable:
        campaigns = self._uow.repository(Campaign).query(Query())
        currency: dict[Any, str] = {c.id: c.actual_cost.currency for c in campaigns}
        leads: dict[Any, int] = defaultdict(int)
        for lead in self._uow.repository(Lead).query(Query(where=F("campaign_id").not_null())):
            leads[lead.campaign_id] += 1
        deals: dict[Any, tuple[int, int, Decimal]] = {}
        for deal in self._deals(scope & F("campaign_id").not_null()):
            opened, won, amount = deals.get(deal.campaign_id, (0, 0, Decimal(0)))
            if deal.status is OpportunityStatus.WON and deal.amount.currency == currency.get(
                deal.campaign_id
            ):
                won, amount = won + 1, amount + deal.amount.amount
            deals[deal.campaign_id] = (opened + 1, won, amount)
        return roi_rows(campaigns, leads, deals)

    def cycle(self, since: datetime, until: datetime, scope: Expr = TRUE) -> ReportTable:
        groups: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0)])
        for deal in self._closed(since, until, scope):
            if deal.status is OpportunityStatus.WON and deal.closed_at is not None:
                bucket = groups[deal.amount.currency]
                bucket[0] += 1
                bucket[1] += deal.amount.amount
                seconds = (deal.closed_at - deal.created_at).total_seconds()
                bucket[2] += Decimal(str(seconds))
        return ReportTable.of(
            CYCLE_COLUMNS,
            [
                cycle_row(currency, int(n), total, seconds)
                for currency, (n, total, seconds) in sorted(groups.items())
            ],
        )


def roi_rows(
    campaigns: list[Campaign], leads: dict[Any, int], deals: dict[Any, tuple[int, int, Decimal]]
) -> ReportTable:
    """Campaign ROI rows from per-campaign counts (shared by both adapters).

    ``deals`` maps a campaign id to (opportunities, won, won amount in its currency).
    """
    rows = []
    for campaign in sorted(campaigns, key=lambda c: (c.name, str(c.id))):
        opened, won, amount = deals.get(campaign.id, (0, 0, Decimal(0)))
        cost = campaign.actual_cost.amount
        roi = None if not cost else round_figure((amount - cost) * 100 / cost, 1)
        rows.append(
            (
                campaign.name,
                campaign.channel,
                campaign.actual_cost.currency,
                cost,
                leads.get(campaign.id, 0),
                opened,
                won,
                Decimal(amount),
                roi,
            )
        )
    return ReportTable.of(ROI_COLUMNS, rows)


def pyramid_rows(
    tiers: Sequence[RevenueTier], groups: dict[tuple[str, str], tuple[int, Decimal]], none: int
) -> ReportTable:
    """Customer-pyramid rows from per (tier, currency) counts and revenue, plus the
    number of customers that bought nothing (shared by both adapters)."""
    order = {t.label: i for i, t in enumerate(tiers)}
    rows: list[tuple[Any, ...]] = [
        (tier, currency, n, Decimal(total))
        for (tier, currency), (n, total) in sorted(
            groups.items(), key=lambda item: (order[item[0][0]], item[0][1])
        )
    ]
    if none:
        rows.append(("none", "", none, Decimal(0)))
    return ReportTable.of(PYRAMID_COLUMNS, rows)


def cycle_row(currency: str, won: int, total: Decimal, seconds: Decimal) -> tuple[Any, ...]:
    """One row of :meth:`PipelineAnalytics.cycle` from sums (shared by both adapters)."""
    average = Money(Decimal(total) / won, currency).round().amount
    days = round_figure(Decimal(seconds) / won / 86400, 1)
    return (currency, won, average, days)


def _conversion_rows(process: SalesProcess, reached: dict[str, int], both: Any) -> ReportTable:
    rows = []
    codes = [s.code for s in process.stages] + ["won"]
    for first, second in itertools.pairwise(codes):
        base = reached.get(first, 0)
        advanced = both(first, second)
        rows.append((first, second, base, advanced, percent(advanced, base)))
    return ReportTable.of(CONVERSION_COLUMNS, rows)


def conversion_rows(
    process: SalesProcess, reached: dict[str, int], pairs: dict[tuple[str, str], int]
) -> ReportTable:
    """Stage-conversion rows from counts (used by the SQL adapter)."""
    return _conversion_rows(process, reached, lambda a, b: pairs.get((a, b), 0))
