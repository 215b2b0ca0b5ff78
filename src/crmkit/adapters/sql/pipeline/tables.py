"""Tables of the pipeline (migration branch ``pipeline``)."""

from __future__ import annotations

from crmkit.adapters.sql.mapping import map_entity
from crmkit.adapters.sql.tables import metadata, register
from crmkit.pipeline.model.activities import Activity, FollowUpPlan
from crmkit.pipeline.model.campaigns import Campaign
from crmkit.pipeline.model.leads import Lead
from crmkit.pipeline.model.opportunities import Opportunity, SalesProcess, StageChange
from crmkit.pipeline.model.sequences import SequenceStep, SequenceTemplate
from crmkit.pipeline.model.settings import PipelineSettings
from crmkit.pipeline.model.targets import CommissionPlan, Target

__all__ = [
    "ACTIVITIES",
    "CAMPAIGNS",
    "COMMISSION_PLANS",
    "FOLLOW_UP_PLANS",
    "LEADS",
    "OPPORTUNITIES",
    "PIPELINE_SETTINGS",
    "SALES_PROCESSES",
    "SEQUENCE_STEPS",
    "SEQUENCE_TEMPLATES",
    "STAGE_CHANGES",
    "TARGETS",
]

LEADS = register(
    map_entity(
        Lead,
        "leads",
        metadata,
        indexes=[
            ("owner_id", "status"),
            ("status", "last_activity_at"),
            ("campaign_id",),
            # Duplicate check at entry (migration 0013): indexed equality lookups.
            ("name_key",),
            ("phone_key",),
            ("email_key",),
            # The global search box: the person's name as typed, and pinyin prefixes.
            ("name",),
            ("pinyin_full",),
            ("pinyin_initials",),
        ],
    )
)
SALES_PROCESSES = register(map_entity(SalesProcess, "sales_processes", metadata))
OPPORTUNITIES = register(
    map_entity(
        Opportunity,
        "opportunities",
        metadata,
        indexes=[
            ("status", "stage"),
            ("owner_id", "status"),
            ("status", "expected_close"),
            ("status", "closed_at"),
            ("customer_id",),
            # The global search box: the name as typed, and pinyin prefixes.
            ("name",),
            ("pinyin_full",),
            ("pinyin_initials",),
        ],
    )
)
STAGE_CHANGES = register(
    map_entity(StageChange, "stage_changes", metadata, indexes=[("opportunity_id", "changed_at")])
)
PIPELINE_SETTINGS = register(map_entity(PipelineSettings, "pipeline_settings", metadata))

# Branch "engagement" (migration 0009): campaigns and follow-up sequences.
CAMPAIGNS = register(map_entity(Campaign, "campaigns", metadata, indexes=[("status",)]))
SEQUENCE_TEMPLATES = register(map_entity(SequenceTemplate, "sequence_templates", metadata))
SEQUENCE_STEPS = register(
    map_entity(
        SequenceStep,
        "sequence_steps",
        metadata,
        indexes=[
            ("state", "due_on"),
            ("owner_id", "state", "due_on"),
            ("customer_id",),
            ("sequence_id",),
        ],
    )
)

# Migration 0011 (after 0009): targets and commission plans.
TARGETS = register(
    map_entity(Target, "targets", metadata, indexes=[("period", "metric"), ("unit_id", "period")])
)
COMMISSION_PLANS = register(map_entity(CommissionPlan, "commission_plans", metadata))

# Migration 0015: activities (the calls metric counts them per owner and period) and
# follow-up plans (reminder rules scan state + due_on; workbenches assignee + due_at).
ACTIVITIES = register(
    map_entity(
        Activity,
        "activities",
        metadata,
        indexes=[
            ("customer_id", "occurred_at"),
            ("opportunity_id", "occurred_at"),
            ("lead_id", "occurred_at"),
            ("owner_id", "kind", "occurred_at"),
            ("kind", "occurred_at"),
        ],
    )
)
FOLLOW_UP_PLANS = register(
    map_entity(
        FollowUpPlan,
        "follow_up_plans",
        metadata,
        indexes=[
            ("assignee_id", "state", "due_at"),
            ("state", "due_on"),
            ("state", "due_at"),
            ("customer_id",),
            ("opportunity_id",),
        ],
    )
)

from crmkit.adapters.sql.pipeline import queries as _pipeline_queries  # noqa: E402, F401
