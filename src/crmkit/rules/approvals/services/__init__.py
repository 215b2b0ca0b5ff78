"""Approval use cases: each function is one transaction (batches: one per document).

- :mod:`.flows` — define and switch flows, find a document type's active flow;
- :mod:`.routing` — resolve a flow into the people a document goes to;
- :mod:`.submission` — submit and resubmit documents, from a host or inside an area;
- :mod:`.decisions` — approve, reject, send back, withdraw, delegate, co-sign, unapprove;
- :mod:`.urging` — the submitter's urges and the overdue scan (reminders, escalations);
- :mod:`.batches` — approve or unapprove many requests;
- :mod:`.settings` — the tenant's self-approval setting;
- :mod:`.approvable` — how areas make their documents approvable and keep them locked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmkit.rules.approvals.services import approvable as _approvable
from crmkit.rules.approvals.services import batches as _batches
from crmkit.rules.approvals.services import decisions as _decisions
from crmkit.rules.approvals.services import flows as _flows
from crmkit.rules.approvals.services import routing as _routing
from crmkit.rules.approvals.services import settings as _settings
from crmkit.rules.approvals.services import submission as _submission
from crmkit.rules.approvals.services import urging as _urging
from crmkit.rules.approvals.services.approvable import *  # noqa: F403
from crmkit.rules.approvals.services.batches import *  # noqa: F403
from crmkit.rules.approvals.services.decisions import *  # noqa: F403
from crmkit.rules.approvals.services.flows import *  # noqa: F403
from crmkit.rules.approvals.services.routing import *  # noqa: F403
from crmkit.rules.approvals.services.settings import *  # noqa: F403
from crmkit.rules.approvals.services.submission import *  # noqa: F403
from crmkit.rules.approvals.services.urging import *  # noqa: F403

# mypy reads the star imports above (it cannot follow an __all__ built from other
# modules' lists, and would then hide every name); the interpreter gets the list.
if not TYPE_CHECKING:
    __all__ = [
        *_approvable.__all__,
        *_batches.__all__,
        *_decisions.__all__,
        *_flows.__all__,
        *_routing.__all__,
        *_settings.__all__,
        *_submission.__all__,
        *_urging.__all__,
    ]
