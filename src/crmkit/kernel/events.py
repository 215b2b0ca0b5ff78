"""Domain events: facts the domain records, for the outbox to deliver.

An event is a frozen attrs value with its own id, the tenant, the aggregate it
happened to and the instant. Subclasses add their facts. Every subclass is
registered by its ``event_type`` name so a stored event can be read back
(``event_class("CustomerClaimed")``) by the outbox dispatcher.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

import attrs

from crmkit.kernel.ids import RandomIdGenerator, TenantId

__all__ = ["DomainEvent", "event_class", "registered_events"]

_REGISTRY: dict[str, type[DomainEvent]] = {}


# Monotonic within the process, so events of one instant keep the order they were made in
# (the outbox delivers in id order; under a fixed test clock every event shares an instant).
_EVENT_IDS = RandomIdGenerator()


def _event_id(self: Any) -> UUID:
    return _EVENT_IDS.new(self.occurred_at)


@attrs.frozen(kw_only=True)
class DomainEvent:
    """Base of every domain event.

    Attributes:
        tenant_id: the tenant the fact belongs to.
        aggregate_id: the record it happened to.
        occurred_at: when (UTC instant, passed in by the caller).
        event_id: unique, time-sortable; made from ``occurred_at`` unless given.
    """

    aggregate_type: ClassVar[str] = "unknown"
    event_type: ClassVar[str] = "DomainEvent"
    schema_version: ClassVar[int] = 1

    tenant_id: TenantId
    aggregate_id: UUID
    occurred_at: datetime
    event_id: UUID = attrs.field(default=attrs.Factory(_event_id, takes_self=True))

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("event_type") or cls.__name__
        cls.event_type = name
        existing = _REGISTRY.get(name)
        # attrs builds a slotted copy of each class, which arrives here again under the
        # same module and qualified name; any other class of that name would take over
        # reading the stored rows of the first.
        if existing is not None and _origin(existing) != _origin(cls):
            raise TypeError(
                f"event type {name!r} is declared twice ({_origin(existing)} and "
                f"{_origin(cls)}): give one of them its own event_type"
            )
        _REGISTRY[name] = cls


def _origin(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def event_class(event_type: str) -> type[DomainEvent]:
    """The registered event class named ``event_type``."""
    try:
        return _REGISTRY[event_type]
    except KeyError:
        raise LookupError(f"unknown event type {event_type!r}") from None


def registered_events() -> dict[str, type[DomainEvent]]:
    """Every event class declared so far, by name (for round-trip tests and docs)."""
    return dict(_REGISTRY)
