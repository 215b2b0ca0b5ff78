"""Notifications: outbox events routed by subscriptions and delivered at least once.

Build a :class:`Dispatcher` with a store and notifiers from
:mod:`crmkit.adapters.notify`, then call ``dispatch_pending(now)`` periodically.
"""

from crmkit.rules.notifications import registrations as _registrations  # noqa: F401  (the service catalog)
from crmkit.rules.notifications.model import (
    Delivery,
    DeliveryState,
    InboxItem,
    MessageQueued,
    RetryPolicy,
    Subscription,
    Template,
    delivery_id,
    inbox_item_id,
    render_template,
)
from crmkit.rules.notifications.services import (
    BulkRecipient,
    BulkSendResult,
    Dispatcher,
    DispatchReport,
    NotificationStore,
    inbox,
    mark_all_read,
    mark_read,
    queue_bulk_send,
    queue_message,
    to_message,
    unread_count,
)

__all__ = [
    "BulkRecipient",
    "BulkSendResult",
    "Delivery",
    "DeliveryState",
    "DispatchReport",
    "Dispatcher",
    "InboxItem",
    "MessageQueued",
    "NotificationStore",
    "RetryPolicy",
    "Subscription",
    "Template",
    "delivery_id",
    "inbox",
    "inbox_item_id",
    "mark_all_read",
    "mark_read",
    "queue_bulk_send",
    "queue_message",
    "render_template",
    "to_message",
    "unread_count",
]
