"""Scratch databases for benchmarks: a migrated SQLite file, a private PostgreSQL schema."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from crmkit.adapters.sql.engine import create_engine
from crmkit.adapters.sql.migrate import upgrade

PG_URL = os.environ.get("CRMKIT_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def sqlite_engine(name: str) -> sa.Engine:
    """A new SQLite file in a temporary folder, migrated to the newest schema."""
    folder = Path(tempfile.mkdtemp(prefix="crmkit-bench-"))
    engine = create_engine(f"sqlite:///{folder / f'{name}.db'}")
    upgrade(engine)
    return engine


def pg_engine(**options: Any) -> tuple[sa.Engine, Callable[[], None]]:
    """An engine on a new PostgreSQL schema, migrated; call the second value to drop it.

    Keyword arguments go to the engine (``pool_size=...``).
    """
    schema = f"crmkit_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"}, **options)
    upgrade(engine)

    def drop() -> None:
        engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()

    return engine, drop
