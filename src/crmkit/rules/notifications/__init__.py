"""Notifications: outbox events routed by subscriptions and delivered at least once.

Build a :class:`Dispatcher` with a store and notifiers from
:mod:`crmkit.adapters.notify`, then call ``dispatch_pending(now)`` periodically.
"""

from crmkit.rules.notifications import model as _model
from crmkit.rules.notifications import registrations as _registrations  # noqa: F401  (the service catalog)
from crmkit.rules.notifications import services as _services
from crmkit.rules.notifications.model import *  # noqa: F403
from crmkit.rules.notifications.services import *  # noqa: F403

__all__: list[str] = []
__all__ += _model.__all__
__all__ += _services.__all__
