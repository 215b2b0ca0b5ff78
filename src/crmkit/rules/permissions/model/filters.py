"""Filters as stored data: custom scopes and sharing-rule conditions kept as JSON.

A custom data scope ("only region 华东") and a sharing rule's condition are
:mod:`crmkit.kernel.query` expressions; they are stored in their JSON form so every
adapter can keep them, and may name the acting user's values through placeholders
(``$me``, ``$my_team``, ...) that are filled in when grants are compiled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.query import FALSE, TRUE, And, Cond, Const, Expr, Not, Or

__all__ = ["PLACEHOLDERS", "expr_from_data", "expr_to_data"]

# Values a custom filter or sharing rule may use in place of a literal; they are
# replaced per actor when grants are compiled.
PLACEHOLDERS = frozenset({"$me", "$my_department", "$my_departments", "$my_team"})


def expr_to_data(expr: Expr) -> dict[str, Any]:
    """A JSON-ready form of a filter (values must be JSON scalars or placeholders)."""
    if isinstance(expr, Const):
        return {"const": expr.value}
    if isinstance(expr, Cond):
        value = list(expr.value) if isinstance(expr.value, tuple) else expr.value
        return {"field": expr.field, "op": expr.op, "value": value}
    if isinstance(expr, Not):
        return {"not": expr_to_data(expr.item)}
    key = "and" if isinstance(expr, And) else "or"
    return {key: [expr_to_data(item) for item in expr.items]}


def expr_from_data(data: Any) -> Expr:
    """Rebuild a filter stored with :func:`expr_to_data`.

    Raises:
        ValidationError: the data is not a filter.
    """
    if isinstance(data, bool):
        return TRUE if data else FALSE
    if isinstance(data, Mapping):
        if "field" in data:
            try:
                return Cond(str(data["field"]), data["op"], data.get("value"))
            except (KeyError, ValueError, TypeError):
                pass
        elif "const" in data:
            return TRUE if data["const"] else FALSE
        elif "not" in data:
            return Not(expr_from_data(data["not"]))
        elif "and" in data:
            return And(tuple(expr_from_data(item) for item in data["and"]))
        elif "or" in data:
            return Or(tuple(expr_from_data(item) for item in data["or"]))
    raise invalid("grant", "filter", N_("is not a valid filter"))


def _check_filter_values(expr: Expr, entity: str) -> None:
    """Filters are stored as JSON: literals must be JSON scalars (or placeholders)."""
    if isinstance(expr, Cond):
        values = expr.value if isinstance(expr.value, tuple) else (expr.value,)
        for value in values:
            if isinstance(value, str) and value.startswith("$") and value not in PLACEHOLDERS:
                raise invalid(entity, "filter", N_("unknown placeholder {value}"), value=value)
            if not isinstance(value, str | int | float | bool | type(None)):
                raise invalid(
                    entity, "filter", N_("value {value} is not a plain value"), value=repr(value)
                )
    elif isinstance(expr, And | Or):
        for item in expr.items:
            _check_filter_values(item, entity)
    elif isinstance(expr, Not):
        _check_filter_values(expr.item, entity)


def _filter_converter(value: Any) -> Any:
    # Accept an Expr for convenience; store the JSON form so every adapter can keep it.
    if value is None or isinstance(value, dict):
        return value
    if isinstance(value, bool):
        return {"const": value}
    if isinstance(value, Cond | And | Or | Not | Const):
        return expr_to_data(value)
    raise TypeError("filter must be a crmkit.kernel.query expression")
