"""Where notifications declare themselves to the rest of crmkit.

The permission resource of messages, and what each public notification service
reads and writes, declared once for the service catalog. See :mod:`crmkit.rules.permissions.catalog`: the conformance suite probes every
service listed here on every backend, and a public ``(crm, actor, ...)`` function
of this package missing here fails the completeness test.
"""

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
