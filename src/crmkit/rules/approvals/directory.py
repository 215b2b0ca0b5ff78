"""The org chart an approval flow needs, as a port.

Routing "the submitter's manager" or "the head of the sales department" needs to
know who reports to whom. crmkit's permissions area owns the org model; approvals
depend only on this small protocol, so a host can answer it from its own HR
system, and tests answer it from :class:`InMemoryDirectory`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol
from uuid import UUID

from crmkit.kernel.ids import TenantId

__all__ = ["ApprovalDirectory", "InMemoryDirectory"]


class ApprovalDirectory(Protocol):
    """Port: managers, departments and roles of one tenant's users.

    It is a superset of :class:`crmkit.ports.Directory` (same argument order), so
    one org-model adapter can serve reminders and approvals.
    """

    def manager_of(self, tenant_id: TenantId, user_id: UUID) -> UUID | None:
        """The user's direct manager, or None at the top of the chart."""
        ...

    def members_of_role(self, tenant_id: TenantId, role: str) -> list[UUID]:
        """Every user holding ``role``."""
        ...

    def department_of(self, tenant_id: TenantId, user_id: UUID) -> UUID | None:
        """The department the user belongs to, if any."""
        ...

    def department_head(self, tenant_id: TenantId, department_id: UUID) -> UUID | None:
        """The head of a department, if it has one."""
        ...


class InMemoryDirectory:
    """An :class:`ApprovalDirectory` from plain mappings (tests, notebooks, small hosts).

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
