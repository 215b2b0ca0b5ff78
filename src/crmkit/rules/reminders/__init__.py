"""Reminder rules: date-field, yearly, inactivity, calendar and one-off reminders."""

from crmkit.rules.reminders import registrations as _registrations  # noqa: F401  (the service catalog)
from crmkit.rules.reminders.model import (
    FiringState,
    RecipientKind,
    Recipients,
    ReminderDismissed,
    ReminderDone,
    ReminderDue,
    ReminderFiring,
    ReminderRule,
    ReminderSnoozed,
    ReminderSource,
    TriggerKind,
    month_day_key,
    register_source,
)
from crmkit.rules.reminders.services import (
    complete_reminder,
    define_reminder_rule,
    dismiss_reminder,
    my_reminders,
    scan_due_reminders,
    snooze_reminder,
)

__all__ = [
    "FiringState",
    "RecipientKind",
    "Recipients",
    "ReminderDismissed",
    "ReminderDone",
    "ReminderDue",
    "ReminderFiring",
    "ReminderRule",
    "ReminderSnoozed",
    "ReminderSource",
    "TriggerKind",
    "complete_reminder",
    "define_reminder_rule",
    "dismiss_reminder",
    "month_day_key",
    "my_reminders",
    "register_source",
    "scan_due_reminders",
    "snooze_reminder",
]
