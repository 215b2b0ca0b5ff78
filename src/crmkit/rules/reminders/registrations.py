"""Where reminders declare themselves: the ``reminder_rule`` resource and each public
reminder service for :mod:`crmkit.rules.permissions.catalog`."""

from __future__ import annotations

from crmkit.rules.permissions import register_resource
from crmkit.rules.permissions.catalog import ServiceKind, register_service
from crmkit.rules.reminders.model import ReminderRule
from crmkit.rules.reminders.services import (
    RULES,
    complete_reminder,
    define_reminder_rule,
    dismiss_reminder,
    my_reminders,
    snooze_reminder,
)

AREA = "crmkit.rules.reminders"
FIRING = {"firing": "reminder_firing"}

register_resource(RULES, entity=ReminderRule, operations=("view", "edit"))

register_service(define_reminder_rule, ServiceKind.WRITE, "reminder_rule", package=AREA)
register_service(my_reminders, ServiceKind.LIST, "reminder_firing", package=AREA, personal=True)
for service in (snooze_reminder, dismiss_reminder, complete_reminder):
    register_service(service, ServiceKind.WRITE, "reminder_firing", records=FIRING, package=AREA)
