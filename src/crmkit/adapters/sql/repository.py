"""The SQL repository: one aggregate type in its table, scoped to the tenant.

Saves are optimistic: ``UPDATE ... WHERE tenant_id = :t AND id = :id AND version =
:v``; no row updated means someone else saved first, and ``ConcurrencyConflict`` is
raised. Reads keep their statements per filter shape and run them straight on the
driver (see :mod:`.direct` and :mod:`.compile`).
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from crmkit.adapters.base import TenantRepository
from crmkit.adapters.sql.compile import (
    Binder,
    ShapeMemo,
    compile_expr,
    order_terms,
    parameterize,
)
from crmkit.adapters.sql.direct import Kept
from crmkit.adapters.sql.engine import MYSQL_DIALECTS
from crmkit.adapters.sql.errors import mysql_errno, translate_errors
from crmkit.adapters.sql.mapping import Mapping, sorts_by_code_point
from crmkit.kernel.errors import ConcurrencyConflict, StorageError
from crmkit.kernel.limits import check_storable
from crmkit.kernel.query import TRUE, And, Cond, Expr, F, Or, Query, check_fields
from crmkit.ports import READ_ONLY_WRITE, Entity

if TYPE_CHECKING:  # only for annotations: the unit of work builds repositories
    from crmkit.adapters.sql.uow import SqlUnitOfWork

__all__ = ["SqlRepository"]

T = TypeVar("T", bound=Entity)

_COPY_THRESHOLD = 1000
_IN_CHUNK = 500
# Statements built for a filter shape, kept for the next filter of that shape (see
# SqlRepository._fetch); shared by every engine, keyed by table and dialect name (each
# compiled once per dialect object, see direct.Kept).
_STATEMENTS: dict[Hashable, Kept] = {}
_STATEMENTS_KEPT = 2048
# The parts of filters already parameterized, per table and dialect (see
# compile.ShapeMemo): a search's routes are kept per text and sent again and again.
_SHAPES: dict[tuple[sa.Table, str], ShapeMemo] = {}
# A page ordered by a text column is read on MariaDB by walking that column's index
# first (see SqlRepository._walked). The walk gives up after examining _WALK_EXAMINED
# rows when its filter is known to be dense (query_by_count counted it), else after
# _WALK_SPREAD rows per record of the page: a filter sparser than that (a search
# within a narrow view) is left to the planner. Pages longer than _WALK_PAGE are
# never walked.
_WALK_EXAMINED = 10_000
_WALK_SPREAD = 20
_WALK_PAGE = 1_000


def _with_tenant(
    tenant: sa.ColumnElement[bool],
    expr: Expr,
    column: Any,
    dialect: str,
    binder: Binder | None,
    split: bool = True,
) -> sa.ColumnElement[bool]:
    """``expr`` compiled within the tenant; with ``split``, an OR at the top gets the
    tenant in each branch.

    ``tenant AND (a OR b)`` makes SQLite scan the tenant's rows; ``(tenant AND a) OR
    (tenant AND b)`` lets it read each branch from its own index range and unite them
    (a search reads several narrow ranges of the initials index this way). Not for an
    ordered page of a broad filter (a permission scope): united branches must all be
    read and sorted, where the plain form walks the sort key's index and stops at the
    page's end (a manager's first page of 100,000 customers: 33 ms split, 3 ms not).
    """
    if split and isinstance(expr, Or):
        return sa.or_(
            sa.false(),
            *(sa.and_(tenant, compile_expr(item, column, dialect, binder)) for item in expr.items),
        )
    return sa.and_(tenant, compile_expr(expr, column, dialect, binder))


def _splits(query: Query) -> bool:
    """Whether ``query``'s OR branches each get the tenant (see :func:`_with_tenant`):
    yes unless it is a page (always ordered, by ``id`` at least) of a filter not known to
    be selective."""
    return query.selective or query.limit is None


class SqlRepository(TenantRepository[T]):
    """Stores one aggregate type in its table, always scoped to the unit of work's tenant."""

    def __init__(self, uow: SqlUnitOfWork, mapping: Mapping) -> None:
        super().__init__(uow.tenant_id, mapping.entity)
        self._uow = uow
        self._mapping = mapping
        self._table = mapping.table

    @functools.cached_property
    def _tenant(self) -> sa.ColumnElement[bool]:
        # Built on first use: a read through a kept statement never needs it, and making
        # the expression is a noticeable part of a short unit of work.
        return self._table.c.tenant_id == self._uow.tenant_id

    @property
    def mapping(self) -> Mapping:
        """The table mapping (for area queries that build their own SQL)."""
        return self._mapping

    def where(self, expr: Expr) -> sa.ColumnElement[bool]:
        """The tenant filter and ``expr`` compiled for this table."""
        return _with_tenant(self._tenant, expr, self._mapping.column, self._uow.dialect, None)

    def find(self, id: UUID) -> T | None:
        rows = self._fetch(
            F("id").eq(id), "find", lambda where: sa.select(self._table).where(where)
        )
        return cast(T, self._mapping.from_row(rows[0])) if rows else None

    def get_many(self, ids: Iterable[UUID]) -> list[T]:
        wanted = list(ids)
        found: dict[UUID, T] = {}
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            rows = self._uow.execute(
                sa.select(self._table).where(self._tenant, self._table.c.id.in_(chunk))
            )
            for row in rows:
                entity = cast(T, self._mapping.from_row(row))
                found[entity.id] = entity
        return [found[i] for i in wanted if i in found]

    def add(self, entity: T) -> T:
        self.add_many([entity])
        return entity

    def add_many(self, entities: Sequence[T]) -> None:
        if not entities:
            return
        to_row = self._mapping.to_row
        for entity in entities:  # every one checked before any is touched
            self._check_tenant(entity, "add")
            check_storable(entity)
        rows = []
        for entity in entities:
            entity.version = 1
            rows.append(to_row(entity))
        try:
            if self._uow.dialect == "postgresql" and len(rows) >= _COPY_THRESHOLD:
                self._copy(rows)
            else:
                self._uow.execute(self._table.insert(), rows)
        except StorageError as error:
            for entity in entities:
                entity.version = 0
            if isinstance(error.__cause__, sa_exc.IntegrityError) and len(entities) == 1:
                raise ConcurrencyConflict(
                    entity=self._name, id=entities[0].id, version=0
                ) from error
            raise

    def add_if_absent(self, entity: T) -> bool:
        self._check_tenant(entity, "add")
        check_storable(entity)
        entity.version = 1
        row = self._mapping.to_row(entity)
        if self._uow.dialect in MYSQL_DIALECTS:
            return self._insert_if_absent(entity, row)
        dialect_insert = postgresql_insert if self._uow.dialect == "postgresql" else sqlite_insert
        statement = (
            dialect_insert(self._table)
            .values(row)
            .on_conflict_do_nothing()
            .returning(self._table.c.id)
        )
        inserted = self._uow.execute(statement).first() is not None
        if not inserted:
            entity.version = 0
        return inserted

    def _insert_if_absent(self, entity: T, row: dict[str, Any]) -> bool:
        """MySQL's "insert unless a key is taken": an INSERT inside a savepoint.

        ``INSERT IGNORE`` would also turn data errors into warnings, and ``ON DUPLICATE
        KEY UPDATE`` reports a taken key ambiguously under the client's found-rows
        flag; a duplicate key (1062) rolls back to the savepoint and nothing else.
        """
        if self._uow.read_only:
            raise StorageError(detail=READ_ONLY_WRITE)
        self._uow.execute(sa.select(sa.literal(1)))  # opens (or reopens) the transaction
        savepoint = self._uow.connection.begin_nested()
        try:
            self._uow.execute(self._table.insert().values(row))
        except StorageError as error:
            cause = error.__cause__
            with contextlib.suppress(sa_exc.DBAPIError):
                savepoint.rollback()
            if isinstance(cause, sa_exc.IntegrityError) and mysql_errno(cause) == 1062:
                entity.version = 0
                return False
            raise
        with translate_errors():
            savepoint.commit()
        return True

    def _copy(self, rows: list[dict[str, Any]]) -> None:
        """Bulk insert through PostgreSQL's COPY (several times faster than INSERTs)."""
        if self._uow.read_only:
            raise StorageError(detail=READ_ONLY_WRITE)
        columns = [c.name for c in self._table.columns]
        json_columns = {c.name for c in self._table.columns if isinstance(c.type, sa.JSON)}
        # COPY goes around execute(); a statement through it first checks the connection.
        self._uow.execute(sa.select(sa.literal(1)))
        connection = self._uow.connection
        if not connection.in_transaction():
            # COPY goes around SQLAlchemy, so begin explicitly: otherwise the unit of work
            # would not know a transaction is open and its commit would not reach it.
            connection.begin()
        raw: Any = connection.connection.dbapi_connection
        quoted = ", ".join(f'"{c}"' for c in columns)
        copy_sql = f'COPY "{self._table.name}" ({quoted}) FROM STDIN'
        with translate_errors(), raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(
                    [
                        json.dumps(row[c]) if c in json_columns and row[c] is not None else row[c]
                        for c in columns
                    ]
                )

    def save(self, entity: T) -> T:
        self._check_tenant(entity, "save")
        check_storable(entity)
        row = self._mapping.to_row(entity)
        row["version"] = entity.version + 1
        result = self._uow.execute(
            self._table.update()
            .where(
                self._tenant, self._table.c.id == entity.id, self._table.c.version == entity.version
            )
            .values(row)
        )
        if result.rowcount != 1:
            raise ConcurrencyConflict(entity=self._name, id=entity.id, version=entity.version)
        entity.version += 1
        return entity

    def save_many(self, entities: Sequence[T]) -> None:
        if not entities:
            return
        rows = []
        for entity in entities:
            self._check_tenant(entity, "save")
            check_storable(entity)
            row = self._mapping.to_row(entity)
            row["version"] = entity.version + 1
            row["_id"], row["_version"] = entity.id, entity.version
            rows.append(row)
        table = self._table
        # One executemany: the driver pipelines the updates instead of a round trip each.
        statement = table.update().where(
            self._tenant,
            table.c.id == sa.bindparam("_id"),
            table.c.version == sa.bindparam("_version"),
        )
        result = self._uow.execute(statement, rows)
        if result.rowcount != len(rows):
            stale = self._first_stale(entities)
            raise ConcurrencyConflict(entity=self._name, id=stale.id, version=stale.version)
        for entity in entities:
            entity.version += 1

    def _first_stale(self, entities: Sequence[T]) -> T:
        """The first entity whose row did not take the batch's write (the rare path)."""
        # The batch wrote version + 1 and every column of each row it matched; a row that
        # does not hold the batch's values now is one somebody else had changed.
        mine = {e.id: self._mapping.to_row(e) for e in entities}
        table = self._table
        found = self._uow.execute(
            sa.select(table).where(self._tenant, table.c.id.in_(list(mine)))
        ).mappings()
        current = {row["id"]: row for row in found}
        for entity in entities:
            stored = current.get(entity.id)
            expected = mine[entity.id]
            if (
                stored is None
                or any(stored[k] != v for k, v in expected.items() if k != "version")
                or stored["version"] != entity.version + 1
            ):
                return entity
        return entities[0]

    def delete(self, entity: T) -> None:
        self._check_tenant(entity, "delete")
        result = self._uow.execute(
            self._table.delete().where(
                self._tenant,
                self._table.c.id == entity.id,
                self._table.c.version == entity.version,
            )
        )
        if result.rowcount != 1:
            raise ConcurrencyConflict(entity=self._name, id=entity.id, version=entity.version)

    def _fetch(
        self,
        filters: Expr | tuple[Expr, ...],
        key: Hashable,
        build: Callable[..., Any],
        *,
        split: bool = True,
        extra: dict[str, Any] | None = None,
    ) -> Sequence[Any]:
        """The rows of the statement ``build`` makes around the tenant filter and ``filters``.

        ``build`` gets one clause per filter, each with the tenant filter. Building a
        statement costs more than running a short one (~0.2 ms of Python for a search's
        filter), so statements are kept per filter shape and run again with the next
        filters' values, straight on the driver (see :mod:`.direct`). ``extra`` holds
        the values of parameters ``build`` adds itself.
        """
        exprs = filters if isinstance(filters, tuple) else (filters,)
        column = self._mapping.column
        dialect = self._uow.dialect
        # One expression holding every filter, so one binder numbers their parameters
        # in the order the clauses are compiled below.
        memo = _SHAPES.get((self._table, dialect))
        if memo is None:
            memo = _SHAPES.setdefault((self._table, dialect), {})
        parameterized = parameterize(And(exprs), column, dialect, memo)
        if parameterized is None:
            tenant_clause = self._tenant
            clauses = [_with_tenant(tenant_clause, e, column, dialect, None, split) for e in exprs]
            return self._uow.execute(build(*clauses), extra).all()
        shape, params = parameterized
        cache_key = (self._table, dialect, key, shape)
        kept = _STATEMENTS.get(cache_key)
        if kept is None:
            tenant = self._table.c.tenant_id == sa.bindparam("tenant", type_=sa.Uuid())
            binder = Binder()
            clauses = [_with_tenant(tenant, e, column, dialect, binder, split) for e in exprs]
            kept = Kept(build(*clauses))
            if len(_STATEMENTS) >= _STATEMENTS_KEPT:
                _STATEMENTS.clear()  # rare: only this many shapes of filter exist in use
            _STATEMENTS[cache_key] = kept
        params["tenant"] = self._uow.tenant_id
        if extra:
            params.update(extra)
        return self._uow.rows(kept, params)

    def query(self, query: Query | None = None) -> list[T]:
        query = query or Query()
        check_fields(self._mapping.entity, query)
        return self._records(query, self._walk_index(query), dense=False)

    def _records(
        self, query: Query, walk: tuple[sa.Column[Any], sa.Index] | None, *, dense: bool
    ) -> list[T]:
        """``query``'s records, read by ``walk`` (see :meth:`_walk_index`) if given;
        ``dense`` says whether its filter is known to have many matches."""
        rows = self._walked(query, *walk, dense=dense) if walk is not None else self._page(query)
        from_row = self._mapping.from_row
        return [cast(T, from_row(row)) for row in rows]

    def _page(self, query: Query) -> Sequence[Any]:
        """``query``'s rows by one statement, as the planner likes."""
        key = ("query", query.order_by, query.limit, query.offset, query.selective)
        return self._fetch(
            query.where, key, lambda where: self._select(where, query), split=_splits(query)
        )

    def _walk_index(self, query: Query) -> tuple[sa.Column[Any], sa.Index] | None:
        """The column leading ``query``'s order and its index, when MariaDB should walk it.

        MariaDB indexes a ``TEXT`` column by a prefix of each value, and an index on a
        prefix never yields the column's order: for ``ORDER BY pinyin_full LIMIT 20`` it
        reads every match and sorts them, index hints or not. A search's broad route
        (``wh``, ``beijing``, ``北京``: tens of thousands of matches at a million
        customers) then costs a scan of the tenant. Only a first page (or one close to
        it), not known to be selective, of a filter holding a prefix of that very column
        (a search's walk or spelled-out route) is walked; a filter without one (a list by
        name within a narrow scope) is left to the planner.
        """
        if (
            self._uow.dialect != "mariadb"
            or query.limit is None
            or query.limit + query.offset > _WALK_PAGE
            or query.selective
            or not query.order_by
            or query.order_by[0].descending
        ):
            return None
        field = query.order_by[0].field
        items = query.where.items if isinstance(query.where, And) else (query.where,)
        if not any(
            isinstance(i, Cond) and i.field == field and i.op == "startswith" for i in items
        ):
            return None
        try:
            col = self._mapping.column(field)
        except KeyError:
            return None
        if not isinstance(col, sa.Column) or col.nullable:
            return None
        if not sorts_by_code_point(col.type, self._uow.dialect):
            return None
        tenant = self._table.c.tenant_id
        for index in sorted(self._table.indexes, key=lambda i: i.name or ""):
            columns = list(index.columns)
            if len(columns) >= 2 and columns[0] is tenant and columns[1] is col:
                return col, index
        return None

    def _walked(
        self, query: Query, col: sa.Column[Any], index: sa.Index, *, dense: bool
    ) -> Sequence[Any]:
        """``query``'s rows on MariaDB, its leading order column's index walked first.

        Two statements. The first reads the index in order (forced, no ``ORDER BY``, so
        MariaDB stops at the page's end) and returns the column's value of the first
        ``limit + offset`` matches; the second reads the page, sorted as ever, of the
        matches up to the greatest of those values: a short range of the same index.
        Whatever order the first one read in, every match beyond that value sorts after
        the ones it found, so the page is the one the plain statement gives. When the
        walk finds fewer matches (a narrow filter, or too few among the rows it may
        examine: ``_WALK_EXAMINED`` when the filter is known to be ``dense``, else
        ``_WALK_SPREAD`` per record wanted), the plain statement is sent instead.
        """
        wanted = (query.limit or 0) + query.offset
        examined = _WALK_EXAMINED if dense else _WALK_SPREAD * wanted
        split = _splits(query)
        name = index.name

        def walk(where: sa.ColumnElement[bool]) -> sa.Select[Any]:
            hint = f"FORCE INDEX ({name})"
            return (
                sa.select(col)
                .where(where)
                .with_hint(self._table, hint, dialect_name="mysql")
                .with_hint(self._table, hint, dialect_name="mariadb")
                .limit(wanted)
                .suffix_with(f"ROWS EXAMINED {examined}")
            )

        found = self._fetch(query.where, ("walk", col.name, wanted, examined), walk, split=split)
        if len(found) < wanted:
            return self._page(query)
        bound = sa.bindparam("walk_bound", type_=col.type)
        return self._fetch(
            query.where,
            ("walked", query.order_by, query.limit, query.offset, query.selective),
            lambda where: self._select(sa.and_(where, col <= bound), query),
            split=split,
            extra={"walk_bound": max(row[0] for row in found)},
        )

    def _select(self, where: sa.ColumnElement[bool], query: Query) -> sa.Select[Any]:
        statement = sa.select(self._table).where(where)
        column = self._mapping.column
        if query.selective and query.order_by and self._uow.dialect == "postgresql":
            # Sorting on COALESCE(key, key) sorts the same, but no index yields that
            # order, so the planner finds the few matches through the filter's index and
            # sorts them (see Query.selective) instead of walking the key's index.
            first = query.order_by[0].field

            def column(path: str) -> Any:
                col = self._mapping.column(path)
                return sa.func.coalesce(col, col) if path == first else col

        order: list[Any] = [
            term for o in query.order_by for term in order_terms(o, column, self._uow.dialect)
        ]
        if not any(o.field == "id" for o in query.order_by):
            order.append(self._table.c.id)  # a total order, so pages never overlap
        statement = statement.order_by(*order)
        if query.limit is not None:
            statement = statement.limit(query.limit)
        if query.offset:
            statement = statement.offset(query.offset)
        return statement

    def count(self, where: Expr | None = None, *, limit: int | None = None) -> int:
        check_fields(self._mapping.entity, where)

        def build(clause: sa.ColumnElement[bool]) -> sa.Select[Any]:
            if limit is None:
                return sa.select(sa.func.count()).select_from(self._table).where(clause)
            # Count the first ``limit`` matches only: the store stops reading there.
            matched = sa.select(sa.literal(1)).select_from(self._table).where(clause)
            return sa.select(sa.func.count()).select_from(matched.limit(limit).subquery())

        rows = self._fetch(TRUE if where is None else where, ("count", limit), build)
        return int(rows[0][0])

    def query_by_count(self, probe: Expr, limit: int, few: Query, many: Query) -> list[T]:
        if self._uow.dialect == "mariadb":
            if self.count(probe, limit=limit) < limit:
                return self.query(few)
            check_fields(self._mapping.entity, many)
            # ``many`` is walked (see _walked) only when its own filter, the view
            # included, has ``limit`` matches too: a search of a broad entry
            # within a narrow view is read as the planner likes (through the view's
            # index, say), not by examining thousands of rows in pinyin order.
            walk = self._walk_index(many)
            if walk is not None and self.count(many.where, limit=limit) < limit:
                walk = None
            return self._records(many, walk, dense=True)
        if self._uow.dialect != "postgresql":
            # SQLite answers the count in microseconds and has no round trip to save.
            return super().query_by_count(probe, limit, few, many)
        for checked in (probe, few, many):
            check_fields(self._mapping.entity, checked)
        key = ("query_by_count", limit, few.order_by, few.limit, few.offset, few.selective)

        def build(probed: sa.ColumnElement[bool], where: sa.ColumnElement[bool]) -> Any:
            # One statement: the bounded count, and beside it the page ``few`` gives,
            # read only when the count is under ``limit`` (the condition refers to the
            # count alone, so PostgreSQL checks it once, before reading anything).
            probe_rows = sa.select(sa.literal(1)).select_from(self._table).where(probed)
            counted = sa.select(sa.func.count().label("matched"))
            gate = counted.select_from(probe_rows.limit(limit).subquery()).subquery("gate")
            page = self._select(sa.and_(where, gate.c.matched < limit), few).lateral("page")
            return sa.select(gate.c.matched, page).select_from(gate.outerjoin(page, sa.true()))

        rows = self._fetch((probe, few.where), key, build, split=_splits(few))
        if rows[0][0] >= limit:
            return self.query(many)
        from_row = self._mapping.from_row
        # A count under the limit with no page gives one row of NULLs beside it.
        return [cast(T, from_row(row[1:])) for row in rows if row[2] is not None]
