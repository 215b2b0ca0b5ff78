"""Tables of the pipeline (migration branch ``pipeline``).

Leads, opportunities and their sales processes, campaigns, targets, sequences and
activities; then the sales documents: price lists, quotes, contracts and sales
orders (migration 0008).
"""

from __future__ import annotations

from crmkit.adapters.sql.mapping import Mapping, map_entity
from crmkit.adapters.sql.metadata import metadata
from crmkit.pipeline.model.activities import Activity, FollowUpPlan
from crmkit.pipeline.model.campaigns import Campaign
from crmkit.pipeline.model.contracts import Contract
from crmkit.pipeline.model.leads import Lead
from crmkit.pipeline.model.opportunities import Opportunity, SalesProcess, StageChange
from crmkit.pipeline.model.orders import SalesOrder
from crmkit.pipeline.model.pricing import PriceList
from crmkit.pipeline.model.quotes import Quote, SalesDocumentSettings
from crmkit.pipeline.model.sequences import SequenceStep, SequenceTemplate
from crmkit.pipeline.model.settings import PipelineSettings
from crmkit.pipeline.model.targets import CommissionPlan, Target

__all__ = [
    "ACTIVITIES",
    "CAMPAIGNS",
    "COMMISSION_PLANS",
    "CONTRACTS",
    "FOLLOW_UP_PLANS",
    "LEADS",
    "MAPPINGS",
    "OPPORTUNITIES",
    "PIPELINE_SETTINGS",
    "PRICE_LISTS",
    "QUOTES",
    "SALES_DOCUMENT_SETTINGS",
    "SALES_ORDERS",
    "SALES_PROCESSES",
    "SEQUENCE_STEPS",
    "SEQUENCE_TEMPLATES",
    "STAGE_CHANGES",
    "TARGETS",
]

LEADS = map_entity(
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
SALES_PROCESSES = map_entity(SalesProcess, "sales_processes", metadata)
OPPORTUNITIES = map_entity(
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
STAGE_CHANGES = map_entity(
    StageChange, "stage_changes", metadata, indexes=[("opportunity_id", "changed_at")]
)
PIPELINE_SETTINGS = map_entity(PipelineSettings, "pipeline_settings", metadata)

# Branch "engagement" (migration 0009): campaigns and follow-up sequences.
CAMPAIGNS = map_entity(Campaign, "campaigns", metadata, indexes=[("status",)])
SEQUENCE_TEMPLATES = map_entity(SequenceTemplate, "sequence_templates", metadata)
SEQUENCE_STEPS = map_entity(
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

# Migration 0011 (after 0009): targets and commission plans.
TARGETS = map_entity(
    Target, "targets", metadata, indexes=[("period", "metric"), ("unit_id", "period")]
)
COMMISSION_PLANS = map_entity(CommissionPlan, "commission_plans", metadata)

# Migration 0015: activities (the calls metric counts them per owner and period) and
# follow-up plans (reminder rules scan state + due_on; workbenches assignee + due_at).
ACTIVITIES = map_entity(
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
FOLLOW_UP_PLANS = map_entity(
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

# Sales documents (migration 0008).
PRICE_LISTS = map_entity(PriceList, "price_lists", metadata, indexes=[("currency", "valid_from")])
QUOTES = map_entity(
    Quote,
    "quotes",
    metadata,
    indexes=[("customer_id",), ("opportunity_id",), ("root_id", "revision"), ("status",)],
    unique=[("number", "revision")],
)
CONTRACTS = map_entity(
    Contract,
    "contracts",
    metadata,
    # Reminder rules scan these date columns; the expiry job scans status + end_date.
    indexes=[
        ("customer_id",),
        ("status", "end_date"),
        ("end_date",),
        ("renewal_notice_on",),
        ("start_date",),
        ("signed_on",),
        ("owner_id",),
    ],
    unique=[("number",)],
)
SALES_ORDERS = map_entity(
    SalesOrder,
    "sales_orders",
    metadata,
    indexes=[("customer_id", "status"), ("quote_id",), ("contract_id",), ("status",)],
    unique=[("number",)],
)
SALES_DOCUMENT_SETTINGS = map_entity(SalesDocumentSettings, "sales_document_settings", metadata)

#: Every mapping of this area, for :mod:`crmkit.adapters.sql.tables` to register.
MAPPINGS: tuple[Mapping, ...] = (
    LEADS,
    SALES_PROCESSES,
    OPPORTUNITIES,
    STAGE_CHANGES,
    PIPELINE_SETTINGS,
    CAMPAIGNS,
    SEQUENCE_TEMPLATES,
    SEQUENCE_STEPS,
    TARGETS,
    COMMISSION_PLANS,
    ACTIVITIES,
    FOLLOW_UP_PLANS,
    PRICE_LISTS,
    QUOTES,
    CONTRACTS,
    SALES_ORDERS,
    SALES_DOCUMENT_SETTINGS,
)
