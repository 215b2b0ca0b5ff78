"""Schema management through the Alembic migrations shipped inside the package.

``upgrade(engine)`` brings a database to the newest schema; it is what
``crmkit db upgrade`` and ``crmkit.connect(..., migrate=True)`` run. Migrations
live in ``crmkit/adapters/sql/migrations/versions``; each area keeps its own branch
(``down_revision = "0001"`` plus a ``branch_labels`` entry), so areas add tables
without waiting on each other.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

__all__ = ["alembic_config", "current_revisions", "head_revisions", "upgrade"]

_HERE = Path(__file__).resolve().parent


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic config pointing at crmkit's migrations (and, if given, a connection)."""
    config = Config()
    config.set_main_option("script_location", str(_HERE / "migrations"))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: sa.Engine, revision: str = "heads") -> None:
    """Apply every migration up to ``revision`` (all area branches by default) in one transaction."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def current_revisions(engine: sa.Engine) -> tuple[str, ...]:
    """The revisions the database is at (empty for an empty database)."""
    with engine.connect() as connection:
        return tuple(MigrationContext.configure(connection).get_current_heads())


def head_revisions() -> tuple[str, ...]:
    """The newest revision of every area branch shipped with this crmkit."""
    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())
