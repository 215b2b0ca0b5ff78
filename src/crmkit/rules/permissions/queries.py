"""Read models of the permissions area: the audit log, ownership history, the policy,
and the permission matrix as administrators export it.
"""

from __future__ import annotations

from uuid import UUID

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import PermissionDenied
from crmkit.kernel.query import TRUE, Expr, F, Order, Query
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions.access import load_record
from crmkit.rules.permissions.guard import administer, guarded
from crmkit.rules.permissions.model import (
    Denial,
    Department,
    Grants,
    MatrixRow,
    Member,
    OwnershipTransfer,
    Role,
    SharingRule,
    matrix_rows,
)
from crmkit.rules.permissions.policy_cache import grants_for

__all__ = [
    "export_matrix",
    "list_denials",
    "ownership_history",
    "policy_overview",
]


def list_denials(
    crm: Crm, actor: Actor, where: Expr = TRUE, *, limit: int = 100, offset: int = 0
) -> list[Denial]:
    """The tenant's audit log of refusals, newest first (tenant administrators only).

    Args:
        where: a filter over :class:`Denial` fields (``F("user_id").eq(...)``).

    Raises:
        PermissionDenied: the actor does not administer the tenant.
    """

    def work(uow: UnitOfWork) -> list[Denial]:
        grants = grants_for(uow, actor)
        if not grants.is_tenant_admin:
            raise PermissionDenied(actor=grants.label, operation="view", resource="denial")
        query = Query(
            where=where, order_by=(Order("at", descending=True),), limit=limit, offset=offset
        )
        return uow.repository(Denial).query(query)

    return guarded(crm, actor, work)


def ownership_history(
    crm: Crm, actor: Actor, resource: str, record_id: UUID
) -> list[OwnershipTransfer]:
    """Every change of owner of one record, oldest first (needs ``view`` on the record).

    Raises:
        PermissionDenied: the actor may not view the record.
        NotFound: no such record.
    """

    def work(uow: UnitOfWork) -> list[OwnershipTransfer]:
        grants = grants_for(uow, actor)
        grants.require("view", load_record(uow, resource, record_id), resource)
        where = F("resource").eq(resource) & F("record_id").eq(record_id)
        return uow.repository(OwnershipTransfer).query(
            Query(where=where, order_by=(Order("transferred_at"),))
        )

    return guarded(crm, actor, work)


def policy_overview(
    crm: Crm, actor: Actor
) -> tuple[list[Department], list[Member], list[Role], list[SharingRule]]:
    """The tenant's departments, members, roles and sharing rules (administrators only).

    Raises:
        PermissionDenied: the actor does not administer the tenant.
    """

    def work(
        uow: UnitOfWork,
    ) -> tuple[list[Department], list[Member], list[Role], list[SharingRule]]:
        grants = grants_for(uow, actor)
        if not grants.is_tenant_admin:
            raise PermissionDenied(actor=grants.label, operation="view", resource="policy")
        by_name = Query(order_by=(Order("name"),))
        return (
            uow.repository(Department).query(by_name),
            uow.repository(Member).query(by_name),
            uow.repository(Role).query(Query(order_by=(Order("code"),))),
            uow.repository(SharingRule).query(by_name),
        )

    return guarded(crm, actor, work)


def export_matrix(crm: Crm, actor: Actor) -> list[MatrixRow]:
    """Every granted cell of the tenant's roles (tenant administrators only).

    Raises:
        PermissionDenied: the actor does not administer the tenant.
    """

    def work(uow: UnitOfWork, _grants: Grants) -> list[MatrixRow]:
        return matrix_rows(uow.repository(Role).query())

    return administer(crm, actor, work, target="role")
