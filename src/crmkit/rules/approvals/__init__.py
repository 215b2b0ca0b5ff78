"""Approval flows: declare who approves what, route documents through it, and keep the record.

Hosts use the services (``submit_for_approval``, ``approve_request``,
``batch_approve``, ``approval_inbox``, ``scan_overdue_approvals``, ...); areas
whose documents need approval use ``register_approvable``, ``ensure_not_in_review``
and ``ensure_editable``.
See ``docs/approvals.md``.
"""

from typing import TYPE_CHECKING

from crmkit.rules.approvals import errors as _errors
from crmkit.rules.approvals import model as _model
from crmkit.rules.approvals import queries as _queries
from crmkit.rules.approvals import registrations as _registrations  # noqa: F401  (the service catalog)
from crmkit.rules.approvals import services as _services
from crmkit.rules.approvals.errors import *  # noqa: F403
from crmkit.rules.approvals.model import *  # noqa: F403
from crmkit.rules.approvals.queries import *  # noqa: F403
from crmkit.rules.approvals.services import *  # noqa: F403
from crmkit.rules.directory import InMemoryDirectory as InMemoryDirectory

# mypy reads the star imports above (it cannot follow an __all__ built from the
# model's, which it does not see); the interpreter gets the list.
if not TYPE_CHECKING:
    __all__ = [
        *_errors.__all__,
        *_model.__all__,
        *_services.__all__,
        *_queries.__all__,
        "InMemoryDirectory",
    ]
