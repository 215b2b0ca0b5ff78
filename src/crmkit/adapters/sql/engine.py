"""Engines for the supported backends, configured the way crmkit needs them.

SQLite (the embedded default) gets WAL, foreign keys and a busy timeout on every
connection; PostgreSQL runs at READ COMMITTED unless the host chooses otherwise.
MySQL and MariaDB get utf8mb4, a UTC session time zone and a strict ``sql_mode`` on
every connection, and engines crmkit creates run at READ COMMITTED (see
:func:`create_engine`). A host may pass its own ``Engine``; crmkit then adds the
SQLite pragmas or the MySQL session settings, and leaves its isolation level alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

__all__ = ["MYSQL_DIALECTS", "MYSQL_SQL_MODE", "create_engine", "load_json", "prepare_engine"]

# SQLAlchemy names the dialect "mariadb" for a mariadb:// URL and "mysql" otherwise
# (a mysql:// URL on a MariaDB server included); crmkit treats both alike.
MYSQL_DIALECTS = frozenset({"mysql", "mariadb"})

# Strict for every table (a value that does not fit is an error, never truncated or
# zeroed), no zero dates, division by zero an error, and GROUP BY as strict as
# PostgreSQL's, so a query that works on one backend works on the others.
MYSQL_SQL_MODE = ",".join(
    (
        "STRICT_ALL_TABLES",
        "NO_ZERO_IN_DATE",
        "NO_ZERO_DATE",
        "ERROR_FOR_DIVISION_BY_ZERO",
        "NO_ENGINE_SUBSTITUTION",
        "ONLY_FULL_GROUP_BY",
    )
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    # pysqlite's own transaction handling defers BEGIN; take the write lock up front so a
    # unit of work never fails half-way on "database is locked" after reading. A
    # read-only unit of work begins nothing: each of its statements reads the latest
    # commit (WAL lets it while a writer works), as on PostgreSQL (see SqlUnitOfWork).
    if not conn.get_execution_options().get("crmkit_read_only", False):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _mysql_session(dbapi_connection: Any, _record: Any) -> None:
    # Instants are stored as UTC DATETIME(6) (see mapping.UtcDateTime); a UTC session
    # keeps NOW() and any server-side conversion in the same frame whatever the
    # server's own time zone is.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"SET time_zone = '+00:00', sql_mode = '{MYSQL_SQL_MODE}'")
    finally:
        cursor.close()


def prepare_engine(engine: sa.Engine) -> sa.Engine:
    """Install crmkit's per-connection settings on an engine (idempotent)."""
    if getattr(engine, "_crmkit_prepared", False):
        return engine
    if engine.dialect.name in MYSQL_DIALECTS:
        event.listen(engine, "connect", _mysql_session)
        engine._crmkit_prepared = True  # type: ignore[attr-defined]
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "connect")
        def _no_pysqlite_autobegin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        event.listen(engine, "begin", _sqlite_begin)
        engine._crmkit_prepared = True  # type: ignore[attr-defined]
    return engine


_EMPTY_JSON: dict[str | bytes, Callable[[], Any]] = {
    "[]": list,
    "{}": dict,
    b"[]": list,
    b"{}": dict,
}


def load_json(data: str | bytes) -> Any:
    """``json.loads`` with the common empty list and object answered directly.

    Most JSON values crmkit stores (tags, addresses, custom fields) are empty, and a
    page of rows reads several per row; the parser's fixed cost was most of reading
    them.
    """
    empty = _EMPTY_JSON.get(data)
    if empty is not None:
        return empty()
    return json.loads(data)


def create_engine(url: str, **kwargs: Any) -> sa.Engine:
    """Create an engine for ``sqlite:///path``, ``postgresql+psycopg://...`` or
    ``mysql+pymysql://...`` (MySQL 8 or MariaDB 10.11+).

    Keyword arguments go to :func:`sqlalchemy.create_engine`. On MySQL and MariaDB the
    engine runs at READ COMMITTED unless ``isolation_level`` says otherwise: each
    statement then sees the latest commits as on PostgreSQL (which the unit of work's
    optimistic checks and upserts are written for), and InnoDB takes no gap locks, so
    concurrent inserts into one tenant's index ranges do not deadlock each other.
    """
    kwargs.setdefault("json_deserializer", load_json)
    if sa.engine.make_url(url).get_backend_name() in MYSQL_DIALECTS:
        kwargs.setdefault("isolation_level", "READ COMMITTED")
        connect_args = kwargs.setdefault("connect_args", {})
        connect_args.setdefault("charset", "utf8mb4")
    # No pool pre-ping: a unit of work whose pooled connection died while idle opens
    # another on its first statement (see SqlUnitOfWork.execute), so checking out a
    # connection costs no round trip.
    return prepare_engine(sa.create_engine(url, **kwargs))
