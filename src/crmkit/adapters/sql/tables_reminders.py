"""Tables of the reminder rules (migration branch ``reminders``)."""

from __future__ import annotations

from crmkit.adapters.sql.mapping import map_entity
from crmkit.adapters.sql.tables import metadata, register
from crmkit.rules.reminders.model import ReminderFiring, ReminderRule

__all__ = ["REMINDER_FIRINGS", "REMINDER_RULES"]

REMINDER_RULES = register(
    map_entity(ReminderRule, "reminder_rules", metadata, indexes=[("active",)])
)
REMINDER_FIRINGS = register(
    map_entity(
        ReminderFiring,
        "reminder_firings",
        metadata,
        indexes=[("recipient_id", "state", "due_at"), ("state", "snoozed_until"), ("rule_id",)],
    )
)
