"""In-memory storage: first-class, for unit tests, notebooks and examples.

It keeps the same promises as the SQL adapter: tenants never see each other's
rows, a unit of work is all-or-nothing (rollback really undoes, outbox included),
and a stale save raises ``ConcurrencyConflict``. Objects are copied in and out so a
caller mutating a loaded aggregate changes nothing until it saves and commits.
"""

from __future__ import annotations

import copy
import enum
import functools
import itertools
import threading
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from crmkit.adapters.base import TenantRepository
from crmkit.kernel.errors import ConcurrencyConflict, StorageError, TenantMismatch
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.hints import field_hints, stored_type
from crmkit.kernel.ids import TenantId
from crmkit.kernel.limits import check_storable
from crmkit.kernel.money import Money
from crmkit.kernel.query import Expr, Order, Query, check_fields, field_value, to_predicate
from crmkit.ports import READ_ONLY_WRITE, Entity, entity_name

__all__ = ["MemoryOutbox", "MemoryRepository", "MemoryStorage", "MemoryUnitOfWork"]

T = TypeVar("T", bound=Entity)
_Key = tuple[type[Any], TenantId, UUID]
_DELETED = object()


class MemoryStorage:
    """Process-local storage shared by every unit of work opened on it."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._rows: dict[_Key, Any] = {}
        self._outbox: list[tuple[TenantId, DomainEvent]] = []
        self.dialect = "memory"

    def unit_of_work(self, tenant_id: TenantId, *, read_only: bool = False) -> MemoryUnitOfWork:
        """Open a unit of work bound to ``tenant_id`` (see ``Storage.unit_of_work``)."""
        return MemoryUnitOfWork(self, tenant_id, read_only=read_only)

    def rows_of(self, entity_type: type[T], tenant_id: TenantId) -> list[T]:
        with self._lock:
            return [
                v for (t, ten, _), v in self._rows.items() if t is entity_type and ten == tenant_id
            ]

    def outbox_of(self, tenant_id: TenantId) -> list[DomainEvent]:
        """Committed events of one tenant, oldest first."""
        with self._lock:
            return [event for ten, event in self._outbox if ten == tenant_id]

    def committed_events(self) -> list[tuple[TenantId, DomainEvent]]:
        """Every committed outbox event of every tenant, oldest first (for the dispatcher)."""
        with self._lock:
            return list(self._outbox)

    def _commit(
        self, staged: dict[_Key, tuple[int, Any]], events: list[DomainEvent], tenant_id: TenantId
    ) -> None:
        with self._lock:
            for key, (read_version, _) in staged.items():
                current = self._rows.get(key)
                current_version = 0 if current is None else current.version
                if current_version != read_version:
                    raise ConcurrencyConflict(
                        entity=entity_name(key[0]), id=key[2], version=read_version
                    )
            for key, (_, value) in staged.items():
                if value is _DELETED:
                    self._rows.pop(key, None)
                else:
                    self._rows[key] = value
            self._outbox.extend((tenant_id, event) for event in events)


class MemoryOutbox:
    """Events staged by one unit of work; stored only when it commits."""

    def __init__(self, storage: MemoryStorage, tenant_id: TenantId, *, read_only: bool) -> None:
        self._storage = storage
        self._tenant_id = tenant_id
        self._read_only = read_only
        self.staged: list[DomainEvent] = []

    def add(self, *events: DomainEvent | None) -> None:
        staged = [event for event in events if event is not None]
        if not staged:
            return
        if self._read_only:
            raise StorageError(detail=READ_ONLY_WRITE)
        for event in staged:
            if event.tenant_id != self._tenant_id:
                raise TenantMismatch(
                    actor=self._tenant_id, operation="publish", resource=event.event_type
                )
        self.staged.extend(staged)

    def pending(self, limit: int = 100) -> list[DomainEvent]:
        return self._storage.outbox_of(self._tenant_id)[:limit]


class MemoryUnitOfWork:
    """One all-or-nothing transaction over a :class:`MemoryStorage` for one tenant."""

    def __init__(
        self, storage: MemoryStorage, tenant_id: TenantId, *, read_only: bool = False
    ) -> None:
        self.storage = storage
        self.tenant_id = tenant_id
        self.read_only = read_only
        self.dialect = "memory"
        self.outbox = MemoryOutbox(storage, tenant_id, read_only=read_only)
        # key -> (version the change was based on, new value or _DELETED)
        self._staged: dict[_Key, tuple[int, Any]] = {}
        self._repositories: dict[type[Any], MemoryRepository[Any]] = {}
        self._active = False

    def __enter__(self) -> Self:
        if self._active:
            raise StorageError(detail="unit of work is already open")
        self._active = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()
        self._active = False

    def repository(self, entity_type: type[T]) -> MemoryRepository[T]:
        repo = self._repositories.get(entity_type)
        if repo is None:
            repo = self._repositories[entity_type] = MemoryRepository(self, entity_type)
        return cast(MemoryRepository[T], repo)

    def commit(self) -> None:
        self.storage._commit(self._staged, self.outbox.staged, self.tenant_id)
        self._staged = {}
        self.outbox.staged = []

    def rollback(self) -> None:
        self._staged = {}
        self.outbox.staged = []

    # -- used by repositories -------------------------------------------------------------
    def _visible(self, key: _Key) -> Any:
        if key in self._staged:
            value = self._staged[key][1]
            return None if value is _DELETED else value
        with self.storage._lock:
            return self.storage._rows.get(key)

    def _stage(self, key: _Key, read_version: int, value: Any) -> None:
        if self.read_only:
            raise StorageError(detail=READ_ONLY_WRITE)
        base = self._staged[key][0] if key in self._staged else read_version
        self._staged[key] = (base, value)

    def _all_visible(self, entity_type: type[Any]) -> list[Any]:
        with self.storage._lock:
            merged = {
                key: value
                for key, value in self.storage._rows.items()
                if key[0] is entity_type and key[1] == self.tenant_id
            }
        for key, (_, value) in self._staged.items():
            if key[0] is entity_type and key[1] == self.tenant_id:
                merged[key] = value
        return [v for v in merged.values() if v is not _DELETED]


def _sort_key(order: Order) -> Callable[[Any], tuple[bool, Any]]:
    # Missing values sort last in both directions, as the SQL adapter orders them.
    def key(row: Any) -> tuple[bool, Any]:
        value = field_value(row, order.field)
        value = value.value if isinstance(value, enum.Enum) else value
        present = value is not None
        return (present if order.descending else not present, value if present else 0)

    return key


class MemoryRepository(TenantRepository[T]):
    """A repository of one entity type inside a :class:`MemoryUnitOfWork`."""

    def __init__(self, uow: MemoryUnitOfWork, entity_type: type[T]) -> None:
        super().__init__(uow.tenant_id, entity_type)
        self._uow = uow
        self._type = entity_type

    def _key(self, id: UUID) -> _Key:
        return (self._type, self._uow.tenant_id, id)

    def find(self, id: UUID) -> T | None:
        value = self._uow._visible(self._key(id))
        return None if value is None else copy.deepcopy(value)

    def get_many(self, ids: Iterable[UUID]) -> list[T]:
        found = (self.find(i) for i in ids)
        return [f for f in found if f is not None]

    def add(self, entity: T) -> T:
        self._check_tenant(entity, "add")
        check_storable(entity)
        key = self._key(entity.id)
        if self._uow._visible(key) is not None:
            raise ConcurrencyConflict(entity=self._name, id=entity.id, version=0)
        entity.version = 1
        self._uow._stage(key, 0, _stored(copy.deepcopy(entity)))
        return entity

    def add_many(self, entities: Sequence[T]) -> None:
        for entity in entities:  # every one checked before any is staged, as in SQL
            self._check_tenant(entity, "add")
            check_storable(entity)
        for entity in entities:
            self.add(entity)

    def add_if_absent(self, entity: T) -> bool:
        if self._uow._visible(self._key(entity.id)) is not None:
            return False
        self.add(entity)
        return True

    def save(self, entity: T) -> T:
        self._check_tenant(entity, "save")
        check_storable(entity)
        key = self._key(entity.id)
        current = self._uow._visible(key)
        if current is None or current.version != entity.version:
            raise ConcurrencyConflict(entity=self._name, id=entity.id, version=entity.version)
        entity.version += 1
        self._uow._stage(key, current.version, _stored(copy.deepcopy(entity)))
        return entity

    def save_many(self, entities: Sequence[T]) -> None:
        for entity in entities:
            self.save(entity)

    def delete(self, entity: T) -> None:
        self._check_tenant(entity, "delete")
        key = self._key(entity.id)
        current = self._uow._visible(key)
        if current is None or current.version != entity.version:
            raise ConcurrencyConflict(entity=self._name, id=entity.id, version=entity.version)
        self._uow._stage(key, current.version, _DELETED)

    def query(self, query: Query | None = None) -> list[T]:
        query = query or Query()
        check_fields(self._type, query)
        matches = to_predicate(query.where)
        rows = [row for row in self._uow._all_visible(self._type) if matches(row)]
        rows.sort(key=lambda r: r.id)  # the final tie-breaker, as in SQL
        for order in reversed(query.order_by):
            rows.sort(key=_sort_key(order), reverse=order.descending)
        end = None if query.limit is None else query.offset + query.limit
        return [copy.deepcopy(row) for row in rows[query.offset : end]]

    def count(self, where: Expr | None = None, *, limit: int | None = None) -> int:
        check_fields(self._type, where)
        rows = self._uow._all_visible(self._type)
        if where is None:
            return len(rows) if limit is None else min(len(rows), limit)
        matches = to_predicate(where)
        found = (row for row in rows if matches(row))
        return sum(1 for _ in itertools.islice(found, limit))


@functools.cache
def _money_fields(entity_type: type[Any]) -> tuple[str, ...]:
    """The fields of ``entity_type`` the SQL stores keep in amount columns.

    Those declared ``Money`` (or ``Money | None``): read as the SQL mapping reads them,
    so memory pads exactly the fields SQL does.
    """
    hints = field_hints(entity_type)
    return tuple(name for name, hint in hints.items() if stored_type(hint)[0] is Money)


def _stored(entity: T) -> T:
    """The copy kept, with each amount field as the SQL stores read it back.

    A ``Money`` field is an amount column there, and reads back padded to the currency's
    minor unit when that is exact (``"1"`` -> ``"1.00"``, ``"0.125"`` stays); memory
    keeps the same form, so a value reads back alike on every backend.
    """
    for name in _money_fields(type(entity)):
        money = getattr(entity, name)
        if money is not None:
            rounded = money.round()
            if rounded == money and rounded.amount.as_tuple() != money.amount.as_tuple():
                object.__setattr__(entity, name, rounded)
    return entity
