"""An org chart held in plain mappings: the :class:`~crmkit.ports.Directory` for tests,
notebooks and hosts whose org chart lives elsewhere."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from uuid import UUID

from crmkit.kernel.ids import TenantId

__all__ = ["InMemoryDirectory"]


class InMemoryDirectory:
    """A :class:`~crmkit.ports.Directory` from plain mappings (any tenant).

    Args:
        managers: user -> direct manager.
        roles: role name -> its members.
        departments: user -> department.
        heads: department -> its head.
    """

    def __init__(
        self,
        managers: Mapping[UUID, UUID] | None = None,
        roles: Mapping[str, Iterable[UUID]] | None = None,
        departments: Mapping[UUID, UUID] | None = None,
        heads: Mapping[UUID, UUID] | None = None,
    ) -> None:
        self.managers = dict(managers or {})
        self.roles = {role: list(members) for role, members in (roles or {}).items()}
        self.departments = dict(departments or {})
        self.heads = dict(heads or {})

    def manager_of(self, tenant_id: TenantId, user_id: UUID) -> UUID | None:
        """The user's direct manager."""
        return self.managers.get(user_id)

    def members_of_role(self, tenant_id: TenantId, role: str) -> list[UUID]:
        """Every member of ``role``, in the order given."""
        return list(self.roles.get(role, []))

    def department_of(self, tenant_id: TenantId, user_id: UUID) -> UUID | None:
        """The user's department."""
        return self.departments.get(user_id)

    def department_head(self, tenant_id: TenantId, department_id: UUID) -> UUID | None:
        """The department's head."""
        return self.heads.get(department_id)
