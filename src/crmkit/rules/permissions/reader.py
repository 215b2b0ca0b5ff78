"""The scoped reader: the one way services read records and aggregates for an actor.

A read path obeys three rules at once, and forgetting any of them leaks:

1. **Row scope** — only records the actor's grants reach for the operation
   (``view``, ``export``, ...) are read, narrowed in the query itself (SQL ``WHERE``
   or the memory predicate), so a page, a count and an aggregate agree.
2. **Field redaction** — fields hidden from the actor, and every field derived from
   one (``phone_key`` from ``phone``, declared on the entity with
   :func:`~crmkit.rules.permissions.model.derived_from`), are removed from what is
   returned.
3. **No oracle** — a filter, a sort key or a search route may not read a hidden field:
   the records it selects, or their order, would reveal the value. An explicit filter
   is refused (``PermissionDenied`` naming the field); a search route through a
   hidden field is skipped (:meth:`ScopedReader.routes`), so other routes still
   answer.

:class:`ScopedReader` bundles the three for one resource, so a service asks it for
records instead of calling ``grants.restrict`` and ``grants.redact`` by hand.
:func:`aggregate` applies the same rules to a report: it is computed over the rows in
scope only, and a measure derived from a field hidden from the reader is **omitted**
(its cells are ``None``; the row and its counts stay), so one report serves every role.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar
from uuid import UUID

from crmkit.kernel.errors import NotFound
from crmkit.kernel.query import TRUE, Expr, Query, and_, to_predicate
from crmkit.kernel.report import ReportTable
from crmkit.ports import Entity, Repository, UnitOfWork
from crmkit.rules.permissions.model import Grants

__all__ = ["ScopedReader", "aggregate", "report_scope"]

T = TypeVar("T", bound=Entity)
R = TypeVar("R")


class ScopedReader(Generic[T]):
    """Reads records of one resource as one actor may see them (see the module docs).

    Args:
        uow: the unit of work of the use case.
        grants: the actor's compiled grants.
        entity: the aggregate class read.
        resource: its permission resource.
        operation: the operation reading needs (``view``; ``export`` for exports).
        base: a filter every read meets besides the scope (``deleted_at`` is null: not in
            the recycle bin); it is the service's own condition, so it is not checked
            against field rules.
    """

    __slots__ = ("_repository", "base", "entity", "grants", "operation", "resource", "uow")

    def __init__(
        self,
        uow: UnitOfWork,
        grants: Grants,
        entity: type[T],
        resource: str,
        *,
        operation: str = "view",
        base: Expr = TRUE,
    ) -> None:
        self.uow = uow
        self.grants = grants
        self.entity = entity
        self.resource = resource
        self.operation = operation
        self.base = base
        self._repository: Repository[T] = uow.repository(entity)

    # -- the three rules ---------------------------------------------------------------
    def check(self, where: Expr, order_fields: Iterable[str] = ()) -> None:
        """Refuse a caller's filter or sort keys that read a hidden (or derived) field.

        Raises:
            PermissionDenied: naming the hidden field.
        """
        self.grants.check_readable(self.resource, where, order_fields)

    def scope(self, where: Expr = TRUE) -> Expr:
        """``where`` (checked) within the base condition and the actor's row scope."""
        self.check(where)
        return and_(self.grants.scope(self.operation, self.resource), self.base, where)

    def redact(self, record: R) -> R:
        """``record`` without the fields hidden from the actor (derived ones included)."""
        shown: R = self.grants.redact(record, self.resource)
        return shown

    def routes(self, routes: Iterable[R], where_of: Callable[[R], Expr]) -> list[R]:
        """The search routes that read only fields the actor may see.

        A route through a hidden field (digits of a hidden phone, through ``phone_key``)
        is left out rather than refused: the other routes (the name) still find the
        record, and nothing is found through what the actor cannot see.
        """
        return [r for r in routes if self.grants.can_filter(self.resource, where_of(r))]

    # -- reads ---------------------------------------------------------------------------
    def show(self, record: R) -> R:
        """A loaded record as the actor may see it.

        Raises:
            PermissionDenied: the record is outside the actor's scope for the operation.
        """
        self.grants.require(self.operation, record, self.resource)
        return self.redact(record)

    def get(self, record_id: UUID) -> T:
        """One record by id, checked and redacted.

        Raises:
            NotFound: no such record, or it fails the base condition.
            PermissionDenied: it is outside the actor's scope.
        """
        record = self._repository.get(record_id)
        if self.base is not TRUE and not to_predicate(self.base)(record):
            raise NotFound(entity=self.resource, id=record_id)
        return self.show(record)

    def query(self, query: Query | None = None) -> list[T]:
        """Records matching ``query`` in scope, redacted; filters and sorts are checked.

        Raises:
            PermissionDenied: the query filters or sorts on a field hidden from the actor.
        """
        query = query or Query()
        self.check(query.where, [o.field for o in query.order_by])
        scoped = Query(
            where=and_(self.grants.scope(self.operation, self.resource), self.base, query.where),
            order_by=query.order_by,
            limit=query.limit,
            offset=query.offset,
            selective=query.selective,
        )
        return [self.redact(r) for r in self._repository.query(scoped)]

    def count(self, where: Expr = TRUE) -> int:
        """How many records matching ``where`` are in scope.

        Raises:
            PermissionDenied: ``where`` filters on a hidden field.
        """
        return self._repository.count(self.scope(where))

    def visible_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """An export row without the columns hidden from the actor."""
        return self.grants.visible_row(row, self.resource)


def report_scope(
    grants: Grants, resource: str, scope: Expr = TRUE, operation: str = "view"
) -> Expr:
    """The rows a report over ``resource`` may aggregate: the caller's ``scope`` within
    the reader's own.

    Raises:
        PermissionDenied: ``scope`` filters on a field hidden from the reader (the totals
            of a filtered report would reveal it).
    """
    grants.check_readable(resource, scope)
    return and_(grants.scope(operation, resource), scope)


def aggregate(
    grants: Grants,
    resource: str,
    table: ReportTable,
    sources: Mapping[str, Sequence[str]],
    counts: Sequence[str] = (),
) -> ReportTable:
    """``table`` with every column computed from a field hidden from the reader omitted.

    The one rule every report follows (see the module docs): a measure over a hidden
    field is *omitted* — its cells become ``None`` while the rows, their other columns
    and their counts stay, so the same report serves every role and never refuses a
    screen. A grouping column over a hidden field is emptied the same way, and the rows
    it told apart are merged (their ``counts`` added up): rows per currency of a hidden
    amount, or per revenue tier, would otherwise still show how the hidden values fall.

    Args:
        grants: the reader's grants.
        resource: the resource whose fields the table aggregates.
        table: the table as computed (over :func:`report_scope` rows only).
        sources: for each column derived from record fields, the fields it reads
            (``{"amount": ("amount",), "weighted": ("amount", "probability")}``);
            columns not listed read no field.
        counts: the columns that count rows (``deals``): they add up when rows merge.
    """
    if not grants.hidden_fields(resource):
        return table
    hidden = {
        i
        for i, column in enumerate(table.columns)
        if any(grants.is_hidden(resource, f) for f in sources.get(column, ()))
    }
    if not hidden:
        return table
    additive = {i for i, column in enumerate(table.columns) if column in counts} - hidden
    merged: dict[tuple[Any, ...], list[Any]] = {}
    for row in table.rows:
        shown = [None if i in hidden else v for i, v in enumerate(row)]
        key = tuple(v for i, v in enumerate(shown) if i not in additive)
        if key in merged:
            into = merged[key]
            for i in additive:
                into[i] = (into[i] or 0) + (shown[i] or 0)
        else:
            merged[key] = shown
    return ReportTable(table.columns, tuple(tuple(row) for row in merged.values()))
