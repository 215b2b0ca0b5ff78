"""Where an event comes from: the tenant, the record it happened to, and the instant.

Every domain event carries the same three facts about its origin, all read off the
record it is about. :func:`origin` reads them once, for the event's constructor to
unpack beside its own facts::

    uow.outbox.add(OrderCreated(**origin(order, now), number=order.number, ...))

The result is a ``TypedDict``, so a type checker still checks every argument.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol, TypedDict

from crmkit.kernel.ids import TenantId

__all__ = ["EventOrigin", "Recorded", "origin"]


class Recorded(Protocol):
    """A record events can be about: it belongs to a tenant and has an id."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def tenant_id(self) -> TenantId: ...


class EventOrigin(TypedDict):
    """The fields of :class:`~crmkit.kernel.events.DomainEvent` that place an event."""

    tenant_id: TenantId
    aggregate_id: uuid.UUID
    occurred_at: datetime


def origin(record: Recorded, now: datetime) -> EventOrigin:
    """The origin of an event about ``record`` that happens ``now``."""
    return EventOrigin(tenant_id=record.tenant_id, aggregate_id=record.id, occurred_at=now)
