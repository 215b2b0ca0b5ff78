"""Alembic environment: runs crmkit's migrations on the connection it is handed."""

from __future__ import annotations

from alembic import context

from crmkit.adapters.sql.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("crmkit migrations run through crmkit.adapters.sql.migrate.upgrade()")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
