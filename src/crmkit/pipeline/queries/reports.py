"""The manager's pipeline overview."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import attrs

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.query import TRUE, Expr
from crmkit.kernel.report import ReportTable
from crmkit.pipeline.model.opportunities import (
    SalesProcess,
)
from crmkit.pipeline.model.resources import DEALS
from crmkit.pipeline.queries.analytics import DEAL_COLUMN_SOURCES, PipelineAnalytics
from crmkit.ports import UnitOfWork, queries
from crmkit.rules.permissions import grants_for, guarded
from crmkit.rules.permissions.reader import aggregate, report_scope

__all__ = [
    "PipelineReport",
    "pipeline_report",
]


@attrs.frozen
class PipelineReport:
    """The manager's overview, each table computed where the data lives."""

    funnel: ReportTable
    forecast: ReportTable
    win_rate: ReportTable
    lost_reasons: ReportTable
    cycle: ReportTable
    conversion: ReportTable | None


def pipeline_report(
    crm: Crm,
    actor: Actor,
    *,
    since: datetime,
    until: datetime,
    forecast_from: date,
    forecast_to: date,
    process_id: uuid.UUID | None = None,
    scope: Expr = TRUE,
) -> PipelineReport:
    """Funnel, forecast, win rate, loss reasons, cycle and (for a process) stage conversion.

    Computed over the deals the actor may view, narrowed by ``scope``. A column over a
    deal field hidden from the actor (``amount`` for an analyst) is omitted: its cells
    are ``None`` while the deal counts stay (see
    :func:`crmkit.rules.permissions.reader.aggregate`).

    Raises:
        PermissionDenied: ``scope`` filters on a field hidden from the actor.
    """

    def work(uow: UnitOfWork) -> PipelineReport:
        analytics: PipelineAnalytics = queries(uow, PipelineAnalytics)
        grants = grants_for(uow, actor)
        visible = report_scope(grants, DEALS, scope)
        process = uow.repository(SalesProcess).get(process_id) if process_id else None
        funnel = analytics.funnel(visible)
        if process is not None:
            # Show the funnel in the process's own stage order, not alphabetically.
            order = {stage.code: i for i, stage in enumerate(process.stages)}
            funnel = ReportTable(
                funnel.columns,
                tuple(sorted(funnel.rows, key=lambda row: (order.get(row[0], len(order)), row[1]))),
            )

        def shown(table: ReportTable) -> ReportTable:
            return aggregate(grants, DEALS, table, DEAL_COLUMN_SOURCES, counts=("deals",))

        return PipelineReport(
            funnel=shown(funnel),
            forecast=shown(analytics.forecast(forecast_from, forecast_to, visible)),
            win_rate=shown(analytics.win_rate(since, until, visible)),
            lost_reasons=shown(analytics.lost_reasons(since, until, visible)),
            cycle=shown(analytics.cycle(since, until, visible)),
            conversion=shown(analytics.stage_conversion(process, visible)) if process else None,
        )

    return guarded(crm, actor, work)
