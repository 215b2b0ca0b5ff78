"""The ``outbox`` table: domain events written in the transaction that raised them."""

from __future__ import annotations

import sqlalchemy as sa

from crmkit.adapters.sql.mapping import UtcDateTime
from crmkit.adapters.sql.metadata import metadata

__all__ = ["outbox"]

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
