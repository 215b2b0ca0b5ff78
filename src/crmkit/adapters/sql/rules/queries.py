"""The SQL read models and counters of the rules: approval inbox counts, numbering.

The numbering counter: one atomic upsert per call,
``INSERT ... ON CONFLICT (tenant_id, id) DO UPDATE SET value = value + :n RETURNING
value``. The statement locks the counter row until the transaction ends, so a
concurrent writer waits and then continues from the committed value (unique), and a
rollback undoes the increment with the document (gap-free). MySQL and MariaDB have
no ``RETURNING`` on an upsert: ``INSERT ... ON DUPLICATE KEY UPDATE`` takes the same
row lock, and the value is read back under it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from crmkit.adapters.sql.compile import compile_expr
from crmkit.adapters.sql.engine import MYSQL_DIALECTS
from crmkit.adapters.sql.rules.tables import APPROVAL_TASKS, NUMBER_COUNTERS
from crmkit.kernel.query import Expr
from crmkit.ports import UnitOfWork
from crmkit.rules.approvals.queries import InboxCounts
from crmkit.rules.numbering.model import counter_id
from crmkit.rules.numbering.services import SequenceCounter

if TYPE_CHECKING:  # only for annotations: the unit of work needs the full schema
    from crmkit.adapters.sql.uow import SqlUnitOfWork

__all__ = ["QUERIES", "SqlInboxCounts", "SqlSequenceCounter"]


class SqlInboxCounts:
    """:class:`~crmkit.rules.approvals.queries.InboxCounts` as one ``GROUP BY``."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def by_document_type(self, where: Expr) -> dict[str, int]:
        """Counts per document type."""
        table = APPROVAL_TASKS.table
        statement = (
            sa.select(table.c.document_type, sa.func.count().label("n"))
            .where(
                table.c.tenant_id == self._uow.tenant_id,
                compile_expr(where, APPROVAL_TASKS.column, self._uow.dialect),
            )
            .group_by(table.c.document_type)
        )
        return {row.document_type: int(row.n) for row in self._uow.execute(statement)}


class SqlSequenceCounter:
    """The numbering counter on SQLite, PostgreSQL and MySQL (see the module docstring)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def advance(self, doc_type: str, period: str, count: int) -> int:
        """Add ``count`` to the counter (created at 0) and return its new value."""
        table = NUMBER_COUNTERS.table
        uow = self._uow
        dialect = getattr(uow, "dialect", "sqlite")
        key = counter_id(uow.tenant_id, doc_type, period)
        row = {
            "tenant_id": uow.tenant_id,
            "id": key,
            "doc_type": doc_type,
            "period": period,
            "value": count,
            "version": 1,
        }
        if dialect in MYSQL_DIALECTS:
            mysql_upsert = (
                mysql_insert(table)
                .values(row)
                .on_duplicate_key_update(value=table.c.value + count, version=table.c.version + 1)
            )
            uow.execute(mysql_upsert)  # type: ignore[attr-defined]
            # This transaction holds the row's lock now: the read sees its own write.
            current = sa.select(table.c.value).where(
                table.c.tenant_id == uow.tenant_id, table.c.id == key
            )
            return int(uow.execute(current).scalar_one())  # type: ignore[attr-defined]
        dialect_insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        statement = dialect_insert(table).values(row)
        upsert = statement.on_conflict_do_update(
            index_elements=[table.c.tenant_id, table.c.id],
            set_={"value": table.c.value + count, "version": table.c.version + 1},
        ).returning(table.c.value)
        return int(uow.execute(upsert).scalar_one())  # type: ignore[attr-defined]


#: The ports these implement, for :mod:`crmkit.adapters.sql.tables` to register.
QUERIES: tuple[tuple[type[Any], Callable[[Any], Any]], ...] = (
    (InboxCounts, SqlInboxCounts),
    (SequenceCounter, SqlSequenceCounter),
)
