"""Row scope: what reaches records for one (resource, operation), as sets and as a filter.

A member's grants, the shares they receive and the sharing rules naming them become
*sources* (a grant's scope, a share set, a rule); the sources of one (resource,
operation) are merged into a *reach* of precomputed sets (owners whose records it
reaches, departments, ids of records shared with the user) plus the few custom
conditions that cannot be sets (custom-scope filters, sharing rules). The reach
answers one record by set probes and a list by one filter expression.

The scope expression uses only ``in`` comparisons combined with ``or`` — no
negation — so the two-valued logic of both interpreters agrees trivially with
``can`` (a record whose owner is ``NULL`` is reached only by the tenant scope, a
custom filter or a share). A differential hypothesis test holds them to it.

Shares are compiled into the reach as an ``id IN (...)`` set. That is right at
CRM scale (a user is rarely shared more than a few thousand records
individually); for bulk visibility use a sharing rule, which compiles to a
condition instead of a list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

import attrs

from crmkit.kernel.errors import LazyText
from crmkit.kernel.query import (
    FALSE,
    TRUE,
    And,
    Cond,
    Expr,
    F,
    Not,
    Or,
    and_,
    field_value,
    or_,
    to_predicate,
)
from crmkit.rules.permissions.model.resources import ResourceSpec

__all__: list[str] = []


@attrs.frozen
class _Source:
    """One thing that reaches records: a grant's scope, a share set or a sharing rule."""

    kind: str
    text: LazyText
    role: str | None
    everything: bool = False
    owners: frozenset[UUID] = frozenset()
    departments: frozenset[UUID] = frozenset()
    ids: frozenset[UUID] = frozenset()
    condition: Expr | None = None


class _Reach:
    """Everything that reaches records for one (resource, operation), merged for speed."""

    __slots__ = (
        "conditions",
        "department_field",
        "departments",
        "everything",
        "expr",
        "ids",
        "owner_field",
        "owners",
        "predicates",
        "sources",
    )

    def __init__(self, spec: ResourceSpec, sources: list[_Source]) -> None:
        self.sources = tuple(sources)
        self.owner_field = spec.owner_field
        self.department_field = spec.department_field
        self.everything = any(s.everything for s in sources)
        self.owners = frozenset().union(*(s.owners for s in sources))
        self.departments = frozenset().union(*(s.departments for s in sources))
        self.ids = frozenset().union(*(s.ids for s in sources))
        self.conditions = tuple(s.condition for s in sources if s.condition is not None)
        self.predicates = tuple(to_predicate(c) for c in self.conditions)
        self.expr = self._expr()

    def _expr(self) -> Expr:
        if self.everything:
            return TRUE
        terms: list[Expr] = []
        if self.owners:
            terms.append(_member_of(self.owner_field, self.owners))
        if self.departments:
            terms.append(_member_of(self.department_field, self.departments))
        if self.ids:
            terms.append(_member_of("id", self.ids))
        terms.extend(self.conditions)
        return or_(*terms)

    def test(self, obj: Any) -> bool:
        if self.everything:
            return True
        if isinstance(obj, Mapping):
            owner = obj.get(self.owner_field)
            dept = obj.get(self.department_field)
            ident = obj.get("id")
        else:
            owner = getattr(obj, self.owner_field, None)
            dept = getattr(obj, self.department_field, None)
            ident = getattr(obj, "id", None)
        # The sets never hold None, so a record without an owner is not reached by them.
        if owner in self.owners or dept in self.departments or ident in self.ids:
            return True
        return any(p(obj) for p in self.predicates)


def _member_of(field: str, values: frozenset[UUID]) -> Cond:
    # Sorted so the same grants always produce the same expression (and SQL text).
    ordered = sorted(values)
    return F(field).eq(ordered[0]) if len(ordered) == 1 else F(field).is_in(ordered)


def _source_test(source: _Source, reach: _Reach, obj: Any) -> bool:
    # Reads the record through the fields ``reach`` was compiled with, as ``can`` does.
    if source.everything:
        return True
    owner = field_value(obj, reach.owner_field)
    dept = field_value(obj, reach.department_field)
    ident = field_value(obj, "id")
    if owner is not None and owner in source.owners:
        return True
    if dept is not None and dept in source.departments:
        return True
    if ident is not None and ident in source.ids:
        return True
    return source.condition is not None and to_predicate(source.condition)(obj)


# -- substitution of placeholders ---------------------------------------------------------


def _substitute(expr: Expr, values: Mapping[str, tuple[Any, ...]]) -> Expr:
    """Replace ``$me``-style placeholders with the actor's values."""
    if isinstance(expr, Cond):
        raw = expr.value if isinstance(expr.value, tuple) else (expr.value,)
        if not any(isinstance(v, str) and v in values for v in raw):
            return expr
        flat: list[Any] = []
        for value in raw:
            flat.extend(values[value] if isinstance(value, str) and value in values else (value,))
        if expr.op in ("eq", "in"):
            return Cond(expr.field, "in", tuple(flat))
        if expr.op in ("ne", "not_in"):
            return Cond(expr.field, "not_in", tuple(flat))
        return Cond(expr.field, expr.op, flat[0]) if len(flat) == 1 else FALSE
    if isinstance(expr, And):
        return and_(*(_substitute(i, values) for i in expr.items))
    if isinstance(expr, Or):
        return or_(*(_substitute(i, values) for i in expr.items))
    if isinstance(expr, Not):
        return Not(_substitute(expr.item, values))
    return expr
