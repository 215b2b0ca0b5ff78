"""Engines for the two supported backends, configured the way crmkit needs them.

SQLite (the embedded default) gets WAL, foreign keys and a busy timeout on every
connection; PostgreSQL runs at READ COMMITTED unless the host chooses otherwise.
A host may pass its own ``Engine``; crmkit then only adds the SQLite pragmas.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

__all__ = ["create_engine", "load_json", "prepare_engine"]


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


def prepare_engine(engine: sa.Engine) -> sa.Engine:
    """Install crmkit's per-connection settings on an engine (idempotent)."""
    if engine.dialect.name == "sqlite" and not getattr(engine, "_crmkit_prepared", False):
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
    """Create an engine for ``sqlite:///path`` or ``postgresql+psycopg://...``.

    Keyword arguments go to :func:`sqlalchemy.create_engine`.
    """
    kwargs.setdefault("json_deserializer", load_json)
    # No pool pre-ping: a unit of work whose pooled connection died while idle opens
    # another on its first statement (see SqlUnitOfWork.execute), so checking out a
    # connection costs no round trip.
    return prepare_engine(sa.create_engine(url, **kwargs))
