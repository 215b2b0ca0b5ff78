"""Permissions: RBAC, data scope, field-level rules, the permission matrix and sharing.

One evaluator (:class:`Grants`, compiled per user by :func:`grants_for`) answers
``can`` for one record, ``scope`` as a filter expression for lists, searches,
counts, analytics and exports, and ``explain`` with its reasons. Services read
through a :class:`ScopedReader` (row scope, field redaction with derived fields, no
filter or sort on what the reader cannot see) and reports through
:func:`report_scope` and :func:`aggregate`.
"""

from crmkit.rules.permissions import model as _model
from crmkit.rules.permissions import queries as _queries
from crmkit.rules.permissions import registrations as _registrations  # noqa: F401  (the service catalog)
from crmkit.rules.permissions import services as _services
from crmkit.rules.permissions.directory import OrgDirectory
from crmkit.rules.permissions.model import *  # noqa: F403
from crmkit.rules.permissions.queries import *  # noqa: F403
from crmkit.rules.permissions.reader import ScopedReader, aggregate, report_scope
from crmkit.rules.permissions.services import *  # noqa: F403

__all__ = ["OrgDirectory", "ScopedReader", "aggregate", "report_scope"]
__all__ += _model.__all__
__all__ += _services.__all__
__all__ += _queries.__all__
