"""The tenant's own org model as the :class:`~crmkit.ports.Directory` port.

Reminders ("the owner's manager") and approvals ("the department head", "everyone
holding the finance role") route through it unless the host hands them another.
A department's head is the member of that department whose manager sits outside
it (or who has none) — the top of the department's own chain; with several, the
first by name.
"""

from __future__ import annotations

from uuid import UUID

from crmkit.kernel.ids import TenantId
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions.model import Member

__all__ = ["OrgDirectory"]


class OrgDirectory:
    """Answers the directory port from the members of the unit of work's tenant.

    Members are read once per directory (a tenant has thousands at most), so build
    one per unit of work.
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._members: dict[UUID, Member] | None = None

    def _all(self) -> dict[UUID, Member]:
        if self._members is None:
            found = self._uow.repository(Member).query()
            self._members = {m.id: m for m in found if m.active}
        return self._members

    def manager_of(self, tenant_id: TenantId, user_id: UUID) -> UUID | None:
        member = self._all().get(user_id)
        return None if member is None else member.manager_id

    def members_of_role(self, tenant_id: TenantId, role: str) -> list[UUID]:
        return sorted((m.id for m in self._all().values() if role in m.roles), key=str)

    def department_of(self, tenant_id: TenantId, user_id: UUID) -> UUID | None:
        member = self._all().get(user_id)
        return None if member is None else member.department_id

    def department_head(self, tenant_id: TenantId, department_id: UUID) -> UUID | None:
        members = self._all()
        inside = [m for m in members.values() if m.department_id == department_id]
        tops = [
            m
            for m in inside
            if m.manager_id is None
            or members.get(m.manager_id) is None
            or members[m.manager_id].department_id != department_id
        ]
        tops.sort(key=lambda m: (m.name, str(m.id)))
        return tops[0].id if tops else None
