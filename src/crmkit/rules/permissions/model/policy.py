"""The policy snapshot: a tenant's whole permission configuration, and its org chart.

Grants are compiled from it (see :mod:`crmkit.rules.permissions.model.compile`); the
walks of the department tree and the manager chain live here so compiling, loading
the shares a member receives and moving a department ask the same questions the same
way.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from uuid import UUID

from crmkit.kernel.ids import TenantId
from crmkit.rules.permissions.model.org import Department, Member
from crmkit.rules.permissions.model.roles import Role
from crmkit.rules.permissions.model.sharing import RecordShare, SharingRule

__all__ = ["Policy"]


class Policy:
    """A tenant's whole permission configuration, as loaded from storage.

    Args:
        tenant_id: the tenant.
        departments, members, roles, sharing_rules: the tenant's policy objects.
        shares: record shares (all of the tenant's, or just those a user can receive).
        super_admins: user ids of platform super-administrators.
        epoch: the tenant's policy token the snapshot was read at.
    """

    def __init__(
        self,
        tenant_id: TenantId,
        *,
        departments: Iterable[Department] = (),
        members: Iterable[Member] = (),
        roles: Iterable[Role] = (),
        sharing_rules: Iterable[SharingRule] = (),
        shares: Iterable[RecordShare] = (),
        super_admins: Iterable[UUID] = (),
        epoch: UUID | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.departments = {d.id: d for d in departments}
        self.members: dict[UUID, Member] = {m.id: m for m in members}
        self.roles = {r.code: r for r in roles}
        self.sharing_rules = tuple(sharing_rules)
        self.shares = tuple(shares)
        self.super_admins = frozenset(super_admins)
        self.epoch = epoch
        self._children: dict[UUID, list[UUID]] = defaultdict(list)
        for dept in self.departments.values():
            if dept.parent_id is not None:
                self._children[dept.parent_id].append(dept.id)
        self._reports: dict[UUID, list[UUID]] = defaultdict(list)
        for member in self.members.values():
            if member.manager_id is not None:
                self._reports[member.manager_id].append(member.id)

    def subtree(self, department_id: UUID) -> frozenset[UUID]:
        """A department and every department below it."""
        return _closure(department_id, self._children)

    def ancestors(self, department_id: UUID) -> list[UUID]:
        """A department and every department above it, nearest first."""
        chain: list[UUID] = []
        current: UUID | None = department_id
        while current is not None and current not in chain:
            chain.append(current)
            dept = self.departments.get(current)
            current = None if dept is None else dept.parent_id
        return chain

    def team(self, user_id: UUID) -> frozenset[UUID]:
        """A user and everyone reporting to them, directly or down the manager chain."""
        return _closure(user_id, self._reports)

    def managers(self, user_id: UUID) -> list[UUID]:
        """The manager chain above a user, nearest first."""
        chain: list[UUID] = []
        member = self.members.get(user_id)
        while member is not None and member.manager_id is not None:
            if member.manager_id in chain or member.manager_id == user_id:
                break
            chain.append(member.manager_id)
            member = self.members.get(member.manager_id)
        return chain


def _closure(start: UUID, edges: Mapping[UUID, list[UUID]]) -> frozenset[UUID]:
    seen = {start}
    todo = deque([start])
    while todo:
        for nxt in edges.get(todo.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return frozenset(seen)
