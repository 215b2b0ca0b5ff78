"""Scratch databases for benchmarks: a migrated SQLite file, a private PostgreSQL schema,
a private MySQL/MariaDB database.

Environment variables let a test run lend its own places (``make test`` smoke-runs
every benchmark, see ``tests/bench``): ``CRMKIT_BENCH_PG_SCHEMA`` names an existing,
migrated PostgreSQL schema to work in instead of creating (and dropping) one,
``CRMKIT_BENCH_MYSQL_DATABASE`` the same for a MySQL/MariaDB database, and
``CRMKIT_BENCH_SCRATCH`` a folder for the SQLite files instead of a new temporary one.
"""

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
MYSQL_URL = os.environ.get("CRMKIT_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")


def scratch_folder(prefix: str = "crmkit-bench-") -> Path:
    """A new folder for a benchmark's files (inside ``CRMKIT_BENCH_SCRATCH`` when set)."""
    parent = os.environ.get("CRMKIT_BENCH_SCRATCH")
    return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))


def sqlite_engine(name: str) -> sa.Engine:
    """A new SQLite file in a scratch folder, migrated to the newest schema."""
    engine = create_engine(f"sqlite:///{scratch_folder() / f'{name}.db'}")
    upgrade(engine)
    return engine


def pg_engine(**options: Any) -> tuple[sa.Engine, Callable[[], None]]:
    """An engine on a new PostgreSQL schema, migrated; call the second value to drop it.

    With ``CRMKIT_BENCH_PG_SCHEMA`` set, the engine works in that schema (the caller's,
    already migrated) and the second value only closes the engine's connections.
    Keyword arguments go to the engine (``pool_size=...``).
    """
    lent = os.environ.get("CRMKIT_BENCH_PG_SCHEMA")
    schema = lent or f"crmkit_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    if not lent:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"}, **options)
    upgrade(engine)

    def drop() -> None:
        engine.dispose()
        if not lent:  # a lent schema belongs to whoever lent it
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()

    return engine, drop


def mysql_engine(**options: Any) -> tuple[sa.Engine, Callable[[], None]]:
    """An engine on a new MySQL/MariaDB database, migrated; call the second value to drop it.

    With ``CRMKIT_BENCH_MYSQL_DATABASE`` set, the engine works in that database (the
    caller's, already migrated) and the second value only closes its connections.
    """
    lent = os.environ.get("CRMKIT_BENCH_MYSQL_DATABASE")
    database = lent or f"crmkit_bench_{uuid.uuid4().hex[:8]}"
    url = sa.engine.make_url(MYSQL_URL)
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    if not lent:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE `{database}`")
    engine = create_engine(
        url.set(database=database).render_as_string(hide_password=False), **options
    )
    upgrade(engine)

    def drop() -> None:
        engine.dispose()
        if not lent:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE `{database}`")
        admin.dispose()

    return engine, drop
