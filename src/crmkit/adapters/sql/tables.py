"""Every table crmkit stores: the full schema, assembled explicitly.

The ``MetaData`` lives in the leaf :mod:`crmkit.adapters.sql.metadata`; each area
defines its tables on it in ``crmkit.adapters.sql.<area>.tables`` and its SQL read
models in ``crmkit.adapters.sql.<area>.queries``. This module is the one place that
imports them all, so the migrations' environment, the unit of work and the tests get
the whole schema by importing it, and no area module imports another area's through
a side effect. An area adds a table in its own ``tables`` module, lists it in that
module's ``MAPPINGS``, and ships an Alembic migration;
``tests/adapters/test_migrations.py`` fails when the two drift.
"""

from __future__ import annotations

from typing import Any

from crmkit.adapters.sql import mysql_ddl  # noqa: F401  (MySQL DDL for these tables)
from crmkit.adapters.sql.billing import queries as billing_queries
from crmkit.adapters.sql.billing import tables as billing_tables
from crmkit.adapters.sql.customers import tables as customer_tables
from crmkit.adapters.sql.mapping import Mapping
from crmkit.adapters.sql.metadata import metadata
from crmkit.adapters.sql.outbox import outbox
from crmkit.adapters.sql.pipeline import queries as pipeline_queries
from crmkit.adapters.sql.pipeline import tables as pipeline_tables
from crmkit.adapters.sql.rules import queries as rule_queries
from crmkit.adapters.sql.rules import tables as rule_tables
from crmkit.ports import register_queries

__all__ = ["MAPPINGS", "mapping_for", "metadata", "outbox", "register"]

#: The mapping of each stored aggregate type, looked up by the SQL unit of work.
MAPPINGS: dict[type[Any], Mapping] = {
    mapping.entity: mapping
    for mapping in (
        *customer_tables.MAPPINGS,
        *billing_tables.MAPPINGS,
        *pipeline_tables.MAPPINGS,
        *rule_tables.MAPPINGS,
    )
}


def register(mapping: Mapping) -> Mapping:
    """Add a mapping of a type crmkit does not ship (a host's own aggregate, a test's).

    Its table may live on another ``MetaData``: the host creates it, crmkit's
    migrations do not.
    """
    MAPPINGS[mapping.entity] = mapping
    return mapping


def mapping_for(entity_type: type[Any]) -> Mapping:
    """The mapping of a stored aggregate type."""
    try:
        return MAPPINGS[entity_type]
    except KeyError:
        raise LookupError(f"{entity_type.__name__} is not mapped to a table") from None


# The read-model ports the SQL storage answers in the database (the memory storage's
# implementations are registered by the areas themselves).
for _port, _factory in (
    *billing_queries.QUERIES,
    *pipeline_queries.QUERIES,
    *rule_queries.QUERIES,
):
    register_queries("sql", _port, _factory)
