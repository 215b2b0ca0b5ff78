"""Schema management through the Alembic migrations shipped inside the package.

``upgrade(engine)`` brings a database to the newest schema; it is what
``crmkit db upgrade`` and ``crmkit.connect(..., migrate=True)`` run. Migrations
live in ``crmkit/adapters/sql/migrations/versions``.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

__all__ = ["alembic_config", "current_revision", "head_revision", "upgrade"]

_HERE = Path(__file__).resolve().parent


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic config pointing at crmkit's migrations (and, if given, a connection)."""
    config = Config()
    config.set_main_option("script_location", str(_HERE / "migrations"))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Apply every migration up to ``revision`` in one transaction."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision shipped with this crmkit."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
