"""The outbox: domain events written in the transaction that raised them.

The ``outbox`` table, and :class:`SqlOutbox`, the unit of work's writer into it;
the dispatcher reads the table (see :mod:`crmkit.adapters.notify.store`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from crmkit.adapters.sql.mapping import UtcDateTime
from crmkit.adapters.sql.metadata import metadata
from crmkit.kernel.converter import structure, to_instant, unstructure
from crmkit.kernel.errors import TenantMismatch
from crmkit.kernel.events import DomainEvent, event_class

if TYPE_CHECKING:  # only for annotations: the unit of work needs the full schema
    from crmkit.adapters.sql.uow import SqlUnitOfWork

__all__ = ["SqlOutbox", "outbox"]

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("tenant_id", sa.Uuid(), primary_key=True),
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("event_type", sa.String(100), nullable=False),
    sa.Column("aggregate_type", sa.String(64), nullable=False),
    sa.Column("aggregate_id", sa.Uuid(), nullable=False),
    sa.Column("occurred_at", UtcDateTime(), nullable=False),
    sa.Column("schema_version", sa.Integer(), nullable=False),
    sa.Column("payload", sa.JSON(), nullable=False),
    sa.Column("dispatched_at", UtcDateTime(), nullable=True),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
    sa.Index("ix_outbox_pending", "dispatched_at", "next_attempt_at"),
)


class SqlOutbox:
    """Writes domain events into the ``outbox`` table inside the current transaction."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def add(self, *events: DomainEvent | None) -> None:
        staged = [event for event in events if event is not None]
        if not staged:
            return
        rows = []
        for event in staged:
            if event.tenant_id != self._uow.tenant_id:
                raise TenantMismatch(
                    actor=self._uow.tenant_id, operation="publish", resource=event.event_type
                )
            rows.append(
                {
                    "tenant_id": event.tenant_id,
                    "id": event.event_id,
                    "event_type": event.event_type,
                    "aggregate_type": event.aggregate_type,
                    "aggregate_id": event.aggregate_id,
                    "occurred_at": to_instant(event.occurred_at),
                    "schema_version": event.schema_version,
                    "payload": unstructure(event),
                    "attempts": 0,
                }
            )
        self._uow.execute(outbox.insert(), rows)

    def pending(self, limit: int = 100) -> list[DomainEvent]:
        rows = self._uow.execute(
            sa.select(outbox.c.event_type, outbox.c.payload)
            .where(outbox.c.tenant_id == self._uow.tenant_id, outbox.c.dispatched_at.is_(None))
            .order_by(outbox.c.id)
            .limit(limit)
        )
        return [_load_event(row.event_type, row.payload) for row in rows]


def _load_event(event_type: str, payload: dict[str, Any]) -> DomainEvent:
    return structure(payload, event_class(event_type))
