"""Filter expressions: pure data that both storage adapters can run.

A filter is a small tree of ``Cond(field, op, value)`` nodes combined with
``And``, ``Or`` and ``Not``. The domain builds them (permission scopes, pool
rules, searches) without knowing about SQL; ``adapters.sql`` compiles them to a
SQLAlchemy ``WHERE`` clause and :func:`to_predicate` turns them into a Python
predicate for the memory adapter and for single-object checks. Both follow the
same two-valued logic: a comparison against a missing (``None``) field is false,
so ``Not`` never lets a ``NULL`` slip through on one side and not the other.

Build them with :class:`F`::

    F("owner_id").is_in(team) & ~F("status").eq("closed")
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

import attrs

from crmkit.kernel.hints import field_hints, stored_type
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.limits import INT_MAX, check_text
from crmkit.kernel.money import Money

__all__ = [
    "FALSE",
    "TRUE",
    "And",
    "Cond",
    "Const",
    "Expr",
    "F",
    "Not",
    "Op",
    "Or",
    "Order",
    "Query",
    "check_fields",
    "field_value",
    "fields_of",
    "to_predicate",
]

Op = Literal[
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "in",
    "not_in",
    "is_null",
    "not_null",
    "startswith",
    "contains",
]
_OPS: frozenset[str] = frozenset(Op.__args__)  # type: ignore[attr-defined]


class _Combinable:
    def __and__(self, other: Expr) -> Expr:
        return and_(self, other)  # type: ignore[arg-type]

    def __or__(self, other: Expr) -> Expr:
        return or_(self, other)  # type: ignore[arg-type]

    def __invert__(self) -> Expr:
        return not_(self)  # type: ignore[arg-type]


@attrs.frozen
class Cond(_Combinable):
    """``field op value``; ``field`` is an attribute path such as ``credit_limit.amount``."""

    field: str
    op: Op = attrs.field(validator=attrs.validators.in_(_OPS))
    value: Any = None

    def __attrs_post_init__(self) -> None:
        if self.op in ("in", "not_in"):
            object.__setattr__(self, "value", tuple(self.value))


@attrs.frozen
class And(_Combinable):
    """All of ``items`` hold (an empty ``And`` is true)."""

    items: tuple[Expr, ...]


@attrs.frozen
class Or(_Combinable):
    """At least one of ``items`` holds (an empty ``Or`` is false)."""

    items: tuple[Expr, ...]


@attrs.frozen
class Not(_Combinable):
    """``item`` does not hold."""

    item: Expr


@attrs.frozen
class Const(_Combinable):
    """Always true or always false."""

    value: bool


Expr = Cond | And | Or | Not | Const
TRUE = Const(True)
FALSE = Const(False)


def _junction(kind: type[And] | type[Or], items: tuple[Expr, ...]) -> Expr:
    # ``And`` and ``Or`` are duals: one constant decides the whole (FALSE for And, TRUE
    # for Or), the other drops out, and an empty junction is that other constant.
    empty = TRUE if kind is And else FALSE
    flat: list[Expr] = []
    for item in items:
        if isinstance(item, Const):
            if item != empty:
                return item
            continue
        flat.extend(item.items if isinstance(item, kind) else (item,))
    if not flat:
        return empty
    return flat[0] if len(flat) == 1 else kind(tuple(flat))


def and_(*items: Expr) -> Expr:
    """Conjunction, simplified: constants fold away and nested ``And``s flatten."""
    return _junction(And, items)


def or_(*items: Expr) -> Expr:
    """Disjunction, simplified like :func:`and_`."""
    return _junction(Or, items)


def not_(item: Expr) -> Expr:
    """Negation, folding constants and double negation."""
    if isinstance(item, Const):
        return Const(not item.value)
    if isinstance(item, Not):
        return item.item
    return Not(item)


class F:
    """Builder for conditions on one field: ``F("level").eq("A")``."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def eq(self, value: Any) -> Cond:
        return Cond(self.name, "is_null") if value is None else Cond(self.name, "eq", value)

    def ne(self, value: Any) -> Cond:
        return Cond(self.name, "not_null") if value is None else Cond(self.name, "ne", value)

    def lt(self, value: Any) -> Cond:
        return Cond(self.name, "lt", value)

    def le(self, value: Any) -> Cond:
        return Cond(self.name, "le", value)

    def gt(self, value: Any) -> Cond:
        return Cond(self.name, "gt", value)

    def ge(self, value: Any) -> Cond:
        return Cond(self.name, "ge", value)

    def is_in(self, values: Iterable[Any]) -> Cond:
        return Cond(self.name, "in", tuple(values))

    def not_in(self, values: Iterable[Any]) -> Cond:
        return Cond(self.name, "not_in", tuple(values))

    def is_null(self) -> Cond:
        return Cond(self.name, "is_null")

    def not_null(self) -> Cond:
        return Cond(self.name, "not_null")

    def startswith(self, prefix: str) -> Cond:
        return Cond(self.name, "startswith", prefix)

    def contains(self, text: str) -> Cond:
        """Text containing ``text``, or a list (tags, multi-choice) with ``text`` as a member."""
        return Cond(self.name, "contains", text)


@attrs.frozen
class Order:
    """Sort key: a field, ascending unless ``descending``; missing values sort last."""

    field: str
    descending: bool = False


def _check_page(instance: Any, attribute: Any, value: int | None) -> None:
    if value is None and attribute.name == "limit":
        return
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid("query", attribute.name, N_("must be a whole number"))
    if value < 0:
        raise invalid("query", attribute.name, N_("must not be negative"))
    if value > INT_MAX:  # no store binds it (SQLite raised OverflowError); none holds so many
        raise invalid("query", attribute.name, N_("{value} is too large"), value=str(value)[:30])


@attrs.frozen
class Query:
    """A filtered, ordered, paged read of one repository.

    ``selective`` is a hint from a caller that knows ``where`` matches few records (it
    counted them): a store should find them through the filter's own index and sort
    them, never walk the sort key's index in order hoping to stop early at ``limit``
    (PostgreSQL's planner sometimes prefers that for ``ORDER BY ... LIMIT`` and reads
    the whole index). The results are the same either way.
    """

    where: Expr = TRUE
    order_by: tuple[Order, ...] = ()
    limit: int | None = attrs.field(default=None, validator=_check_page)
    offset: int = attrs.field(default=0, validator=_check_page)
    selective: bool = False


def fields_of(expr: Expr) -> set[str]:
    """Every field path an expression reads (to validate it against a schema)."""
    if isinstance(expr, Cond):
        return {expr.field}
    if isinstance(expr, And | Or):
        return set().union(*(fields_of(item) for item in expr.items))
    if isinstance(expr, Not):
        return fields_of(expr.item)
    return set()


_SCALARS = (str, int, bool, Decimal, UUID, enum.Enum, dt.date)


def _stored_types(entity_type: type[Any]) -> dict[str, Any]:
    """Each attrs field of ``entity_type`` and the type it is stored as.

    An optional field counts as its inner type and a ``NewType`` as its base; a field
    whose hints cannot be resolved (forward references) is ``Any``.
    """
    return {name: stored_type(hint)[0] for name, hint in field_hints(entity_type).items()}


def _field_kinds(entity_type: type[Any]) -> dict[str, str]:
    """Each attrs field of ``entity_type``: "scalar", "money" or "nested" (JSON)."""
    kinds: dict[str, str] = {}
    for name, tp in _stored_types(entity_type).items():
        if isinstance(tp, type) and issubclass(tp, Money):
            kinds[name] = "money"
        elif isinstance(tp, type) and issubclass(tp, _SCALARS):
            kinds[name] = "scalar"
        else:
            kinds[name] = "nested"
    return kinds


@functools.cache
def _known_path(entity_type: type[Any], path: str, sort: bool) -> bool:
    head, _, rest = path.partition(".")
    kind = _field_kinds(entity_type).get(head)
    if kind is None:
        return False
    if kind == "money":
        return rest in ("amount", "currency")
    if kind == "scalar":
        return not rest
    # Inside a JSON value: filters reach any path; a sort needs a column of its own.
    return not sort


def check_fields(entity_type: type[Any], query: Query | Expr | None) -> None:
    """Refuse a filter or sort on a path ``entity_type`` does not store.

    Every store runs this before it reads, so a mistyped field is the same error on
    every backend instead of no rows on one and a driver error on another. Filters
    may name a field, ``<money field>.amount`` / ``.currency``, or a path inside a
    field kept as a nested value (``custom.tier``); a sort needs a field stored in a
    column of its own (not a whole amount: sort on ``.amount``).

    Text compared with (a NUL character, a lone surrogate, past the text limit) is
    held to the limits of stored text, since no stored value can match it.

    Raises:
        ValidationError: naming the first unknown path, or the path whose compared
            text breaks the limits.
    """
    if query is None:
        return
    if isinstance(query, Query):
        where, orders = query.where, query.order_by
    else:
        where, orders = query, ()
    if not attrs.has(entity_type):
        return
    entity = str(getattr(entity_type, "entity_name", entity_type.__name__.lower()))
    for path in sorted(fields_of(where)):
        if not isinstance(path, str) or not _known_path(entity_type, path, False):
            raise invalid(entity, str(path), N_("is not a field that can be filtered on"))
    for order in orders:
        if not isinstance(order.field, str) or not _known_path(entity_type, order.field, True):
            raise invalid(entity, str(order.field), N_("is not a field that can be sorted on"))
    _check_values(where, entity, _scalar_types(entity_type))


@functools.cache
def _scalar_types(entity_type: type[Any]) -> dict[str, Any]:
    """The declared type of each field stored in a column of its own (filters compare it)."""
    types_: dict[str, Any] = {}
    for name, tp in _stored_types(entity_type).items():
        if isinstance(tp, type) and issubclass(tp, Money):
            types_[f"{name}.amount"] = Decimal
            types_[f"{name}.currency"] = str
        elif isinstance(tp, type) and issubclass(tp, _SCALARS):
            types_[name] = tp
    return types_


def _compares_with(kind: type[Any], value: Any) -> str | None:
    """Why ``value`` cannot be compared with a field of type ``kind``; ``None`` if it can.

    The memory store compares Python values and SQL binds them to the column's type: a
    value of another type would be no rows on one and a driver error on another.
    """
    if issubclass(kind, bool):
        return None if isinstance(value, bool) else N_("must be true or false")
    if issubclass(kind, enum.Enum):
        if isinstance(value, kind):
            return None
        values = [member.value for member in kind]
        if any(type(value) is type(v) for v in values) and not isinstance(value, bool):
            return None  # a member's value as a form sends it; an unknown one matches nothing
        return N_("is not one of the choices")
    if issubclass(kind, str):
        return None if isinstance(value, str) else N_("must be text")
    if issubclass(kind, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return None if abs(value) <= INT_MAX else N_("is too large")
        return N_("must be a whole number")
    if issubclass(kind, Decimal):
        if isinstance(value, int) and not isinstance(value, bool):
            value = Decimal(value)
        if not isinstance(value, Decimal):
            return N_("must be a number")
        return None if value.is_finite() else N_("is not a finite number")
    if issubclass(kind, UUID):
        return None if isinstance(value, UUID) else N_("is not an id")
    if issubclass(kind, dt.datetime):
        if not isinstance(value, dt.datetime):
            return N_("must be a date and time")
        # A naive time is a different moment to each reader; refused as on writes.
        return None if value.utcoffset() is not None else N_("needs a time zone")
    if issubclass(kind, dt.date):
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return None
        return N_("must be a date")
    return None


def _check_values(expr: Expr, entity: str, kinds: Mapping[str, Any]) -> None:
    # Text no store can hold (NUL, lone surrogates) matches nothing stored, but would
    # reach PostgreSQL's driver as an error: refuse it by field, on every backend. A
    # value of another type than the field's is refused alike for the same reason.
    if isinstance(expr, Cond):
        if expr.op in ("is_null", "not_null"):
            return
        values = expr.value if expr.op in ("in", "not_in") else (expr.value,)
        kind = kinds.get(expr.field)
        for value in values:
            if isinstance(value, str):
                check_text(value, entity=entity, field=expr.field)
            if kind is None or value is None:  # None matches nothing, on every store
                continue
            if expr.op in ("startswith", "contains"):
                why: str | None = None if isinstance(value, str) else N_("must be text")
            else:
                why = _compares_with(kind, value)
            if why is not None:
                raise invalid(entity, expr.field, why)
    elif isinstance(expr, And | Or):
        for item in expr.items:
            _check_values(item, entity, kinds)
    elif isinstance(expr, Not):
        _check_values(expr.item, entity, kinds)


def field_value(record: Any, path: str) -> Any:
    """Read a dotted attribute path from an object or mapping; ``None`` when absent."""
    value = record
    for part in path.split("."):
        if value is None:
            return None
        value = value.get(part) if isinstance(value, Mapping) else getattr(value, part, None)
    return value


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}


def _cond_predicate(cond: Cond) -> Callable[[Any], bool]:
    path, op = cond.field, cond.op
    if op == "is_null":
        return lambda r: field_value(r, path) is None
    if op == "not_null":
        return lambda r: field_value(r, path) is not None
    if op in ("in", "not_in"):
        members = frozenset(_plain(v) for v in cond.value)
        want = op == "in"

        def member(r: Any) -> bool:
            value = field_value(r, path)
            return value is not None and ((_plain(value) in members) is want)

        return member
    target = _plain(cond.value)
    if op == "startswith":
        return lambda r: isinstance(v := field_value(r, path), str) and v.startswith(target)
    if op == "contains":
        # Text: a substring; a list of values (tags, multi-choice fields): a member.
        return lambda r: isinstance(v := field_value(r, path), str | tuple | list) and target in v
    compare = _COMPARE[op]

    def cmp(r: Any) -> bool:
        value = field_value(r, path)
        return value is not None and bool(compare(_plain(value), target))

    return cmp


def to_predicate(expr: Expr) -> Callable[[Any], bool]:
    """Compile an expression once into a Python predicate over objects or mappings."""
    if isinstance(expr, Const):
        constant = expr.value
        return lambda _r: constant
    if isinstance(expr, Cond):
        return _cond_predicate(expr)
    if isinstance(expr, Not):
        inner = to_predicate(expr.item)
        return lambda r: not inner(r)
    parts: Sequence[Callable[[Any], bool]] = [to_predicate(item) for item in expr.items]
    if isinstance(expr, And):
        return lambda r: all(p(r) for p in parts)
    return lambda r: any(p(r) for p in parts)
