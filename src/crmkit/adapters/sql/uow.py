"""The SQL unit of work (SQLAlchemy 2 Core).

One unit of work is one database transaction on one connection, bound to one
tenant: every statement it issues carries ``tenant_id``. Its repositories
(:mod:`.repository`) save optimistically, its outbox (:mod:`.outbox`) writes events
in the same transaction, and database failures reach the caller as crmkit errors
(:mod:`.errors`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from crmkit.adapters.sql.direct import Compiled, Kept, direct
from crmkit.adapters.sql.engine import MYSQL_DIALECTS
from crmkit.adapters.sql.errors import translate_errors
from crmkit.adapters.sql.outbox import SqlOutbox
from crmkit.adapters.sql.repository import SqlRepository
from crmkit.adapters.sql.tables import mapping_for
from crmkit.kernel.errors import ConnectionLost, StorageError
from crmkit.kernel.ids import TenantId
from crmkit.ports import READ_ONLY_WRITE, Entity

# SqlOutbox, SqlRepository and translate_errors keep their public home here too.
__all__ = ["SqlOutbox", "SqlRepository", "SqlStorage", "SqlUnitOfWork", "translate_errors"]

T = TypeVar("T", bound=Entity)
R = TypeVar("R")


class SqlStorage:
    """Storage on a SQLAlchemy engine (SQLite, PostgreSQL, MySQL or MariaDB)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        dialect = engine.dialect
        if dialect.name in MYSQL_DIALECTS and dialect.server_version_info is None:
            # Which server a mysql:// URL reaches (MySQL or MariaDB) is known once a
            # connection was made, and their SQL differs in collation names.
            with translate_errors(), engine.connect():
                pass
        mariadb = dialect.name in MYSQL_DIALECTS and getattr(dialect, "is_mariadb", False)
        self.dialect = "mariadb" if mariadb else dialect.name

    def unit_of_work(self, tenant_id: TenantId, *, read_only: bool = False) -> SqlUnitOfWork:
        """Open a unit of work bound to ``tenant_id`` (see ``Storage.unit_of_work``)."""
        return SqlUnitOfWork(self, tenant_id, read_only=read_only)


class SqlUnitOfWork:
    """One database transaction for one tenant."""

    def __init__(
        self, storage: SqlStorage, tenant_id: TenantId, *, read_only: bool = False
    ) -> None:
        self.storage = storage
        self.tenant_id = tenant_id
        self.read_only = read_only
        self.dialect = storage.dialect
        self.outbox = SqlOutbox(self)
        self._connection: sa.Connection | None = None
        self._repositories: dict[type[Any], SqlRepository[Any]] = {}
        self._sent = False

    def __enter__(self) -> Self:
        if self._connection is not None:
            raise StorageError(detail="unit of work is already open")
        self._open()
        return self

    def _open(self) -> None:
        # "Commit as you go": the transaction begins with the first statement (on SQLite
        # as BEGIN IMMEDIATE, see engine.py), so an idle or finished unit of work holds
        # no lock.
        with translate_errors():
            connection = self.storage.engine.connect()
            if self.read_only:
                # No BEGIN, no COMMIT: each statement reads the latest committed data
                # on its own, which is what READ COMMITTED gives inside a transaction
                # too, without the round trips (PostgreSQL) or the write lock (SQLite).
                connection = connection.execution_options(crmkit_read_only=True)
                # MySQL drivers switch autocommit with a round trip each way, more than
                # the ROLLBACK that ends a READ COMMITTED read; there the reads run in
                # a transaction that sees each statement's latest commits all the same.
                if self.dialect == "postgresql":
                    connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            self._connection = connection
        self._sent = False

    def _close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(sa_exc.DBAPIError):
                self._connection.close()
        self._connection = None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.rollback()
        finally:
            self._close()

    @property
    def connection(self) -> sa.Connection:
        """The open connection, for area queries that need SQL of their own."""
        if self._connection is None:
            raise StorageError(detail="unit of work is not open")
        return self._connection

    def execute(self, statement: sa.Executable, params: Any = None) -> sa.CursorResult[Any]:
        """Execute inside this transaction, translating database errors."""
        if self.read_only and isinstance(statement, sa.UpdateBase):
            raise StorageError(detail=READ_ONLY_WRITE)
        return self._send(lambda connection: connection.execute(statement, params))

    def rows(self, kept: Kept, params: dict[str, Any]) -> Sequence[Any]:
        """The rows of a kept ``SELECT`` run with ``params`` (see :mod:`.direct`)."""
        engine = self.storage.engine
        compiled = kept.compiled(engine.dialect) if direct(engine) else None
        if compiled is None:
            return self.execute(kept.statement, params).all()
        return self._send(lambda connection: self._run(connection, compiled, params))

    def _run(
        self, connection: sa.Connection, compiled: Compiled, params: dict[str, Any]
    ) -> Sequence[Any]:
        if not self.read_only and not connection.in_transaction():
            # Begin through SQLAlchemy (BEGIN IMMEDIATE on SQLite), so the unit of
            # work's commit reaches what this statement starts.
            connection.begin()
        dbapi_connection: Any = connection.connection.dbapi_connection
        cursor = compiled.cursor(dbapi_connection)
        dialect = connection.dialect
        try:
            cursor.execute(compiled.sql, compiled.parameters(params))
            return compiled.rows(cursor)
        except dialect.loaded_dbapi.Error as error:
            lost = dialect.is_disconnect(error, dbapi_connection, cursor)
            if lost:
                # As SQLAlchemy does on a disconnect: this connection is discarded and
                # so is every pooled one opened before it (a server restart closed them
                # all), here by giving the engine a new pool.
                connection.invalidate(error)
                connection.engine.dispose(close=False)
            raise sa_exc.DBAPIError.instance(
                compiled.sql,
                params,
                error,
                dialect.loaded_dbapi.Error,
                connection_invalidated=lost,
                dialect=dialect,
            ) from error
        finally:
            cursor.close()

    def _send(self, run: Callable[[sa.Connection], R]) -> R:
        if not self._sent:
            self._sent = True
            try:
                with translate_errors():
                    return run(self.connection)
            except ConnectionLost:
                # The pooled connection died while idle (a server restart, an idle
                # timeout). Nothing was sent through this unit of work yet, so it is
                # safe to open another and send the statement again: what a pool
                # pre-ping would do, without its round trip on every unit of work.
                self._close()
                self._open()
                self._sent = True
        with translate_errors():
            return run(self.connection)

    def repository(self, entity_type: type[T]) -> SqlRepository[T]:
        repo = self._repositories.get(entity_type)
        if repo is None:
            repo = self._repositories[entity_type] = SqlRepository(self, mapping_for(entity_type))
        return cast(SqlRepository[T], repo)

    def commit(self) -> None:
        with translate_errors():
            self.connection.commit()

    def rollback(self) -> None:
        if self._connection is not None and self._connection.in_transaction():
            with contextlib.suppress(sa_exc.DBAPIError):
                self._connection.rollback()
