"""The in-app inbox notifier: stores each message as an :class:`InboxItem` for its user.

The item's id derives from the message's idempotency key and is inserted only if
absent, so a redelivered message (after a crash, a retry) never shows twice.
Read it with :func:`crmkit.rules.notifications.inbox`, ``unread_count``, ``mark_read``.
"""

from __future__ import annotations

import uuid

from crmkit.kernel.clock import Clock, SystemClock
from crmkit.kernel.ids import TenantId
from crmkit.ports import Message, Storage
from crmkit.rules.notifications.model import InboxItem, inbox_item_id

__all__ = ["InboxNotifier"]


class InboxNotifier:
    """Delivers messages into users' in-app inboxes.

    The recipient is the user id; the message's ``data["tenant_id"]`` names the tenant.

    Args:
        storage: the storage the inbox lives in (``crm.storage``).
        clock: stamps ``received_at``.
        channel: the channel name it serves.
    """

    def __init__(
        self, storage: Storage, clock: Clock | None = None, channel: str = "inbox"
    ) -> None:
        self.storage = storage
        self.clock = clock or SystemClock()
        self.channel = channel

    def send(self, message: Message) -> None:
        """Store ``message`` unless an item with its key exists.

        Raises:
            ValueError: the recipient is not a user id or the tenant is missing.
        """
        tenant_id = TenantId(uuid.UUID(str(message.data["tenant_id"])))
        item = InboxItem(
            id=inbox_item_id(message.idempotency_key),
            tenant_id=tenant_id,
            recipient_id=uuid.UUID(message.recipient),
            subject=message.subject,
            body=message.body,
            received_at=self.clock.now(),
            event_type=str(message.data.get("event_type", "")),
            data={k: v for k, v in message.data.items() if k != "event"},
        )
        with self.storage.unit_of_work(tenant_id) as uow:
            uow.repository(InboxItem).add_if_absent(item)
            uow.commit()
