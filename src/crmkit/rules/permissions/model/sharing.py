"""Sharing: one record shared with a user, a role or a department, and sharing rules.

Shares widen the records an operation reaches; they never grant an operation the
actor's roles lack (the object permission comes first). A *sharing rule* ("customers
in region East are visible to the East sales team") shares every record matching a
condition.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs

from crmkit.kernel.entity import Entity
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.query import Expr, fields_of
from crmkit.rules.permissions.model.filters import (
    _check_filter_values,
    _filter_converter,
    expr_from_data,
)
from crmkit.rules.permissions.model.resources import (
    EDIT_OPERATIONS,
    READ_OPERATIONS,
    Registry,
)

__all__ = ["Access", "GranteeKind", "RecordShare", "SharingRule"]


class Access(enum.Enum):
    """What a share allows: reading, or reading and editing."""

    READ = "read"
    EDIT = "edit"

    @property
    def operations(self) -> frozenset[str]:
        """The operations this access level reaches."""
        return READ_OPERATIONS if self is Access.READ else EDIT_OPERATIONS


class GranteeKind(enum.Enum):
    """Whom a share or sharing rule is for."""

    USER = "user"
    ROLE = "role"
    DEPARTMENT = "department"  # members of it and of its sub-departments


@attrs.define(eq=False)
class RecordShare(Entity):
    """One record shared with a user, a role or a department."""

    entity_name = N_("share")

    id: UUID
    tenant_id: TenantId
    resource: str
    record_id: UUID
    grantee_kind: GranteeKind = attrs.field(converter=GranteeKind)
    grantee: str  # a user or department id as text, or a role code
    access: Access = attrs.field(default=Access.READ, converter=Access)
    shared_by: UserId | None = None
    shared_at: datetime | None = None
    version: int = 0


@attrs.define(eq=False)
class SharingRule(Entity):
    """Rule-based sharing: records of ``resource`` matching ``condition`` go to a grantee."""

    entity_name = N_("sharing_rule")

    id: UUID
    tenant_id: TenantId
    name: str
    resource: str
    condition: dict[str, Any] = attrs.field(converter=_filter_converter)
    grantee_kind: GranteeKind = attrs.field(converter=GranteeKind)
    grantee: str
    access: Access = attrs.field(default=Access.READ, converter=Access)
    version: int = 0

    @property
    def condition_expr(self) -> Expr:
        """The condition as an expression."""
        return expr_from_data(self.condition)

    def validate(self, reg: Registry) -> None:
        """Check the condition's fields against the registry.

        Raises:
            ValidationError: unknown resource or field, or a bad value.
        """
        expr = self.condition_expr
        reg.check_fields(self.resource, fields_of(expr), entity="sharing_rule")
        _check_filter_values(expr, "sharing_rule")
