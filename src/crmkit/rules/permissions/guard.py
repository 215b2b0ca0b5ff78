"""The guards around a use case: the audit log of refusals, and the administrator's check.

A denial is raised inside the use case's transaction, which then rolls back;
:func:`guarded` records it in the audit log in a transaction of its own, so the
log keeps every refusal while the refused work leaves nothing behind.
:func:`administer` is :func:`guarded` for a change to the policy: only a tenant
administrator or a super-admin gets through, and the policy epoch moves with the change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from uuid import UUID

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import PermissionDenied
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions.model import (
    PLATFORM_TENANT,
    AdminLevel,
    Decision,
    Denial,
    Grants,
    Member,
)
from crmkit.rules.permissions.policy_cache import bump_epoch, grants_for

R = TypeVar("R")

__all__ = ["administer", "guarded", "record_denial"]


def record_denial(crm: Crm, actor: Actor, error: PermissionDenied) -> Denial:
    """Write a refusal to the tenant's audit log (in its own transaction)."""
    decision = error.fields.get("decision")
    record_id = decision.record_id if isinstance(decision, Decision) else None
    reasons = tuple(str(r) for r in decision.reasons) if isinstance(decision, Decision) else ()
    now = crm.now()
    denial = Denial(
        id=crm.ids.new(now),
        tenant_id=actor.tenant_id,
        user_id=actor.user_id,
        operation=str(error.fields["operation"]),
        resource=str(error.fields["resource"]),
        at=now,
        record_id=record_id,
        field=error.fields.get("field"),
        reasons=reasons,
    )

    def work(uow: UnitOfWork) -> Denial:
        uow.repository(Denial).add(denial)
        return denial

    return crm.run(actor.tenant_id, work)


def guarded(
    crm: Crm, actor: Actor, work: Callable[[UnitOfWork], R], *, read_only: bool = False
) -> R:
    """``crm.run(actor.tenant_id, work)`` that logs every ``PermissionDenied`` it raises.

    With ``read_only``, ``work`` runs through ``crm.read`` (for reads: searches, lists).

    Raises:
        PermissionDenied: re-raised after it was written to the audit log.
    """
    try:
        run = crm.read if read_only else crm.run
        return run(actor.tenant_id, work)
    except PermissionDenied as error:
        record_denial(crm, actor, error)
        raise


def _is_super_admin(crm: Crm, user_id: UUID) -> bool:
    found = crm.run(PLATFORM_TENANT, lambda uow: uow.repository(Member).find(user_id))
    return found is not None and found.admin is AdminLevel.SUPER and found.active


def administer(
    crm: Crm, actor: Actor, work: Callable[[UnitOfWork, Grants], R], *, target: str
) -> R:
    """Run a policy change: only a tenant administrator of this tenant or a super-admin.

    ``work`` gets the unit of work and the actor's grants; the policy epoch moves in
    the same unit of work, so every cached grant of the tenant is recompiled after it.

    Raises:
        PermissionDenied: the actor administers neither this tenant nor the platform
            (written to the audit log), or acts in the platform tenant itself.
    """
    if actor.tenant_id == PLATFORM_TENANT:
        raise PermissionDenied(actor=str(actor), operation="administer", resource="platform")
    super_admin = _is_super_admin(crm, actor.user_id)

    def guarded_work(uow: UnitOfWork) -> R:
        grants = grants_for(uow, actor)
        if not (grants.is_tenant_admin or super_admin):
            raise PermissionDenied(actor=grants.label, operation="administer", resource=target)
        result = work(uow, grants)
        bump_epoch(crm, uow)
        return result

    return guarded(crm, actor, guarded_work)
