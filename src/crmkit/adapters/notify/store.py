"""The dispatcher's store (:class:`~crmkit.rules.notifications.NotificationStore`) for memory and SQL.

Both read the outbox the unit of work wrote and keep one row per delivery. The SQL
store claims with ``UPDATE ... WHERE (tenant_id, id) IN (SELECT ... FOR UPDATE SKIP
LOCKED)`` on PostgreSQL, so two dispatchers never claim the same row; SQLite runs one
writer at a time, which gives the same guarantee.
"""

from __future__ import annotations

import copy
import threading
import uuid
import weakref
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from crmkit.adapters.memory import MemoryStorage
from crmkit.adapters.sql.engine import MYSQL_DIALECTS
from crmkit.adapters.sql.errors import translate_errors
from crmkit.adapters.sql.rules.tables import DELIVERIES
from crmkit.adapters.sql.tables import outbox
from crmkit.adapters.sql.uow import SqlStorage
from crmkit.kernel.converter import structure
from crmkit.kernel.events import DomainEvent, event_class
from crmkit.kernel.ids import TenantId
from crmkit.ports import Storage
from crmkit.rules.notifications.model import Delivery, DeliveryState
from crmkit.rules.notifications.services import NotificationStore, Router

__all__ = ["MemoryNotificationStore", "SqlNotificationStore", "notification_store"]


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:1000]


class _MemoryState:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.routed: set[uuid.UUID] = set()
        self.route_after: dict[uuid.UUID, tuple[datetime, str]] = {}
        self.deliveries: dict[uuid.UUID, Delivery] = {}


_MEMORY_STATES: weakref.WeakKeyDictionary[MemoryStorage, _MemoryState] = weakref.WeakKeyDictionary()
_MEMORY_STATES_LOCK = threading.Lock()


class MemoryNotificationStore:
    """Deliveries of a :class:`MemoryStorage`, shared by every dispatcher on that storage."""

    def __init__(self, storage: MemoryStorage) -> None:
        self._storage = storage
        with _MEMORY_STATES_LOCK:
            state = _MEMORY_STATES.get(storage)
            if state is None:
                state = _MEMORY_STATES[storage] = _MemoryState()
        self._state = state

    def route(
        self,
        now: datetime,
        limit: int,
        router: Router,
        retry_at: datetime,
        tenant_id: TenantId | None = None,
    ) -> int:
        """Route up to ``limit`` unrouted events (see the port)."""
        state = self._state
        routed = 0
        with state.lock:
            for tenant, event in self._storage.committed_events():
                if routed >= limit:
                    break
                if event.event_id in state.routed or tenant_id not in (None, tenant):
                    continue
                waiting = state.route_after.get(event.event_id)
                if waiting is not None and waiting[0] > now:
                    continue
                try:
                    deliveries = router(event)
                except Exception as error:  # a routing bug must not lose the event
                    state.route_after[event.event_id] = (retry_at, _error_text(error))
                    continue
                for delivery in deliveries:
                    state.deliveries.setdefault(delivery.id, copy.deepcopy(delivery))
                state.routed.add(event.event_id)
                state.route_after.pop(event.event_id, None)
                routed += 1
        return routed

    def claim(
        self, now: datetime, until: datetime, limit: int, tenant_id: TenantId | None = None
    ) -> list[Delivery]:
        """Lease due pending deliveries (see the port)."""
        with self._state.lock:
            due = sorted(
                (
                    d
                    for d in self._state.deliveries.values()
                    if d.state is DeliveryState.PENDING
                    and tenant_id in (None, d.tenant_id)
                    and d.next_attempt_at <= now
                    and (d.claimed_until is None or d.claimed_until <= now)
                ),
                key=lambda d: (d.next_attempt_at, d.id),
            )[:limit]
            for delivery in due:
                delivery.claimed_until = until
                delivery.attempts += 1
                delivery.version += 1
            return [copy.deepcopy(d) for d in due]

    def acknowledge(self, delivery: Delivery, now: datetime) -> None:
        """Record the send."""
        with self._state.lock:
            stored = self._state.deliveries[delivery.id]
            stored.state = DeliveryState.DELIVERED
            stored.delivered_at = now
            stored.claimed_until = None
            stored.last_error = None
            stored.version += 1

    def fail(self, delivery: Delivery, error: str, retry_at: datetime | None) -> None:
        """Record a failed attempt."""
        with self._state.lock:
            stored = self._state.deliveries[delivery.id]
            stored.last_error = error
            stored.claimed_until = None
            if retry_at is None:
                stored.state = DeliveryState.DEAD
            else:
                stored.next_attempt_at = retry_at
            stored.version += 1

    def deliveries(
        self, tenant_id: TenantId, state: DeliveryState | None = None, limit: int = 100
    ) -> list[Delivery]:
        """A tenant's deliveries, oldest first."""
        with self._state.lock:
            found = sorted(
                (
                    d
                    for d in self._state.deliveries.values()
                    if d.tenant_id == tenant_id and (state is None or d.state is state)
                ),
                key=lambda d: (d.created_at, d.id),
            )
            return [copy.deepcopy(d) for d in found[:limit]]

    def replay(self, tenant_id: TenantId, ids: Iterable[uuid.UUID] | None, now: datetime) -> int:
        """Make dead letters pending again."""
        wanted = None if ids is None else set(ids)
        count = 0
        with self._state.lock:
            for delivery in self._state.deliveries.values():
                if (
                    delivery.tenant_id == tenant_id
                    and delivery.state is DeliveryState.DEAD
                    and (wanted is None or delivery.id in wanted)
                ):
                    _revive(delivery, now)
                    delivery.version += 1
                    count += 1
        return count


def _revive(delivery: Delivery, now: datetime) -> None:
    delivery.state = DeliveryState.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.claimed_until = None


class SqlNotificationStore:
    """Deliveries in the ``notification_deliveries`` table of a SQL storage."""

    def __init__(self, storage: SqlStorage) -> None:
        self._engine = storage.engine
        self._dialect = storage.dialect
        self._mysql = storage.dialect in MYSQL_DIALECTS
        self._table = DELIVERIES.table
        self._mapping = DELIVERIES

    def _insert(self) -> Any:
        if self._mysql:
            # A delivery already stored keeps its row: the update sets nothing new.
            return mysql_insert(self._table).on_duplicate_key_update(version=self._table.c.version)
        dialect_insert = postgresql_insert if self._dialect == "postgresql" else sqlite_insert
        return dialect_insert(self._table).on_conflict_do_nothing()

    def route(
        self,
        now: datetime,
        limit: int,
        router: Router,
        retry_at: datetime,
        tenant_id: TenantId | None = None,
    ) -> int:
        """Route up to ``limit`` unrouted events in one transaction (see the port)."""
        statement = (
            sa.select(outbox.c.tenant_id, outbox.c.id, outbox.c.event_type, outbox.c.payload)
            .where(
                outbox.c.dispatched_at.is_(None),
                sa.or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= now),
            )
            .order_by(outbox.c.id)
            .limit(limit)
        )
        if tenant_id is not None:
            statement = statement.where(outbox.c.tenant_id == tenant_id)
        if self._dialect == "postgresql" or self._mysql:
            statement = statement.with_for_update(skip_locked=True)
        with translate_errors(), self._engine.begin() as connection:
            rows = connection.execute(statement).all()
            routed: list[tuple[Any, Any]] = []
            stored: list[dict[str, Any]] = []
            for row in rows:
                try:
                    event: DomainEvent = structure(row.payload, event_class(row.event_type))
                    deliveries = router(event)
                except Exception as error:  # unknown event type, routing bug: keep the event
                    connection.execute(
                        outbox.update()
                        .where(outbox.c.tenant_id == row.tenant_id, outbox.c.id == row.id)
                        .values(
                            attempts=outbox.c.attempts + 1,
                            last_error=_error_text(error),
                            next_attempt_at=retry_at,
                        )
                    )
                    continue
                for delivery in deliveries:
                    delivery.version = 1
                    stored.append(self._mapping.to_row(delivery))
                routed.append((row.tenant_id, row.id))
            if stored:
                connection.execute(self._insert(), stored)
            if routed:
                connection.execute(
                    outbox.update()
                    .where(sa.tuple_(outbox.c.tenant_id, outbox.c.id).in_(routed))
                    .values(dispatched_at=now, last_error=None)
                )
        return len(routed)

    def claim(
        self, now: datetime, until: datetime, limit: int, tenant_id: TenantId | None = None
    ) -> list[Delivery]:
        """Lease due pending deliveries (see the port)."""
        t = self._table
        due = (
            sa.select(t.c.tenant_id, t.c.id)
            .where(
                t.c.state == DeliveryState.PENDING.value,
                t.c.next_attempt_at <= now,
                sa.or_(t.c.claimed_until.is_(None), t.c.claimed_until <= now),
            )
            .order_by(t.c.next_attempt_at, t.c.id)
            .limit(limit)
        )
        if tenant_id is not None:
            due = due.where(t.c.tenant_id == tenant_id)
        if self._dialect == "postgresql" or self._mysql:
            due = due.with_for_update(skip_locked=True)
        if self._mysql:
            return self._claim_mysql(due, until)
        statement = (
            t.update()
            .where(sa.tuple_(t.c.tenant_id, t.c.id).in_(due))
            .values(claimed_until=until, attempts=t.c.attempts + 1, version=t.c.version + 1)
            .returning(*t.c)
        )
        with translate_errors(), self._engine.begin() as connection:
            rows = connection.execute(statement).all()
        claimed = [self._mapping.from_row(row) for row in rows]
        claimed.sort(key=lambda d: (d.next_attempt_at, d.id))
        return claimed

    def _claim_mysql(self, due: Any, until: datetime) -> list[Delivery]:
        # MySQL updates no table it reads in a subquery (1093) and has no UPDATE ...
        # RETURNING: lock the due rows (skipping those another worker holds), lease
        # them, and read them back inside the same transaction.
        t = self._table
        with translate_errors(), self._engine.begin() as connection:
            keys = [tuple(row) for row in connection.execute(due)]
            if not keys:
                return []
            chosen = sa.tuple_(t.c.tenant_id, t.c.id).in_(keys)
            connection.execute(
                t.update()
                .where(chosen)
                .values(claimed_until=until, attempts=t.c.attempts + 1, version=t.c.version + 1)
            )
            rows = connection.execute(sa.select(t).where(chosen)).all()
        claimed = [self._mapping.from_row(row) for row in rows]
        claimed.sort(key=lambda d: (d.next_attempt_at, d.id))
        return claimed

    def _update(self, delivery: Delivery, **values: Any) -> None:
        t = self._table
        with translate_errors(), self._engine.begin() as connection:
            connection.execute(
                t.update()
                .where(t.c.tenant_id == delivery.tenant_id, t.c.id == delivery.id)
                .values(version=t.c.version + 1, **values)
            )

    def acknowledge(self, delivery: Delivery, now: datetime) -> None:
        """Record the send."""
        self._update(
            delivery,
            state=DeliveryState.DELIVERED.value,
            delivered_at=now,
            claimed_until=None,
            last_error=None,
        )

    def fail(self, delivery: Delivery, error: str, retry_at: datetime | None) -> None:
        """Record a failed attempt."""
        if retry_at is None:
            self._update(
                delivery, state=DeliveryState.DEAD.value, last_error=error, claimed_until=None
            )
        else:
            self._update(delivery, next_attempt_at=retry_at, last_error=error, claimed_until=None)

    def deliveries(
        self, tenant_id: TenantId, state: DeliveryState | None = None, limit: int = 100
    ) -> list[Delivery]:
        """A tenant's deliveries, oldest first."""
        t = self._table
        statement = sa.select(t).where(t.c.tenant_id == tenant_id)
        if state is not None:
            statement = statement.where(t.c.state == state.value)
        statement = statement.order_by(t.c.created_at, t.c.id).limit(limit)
        with translate_errors(), self._engine.connect() as connection:
            return [self._mapping.from_row(row) for row in connection.execute(statement)]

    def replay(self, tenant_id: TenantId, ids: Iterable[uuid.UUID] | None, now: datetime) -> int:
        """Make dead letters pending again."""
        t = self._table
        statement = t.update().where(
            t.c.tenant_id == tenant_id, t.c.state == DeliveryState.DEAD.value
        )
        if ids is not None:
            wanted = list(ids)
            if not wanted:
                return 0
            statement = statement.where(t.c.id.in_(wanted))
        statement = statement.values(
            state=DeliveryState.PENDING.value,
            attempts=0,
            next_attempt_at=now,
            claimed_until=None,
            version=t.c.version + 1,
        )
        with translate_errors(), self._engine.begin() as connection:
            return int(connection.execute(statement).rowcount)


def notification_store(storage: Storage) -> NotificationStore:
    """The notification store for ``storage`` (a ``crm.storage``).

    Raises:
        TypeError: the storage is neither the memory nor the SQL adapter.
    """
    if isinstance(storage, MemoryStorage):
        return MemoryNotificationStore(storage)
    if isinstance(storage, SqlStorage):
        return SqlNotificationStore(storage)
    raise TypeError(f"no notification store for {type(storage).__name__}")
