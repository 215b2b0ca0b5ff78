"""A ``Directory`` held in memory: managers and role members given as plain mappings.

For tests, notebooks and hosts that keep their org chart elsewhere; the
permissions area's org model is the directory a full installation uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from uuid import UUID

from crmkit.kernel.ids import TenantId

__all__ = ["StaticDirectory"]


class StaticDirectory:
    """Answers ``manager_of`` and ``members_of_role`` from dictionaries (any tenant)."""

    def __init__(
        self,
        managers: Mapping[UUID, UUID] | None = None,
        roles: Mapping[str, Iterable[UUID]] | None = None,
    ) -> None:
        self._managers = dict(managers or {})
        self._roles = {role: list(members) for role, members in (roles or {}).items()}

    def manager_of(self, tenant_id: TenantId, user_id: UUID) -> UUID | None:
        return self._managers.get(user_id)

    def members_of_role(self, tenant_id: TenantId, role: str) -> list[UUID]:
        return list(self._roles.get(role, []))
