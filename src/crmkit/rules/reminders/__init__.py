"""Reminder rules: date-field, yearly, inactivity, calendar and one-off reminders."""

from crmkit.rules.reminders import model as _model
from crmkit.rules.reminders import registrations as _registrations  # noqa: F401  (the service catalog)
from crmkit.rules.reminders import services as _services
from crmkit.rules.reminders.model import *  # noqa: F403
from crmkit.rules.reminders.services import *  # noqa: F403

__all__: list[str] = []
__all__ += _model.__all__
__all__ += _services.__all__
