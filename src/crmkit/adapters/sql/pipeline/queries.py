"""Pipeline analytics in SQL: every figure is an aggregate computed by the database.

Only the grouped rows cross the wire — a million opportunities become a handful
of funnel rows. The queries are written with SQLAlchemy Core against the tables
the mapping derives, with the permission scope compiled into the ``WHERE``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from crmkit.adapters.sql.billing.tables import INSTALLMENTS, LEDGER_ENTRIES
from crmkit.adapters.sql.compile import compile_expr
from crmkit.adapters.sql.customers.tables import CUSTOMERS
from crmkit.adapters.sql.engine import MYSQL_DIALECTS
from crmkit.adapters.sql.mapping import ExactDecimal, Mapping
from crmkit.adapters.sql.pipeline.tables import (
    ACTIVITIES,
    CAMPAIGNS,
    LEADS,
    OPPORTUNITIES,
    STAGE_CHANGES,
)
from crmkit.billing import Direction, EntryKind
from crmkit.kernel.money import round_figure
from crmkit.kernel.query import TRUE, Expr
from crmkit.kernel.report import ReportTable
from crmkit.pipeline.model.activities import ActivityKind
from crmkit.pipeline.model.opportunities import SalesProcess
from crmkit.pipeline.model.targets import RevenueTier
from crmkit.pipeline.queries import (
    CALLS_COLUMNS,
    COLLECTED_COLUMNS,
    CYCLE_COLUMNS,
    FORECAST_COLUMNS,
    FUNNEL_COLUMNS,
    LOST_COLUMNS,
    NEW_CUSTOMER_COLUMNS,
    PIPELINE_COLUMNS,
    WIN_RATE_COLUMNS,
    WON_COLUMNS,
    PipelineAnalytics,
    conversion_rows,
    cycle_row,
    percent,
    pyramid_rows,
    roi_rows,
    weighted,
)

if TYPE_CHECKING:
    from crmkit.adapters.sql.uow import SqlUnitOfWork

__all__ = ["QUERIES", "SqlPipelineAnalytics"]


class SqlPipelineAnalytics(PipelineAnalytics):
    """:class:`~crmkit.pipeline.queries.PipelineAnalytics` as SQL aggregates."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow
        self._map = OPPORTUNITIES
        self._t = self._map.table
        self._changes = STAGE_CHANGES.table

    def _where(self, scope: Expr, *extra: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
        return sa.and_(
            self._t.c.tenant_id == self._uow.tenant_id,
            compile_expr(scope, self._map.column, self._uow.dialect),
            *extra,
        )

    def _rows(self, statement: sa.Select[Any]) -> list[Any]:
        return list(self._uow.execute(statement))

    def _open_sums(
        self, keys: Sequence[Any], scope: Expr, *extra: sa.ColumnElement[bool]
    ) -> sa.Select[Any]:
        """Open opportunities grouped by ``keys`` and currency: the keys, the currency,
        the count, the amount and the probability-weighted amount of each group."""
        t = self._t
        return (
            sa.select(
                *keys,
                t.c.amount_currency,
                sa.func.count(),
                sa.func.sum(t.c.amount_amount),
                sa.func.sum(t.c.amount_amount * t.c.probability),
            )
            .where(self._where(scope, t.c.status == "open", *extra))
            .group_by(*keys, t.c.amount_currency)
        )

    def _closing(self, start: date, end: date) -> list[sa.ColumnElement[bool]]:
        t = self._t
        return [t.c.expected_close >= start, t.c.expected_close <= end]

    def funnel(self, scope: Expr = TRUE) -> ReportTable:
        t = self._t
        statement = self._open_sums([t.c.stage], scope).order_by(t.c.stage, t.c.amount_currency)
        return ReportTable.of(
            FUNNEL_COLUMNS,
            [
                (stage, currency, n, total, weighted(w, currency))
                for stage, currency, n, total, w in self._rows(statement)
            ],
        )

    def _month(self, column: Any) -> Any:
        if self._uow.dialect == "sqlite":
            return sa.func.strftime("%Y-%m", column)
        if self._uow.dialect in MYSQL_DIALECTS:
            return sa.func.date_format(column, "%Y-%m", type_=sa.String())
        return sa.func.to_char(column, "YYYY-MM")

    def forecast(self, start: date, end: date, scope: Expr = TRUE) -> ReportTable:
        t = self._t
        period = self._month(t.c.expected_close).label("period")
        statement = self._open_sums([period, t.c.owner_id], scope, *self._closing(start, end))
        rows = [
            (p, str(o or ""), currency, n, total, weighted(w, currency))
            for p, o, currency, n, total, w in self._rows(statement)
        ]
        return ReportTable.of(FORECAST_COLUMNS, sorted(rows, key=lambda r: tuple(r[:3])))

    def _closed(self, since: datetime, until: datetime) -> list[sa.ColumnElement[bool]]:
        t = self._t
        return [t.c.status.in_(("won", "lost")), t.c.closed_at >= since, t.c.closed_at < until]

    def win_rate(self, since: datetime, until: datetime, scope: Expr = TRUE) -> ReportTable:
        t = self._t
        won = sa.func.sum(sa.case((t.c.status == "won", 1), else_=0))
        lost = sa.func.sum(sa.case((t.c.status == "lost", 1), else_=0))
        statement = (
            sa.select(t.c.owner_id, won, lost)
            .where(self._where(scope, *self._closed(since, until)))
            .group_by(t.c.owner_id)
        )
        rows = [
            (str(o or ""), int(w), int(lo), percent(int(w), int(w) + int(lo)))
            for o, w, lo in self._rows(statement)
        ]
        return ReportTable.of(WIN_RATE_COLUMNS, sorted(rows))

    def stage_conversion(self, process: SalesProcess, scope: Expr = TRUE) -> ReportTable:
        t, c = self._t, self._changes
        visible = (
            sa.select(t.c.id)
            .where(self._where(scope, t.c.process_id == process.id))
            .scalar_subquery()
        )
        reached_pairs = (
            sa.select(c.c.opportunity_id, c.c.to_stage)
            .where(c.c.tenant_id == self._uow.tenant_id, c.c.opportunity_id.in_(visible))
            .distinct()
            .subquery()
        )
        reached = dict(
            self._rows(
                sa.select(reached_pairs.c.to_stage, sa.func.count()).group_by(
                    reached_pairs.c.to_stage
                )
            )
        )
        first, second = reached_pairs.alias("a"), reached_pairs.alias("b")
        pairs = {
            (a, b): n
            for a, b, n in self._rows(
                sa.select(first.c.to_stage, second.c.to_stage, sa.func.count())
                .join(second, first.c.opportunity_id == second.c.opportunity_id)
                .group_by(first.c.to_stage, second.c.to_stage)
            )
        }
        return conversion_rows(process, reached, pairs)

    def lost_reasons(self, since: datetime, until: datetime, scope: Expr = TRUE) -> ReportTable:
        t = self._t
        statement = (
            sa.select(
                sa.func.coalesce(t.c.lost_reason, ""),
                t.c.amount_currency,
                sa.func.count(),
                sa.func.sum(t.c.amount_amount),
            )
            .where(self._where(scope, *self._closed(since, until), t.c.status == "lost"))
            .group_by(t.c.lost_reason, t.c.amount_currency)
        )
        rows = [(why, currency, n, total) for why, currency, n, total in self._rows(statement)]
        return ReportTable.of(LOST_COLUMNS, sorted(rows, key=lambda r: tuple(r[:2])))

    def won_by_owner(self, since: datetime, until: datetime, scope: Expr = TRUE) -> ReportTable:
        t = self._t
        statement = (
            sa.select(
                t.c.owner_id, t.c.amount_currency, sa.func.count(), sa.func.sum(t.c.amount_amount)
            )
            .where(self._where(scope, *self._closed(since, until), t.c.status == "won"))
            .group_by(t.c.owner_id, t.c.amount_currency)
        )
        rows = [(str(o or ""), c, n, total) for o, c, n, total in self._rows(statement)]
        return ReportTable.of(WON_COLUMNS, sorted(rows, key=lambda r: (r[0], r[1])))

    def new_customers_by_owner(
        self, since: datetime, until: datetime, scope: Expr = TRUE
    ) -> ReportTable:
        rows = self._count_per_owner(CUSTOMERS, "created_at", since, until, scope)
        return ReportTable.of(NEW_CUSTOMER_COLUMNS, rows)

    def calls_by_owner(self, since: datetime, until: datetime, scope: Expr = TRUE) -> ReportTable:
        call = ACTIVITIES.table.c.kind == ActivityKind.CALL.value
        rows = self._count_per_owner(ACTIVITIES, "occurred_at", since, until, scope, call)
        return ReportTable.of(CALLS_COLUMNS, rows)

    def _count_per_owner(
        self,
        mapping: Mapping,
        when: str,
        since: datetime,
        until: datetime,
        scope: Expr,
        *extra: sa.ColumnElement[bool],
    ) -> list[tuple[str, int]]:
        """How many of ``mapping``'s rows in ``scope`` fall in [since, until) by their
        ``when`` column, per owner, sorted by owner."""
        t = mapping.table
        statement = (
            sa.select(t.c.owner_id, sa.func.count())
            .where(
                t.c.tenant_id == self._uow.tenant_id,
                compile_expr(scope, mapping.column, self._uow.dialect),
                *extra,
                t.c[when] >= since,
                t.c[when] < until,
            )
            .group_by(t.c.owner_id)
        )
        return sorted((str(o or ""), n) for o, n in self._rows(statement))

    def pipeline_by_owner(self, start: date, end: date, scope: Expr = TRUE) -> ReportTable:
        t = self._t
        statement = self._open_sums([t.c.owner_id], scope, *self._closing(start, end))
        rows = [
            (str(o or ""), currency, n, total, weighted(w, currency))
            for o, currency, n, total, w in self._rows(statement)
        ]
        return ReportTable.of(PIPELINE_COLUMNS, sorted(rows, key=lambda r: (r[0], r[1])))

    def _customer_pyramid(
        self, won: Expr, customer_scope: Expr, tiers: tuple[RevenueTier, ...]
    ) -> ReportTable:
        t = self._t
        customers = CUSTOMERS
        c = customers.table
        in_scope = sa.and_(
            c.c.tenant_id == self._uow.tenant_id,
            compile_expr(customer_scope, customers.column, self._uow.dialect),
        )
        population = sa.select(c.c.id).where(in_scope)
        # One row per (customer, currency) that bought something: the revenue to tier.
        revenue = (
            sa.select(
                t.c.customer_id,
                t.c.amount_currency.label("currency"),
                sa.func.sum(t.c.amount_amount).label("revenue"),
            )
            .where(self._where(won, t.c.customer_id.in_(population.scalar_subquery())))
            .group_by(t.c.customer_id, t.c.amount_currency)
            .having(sa.func.sum(t.c.amount_amount) > sa.literal(0, ExactDecimal()))
            .subquery()
        )
        # Minimums fall strictly to 0, so the first WHEN reached is the customer's tier.
        tier = sa.case(
            *(
                (revenue.c.revenue >= sa.literal(level.minimum, ExactDecimal()), level.label)
                for level in tiers
            ),
        ).label("tier")
        statement = sa.select(
            tier, revenue.c.currency, sa.func.count(), sa.func.sum(revenue.c.revenue)
        ).group_by(tier, revenue.c.currency)
        groups = {(label, cur): (n, total) for label, cur, n, total in self._rows(statement)}
        buyers = sa.select(revenue.c.customer_id).distinct().scalar_subquery()
        none = self._uow.execute(
            sa.select(sa.func.count()).select_from(c).where(in_scope, c.c.id.not_in(buyers))
        ).scalar_one()
        return pyramid_rows(tiers, groups, int(none))

    def collected_by_installment(self, start: date, end: date, scope: Expr = TRUE) -> ReportTable:
        items = INSTALLMENTS
        i = items.table
        e = LEDGER_ENTRIES.table
        statement = (
            sa.select(
                i.c.owner_id,
                i.c.id,
                i.c.document_id,
                e.c.amount_currency,
                sa.func.sum(e.c.amount_amount),
            )
            .select_from(
                e.join(i, sa.and_(i.c.tenant_id == e.c.tenant_id, i.c.id == e.c.installment_id))
            )
            .where(
                e.c.tenant_id == self._uow.tenant_id,
                e.c.kind.in_((EntryKind.ALLOCATION.value, EntryKind.DEALLOCATION.value)),
                e.c.posted_on >= start,
                e.c.posted_on <= end,
                i.c.direction == Direction.RECEIVABLE.value,
                compile_expr(scope, items.column, self._uow.dialect),
            )
            .group_by(i.c.owner_id, i.c.id, i.c.document_id, e.c.amount_currency)
        )
        rows = [
            (str(owner or ""), str(item), str(document), currency, total)
            for owner, item, document, currency, total in self._rows(statement)
            if total
        ]
        return ReportTable.of(COLLECTED_COLUMNS, sorted(rows, key=lambda r: tuple(r[:4])))

    def campaign_roi(self, scope: Expr = TRUE) -> ReportTable:
        t = self._t
        campaigns_map = CAMPAIGNS
        leads_t = LEADS.table
        campaigns = [
            campaigns_map.from_row(row)
            for row in self._rows(
                sa.select(campaigns_map.table).where(
                    campaigns_map.table.c.tenant_id == self._uow.tenant_id
                )
            )
        ]
        currency = {c.id: c.actual_cost.currency for c in campaigns}
        leads = dict(
            self._rows(
                sa.select(leads_t.c.campaign_id, sa.func.count())
                .where(
                    leads_t.c.tenant_id == self._uow.tenant_id, leads_t.c.campaign_id.is_not(None)
                )
                .group_by(leads_t.c.campaign_id)
            )
        )
        statement = (
            sa.select(
                t.c.campaign_id,
                t.c.amount_currency,
                t.c.status,
                sa.func.count(),
                sa.func.sum(t.c.amount_amount),
            )
            .where(self._where(scope, t.c.campaign_id.is_not(None)))
            .group_by(t.c.campaign_id, t.c.amount_currency, t.c.status)
        )
        deals: dict[Any, tuple[int, int, Decimal]] = {}
        for campaign_id, amount_currency, status, n, total in self._rows(statement):
            opened, won, amount = deals.get(campaign_id, (0, 0, Decimal(0)))
            if status == "won" and amount_currency == currency.get(campaign_id):
                won, amount = won + n, amount + total
            deals[campaign_id] = (opened + n, won, amount)
        return roi_rows(campaigns, leads, deals)

    def cycle(self, since: datetime, until: datetime, scope: Expr = TRUE) -> ReportTable:
        t = self._t
        if self._uow.dialect == "sqlite":
            seconds = (sa.func.julianday(t.c.closed_at) - sa.func.julianday(t.c.created_at)) * 86400
        elif self._uow.dialect in MYSQL_DIALECTS:
            micro = sa.func.timestampdiff(
                sa.literal_column("MICROSECOND"), t.c.created_at, t.c.closed_at
            )
            seconds = micro / 1_000_000
        else:
            seconds = sa.func.extract("epoch", t.c.closed_at - t.c.created_at)
        statement = (
            sa.select(
                t.c.amount_currency,
                sa.func.count(),
                sa.func.sum(t.c.amount_amount),
                sa.func.sum(seconds),
            )
            .where(self._where(scope, *self._closed(since, until), t.c.status == "won"))
            .group_by(t.c.amount_currency)
            .order_by(t.c.amount_currency)
        )
        return ReportTable.of(
            CYCLE_COLUMNS,
            [
                # julianday differences carry float noise (86399.99999...): to the ms.
                cycle_row(currency, n, total, round_figure(Decimal(str(secs)), 3))
                for currency, n, total, secs in self._rows(statement)
            ],
        )


#: The ports these implement, for :mod:`crmkit.adapters.sql.tables` to register.
QUERIES: tuple[tuple[type[Any], Callable[[Any], Any]], ...] = (
    (PipelineAnalytics, SqlPipelineAnalytics),
)
