"""What every shipped repository does alike, whatever holds its rows.

A repository serves one entity type inside one tenant's unit of work: it refuses a
record of another tenant, and ``get`` is ``find`` or ``NotFound`` naming the entity.
The memory and SQL repositories differ in how they find and store rows, not in this.
"""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

from crmkit.kernel.errors import NotFound, TenantMismatch
from crmkit.kernel.ids import TenantId
from crmkit.ports import Entity, Repository, entity_name

__all__ = ["TenantRepository"]

T = TypeVar("T", bound=Entity)


class TenantRepository(Repository[T]):
    """Base of a repository of one entity type bound to one tenant.

    Args:
        tenant_id: the tenant of the unit of work the repository belongs to.
        entity_type: the entity class it stores (named in errors).
    """

    def __init__(self, tenant_id: TenantId, entity_type: type[Any]) -> None:
        self._tenant_id = tenant_id
        self._name = entity_name(entity_type)

    def _check_tenant(self, entity: T, operation: str) -> None:
        if entity.tenant_id != self._tenant_id:
            raise TenantMismatch(actor=self._tenant_id, operation=operation, resource=self._name)

    def get(self, id: UUID) -> T:
        found = self.find(id)
        if found is None:
            raise NotFound(entity=self._name, id=id)
        return found
