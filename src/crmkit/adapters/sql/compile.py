"""Compile :mod:`crmkit.kernel.query` filter expressions into SQLAlchemy clauses.

The compiled clause never evaluates to SQL ``NULL``: every comparison is guarded
with ``IS NOT NULL`` so ``NOT`` behaves exactly like the Python predicate the
memory adapter runs (a comparison against a missing value is false). String
matching is case-sensitive on both backends, like Python's ``str.startswith``.

Paths into JSON columns (``custom.budget.amount``) compile to JSON extraction —
``json_extract`` on SQLite, ``json_extract_path_text`` on PostgreSQL,
``JSON_UNQUOTE(JSON_EXTRACT(...))`` on MySQL and MariaDB — cast to the type of the
value compared with; see :class:`JsonPath`.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Callable, Hashable, Sequence
from decimal import Decimal
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from crmkit.adapters.sql.mapping import sorts_by_code_point
from crmkit.kernel.query import And, Cond, Const, Expr, Not, Or, Order

__all__ = ["Binder", "JsonPath", "compile_expr", "compile_order", "order_terms", "parameterize"]

ColumnFor = Callable[[str], sa.ColumnElement[Any]]
_MYSQL = frozenset({"mysql", "mariadb"})
# The code-point collations of mapping.code_point_collation, by dialect name: a
# mysql:// URL on a MariaDB server is named "mysql" too (see SqlStorage.dialect).
_MYSQL_COLLATION = {"mariadb": "utf8mb4_nopad_bin", "mysql": "utf8mb4_0900_bin"}


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _escape_glob(text: str) -> str:
    return "".join(f"[{ch}]" if ch in "*?[]" else ch for ch in text)


class Binder:
    """Makes the values of a filter named bind parameters (``v0``, ``v1``, ...).

    A statement compiled with a binder can be kept and executed again for another
    filter of the same shape, with that filter's parameters (see :func:`parameterize`).
    """

    def __init__(self) -> None:
        self.count = 0

    def __call__(
        self, value: Any, col: sa.ColumnElement[Any], *, expanding: bool = False
    ) -> sa.BindParameter[Any]:
        name = f"v{self.count}"
        self.count += 1
        return sa.bindparam(name, value, type_=col.type, expanding=expanding)


def _successor(prefix: str) -> str | None:
    """The first string after every string that starts with ``prefix``, by code point.

    ``None`` when ``prefix`` ends with the last code point (nothing sorts right after).
    """
    code = ord(prefix[-1]) + 1
    if 0xD800 <= code <= 0xDFFF:
        code = 0xE000  # surrogates are not characters: the next one is U+E000
    return None if code > 0x10FFFF else prefix[:-1] + chr(code)


def _params(op: str, raw: Any, dialect: str, *, ranges: bool = True) -> tuple[Any, ...]:
    """The values a condition on a plain column binds, in order; none for a fixed part.

    A prefix is bound as a range (``>= p AND < successor(p)``): text compares by code
    point on both backends (see ``text_type``), so the range holds exactly the strings
    starting with ``p``. PostgreSQL plans a range in about 0.12 ms against 0.3 ms for
    ``LIKE 'p%'`` and checks no pattern per row.
    """
    if op in ("is_null", "not_null"):
        return ()
    if op in ("in", "not_in"):
        values = [_plain(v) for v in raw]
        return (values,) if values else ()
    if raw is None:
        return ()  # compared with NULL: no parameter (and no match)
    value = _plain(raw)
    if op == "startswith":
        upper = _successor(value) if ranges and value else None
        if upper is not None:
            return (value, upper)
        return (_escape_glob(value) + "*",) if dialect == "sqlite" else (_escape_like(value) + "%",)
    return (value,)


def _cond(
    cond: Cond, column: ColumnFor, dialect: str, bind: Binder | None
) -> sa.ColumnElement[bool]:
    target = _resolve(cond.field, column, cond.op)
    if isinstance(target, JsonPath):
        return _json_cond(target, cond, dialect)
    return _scalar(target, cond.op, cond.value, dialect, bind)


def _scalar(
    col: sa.ColumnElement[Any],
    op: str,
    raw: Any,
    dialect: str,
    bind: Binder | None = None,
    *,
    ranges: bool = True,
) -> sa.ColumnElement[bool]:
    if op == "is_null":
        return col.is_(None)
    if op == "not_null":
        return col.is_not(None)
    present = col.is_not(None)
    ranges = ranges and sorts_by_code_point(col.type, dialect)
    params: list[Any] = list(_params(op, raw, dialect, ranges=ranges))
    if bind is not None:
        params = [bind(v, col, expanding=op in ("in", "not_in")) for v in params]
    if op in ("in", "not_in"):
        if not params:
            return sa.false() if op == "in" else present
        member = col.in_(params[0]) if op == "in" else col.not_in(params[0])
        return sa.and_(present, member)
    if op == "startswith":
        if len(params) == 2:
            return sa.and_(present, col >= params[0], col < params[1])
        if dialect == "sqlite":
            return sa.and_(present, col.op("GLOB")(params[0]))
        return sa.and_(present, col.like(params[0], escape="\\"))
    value = params[0] if params else None
    if op == "contains":
        return sa.and_(present, _position(col, value, dialect) > 0)
    compare = {
        "eq": col.__eq__,
        "ne": col.__ne__,
        "lt": col.__lt__,
        "le": col.__le__,
        "gt": col.__gt__,
        "ge": col.__ge__,
    }[op]
    return sa.and_(present, compare(value))


def _position(col: Any, value: Any, dialect: str) -> sa.ColumnElement[Any]:
    """Where ``value`` starts in ``col`` (1-based, 0 when absent), case-sensitively."""
    if dialect == "sqlite" or dialect in _MYSQL:
        # MySQL's INSTR follows the column's collation: binary for crmkit's text.
        return sa.func.instr(col, value)
    return sa.func.strpos(col, value)


# -- values inside JSON columns ---------------------------------------------------------------


@attrs.frozen
class JsonPath:
    """A value inside a JSON column: ``custom.budget.amount`` is ``custom`` at ``budget.amount``.

    A filter path whose head is a JSON column and that the mapping does not know as a
    column of its own resolves to one. The value's SQL type is taken from the Python
    type of the value compared with (text, number or date), so a number stored as a
    JSON number compares numerically and an ISO date as a date; ``contains`` means
    "substring" for a JSON string and "member" for a JSON array.
    """

    column: sa.ColumnElement[Any]
    keys: tuple[str, ...]


def _resolve(path: str, column: ColumnFor, op: str) -> sa.ColumnElement[Any] | JsonPath:
    try:
        col = column(path)
    except KeyError:
        head, _, rest = path.partition(".")
        if not rest:
            raise
        base = column(head)
        if not isinstance(base.type, sa.JSON) or '"' in rest:
            raise
        return JsonPath(base, tuple(rest.split(".")))
    if op == "contains" and isinstance(col.type, sa.JSON):
        return JsonPath(col, ())
    return col


def _kind(value: Any) -> str:
    value = _plain(value)
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        raise TypeError("JSON booleans cannot be filtered on")
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return "date"
    raise TypeError(f"cannot compare a JSON value with {type(value).__name__}")


def _sqlite_path(keys: tuple[str, ...]) -> str:
    return "$" + "".join(f'."{k}"' for k in keys)


def _mysql_node(path: JsonPath) -> sa.ColumnElement[Any]:
    if not path.keys:
        return path.column
    return sa.func.json_extract(path.column, _sqlite_path(path.keys))


def _json_text(path: JsonPath, dialect: str) -> sa.ColumnElement[Any]:
    if dialect == "sqlite":
        return sa.func.json_extract(path.column, _sqlite_path(path.keys), type_=sa.String())
    if dialect in _MYSQL:
        # Code-point order, as Python and the text columns compare (see ``text_type``).
        unquoted = sa.func.json_unquote(_mysql_node(path), type_=sa.String())
        return unquoted.collate(_MYSQL_COLLATION[dialect])
    extracted = sa.func.json_extract_path_text(path.column, *path.keys, type_=sa.String())
    # Code-point order, as Python and the text columns compare (see ``text_type``).
    return extracted.collate("C")


def _typed(path: JsonPath, kind: str, dialect: str) -> tuple[sa.ColumnElement[Any], Any]:
    """The extracted value as SQL of ``kind`` and the function turning a filter value into it."""
    text = _json_text(path, dialect)
    if kind == "number":
        if dialect == "sqlite":
            # Both sides through SQLite's own text-to-REAL conversion, so they agree.
            return text, lambda v: sa.cast(sa.literal(str(_plain(v))), sa.Float())
        if dialect in _MYSQL:
            # DECIMAL(65, 30) holds every number crmkit stores (amounts below 10**13
            # with six places) exactly.
            number = sa.Numeric(65, 30)
            unquoted = sa.func.json_unquote(_mysql_node(path))
            return sa.cast(unquoted, number), lambda v: sa.literal(Decimal(v), number)
        extracted = sa.func.json_extract_path_text(path.column, *path.keys)
        return sa.cast(extracted, sa.Numeric()), lambda v: sa.literal(Decimal(v), sa.Numeric())
    if kind == "date":
        if dialect == "sqlite":
            return text, lambda v: v.isoformat()
        if dialect in _MYSQL:
            unquoted = sa.func.json_unquote(_mysql_node(path))
            return sa.cast(unquoted, sa.Date()), lambda v: sa.literal(v, sa.Date())
        extracted = sa.func.json_extract_path_text(path.column, *path.keys)
        return sa.cast(extracted, sa.Date()), lambda v: sa.literal(v, sa.Date())
    return text, _plain


def _json_cond(path: JsonPath, cond: Cond, dialect: str) -> sa.ColumnElement[bool]:
    op = cond.op
    if op in ("is_null", "not_null"):
        return _scalar(_json_text(path, dialect), op, cond.value, dialect)
    if op == "contains":
        return _json_contains(path, _plain(cond.value), dialect)
    sample = cond.value[0] if op in ("in", "not_in") and cond.value else cond.value
    if op in ("in", "not_in") and not cond.value:
        return _scalar(_json_text(path, dialect), op, (), dialect)
    col, convert = _typed(path, _kind(sample), dialect)
    if op in ("in", "not_in"):
        return _scalar(col, op, [convert(v) for v in cond.value], dialect)
    if op == "startswith":
        # A JSON number extracts as a number, which a text range would never hold.
        return _scalar(col, op, cond.value, dialect, ranges=False)
    return _scalar(col, op, convert(cond.value), dialect)


def _json_contains(path: JsonPath, value: Any, dialect: str) -> sa.ColumnElement[bool]:
    """A JSON string containing ``value``, or a JSON array with ``value`` as a member."""
    if not isinstance(value, str):
        raise TypeError("contains takes text")
    text = _json_text(path, dialect)
    if dialect == "sqlite":
        where = _sqlite_path(path.keys)
        kind = sa.func.coalesce(sa.func.json_type(path.column, where), "")
        each = sa.func.json_each(path.column, where).table_valued("value", "type")
        member = sa.exists(
            sa.select(sa.literal(1))
            .select_from(each)
            .where(each.c.type == "text", each.c.value == value)
        )
        substring = sa.func.instr(text, value) > 0
    elif dialect in _MYSQL:
        node = _mysql_node(path)
        kind = sa.func.coalesce(sa.func.json_type(node), "")
        holds = sa.func.coalesce(sa.func.json_contains(node, json.dumps(value)), 0) == 1
        substring = sa.func.instr(text, value) > 0
        return sa.or_(sa.and_(kind == "ARRAY", holds), sa.and_(kind == "STRING", substring))
    else:
        node = sa.func.json_extract_path(path.column, *path.keys) if path.keys else path.column
        kind = sa.func.coalesce(sa.func.json_typeof(node), "")
        wanted = sa.cast(sa.literal(json.dumps([value])), postgresql.JSONB())
        holds = sa.func.coalesce(sa.cast(node, postgresql.JSONB()).op("@>")(wanted), sa.false())
        substring = sa.func.strpos(text, value) > 0
        return sa.or_(sa.and_(kind == "array", holds), sa.and_(kind == "string", substring))
    return sa.or_(sa.and_(kind == "array", member), sa.and_(kind == "text", substring))


def compile_expr(
    expr: Expr, column: ColumnFor, dialect: str, bind: Binder | None = None
) -> sa.ColumnElement[bool]:
    """Turn a filter expression into a ``WHERE`` clause.

    Args:
        expr: the filter.
        column: maps a field path to its column (see ``Mapping.column``).
        dialect: ``sqlite``, ``postgresql``, ``mysql`` or ``mariadb`` (string matching
            differs per backend).
        bind: names the values as parameters, for a statement kept for reuse (only for
            a filter :func:`parameterize` gives a shape).
    """
    if isinstance(expr, Const):
        return sa.true() if expr.value else sa.false()
    if isinstance(expr, Cond):
        return _cond(expr, column, dialect, bind)
    if isinstance(expr, Not):
        return sa.not_(compile_expr(expr.item, column, dialect, bind))
    parts = [compile_expr(item, column, dialect, bind) for item in expr.items]
    if isinstance(expr, And):
        return sa.and_(sa.true(), *parts)
    assert isinstance(expr, Or)
    return sa.or_(sa.false(), *parts)


def compile_order(order: Order, column: ColumnFor) -> sa.UnaryExpression[Any]:
    """An ``ORDER BY`` term; missing values sort last in both directions."""
    col = column(order.field)
    term = col.desc() if order.descending else col.asc()
    # NULLS LAST on a column that holds no NULLs changes nothing but keeps SQLite (and a
    # descending PostgreSQL sort) from reading the rows in index order.
    return term if getattr(col, "nullable", True) is False else term.nulls_last()


def order_terms(order: Order, column: ColumnFor, dialect: str) -> list[Any]:
    """The ``ORDER BY`` terms of ``order`` on ``dialect`` (see :func:`compile_order`).

    MySQL and MariaDB have no ``NULLS LAST``; they sort NULL first ascending and last
    descending, so an ascending sort on a nullable column is led by ``col IS NULL``.
    """
    if dialect not in _MYSQL:
        return [compile_order(order, column)]
    col = column(order.field)
    if order.descending:
        return [col.desc()]
    if getattr(col, "nullable", True) is False:
        return [col.asc()]
    return [col.is_(None).asc(), col.asc()]


def _ranges(field: str, op: str, column: ColumnFor, dialect: str) -> bool | None:
    """Whether a prefix on ``field`` binds as a range; ``None`` for a value inside JSON."""
    target = _resolve(field, column, op)
    if isinstance(target, JsonPath):
        return None
    return sorts_by_code_point(target.type, dialect)


#: The parts a :data:`ShapeMemo` keeps before it starts afresh.
SHAPE_MEMO_KEPT = 4096

#: What :func:`parameterize` found for the ``And`` / ``Or`` parts of filters it has seen,
#: by the part's identity: ``id(part) -> (part, shape, values)``. The part itself is kept
#: in the entry, so its id cannot be reused while the entry lives, and a hit is checked
#: with ``is``. Filters are frozen values, so a part seen again has the same shape and
#: values; one memo serves one column mapping and dialect.
ShapeMemo = dict[int, tuple[Expr, Hashable, tuple[Any, ...]]]

_NAMES = tuple(f"v{i}" for i in range(1024))


def _names(count: int) -> Sequence[str]:
    """The parameter names a :class:`Binder` gives the first ``count`` values."""
    return _NAMES[:count] if count <= len(_NAMES) else [f"v{i}" for i in range(count)]


def parameterize(
    expr: Expr, column: ColumnFor, dialect: str, memo: ShapeMemo | None = None
) -> tuple[Hashable, dict[str, Any]] | None:
    """The shape of ``expr`` and the parameters a :class:`Binder` names for it.

    The shape is what the SQL depends on besides the values: two filters of one shape
    compile to the same SQL with different parameters, so a statement built for one
    serves the other. ``None`` for filters on values inside JSON columns, whose SQL
    depends on the values' types.

    Args:
        expr: the filter.
        column: maps a field path to its column.
        dialect: ``sqlite`` or ``postgresql``.
        memo: the parts of earlier filters, for this ``column`` and ``dialect``: a search
            sends the same route filters (kept per text) again and again, each a tree of
            a hundred conditions, inside a filter built anew around them (the scope).
    """
    values: list[Any] = []
    # A search's filter holds dozens of conditions on a handful of (field, op) pairs:
    # each pair is resolved once per call.
    resolved: dict[tuple[str, str], bool | None] = {}

    def shape(item: Expr, keep: bool = True) -> Hashable | None:
        if isinstance(item, Const):
            return item.value
        if isinstance(item, Cond):
            field, op = item.field, item.op
            try:
                ranges = resolved[field, op]
            except KeyError:
                ranges = resolved[field, op] = _ranges(field, op, column, dialect)
            if ranges is None:
                return None
            params = _params(op, item.value, dialect, ranges=ranges)
            values.extend(params)
            return (field, op, len(params))
        if isinstance(item, Not):
            inner = shape(item.item)
            return None if inner is None else ("not", inner)
        if memo is not None:
            seen = memo.get(id(item))
            if seen is not None and seen[0] is item:
                values.extend(seen[2])
                return seen[1]
        start = len(values)
        shapes = tuple([shape(part) for part in item.items])
        if None in shapes:
            return None
        found = ("and" if isinstance(item, And) else "or", shapes)
        if memo is not None and keep:
            if len(memo) >= SHAPE_MEMO_KEPT:
                memo.clear()  # filters built once and dropped pass through here too
            memo[id(item)] = (item, found, tuple(values[start:]))
        return found

    # The whole filter is often made for this call (a repository joins its filters):
    # only its parts are worth keeping.
    found = shape(expr, keep=False)
    if found is None:
        return None
    return found, dict(zip(_names(len(values)), values, strict=True))
