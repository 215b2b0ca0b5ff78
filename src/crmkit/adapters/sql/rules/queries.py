"""Tables of numbering rules and notifications (migration branch ``workflow``).

Also the SQL side of the numbering counter: one atomic upsert per call,
``INSERT ... ON CONFLICT (tenant_id, id) DO UPDATE SET value = value + :n RETURNING
value``. The statement locks the counter row until the transaction ends, so a
concurrent writer waits and then continues from the committed value (unique), and a
rollback undoes the increment with the document (gap-free). MySQL and MariaDB have
no ``RETURNING`` on an upsert: ``INSERT ... ON DUPLICATE KEY UPDATE`` takes the same
row lock, and the value is read back under it.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from crmkit.adapters.sql.engine import MYSQL_DIALECTS
from crmkit.adapters.sql.mapping import map_entity
from crmkit.adapters.sql.tables import metadata, register
from crmkit.ports import UnitOfWork, register_queries
from crmkit.rules.notifications.model import Delivery, InboxItem
from crmkit.rules.numbering.model import NumberCounter, NumberingRule, counter_id
from crmkit.rules.numbering.services import SequenceCounter

__all__ = ["DELIVERIES", "INBOX_ITEMS", "NUMBERING_RULES", "NUMBER_COUNTERS", "SqlSequenceCounter"]

NUMBERING_RULES = register(
    map_entity(NumberingRule, "numbering_rules", metadata, unique=[("doc_type",)])
)
NUMBER_COUNTERS = register(map_entity(NumberCounter, "number_counters", metadata))
DELIVERIES = register(
    map_entity(Delivery, "notification_deliveries", metadata, indexes=[("state", "created_at")])
)
# The dispatcher serves every tenant from one queue, so its "what is due" scan cannot
# lead with tenant_id (as the outbox's pending index does not).
sa.Index(
    "ix_notification_deliveries_due",
    DELIVERIES.table.c.state,
    DELIVERIES.table.c.next_attempt_at,
)
INBOX_ITEMS = register(
    map_entity(
        InboxItem,
        "inbox_items",
        metadata,
        indexes=[("recipient_id", "read_at"), ("recipient_id", "received_at")],
    )
)


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
        if dialect in MYSQL_DIALECTS:
            mysql_upsert = (
                mysql_insert(table)
                .values(
                    tenant_id=uow.tenant_id,
                    id=key,
                    doc_type=doc_type,
                    period=period,
                    value=count,
                    version=1,
                )
                .on_duplicate_key_update(value=table.c.value + count, version=table.c.version + 1)
            )
            uow.execute(mysql_upsert)  # type: ignore[attr-defined]
            # This transaction holds the row's lock now: the read sees its own write.
            current = sa.select(table.c.value).where(
                table.c.tenant_id == uow.tenant_id, table.c.id == key
            )
            return int(uow.execute(current).scalar_one())  # type: ignore[attr-defined]
        dialect_insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        statement = dialect_insert(table).values(
            tenant_id=uow.tenant_id,
            id=key,
            doc_type=doc_type,
            period=period,
            value=count,
            version=1,
        )
        upsert = statement.on_conflict_do_update(
            index_elements=[table.c.tenant_id, table.c.id],
            set_={"value": table.c.value + count, "version": table.c.version + 1},
        ).returning(table.c.value)
        return int(uow.execute(upsert).scalar_one())  # type: ignore[attr-defined]


register_queries("sql", SequenceCounter, SqlSequenceCounter)
