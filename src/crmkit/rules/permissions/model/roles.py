"""Roles: named bundles of operation grants with their data scope, and field rules.

A role holds *grants*: for a resource and an operation, a *data scope* saying which
records the grant reaches (own, own and reports', department, department tree, the
tenant, or a custom filter). It holds *field rules* too: a field hidden, read-only or
editable (the default). Roles are defined per tenant and only ever add: with several
roles the most permissive grant and field rule win.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any
from uuid import UUID

import attrs

from crmkit.kernel.entity import Entity
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId
from crmkit.kernel.invalid import invalid
from crmkit.kernel.query import Expr, fields_of
from crmkit.rules.permissions.model.filters import (
    _check_filter_values,
    _filter_converter,
    expr_from_data,
)
from crmkit.rules.permissions.model.resources import Registry

__all__ = ["FieldAccess", "FieldRule", "Grant", "Role", "Scope"]

# Field names no field rule may hide: without them a record cannot be addressed.
_STRUCTURAL_FIELDS = frozenset({"id", "tenant_id", "version"})


class Scope(enum.Enum):
    """Which records a grant reaches (the owner always reaches their own)."""

    OWN = "own"
    SUBORDINATES = "subordinates"
    DEPARTMENT = "department"
    DEPARTMENT_TREE = "department_tree"
    TENANT = "tenant"
    CUSTOM = "custom"


class FieldAccess(enum.IntEnum):
    """How much of a field a role shows; ordered so ``max`` is the most permissive."""

    HIDDEN = 0
    READ_ONLY = 1
    EDITABLE = 2


def _grant_tuple(values: Iterable[Grant]) -> tuple[Grant, ...]:
    return tuple(values)


def _rule_tuple(values: Iterable[FieldRule]) -> tuple[FieldRule, ...]:
    return tuple(values)


def _check_grant(instance: Grant, _attribute: Any, _value: Any) -> None:
    if (instance.scope is Scope.CUSTOM) != (instance.filter is not None):
        raise invalid(
            "grant", "filter", N_("a custom scope needs a filter, and only a custom scope has one")
        )


@attrs.frozen
class Grant:
    """Operation permission with its data scope: ``operation`` on ``resource`` within ``scope``.

    Attributes:
        resource: the resource code.
        operation: the operation code.
        scope: which records it reaches.
        filter: for ``Scope.CUSTOM``, the condition over record fields (stored as JSON;
            pass a ``crmkit.kernel.query`` expression).
    """

    resource: str
    operation: str
    scope: Scope = attrs.field(default=Scope.OWN, converter=Scope)
    filter: dict[str, Any] | None = attrs.field(
        default=None, converter=_filter_converter, validator=_check_grant
    )

    @property
    def filter_expr(self) -> Expr | None:
        """The custom filter as an expression."""
        return None if self.filter is None else expr_from_data(self.filter)

    def validate(self, reg: Registry) -> None:
        """Check the grant against the registry.

        Raises:
            ValidationError: unknown resource, operation or filter field, or a bad value.
        """
        reg.check_operation(self.resource, self.operation)
        expr = self.filter_expr
        if expr is not None:
            reg.check_fields(self.resource, fields_of(expr), entity="grant")
            _check_filter_values(expr, "grant")


@attrs.frozen
class FieldRule:
    """Field-level permission: how ``field`` of ``resource`` shows to a role."""

    resource: str
    field: str
    access: FieldAccess = attrs.field(converter=FieldAccess)

    def validate(self, reg: Registry) -> None:
        """Check the rule against the registry.

        Raises:
            ValidationError: unknown resource or field, or a structural field.
        """
        reg.check_fields(self.resource, (self.field,), entity="field_rule")
        if self.field in _STRUCTURAL_FIELDS:
            raise invalid("field_rule", "field", N_("{name} cannot be restricted"), name=self.field)


def _check_code(_instance: Any, attribute: Any, value: str) -> None:
    if not value or not value.strip() or len(value) > 64:
        raise invalid("role", attribute.name, N_("must be 1..64 characters"))


@attrs.define(eq=False)
class Role(Entity):
    """A named bundle of grants and field rules, defined per tenant.

    Attributes:
        id: the role's id.
        code: the tenant-unique code members refer to (``sales_rep``).
        name: display name.
        grants: operation permissions with their scopes.
        field_rules: field-level permissions.
    """

    entity_name = N_("role")

    id: UUID
    tenant_id: TenantId
    code: str = attrs.field(validator=_check_code)
    name: str = ""
    grants: tuple[Grant, ...] = attrs.field(default=(), converter=_grant_tuple)
    field_rules: tuple[FieldRule, ...] = attrs.field(default=(), converter=_rule_tuple)
    version: int = 0

    def validate(self, reg: Registry) -> None:
        """Check every grant and field rule against the registry, and for duplicates.

        Raises:
            ValidationError: the first problem found.
        """
        seen: dict[tuple[str, str], Grant] = {}
        for grant in self.grants:
            grant.validate(reg)
            key = (grant.resource, grant.operation)
            if key in seen and seen[key] != grant:
                raise invalid(
                    "role",
                    "grants",
                    N_("{operation} on {resource} is granted twice with different scopes"),
                    operation=grant.operation,
                    resource=grant.resource,
                )
            seen[key] = grant
        rules: set[tuple[str, str]] = set()
        for rule in self.field_rules:
            rule.validate(reg)
            if (rule.resource, rule.field) in rules:
                raise invalid(
                    "role", "field_rules", N_("field {name} has two rules"), name=rule.field
                )
            rules.add((rule.resource, rule.field))
