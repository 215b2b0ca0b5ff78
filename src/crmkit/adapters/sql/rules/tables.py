"""Tables of the rules: permissions, approvals, reminders, numbering and notifications.

Each part has its own migration branch (``permissions``, ``approvals``,
``reminders``, ``workflow``).

Permission policy objects are aggregates mapped like any other; grants and field rules live
inside their role as JSON because a role is read and written as a whole. The
customers table gains an index on ``department_id`` so department scopes filter
through an index as owner scopes already do.
"""

from __future__ import annotations

import sqlalchemy as sa

from crmkit.adapters.sql.customers.tables import CUSTOMERS
from crmkit.adapters.sql.mapping import Mapping, map_entity
from crmkit.adapters.sql.metadata import metadata
from crmkit.rules.approvals.model import (
    ApprovalFlow,
    ApprovalRequest,
    ApprovalSettings,
    ApprovalTask,
)
from crmkit.rules.notifications.model import Delivery, InboxItem
from crmkit.rules.numbering.model import NumberCounter, NumberingRule
from crmkit.rules.permissions.model import (
    Denial,
    Department,
    Member,
    OwnershipTransfer,
    PolicyEpoch,
    RecordShare,
    Role,
    SharingRule,
)
from crmkit.rules.reminders.model import ReminderFiring, ReminderRule

__all__ = [
    "APPROVAL_FLOWS",
    "APPROVAL_REQUESTS",
    "APPROVAL_SETTINGS",
    "APPROVAL_TASKS",
    "DELIVERIES",
    "DENIALS",
    "DEPARTMENTS",
    "INBOX_ITEMS",
    "MAPPINGS",
    "MEMBERS",
    "NUMBERING_RULES",
    "NUMBER_COUNTERS",
    "OWNERSHIP_TRANSFERS",
    "POLICY_EPOCHS",
    "RECORD_SHARES",
    "REMINDER_FIRINGS",
    "REMINDER_RULES",
    "ROLES",
    "SHARING_RULES",
]

# Permissions (migration branch ``permissions``).
DEPARTMENTS = map_entity(Department, "departments", metadata, indexes=[("parent_id",)])
MEMBERS = map_entity(Member, "members", metadata, indexes=[("department_id",), ("manager_id",)])
ROLES = map_entity(Role, "roles", metadata, unique=[("code",)])
RECORD_SHARES = map_entity(
    RecordShare,
    "record_shares",
    metadata,
    indexes=[("grantee_kind", "grantee"), ("resource", "record_id")],
)
SHARING_RULES = map_entity(SharingRule, "sharing_rules", metadata)
OWNERSHIP_TRANSFERS = map_entity(
    OwnershipTransfer,
    "ownership_transfers",
    metadata,
    indexes=[("resource", "record_id", "transferred_at")],
)
DENIALS = map_entity(Denial, "permission_denials", metadata, indexes=[("at",), ("user_id", "at")])
POLICY_EPOCHS = map_entity(PolicyEpoch, "policy_epochs", metadata)

_customers = CUSTOMERS.table
sa.Index("ix_customers_department_id", _customers.c.tenant_id, _customers.c.department_id)

# Approval flows (migration branch ``approvals``).
APPROVAL_FLOWS = map_entity(
    ApprovalFlow, "approval_flows", metadata, indexes=[("document_type", "active")]
)
APPROVAL_REQUESTS = map_entity(
    ApprovalRequest,
    "approval_requests",
    metadata,
    # The overdue scan reads (status, alert_due_at); "my submissions" reads submitter.
    indexes=[("status", "alert_due_at"), ("submitter_id", "submitted_at")],
    unique=[("document_type", "document_id")],
)
APPROVAL_TASKS = map_entity(
    ApprovalTask,
    "approval_tasks",
    metadata,
    indexes=[("approver_id", "waiting_since"), ("request_id",)],
)

APPROVAL_SETTINGS = map_entity(ApprovalSettings, "approval_settings", metadata)

# Reminder rules (migration branch ``reminders``).
REMINDER_RULES = map_entity(ReminderRule, "reminder_rules", metadata, indexes=[("active",)])
REMINDER_FIRINGS = map_entity(
    ReminderFiring,
    "reminder_firings",
    metadata,
    indexes=[("recipient_id", "state", "due_at"), ("state", "snoozed_until"), ("rule_id",)],
)

# Numbering rules and notifications (migration branch ``workflow``).
NUMBERING_RULES = map_entity(NumberingRule, "numbering_rules", metadata, unique=[("doc_type",)])
NUMBER_COUNTERS = map_entity(NumberCounter, "number_counters", metadata)
DELIVERIES = map_entity(
    Delivery, "notification_deliveries", metadata, indexes=[("state", "created_at")]
)
# The dispatcher serves every tenant from one queue, so its "what is due" scan cannot
# lead with tenant_id (as the outbox's pending index does not).
sa.Index(
    "ix_notification_deliveries_due",
    DELIVERIES.table.c.state,
    DELIVERIES.table.c.next_attempt_at,
)
INBOX_ITEMS = map_entity(
    InboxItem,
    "inbox_items",
    metadata,
    indexes=[("recipient_id", "read_at"), ("recipient_id", "received_at")],
)

#: Every mapping of this area, for :mod:`crmkit.adapters.sql.tables` to register.
MAPPINGS: tuple[Mapping, ...] = (
    DEPARTMENTS,
    MEMBERS,
    ROLES,
    RECORD_SHARES,
    SHARING_RULES,
    OWNERSHIP_TRANSFERS,
    DENIALS,
    POLICY_EPOCHS,
    APPROVAL_FLOWS,
    APPROVAL_REQUESTS,
    APPROVAL_TASKS,
    APPROVAL_SETTINGS,
    REMINDER_RULES,
    REMINDER_FIRINGS,
    NUMBERING_RULES,
    NUMBER_COUNTERS,
    DELIVERIES,
    INBOX_ITEMS,
)
