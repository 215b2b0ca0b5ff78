"""Pipeline read models and reports: funnel, forecast and conversion analytics
(:mod:`.analytics`), targets, coverage, the customer pyramid and commission
(:mod:`.performance`), and the global-search parts (:mod:`.search`)."""

from __future__ import annotations

from crmkit.pipeline.queries.analytics import (
    CALLS_COLUMNS,
    COLLECTED_COLUMNS,
    CONVERSION_COLUMNS,
    CYCLE_COLUMNS,
    FORECAST_COLUMNS,
    FUNNEL_COLUMNS,
    LOST_COLUMNS,
    NEW_CUSTOMER_COLUMNS,
    PIPELINE_COLUMNS,
    PYRAMID_COLUMNS,
    ROI_COLUMNS,
    WIN_RATE_COLUMNS,
    WON_COLUMNS,
    PipelineAnalytics,
)

# For the analytics implementations (the SQL adapter's too) and their tests, not the
# public API: the row builders both share, the memory implementation and the sums.
from crmkit.pipeline.queries.analytics import DEAL_COLUMN_SOURCES as DEAL_COLUMN_SOURCES
from crmkit.pipeline.queries.analytics import MemoryPipelineAnalytics as MemoryPipelineAnalytics
from crmkit.pipeline.queries.analytics import conversion_rows as conversion_rows
from crmkit.pipeline.queries.analytics import cycle_row as cycle_row
from crmkit.pipeline.queries.analytics import percent as percent
from crmkit.pipeline.queries.analytics import pyramid_rows as pyramid_rows
from crmkit.pipeline.queries.analytics import roi_rows as roi_rows
from crmkit.pipeline.queries.analytics import weighted as weighted
from crmkit.pipeline.queries.performance import (
    COVERAGE_COLUMNS,
    TARGET_COLUMNS,
    commission_for,
    coverage_report,
    customer_pyramid,
    target_report,
)
from crmkit.pipeline.queries.performance import coverage_ratio as coverage_ratio
from crmkit.pipeline.queries.reports import PipelineReport, pipeline_report

__all__ = [
    "CALLS_COLUMNS",
    "COLLECTED_COLUMNS",
    "CONVERSION_COLUMNS",
    "COVERAGE_COLUMNS",
    "CYCLE_COLUMNS",
    "FORECAST_COLUMNS",
    "FUNNEL_COLUMNS",
    "LOST_COLUMNS",
    "NEW_CUSTOMER_COLUMNS",
    "PIPELINE_COLUMNS",
    "PYRAMID_COLUMNS",
    "ROI_COLUMNS",
    "TARGET_COLUMNS",
    "WIN_RATE_COLUMNS",
    "WON_COLUMNS",
    "PipelineAnalytics",
    "PipelineReport",
    "commission_for",
    "coverage_report",
    "customer_pyramid",
    "pipeline_report",
    "target_report",
]
