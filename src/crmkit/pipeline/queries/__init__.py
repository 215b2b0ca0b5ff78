"""Pipeline read models and reports: funnel, forecast and conversion analytics
(:mod:`.analytics`), targets, coverage, the customer pyramid and commission
(:mod:`.performance`), the manager's overview (:mod:`.reports`), and the global-search
parts (:mod:`.search`, which the area's registrations use and this package does not
re-export).

Each module's ``__all__`` is its public part; this package re-exports those of the
first three.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmkit.pipeline.queries import analytics as _analytics
from crmkit.pipeline.queries import performance as _performance
from crmkit.pipeline.queries import reports as _reports
from crmkit.pipeline.queries.analytics import *  # noqa: F403

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
from crmkit.pipeline.queries.performance import *  # noqa: F403
from crmkit.pipeline.queries.performance import coverage_ratio as coverage_ratio
from crmkit.pipeline.queries.reports import *  # noqa: F403

# mypy reads the star imports above (it cannot follow an __all__ built from other
# modules' lists, and would then hide every name); the interpreter gets the list.
if not TYPE_CHECKING:
    __all__ = [*_analytics.__all__, *_performance.__all__, *_reports.__all__]
