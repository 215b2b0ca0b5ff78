"""Where notifications declare themselves: the ``message`` resource and each public
notification service for :mod:`crmkit.rules.permissions.catalog`."""

from __future__ import annotations

from crmkit.rules.notifications.services import (
    MESSAGE,
    inbox,
    mark_all_read,
    mark_read,
    queue_bulk_send,
    unread_count,
)
from crmkit.rules.permissions import register_resource
from crmkit.rules.permissions.catalog import ServiceKind, register_service

AREA = "crmkit.rules.notifications"

register_resource(MESSAGE, fields=("owner_id", "channel"), operations=("view", "create"))

register_service(queue_bulk_send, ServiceKind.WRITE, "message", "create", package=AREA)
register_service(inbox, ServiceKind.LIST, "inbox_item", package=AREA, personal=True)
register_service(unread_count, ServiceKind.LIST, "inbox_item", package=AREA, personal=True)
register_service(
    mark_read, ServiceKind.WRITE, "inbox_item", records={"item_ids": "inbox_item"}, package=AREA
)
register_service(mark_all_read, ServiceKind.WRITE, "inbox_item", package=AREA, personal=True)
