"""What the permission services share: the administrator's guard, loading a named record."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import NotFound, PermissionDenied, ValidationError, reason
from crmkit.kernel.i18n import N_
from crmkit.kernel.query import F, Query
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions.model import (
    PLATFORM_TENANT,
    AdminLevel,
    Department,
    GranteeKind,
    Grants,
    Member,
    Role,
    registry,
)
from crmkit.rules.permissions.services.audit import guarded
from crmkit.rules.permissions.services.policy import _bump, grants_for

R = TypeVar("R")


def _is_super_admin(crm: Crm, user_id: UUID) -> bool:
    found = crm.run(PLATFORM_TENANT, lambda uow: uow.repository(Member).find(user_id))
    return found is not None and found.admin is AdminLevel.SUPER and found.active


def _administer(
    crm: Crm, actor: Actor, work: Callable[[UnitOfWork, Grants], R], *, target: str
) -> R:
    """Run a policy change: only a tenant administrator of this tenant or a super-admin."""
    if actor.tenant_id == PLATFORM_TENANT:
        raise PermissionDenied(actor=str(actor), operation="administer", resource="platform")
    super_admin = _is_super_admin(crm, actor.user_id)

    def guarded_work(uow: UnitOfWork) -> R:
        grants = grants_for(uow, actor)
        if not (grants.is_tenant_admin or super_admin):
            raise PermissionDenied(actor=grants.label, operation="administer", resource=target)
        result = work(uow, grants)
        _bump(crm, uow)
        return result

    return guarded(crm, actor, guarded_work)


def _load_record(uow: UnitOfWork, resource: str, record_id: UUID) -> Any:
    spec = registry.get(resource)
    if spec.entity is None:
        raise ValidationError(
            entity="share",
            field="resource",
            reason=reason(N_("{resource} is not a stored aggregate"), resource=resource),
        )
    return uow.repository(spec.entity).get(record_id)


def _check_grantee(uow: UnitOfWork, kind: GranteeKind, grantee: str) -> None:
    try:
        if kind is GranteeKind.USER:
            uow.repository(Member).get(UUID(grantee))
        elif kind is GranteeKind.DEPARTMENT:
            uow.repository(Department).get(UUID(grantee))
        elif not uow.repository(Role).query(Query(where=F("code").eq(grantee))):
            raise NotFound(entity="role", id=grantee)
    except ValueError:
        raise NotFound(entity=kind.value, id=grantee) from None
