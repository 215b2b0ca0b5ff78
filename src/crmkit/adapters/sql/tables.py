"""Every table crmkit stores, in one ``MetaData``.

Aggregates are mapped with :func:`~crmkit.adapters.sql.mapping.map_entity`; area
issues add theirs here (or in a module imported from here) together with an
Alembic migration. ``tests/adapters/test_migrations.py`` fails when the two drift.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from crmkit.adapters.sql import mysql_ddl  # noqa: F401  (MySQL DDL for these tables)
from crmkit.adapters.sql.mapping import Mapping, UtcDateTime, map_entity
from crmkit.customers.model import Customer

__all__ = ["MAPPINGS", "mapping_for", "metadata", "outbox"]

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

MAPPINGS: dict[type[Any], Mapping] = {}


def register(mapping: Mapping) -> Mapping:
    """Add a mapping to the registry the SQL unit of work looks types up in."""
    MAPPINGS[mapping.entity] = mapping
    return mapping


def mapping_for(entity_type: type[Any]) -> Mapping:
    """The mapping of a stored aggregate type."""
    try:
        return MAPPINGS[entity_type]
    except KeyError:
        raise LookupError(f"{entity_type.__name__} is not mapped to a table") from None


register(
    map_entity(
        Customer,
        "customers",
        metadata,
        indexes=[
            ("owner_id",),
            ("name",),
            ("created_at",),
            ("last_activity_at",),
            # Search, duplicate and caller-ID keys (crmkit.customers.model.search_keys / .phones):
            # prefix and equality lookups answered by these B-trees.
            ("name_key",),
            # pinyin_initials rides along so a search walking names in pinyin order checks
            # the initials in the index, reading only the rows that match.
            ("pinyin_full", "pinyin_initials"),
            ("pinyin_initials",),
            ("short_full",),
            ("short_initials",),
            ("letter", "pinyin_full"),
            ("phone_key",),
            ("tax_id",),  # one company, one tax id: found by equality wherever typed
        ],
    )
)

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

# Area tables register themselves into ``metadata`` and ``MAPPINGS`` on import.
# (Each area module imports this one; keep these imports last.)
from crmkit.adapters.sql import tables_approvals as _tables_approvals  # noqa: E402, F401
from crmkit.adapters.sql import tables_billing as _tables_billing  # noqa: E402, F401
from crmkit.adapters.sql import tables_customers as _tables_customers  # noqa: E402, F401
from crmkit.adapters.sql import tables_permissions as _tables_permissions  # noqa: E402, F401
from crmkit.adapters.sql import tables_pipeline as _tables_pipeline  # noqa: E402, F401
from crmkit.adapters.sql import tables_pipeline_documents as _tables_documents  # noqa: E402, F401
from crmkit.adapters.sql import tables_reminders as _tables_reminders  # noqa: E402, F401
from crmkit.adapters.sql import tables_workflow as _tables_workflow  # noqa: E402, F401
