"""The organisation: the first administrators, departments and members.

Secure default: a tenant nobody configured denies everything. A host creating a
tenant calls :func:`bootstrap_tenant` once to make its first tenant administrator
(the host owns login and tenant creation, so this call is trusted), and that
administrator defines departments, roles and members through these services.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import PermissionDenied, ValidationError, reason
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.limits import to_member
from crmkit.kernel.query import F, Query
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions.guard import administer
from crmkit.rules.permissions.model import (
    PLATFORM_TENANT,
    AdminLevel,
    Department,
    Grants,
    Member,
    Policy,
    Role,
)
from crmkit.rules.permissions.policy_cache import bump_epoch

__all__ = [
    "bootstrap_super_admin",
    "bootstrap_tenant",
    "define_department",
    "move_department",
    "set_member",
]


def bootstrap_tenant(crm: Crm, tenant_id: TenantId, admin_id: UserId, name: str = "") -> Member:
    """Make the first tenant administrator of a new tenant (a trusted host call).

    Idempotent for the same user; refused once the tenant has another administrator.

    Raises:
        PermissionDenied: the tenant already has a different administrator.
    """

    def work(uow: UnitOfWork) -> Member:
        members = uow.repository(Member)
        admins = members.query(Query(where=F("admin").eq(AdminLevel.TENANT.value)))
        if any(m.id == admin_id for m in admins):
            return next(m for m in admins if m.id == admin_id)
        if admins:
            raise PermissionDenied(
                actor=name or admin_id, operation="administer", resource="tenant"
            )
        member = members.find(admin_id)
        if member is None:
            member = Member(id=admin_id, tenant_id=tenant_id, name=name, admin=AdminLevel.TENANT)
            members.add(member)
        else:
            member.admin = AdminLevel.TENANT
            members.save(member)
        bump_epoch(crm, uow)
        return member

    return crm.run(tenant_id, work)


def bootstrap_super_admin(crm: Crm, user_id: UserId, name: str = "") -> Member:
    """Make the first platform super-administrator (a trusted host call).

    Raises:
        PermissionDenied: a different super-administrator already exists.
    """

    def work(uow: UnitOfWork) -> Member:
        members = uow.repository(Member)
        supers = members.query()
        if supers:
            if any(m.id == user_id for m in supers):
                return next(m for m in supers if m.id == user_id)
            raise PermissionDenied(
                actor=name or user_id, operation="administer", resource="platform"
            )
        member = Member(id=user_id, tenant_id=PLATFORM_TENANT, name=name, admin=AdminLevel.SUPER)
        members.add(member)
        return member

    return crm.run(PLATFORM_TENANT, work)


def define_department(
    crm: Crm, actor: Actor, name: str, *, parent_id: UUID | None = None, id: UUID | None = None
) -> Department:
    """Create a department (or rename one, when ``id`` names an existing one).

    Raises:
        PermissionDenied: the actor does not administer the tenant.
        NotFound: the parent does not exist.
        ValidationError: the name is empty.
    """
    if not name.strip():
        raise ValidationError(entity="department", field="name", reason=reason(N_("is required")))

    def work(uow: UnitOfWork, _grants: Grants) -> Department:
        repo = uow.repository(Department)
        existing = repo.find(id) if id is not None else None
        if existing is not None:
            existing.name = name
            return repo.save(existing)
        if parent_id is not None:
            repo.get(parent_id)
        dept = Department(
            id=id or crm.new_id(), tenant_id=actor.tenant_id, name=name, parent_id=parent_id
        )
        return repo.add(dept)

    return administer(crm, actor, work, target="department")


def move_department(
    crm: Crm, actor: Actor, department_id: UUID, parent_id: UUID | None
) -> Department:
    """Move a department under another (or to the top).

    Raises:
        ValidationError: the move would put the department under itself.
    """

    def work(uow: UnitOfWork, _grants: Grants) -> Department:
        repo = uow.repository(Department)
        dept = repo.get(department_id)
        if parent_id is not None:
            repo.get(parent_id)
            policy = Policy(uow.tenant_id, departments=repo.query())
            if parent_id in policy.subtree(department_id):
                raise ValidationError(
                    entity="department",
                    field="parent_id",
                    reason=reason(N_("a department cannot be placed under itself")),
                )
        dept.parent_id = parent_id
        return repo.save(dept)

    return administer(crm, actor, work, target="department")


_UNSET: Any = object()


def set_member(
    crm: Crm,
    actor: Actor,
    user_id: UserId,
    *,
    name: str | None = None,
    department_id: UUID | None = _UNSET,
    manager_id: UserId | None = _UNSET,
    roles: Iterable[str] | None = None,
    admin: AdminLevel | None = None,
    active: bool | None = None,
) -> Member:
    """Create or change a member: department, manager, roles, admin level, active flag.

    Raises:
        PermissionDenied: the actor does not administer the tenant, or asks for
            super-administrator powers (only the host grants those).
        NotFound: the department or manager does not exist in this tenant.
        ValidationError: an unknown role, or a manager chain that loops.
    """
    admin = None if admin is None else to_member(AdminLevel, admin, entity="member", field="admin")
    if admin is AdminLevel.SUPER:
        raise PermissionDenied(actor=str(actor), operation="administer", resource="platform")

    def work(uow: UnitOfWork, _grants: Grants) -> Member:
        repo = uow.repository(Member)
        member = repo.find(user_id)
        is_new = member is None
        if member is None:
            member = Member(id=user_id, tenant_id=actor.tenant_id)
        if name is not None:
            member.name = name
        if department_id is not _UNSET:
            if department_id is not None:
                uow.repository(Department).get(department_id)
            member.department_id = department_id
        if manager_id is not _UNSET:
            if manager_id is not None:
                repo.get(manager_id)
            member.manager_id = manager_id
        if roles is not None:
            codes = tuple(dict.fromkeys(roles))
            known = {
                r.code for r in uow.repository(Role).query(Query(where=F("code").is_in(codes)))
            }
            for code in codes:
                if code not in known:
                    raise ValidationError(
                        entity="member",
                        field="roles",
                        reason=reason(N_("unknown role {code}"), code=code),
                    )
            member.roles = codes
        if admin is not None:
            member.admin = admin
        if active is not None:
            member.active = active
        if member.manager_id is not None:
            managers: dict[UUID, UUID | None] = {m.id: m.manager_id for m in repo.query()}
            managers[member.id] = member.manager_id
            boss: UUID | None = member.manager_id
            seen: set[UUID] = set()
            while boss is not None and boss not in seen:
                if boss == member.id:
                    raise ValidationError(
                        entity="member",
                        field="manager_id",
                        reason=reason(N_("the manager chain would loop")),
                    )
                seen.add(boss)
                boss = managers.get(boss)
        return repo.add(member) if is_new else repo.save(member)

    return administer(crm, actor, work, target="member")
