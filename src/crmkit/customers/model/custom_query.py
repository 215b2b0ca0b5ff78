"""Filters on custom fields: checked against the tenant's definitions and typed.

A condition on ``custom.<key>`` is refused when the field does not exist or the operator
does not fit its type, and its value is brought to the field's type, so the memory and SQL
interpreters compare like with like (see :mod:`crmkit.customers.model.custom_fields`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from crmkit.customers.model.custom_fields import CUSTOM, CustomFieldDefinition, FieldType
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.query import And, Cond, Const, Expr, Not, Or

__all__ = [
    "check_sortable",
    "custom_query",
]

# -- filters --------------------------------------------------------------------------------

_COMPARISONS = frozenset({"eq", "ne", "lt", "le", "gt", "ge", "in", "not_in"})
_NULLS = frozenset({"is_null", "not_null"})
_TEXT_OPS = _COMPARISONS | _NULLS | {"startswith", "contains"}
_CHOICE_OPS = frozenset({"eq", "ne", "in", "not_in"}) | _NULLS
_MULTI_OPS = frozenset({"contains"}) | _NULLS


def custom_query(expr: Expr, definitions: Iterable[CustomFieldDefinition], *, entity: str) -> Expr:
    """Check the conditions on ``custom.*`` fields and type their values.

    ``F("custom.budget.amount").ge("1000")`` becomes a comparison with
    ``Decimal("1000")``, ``F("custom.signed_on").lt("2024-01-01")`` one with a date, and
    a choice label becomes its option value, so both storage interpreters compare
    values of the field's type. Sorting is not part of it: see :func:`check_sortable`.

    Supported: text — comparisons, ``startswith``, ``contains`` (substring); number and
    date — comparisons and ``in``; money — ``custom.<key>.amount`` (numbers) and
    ``custom.<key>.currency`` (text); choice — ``eq``/``ne``/``in``/``not_in``;
    multi-choice — ``contains`` (has that option); every field — ``is_null``/``not_null``.

    Raises:
        ValidationError: an unknown custom field or sub-field, an operator the field's
            type does not offer, or a value that does not fit the field.
    """
    by_key = {d.key: d for d in definitions}

    def walk(node: Expr) -> Expr:
        if isinstance(node, Cond):
            return _typed_cond(node, by_key, entity)
        if isinstance(node, And):
            return And(tuple(walk(i) for i in node.items))
        if isinstance(node, Or):
            return Or(tuple(walk(i) for i in node.items))
        if isinstance(node, Not):
            return Not(walk(node.item))
        assert isinstance(node, Const)
        return node

    return walk(expr)


def _typed_cond(cond: Cond, by_key: Mapping[str, CustomFieldDefinition], entity: str) -> Cond:
    head, _, rest = cond.field.partition(".")
    if head != CUSTOM:
        return cond
    key, _, sub = rest.partition(".")
    definition = by_key.get(key)
    if definition is None:
        raise invalid(entity, cond.field, N_("is not a custom field"))
    kind = definition.type
    op = cond.op
    if op in _NULLS and not sub:
        return cond
    allowed: frozenset[str]
    convert: Callable[[Any], Any]
    if kind is FieldType.MONEY:
        if sub == "amount":
            allowed, convert = _COMPARISONS, definition._decimal
        elif sub == "currency":
            allowed, convert = _CHOICE_OPS, _as_text(definition)
        else:
            raise invalid(entity, cond.field, N_("filter a money field on .amount or .currency"))
    elif sub:
        raise invalid(entity, cond.field, N_("is not a custom field"))
    elif kind is FieldType.TEXT:
        allowed, convert = _TEXT_OPS, _as_text(definition)
    elif kind is FieldType.NUMBER:
        allowed, convert = _COMPARISONS, definition._decimal
    elif kind is FieldType.DATE:
        allowed, convert = _COMPARISONS, definition._date
    elif kind is FieldType.CHOICE:
        allowed = _CHOICE_OPS
        convert = lambda v: definition._choice(v, allow_inactive=True)  # noqa: E731
    else:
        allowed = _MULTI_OPS
        convert = lambda v: definition._choice(v, allow_inactive=True)  # noqa: E731
    if op not in allowed:
        raise invalid(entity, cond.field, N_("cannot be filtered with {operator}"), operator=op)
    if op in _NULLS:
        return cond
    if op in ("in", "not_in"):
        return Cond(cond.field, op, tuple(convert(v) for v in cond.value))
    return Cond(cond.field, op, convert(cond.value))


def _as_text(definition: CustomFieldDefinition) -> Any:
    def convert(value: Any) -> str:
        if not isinstance(value, str):
            raise definition._error(N_("must be text"))
        return value

    return convert


def check_sortable(fields: Iterable[str], *, entity: str) -> None:
    """Refuse sorting on custom fields.

    Their values live in one JSON document per record, where SQL cannot order numbers,
    dates and text of one field consistently on both databases without knowing its
    type; filtering on them is supported instead.

    Raises:
        ValidationError: naming the first custom field in ``fields``.
    """
    for name in fields:
        if name.split(".")[0] == CUSTOM:
            raise invalid(entity, name, N_("custom fields cannot be sorted on"))
