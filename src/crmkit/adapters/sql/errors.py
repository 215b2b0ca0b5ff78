"""Database failures translated into crmkit's error tree.

Serialization failures and deadlocks become ``SerializationFailure`` (the caller
may retry the whole use case), a dead connection becomes ``ConnectionLost``, any
other database error ``StorageError``. MySQL and MariaDB report numbered errors
instead of SQLSTATEs: a deadlock (1213) and a lock-wait timeout (1205) are retried
like PostgreSQL's 40P01 and 40001, a killed or lost connection (1927, 2006, 2013,
...) is ``ConnectionLost``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import exc as sa_exc

from crmkit.kernel.errors import ConnectionLost, CrmError, SerializationFailure, StorageError

__all__ = ["mysql_errno", "translate_errors"]

_RETRYABLE_SQLSTATES = {"40001", "40P01"}
# By number, since a lock-wait timeout carries only the generic SQLSTATE HY000 and
# mysqlclient passes on no SQLSTATE at all: 1213 deadlock (InnoDB rolled the
# transaction back), 1205 lock-wait timeout (only the statement was rolled back: the
# unit of work rolls back the rest), 1020 a row changed since a snapshot read it
# (MariaDB's innodb_snapshot_isolation).
_RETRYABLE_MYSQL = {1020, 1205, 1213}
# Killed (1927 MariaDB, 1317 interrupted), server gone or shutting down, lost or
# refused connections, closed after inactivity (MySQL 8's 4031).
_LOST_MYSQL = {1053, 1317, 1927, 2002, 2003, 2006, 2013, 2055, 4031}


def _sqlstate(error: sa_exc.DBAPIError) -> str | None:
    orig = error.orig
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def mysql_errno(error: sa_exc.DBAPIError) -> int | None:
    """The server's error number of a MySQL driver error (PyMySQL, mysqlclient)."""
    args = getattr(error.orig, "args", ())
    return args[0] if args and type(args[0]) is int else None


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    """Re-raise database failures as crmkit errors (used around every statement)."""
    try:
        yield
    except CrmError:
        raise
    except sa_exc.DBAPIError as error:
        state = _sqlstate(error)
        errno = mysql_errno(error)
        detail = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        if (
            state in _RETRYABLE_SQLSTATES
            or errno in _RETRYABLE_MYSQL
            or "database is locked" in detail
        ):
            raise SerializationFailure(detail=detail) from error
        if (
            error.connection_invalidated
            or (state or "").startswith(("08", "57P"))
            or errno in _LOST_MYSQL
        ):
            raise ConnectionLost(detail=detail) from error
        if isinstance(error, sa_exc.OperationalError) and "closed" in detail.lower():
            raise ConnectionLost(detail=detail) from error
        raise StorageError(detail=detail) from error
