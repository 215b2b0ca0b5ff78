"""The organisation: the tenant's department tree and its members.

A *member* is a user placed in a *department* (departments form a tree of any depth),
with a *manager* (the reporting chain, which need not follow the tree), holding
*roles*. Roles are per tenant: the same person can be a rep in one tenant and an
administrator in another.

Two administrator levels have fixed limits: a *tenant administrator* manages the
policy of their own tenant and reaches every record and field in it; a
*super-administrator* (a member of the platform tenant) may administer any
tenant's policy but sees no business data unless also a member of that tenant.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from uuid import UUID

import attrs

from crmkit.kernel.entity import Entity
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId, UserId

__all__ = ["PLATFORM_TENANT", "AdminLevel", "Department", "Member"]

# Super-administrators are members of this reserved tenant; no customer tenant uses it.
PLATFORM_TENANT = TenantId(UUID(int=0))


class AdminLevel(enum.Enum):
    """Administrator powers of a member (see the module docstring for their limits)."""

    NONE = "none"
    TENANT = "tenant"
    SUPER = "super"


def _str_tuple(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.define(eq=False)
class Department(Entity):
    """A node of the tenant's department tree (``parent_id`` ``None`` at the top)."""

    entity_name = N_("department")

    id: UUID
    tenant_id: TenantId
    name: str
    parent_id: UUID | None = None
    version: int = 0


@attrs.define(eq=False)
class Member(Entity):
    """A user's place in a tenant: department, manager, roles and admin level.

    The id is the user's id (the host's login identity), so one user has at most
    one member record per tenant.
    """

    entity_name = N_("member")

    id: UserId
    tenant_id: TenantId
    name: str = ""
    department_id: UUID | None = None
    manager_id: UserId | None = None
    roles: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    admin: AdminLevel = attrs.field(default=AdminLevel.NONE, converter=AdminLevel)
    active: bool = True
    version: int = 0
