"""The approval domain, one module per concept (each opens by explaining it).

- :mod:`.calendar` — business hours and working days, for stage deadlines;
- :mod:`.flows` — approval flows: stages, approver selectors, conditions on facts;
- :mod:`.events` — what a request puts in the outbox;
- :mod:`.lifecycle` — the request's statuses and their state machine;
- :mod:`.trail` — the resolved route, the audit trail and the votes;
- :mod:`.request` — the approval request, one per document, rebuilt from its trail;
- :mod:`.tasks` — the approval inbox a request keeps in step;
- :mod:`.settings` — a tenant's approval settings.

Each module's ``__all__`` is its public part; this package re-exports them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmkit.rules.approvals.model import calendar as _calendar
from crmkit.rules.approvals.model import events as _events
from crmkit.rules.approvals.model import flows as _flows
from crmkit.rules.approvals.model import lifecycle as _lifecycle
from crmkit.rules.approvals.model import request as _request
from crmkit.rules.approvals.model import settings as _settings
from crmkit.rules.approvals.model import tasks as _tasks
from crmkit.rules.approvals.model import trail as _trail
from crmkit.rules.approvals.model.calendar import *  # noqa: F403
from crmkit.rules.approvals.model.events import *  # noqa: F403
from crmkit.rules.approvals.model.flows import *  # noqa: F403
from crmkit.rules.approvals.model.lifecycle import *  # noqa: F403
from crmkit.rules.approvals.model.request import *  # noqa: F403
from crmkit.rules.approvals.model.settings import *  # noqa: F403
from crmkit.rules.approvals.model.tasks import *  # noqa: F403
from crmkit.rules.approvals.model.trail import *  # noqa: F403

# mypy reads the star imports above (it cannot follow an __all__ built from other
# modules' lists, and would then hide every name); the interpreter gets the list.
if not TYPE_CHECKING:
    __all__ = [
        *_calendar.__all__,
        *_events.__all__,
        *_flows.__all__,
        *_lifecycle.__all__,
        *_request.__all__,
        *_settings.__all__,
        *_tasks.__all__,
        *_trail.__all__,
    ]
