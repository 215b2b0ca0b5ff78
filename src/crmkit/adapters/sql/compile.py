"""Compile :mod:`crmkit.kernel.query` filter expressions into SQLAlchemy clauses.

The compiled clause never evaluates to SQL ``NULL``: every comparison is guarded
with ``IS NOT NULL`` so ``NOT`` behaves exactly like the Python predicate the
memory adapter runs (a comparison against a missing value is false). String
matching is case-sensitive on both backends, like Python's ``str.startswith``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from crmkit.kernel.query import And, Cond, Const, Expr, Not, Or, Order

__all__ = ["compile_expr", "compile_order"]

ColumnFor = Callable[[str], sa.ColumnElement[Any]]


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _escape_glob(text: str) -> str:
    return "".join(f"[{ch}]" if ch in "*?[]" else ch for ch in text)


def _cond(cond: Cond, column: ColumnFor, dialect: str) -> sa.ColumnElement[bool]:
    col = column(cond.field)
    op = cond.op
    if op == "is_null":
        return col.is_(None)
    if op == "not_null":
        return col.is_not(None)
    present = col.is_not(None)
    if op in ("in", "not_in"):
        values = [_plain(v) for v in cond.value]
        if not values:
            return sa.false() if op == "in" else present
        member = col.in_(values) if op == "in" else col.not_in(values)
        return sa.and_(present, member)
    value = _plain(cond.value)
    if op == "startswith":
        if dialect == "sqlite":
            return sa.and_(present, col.op("GLOB")(_escape_glob(value) + "*"))
        return sa.and_(present, col.like(_escape_like(value) + "%", escape="\\"))
    if op == "contains":
        position = sa.func.instr(col, value) if dialect == "sqlite" else sa.func.strpos(col, value)
        return sa.and_(present, position > 0)
    compare = {
        "eq": col.__eq__,
        "ne": col.__ne__,
        "lt": col.__lt__,
        "le": col.__le__,
        "gt": col.__gt__,
        "ge": col.__ge__,
    }[op]
    return sa.and_(present, compare(value))


def compile_expr(expr: Expr, column: ColumnFor, dialect: str) -> sa.ColumnElement[bool]:
    """Turn a filter expression into a ``WHERE`` clause.

    Args:
        expr: the filter.
        column: maps a field path to its column (see ``Mapping.column``).
        dialect: ``sqlite`` or ``postgresql`` (string matching differs per backend).
    """
    if isinstance(expr, Const):
        return sa.true() if expr.value else sa.false()
    if isinstance(expr, Cond):
        return _cond(expr, column, dialect)
    if isinstance(expr, Not):
        return sa.not_(compile_expr(expr.item, column, dialect))
    parts = [compile_expr(item, column, dialect) for item in expr.items]
    if isinstance(expr, And):
        return sa.and_(sa.true(), *parts)
    assert isinstance(expr, Or)
    return sa.or_(sa.false(), *parts)


def compile_order(order: Order, column: ColumnFor) -> sa.UnaryExpression[Any]:
    """An ``ORDER BY`` term; missing values sort last in both directions."""
    col = column(order.field)
    return (col.desc() if order.descending else col.asc()).nulls_last()
