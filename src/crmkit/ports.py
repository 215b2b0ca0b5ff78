"""Ports: the protocols the domain and services need, implemented by adapters.

``Repository[T]`` loads and stores one kind of aggregate inside a unit of work;
``UnitOfWork`` is one transaction bound to one tenant, with an ``outbox`` that
takes the domain events of that transaction; ``Notifier`` delivers messages;
``Clock`` lives in :mod:`crmkit.kernel.clock`. Adapters: ``crmkit.adapters.memory``
and ``crmkit.adapters.sql``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar
from uuid import UUID

import attrs

from crmkit.kernel.clock import Clock
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.ids import TenantId
from crmkit.kernel.query import Expr, Query

__all__ = [
    "READ_ONLY_WRITE",
    "Clock",
    "Directory",
    "Entity",
    "Message",
    "Notifier",
    "Outbox",
    "Repository",
    "Storage",
    "UnitOfWork",
    "entity_name",
    "queries",
    "register_queries",
]


def entity_name(entity_type: type[Any]) -> str:
    """The name errors and labels use for an aggregate type.

    An aggregate may declare ``entity_name`` (marked with ``N_`` so it is translated);
    otherwise its class name in lower case (``Customer`` -> ``customer``).
    """
    return str(getattr(entity_type, "entity_name", entity_type.__name__.lower()))


class Entity(Protocol):
    """What every stored aggregate has: identity, tenant and a version for optimistic locking."""

    @property
    def id(self) -> UUID: ...

    @property
    def tenant_id(self) -> TenantId: ...

    version: int


T = TypeVar("T", bound=Entity)
Q = TypeVar("Q")


class Repository(Protocol[T]):
    """Loads and stores one aggregate type for the unit of work's tenant.

    ``add`` inserts (version becomes 1); ``save`` writes a changed aggregate only if
    nobody saved it since it was read, else raises ``ConcurrencyConflict``;
    ``delete`` removes it under the same check. Reads never cross tenants.
    """

    def get(self, id: UUID) -> T: ...

    def find(self, id: UUID) -> T | None: ...

    def get_many(self, ids: Iterable[UUID]) -> list[T]: ...

    def add(self, entity: T) -> T: ...

    def add_many(self, entities: Sequence[T]) -> None: ...

    def add_if_absent(self, entity: T) -> bool:
        """Insert unless a row with this id exists; ``True`` if this call inserted it.

        With deterministic ids (``uuid5`` of a natural key) this makes a write
        idempotent even against a concurrent writer: the second one waits for the
        first to commit and then skips.
        """
        ...

    def save(self, entity: T) -> T: ...

    def save_many(self, entities: Sequence[T]) -> None:
        """``save`` for many aggregates in one go (one round trip where the store can).

        Raises:
            ConcurrencyConflict: one of them was saved by someone else since it was read
                (the unit of work must then be rolled back: none of them counts).
        """
        ...

    def delete(self, entity: T) -> None: ...

    def query(self, query: Query | None = None) -> list[T]: ...

    def count(self, where: Expr | None = None, *, limit: int | None = None) -> int:
        """How many records match ``where``; with ``limit``, counting stops there.

        A bounded count ("more than 1,000?") reads at most ``limit`` index entries, so
        it stays cheap however many records match.
        """
        ...

    def query_by_count(self, probe: Expr, limit: int, few: Query, many: Query) -> list[T]:
        """``few`` when fewer than ``limit`` records match ``probe``, else ``many``.

        What ``count(probe, limit=limit)`` and then the chosen query give (this default
        does just that); a store may answer both in one statement. A search uses it to
        sort a narrow route's few matches but walk a broad one's index in order.
        """
        return self.query(few if self.count(probe, limit=limit) < limit else many)


class Outbox(Protocol):
    """Domain events written in the same transaction as the change they describe."""

    def add(self, *events: DomainEvent | None) -> None:
        """Stage events; a ``None`` (a move that recorded no event) is skipped, so a
        service passes on whatever the move returned."""
        ...

    def pending(self, limit: int = 100) -> list[DomainEvent]: ...


class UnitOfWork(Protocol):
    """One transaction for one tenant: ``with uow: ...; uow.commit()``.

    Leaving the ``with`` block without ``commit()`` (or by an exception) rolls
    everything back, the outbox included.
    """

    @property
    def tenant_id(self) -> TenantId: ...

    @property
    def outbox(self) -> Outbox: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def repository(self, entity_type: type[T]) -> Repository[T]: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class Directory(Protocol):
    """Port: the org chart reminders and approvals route by.

    crmkit's own org model answers it (``crmkit.rules.permissions.OrgDirectory``); a
    host may answer from its HR system instead, and tests from
    ``crmkit.rules.directory.InMemoryDirectory``.
    """

    def manager_of(self, tenant_id: TenantId, user_id: UUID) -> UUID | None:
        """The user's direct manager, or None at the top of the chart."""
        ...

    def members_of_role(self, tenant_id: TenantId, role: str) -> list[UUID]:
        """Every user holding ``role``."""
        ...

    def department_of(self, tenant_id: TenantId, user_id: UUID) -> UUID | None:
        """The department the user belongs to, if any."""
        ...

    def department_head(self, tenant_id: TenantId, department_id: UUID) -> UUID | None:
        """The head of a department, if it has one."""
        ...


_QUERIES: dict[tuple[str, type[Any]], Callable[[Any], Any]] = {}


def register_queries(family: str, port: type[Any], factory: Callable[[Any], Any]) -> None:
    """Declare how a storage family answers a read-model port.

    Areas define query ports (``PipelineAnalytics``, ``AgingQuery``) as protocols
    (or base classes) and register a ``"memory"`` implementation; the SQL adapter
    registers an ``"sql"`` one that pushes the work into the database.

    Args:
        family: ``"memory"`` or ``"sql"``.
        port: the port's class.
        factory: builds the implementation from an open unit of work.
    """
    _QUERIES[(family, port)] = factory


def queries(uow: UnitOfWork, port: Any) -> Any:
    """The implementation of ``port`` for the storage behind ``uow``.

    Raises:
        LookupError: no implementation is registered for that storage family.
    """
    dialect = getattr(uow, "dialect", "memory")
    family = "memory" if dialect == "memory" else "sql"
    try:
        factory = _QUERIES[(family, port)]
    except KeyError:
        raise LookupError(f"no {family} implementation of {port.__name__}") from None
    return factory(uow)


#: The ``StorageError`` detail of a write through a read-only unit of work, on every store.
READ_ONLY_WRITE = "a read-only unit of work cannot write"


class Storage(Protocol):
    """A storage backend: opens units of work per tenant."""

    def unit_of_work(self, tenant_id: TenantId, *, read_only: bool = False) -> UnitOfWork:
        """Open a unit of work bound to ``tenant_id``.

        ``read_only`` promises the work only reads, so the store may skip what a write
        needs: SQLite's write lock (readers then never wait behind writers) and the
        BEGIN and COMMIT round trips. Each statement reads the latest committed data,
        as under READ COMMITTED; statements do not share one snapshot. Any write
        through it raises ``StorageError``.
        """
        ...


@attrs.frozen
class Message:
    """A rendered notification for one recipient, with the key receivers deduplicate on."""

    idempotency_key: str
    channel: str
    recipient: str
    subject: str
    body: str
    data: dict[str, Any] = attrs.field(factory=dict)


class Notifier(Protocol):
    """Delivers messages; raises to signal a failure the dispatcher will retry."""

    channel: str

    def send(self, message: Message) -> None: ...
