"""Permission use cases: administering the policy, and checking it inside other use cases.

Checking, from another area's service::

    def work(uow):
        grants = grants_for(uow, actor)            # compiled once, cached per epoch
        customer = uow.repository(Customer).get(customer_id)
        grants.require("edit", customer)           # PermissionDenied with the reasons
        grants.check_writable("customer", changes)
        ...
    return guarded(crm, actor, work)               # crm.run + audit log of denials

A denial is raised inside the use case's transaction, which then rolls back;
:func:`guarded` records it in the audit log in a transaction of its own, so the
log keeps every refusal while the refused work leaves nothing behind.

Secure default: a tenant nobody configured denies everything. A host creating a
tenant calls :func:`bootstrap_tenant` once to make its first tenant administrator
(the host owns login and tenant creation, so this call is trusted), and that
administrator defines departments, roles and members through the services here.

Every change to the policy saves the tenant's :class:`PolicyEpoch` in the same
transaction. Compiled grants are cached per (storage, tenant, user) under the
epoch they were compiled at; a use case reads the epoch (one primary-key read)
and recompiles only when it moved — in this process or any other.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar
from uuid import UUID

import attrs

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import NotFound, PermissionDenied, ValidationError, reason
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.limits import expect_type, to_member
from crmkit.kernel.query import F, Query, or_
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions.evaluator import Decision, Grants, Policy, compile_grants
from crmkit.rules.permissions.model import (
    PLATFORM_TENANT,
    Access,
    AdminLevel,
    Denial,
    Department,
    FieldRule,
    Grant,
    GranteeKind,
    Member,
    OwnershipTransfer,
    PolicyEpoch,
    RecordShare,
    Role,
    SharingRule,
    registry,
)

__all__ = [
    "bootstrap_super_admin",
    "bootstrap_tenant",
    "check_access",
    "define_department",
    "define_role",
    "define_sharing_rule",
    "delete_role",
    "delete_sharing_rule",
    "explain_access",
    "grants_for",
    "guarded",
    "invalidate_cache",
    "load_policy",
    "move_department",
    "record_denial",
    "set_member",
    "share_record",
    "transfer_ownership",
    "unshare_record",
]

R = TypeVar("R")

# -- the per-process cache of compiled grants --------------------------------------------


class _Cache:
    """Compiled grants and policies per storage, keyed by the epoch they were built at."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._grants: weakref.WeakKeyDictionary[Any, dict[tuple[UUID, UUID], Grants]] = (
            weakref.WeakKeyDictionary()
        )
        self._policies: weakref.WeakKeyDictionary[Any, dict[UUID, Policy]] = (
            weakref.WeakKeyDictionary()
        )

    def grants(self, storage: Any, tenant: UUID, user: UUID, epoch: UUID | None) -> Grants | None:
        with self._lock:
            found = self._grants.get(storage, {}).get((tenant, user))
        return found if found is not None and found.epoch == epoch else None

    def put_grants(self, storage: Any, grants: Grants) -> None:
        with self._lock:
            per = self._grants.setdefault(storage, {})
            per[(grants.tenant_id, grants.user_id)] = grants

    def policy(self, storage: Any, tenant: UUID, epoch: UUID | None) -> Policy | None:
        with self._lock:
            found = self._policies.get(storage, {}).get(tenant)
        return found if found is not None and found.epoch == epoch else None

    def put_policy(self, storage: Any, policy: Policy) -> None:
        with self._lock:
            self._policies.setdefault(storage, {})[policy.tenant_id] = policy

    def clear(self, storage: Any = None, tenant: UUID | None = None) -> None:
        with self._lock:
            stores = [storage] if storage is not None else list(self._grants.keys())
            for store in stores:
                grants = self._grants.get(store, {})
                policies = self._policies.get(store, {})
                for pair in [k for k in grants if tenant is None or k[0] == tenant]:
                    del grants[pair]
                for key in [k for k in policies if tenant is None or k == tenant]:
                    del policies[key]


_CACHE = _Cache()


def invalidate_cache(storage: Any = None, tenant_id: UUID | None = None) -> None:
    """Drop cached grants (all, one storage's, or one tenant's).

    Policy changes made through these services invalidate by moving the epoch; call
    this only after editing policy tables behind crmkit's back.
    """
    _CACHE.clear(storage, tenant_id)


def _storage_of(uow: UnitOfWork) -> Any:
    return getattr(uow, "storage", None) or getattr(uow, "_storage", None) or type(uow)


def _epoch(uow: UnitOfWork) -> UUID | None:
    found = uow.repository(PolicyEpoch).find(uow.tenant_id)
    return None if found is None else found.token


def _bump(crm: Crm, uow: UnitOfWork) -> None:
    repo = uow.repository(PolicyEpoch)
    epoch = repo.find(uow.tenant_id)
    token = crm.new_id()
    if epoch is None:
        repo.add(PolicyEpoch(id=uow.tenant_id, tenant_id=uow.tenant_id, token=token, changes=1))
    else:
        epoch.token = token
        epoch.changes += 1
        repo.save(epoch)


def load_policy(uow: UnitOfWork, *, shares_for: Member | None = None) -> Policy:
    """Read the tenant's policy (and, for one member, the shares they receive)."""
    epoch = _epoch(uow)
    storage = _storage_of(uow)
    base = _CACHE.policy(storage, uow.tenant_id, epoch)
    if base is None:
        base = Policy(
            uow.tenant_id,
            departments=uow.repository(Department).query(),
            members=uow.repository(Member).query(),
            roles=uow.repository(Role).query(),
            sharing_rules=uow.repository(SharingRule).query(),
            epoch=epoch,
        )
        _CACHE.put_policy(storage, base)
    if shares_for is None:
        return base
    receivers = [F("grantee_kind").eq(GranteeKind.USER.value) & F("grantee").eq(str(shares_for.id))]
    if shares_for.roles:
        receivers.append(
            F("grantee_kind").eq(GranteeKind.ROLE.value) & F("grantee").is_in(shares_for.roles)
        )
    if shares_for.department_id is not None:
        above = [str(d) for d in base.ancestors(shares_for.department_id)]
        receivers.append(
            F("grantee_kind").eq(GranteeKind.DEPARTMENT.value) & F("grantee").is_in(above)
        )
    shares = uow.repository(RecordShare).query(Query(where=or_(*receivers)))
    return Policy(
        uow.tenant_id,
        departments=base.departments.values(),
        members=base.members.values(),
        roles=base.roles.values(),
        sharing_rules=base.sharing_rules,
        shares=shares,
        epoch=epoch,
    )


def grants_for(uow: UnitOfWork, actor: Actor) -> Grants:
    """The actor's compiled grants in the unit of work's tenant (cached per policy epoch).

    An actor whose tenant differs from the unit of work's gets no grants at all.
    """
    if actor.tenant_id != uow.tenant_id:
        return compile_grants(Policy(uow.tenant_id), actor.user_id, label=str(actor))
    storage = _storage_of(uow)
    epoch = _epoch(uow)
    cached = _CACHE.grants(storage, uow.tenant_id, actor.user_id, epoch)
    if cached is not None:
        return cached
    member = uow.repository(Member).find(actor.user_id)
    policy = load_policy(uow, shares_for=member)
    grants = compile_grants(policy, actor.user_id, label=actor.name or None)
    _CACHE.put_grants(storage, grants)
    return grants


# -- audit log of denials ----------------------------------------------------------------


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


# -- bootstrap ---------------------------------------------------------------------------


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
        _bump(crm, uow)
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


# -- departments and members -------------------------------------------------------------


def define_department(
    crm: Crm, actor: Actor, name: str, *, parent_id: UUID | None = None, id: UUID | None = None
) -> Department:
    """Create a department (or rename one, when ``id`` names an existing one).

    Raises:
        PermissionDenied: the actor does not administer the tenant.
        NotFound: the parent does not exist.
        ValidationError: the name is empty.
    """
    expect_type(name, str, field="name")
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

    return _administer(crm, actor, work, target="department")


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

    return _administer(crm, actor, work, target="department")


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

    return _administer(crm, actor, work, target="member")


# -- roles -------------------------------------------------------------------------------


def define_role(
    crm: Crm,
    actor: Actor,
    code: str,
    *,
    name: str = "",
    grants: Sequence[Grant] = (),
    field_rules: Sequence[FieldRule] = (),
) -> Role:
    """Create a role, or replace the grants and field rules of the role with this code.

    Everything is checked against the resource registry here, at definition time.

    Raises:
        ValidationError: an unknown resource, operation or field, a bad filter, or a
            (resource, operation) granted twice with different scopes.
        PermissionDenied: the actor does not administer the tenant.
    """
    expect_type(code, str, field="code")
    expect_type(name, str, field="name")
    candidate = Role(
        id=UUID(int=0),
        tenant_id=actor.tenant_id,
        code=code,
        name=name,
        grants=tuple(grants),
        field_rules=tuple(field_rules),
    )
    candidate.validate(registry)

    def work(uow: UnitOfWork, _grants: Grants) -> Role:
        repo = uow.repository(Role)
        found = repo.query(Query(where=F("code").eq(code)))
        if found:
            role = found[0]
            role.name, role.grants, role.field_rules = name, candidate.grants, candidate.field_rules
            return repo.save(role)
        return repo.add(attrs.evolve(candidate, id=crm.new_id()))

    return _administer(crm, actor, work, target="role")


def delete_role(crm: Crm, actor: Actor, code: str) -> None:
    """Delete a role and take it away from every member holding it.

    Raises:
        NotFound: no role with that code.
    """
    expect_type(code, str, field="code")

    def work(uow: UnitOfWork, _grants: Grants) -> None:
        repo = uow.repository(Role)
        found = repo.query(Query(where=F("code").eq(code)))
        if not found:
            raise NotFound(entity="role", id=code)
        members = uow.repository(Member)
        for member in members.query():
            if code in member.roles:
                member.roles = tuple(r for r in member.roles if r != code)
                members.save(member)
        repo.delete(found[0])

    _administer(crm, actor, work, target="role")


# -- sharing -----------------------------------------------------------------------------


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


def share_record(
    crm: Crm,
    actor: Actor,
    resource: str,
    record_id: UUID,
    *,
    grantee_kind: GranteeKind | str,
    grantee: UUID | str,
    access: Access | str = Access.READ,
) -> RecordShare:
    """Share one record with a user, a role or a department.

    The actor needs the ``share`` operation on the record (owners usually have it).

    Raises:
        PermissionDenied: the actor may not share this record.
        NotFound: no such record or grantee.
    """
    kind = to_member(GranteeKind, grantee_kind, entity="share", field="grantee_kind")
    now = crm.now()

    def work(uow: UnitOfWork) -> RecordShare:
        grants = grants_for(uow, actor)
        record = _load_record(uow, resource, record_id)
        grants.require("share", record, resource)
        _check_grantee(uow, kind, str(grantee))
        share = RecordShare(
            id=crm.ids.new(now),
            tenant_id=actor.tenant_id,
            resource=resource,
            record_id=record_id,
            grantee_kind=kind,
            grantee=str(grantee),
            access=to_member(Access, access, entity="share", field="access"),
            shared_by=actor.user_id,
            shared_at=now,
        )
        uow.repository(RecordShare).add(share)
        _bump(crm, uow)
        return share

    return guarded(crm, actor, work)


def unshare_record(crm: Crm, actor: Actor, share_id: UUID) -> None:
    """Withdraw a share (the actor needs ``share`` on the record, or to be its sharer).

    Raises:
        NotFound: no such share.
        PermissionDenied: the actor may not withdraw it.
    """

    def work(uow: UnitOfWork) -> None:
        grants = grants_for(uow, actor)
        repo = uow.repository(RecordShare)
        share = repo.get(share_id)
        if share.shared_by != actor.user_id:
            record = _load_record(uow, share.resource, share.record_id)
            grants.require("share", record, share.resource)
        repo.delete(share)
        _bump(crm, uow)

    guarded(crm, actor, work)


def define_sharing_rule(
    crm: Crm,
    actor: Actor,
    name: str,
    *,
    resource: str,
    condition: Any,
    grantee_kind: GranteeKind | str,
    grantee: UUID | str,
    access: Access | str = Access.READ,
) -> SharingRule:
    """Share every record of ``resource`` matching ``condition`` with a grantee.

    Raises:
        ValidationError: unknown resource or field in the condition.
        NotFound: no such grantee.
        PermissionDenied: the actor does not administer the tenant.
    """
    rule = SharingRule(
        id=UUID(int=0),
        tenant_id=actor.tenant_id,
        name=name,
        resource=resource,
        condition=condition,
        grantee_kind=to_member(
            GranteeKind, grantee_kind, entity="sharing_rule", field="grantee_kind"
        ),
        grantee=str(grantee),
        access=to_member(Access, access, entity="sharing_rule", field="access"),
    )
    rule.validate(registry)

    def work(uow: UnitOfWork, _grants: Grants) -> SharingRule:
        _check_grantee(uow, rule.grantee_kind, rule.grantee)
        return uow.repository(SharingRule).add(attrs.evolve(rule, id=crm.new_id()))

    return _administer(crm, actor, work, target="sharing_rule")


def delete_sharing_rule(crm: Crm, actor: Actor, rule_id: UUID) -> None:
    """Delete a sharing rule.

    Raises:
        NotFound: no such rule.
    """

    def work(uow: UnitOfWork, _grants: Grants) -> None:
        repo = uow.repository(SharingRule)
        repo.delete(repo.get(rule_id))

    _administer(crm, actor, work, target="sharing_rule")


# -- ownership ---------------------------------------------------------------------------


def transfer_ownership(
    crm: Crm, actor: Actor, resource: str, record_id: UUID, to_user: UserId, *, note: str = ""
) -> OwnershipTransfer:
    """Give a record to another member, keeping the change in the ownership history.

    The record's department follows its new owner. The actor needs ``transfer`` on
    the record.

    Raises:
        PermissionDenied: the actor may not transfer it.
        NotFound: no such record, or the new owner is not a member.
        ValidationError: the new owner is deactivated.
    """
    now = crm.now()

    def work(uow: UnitOfWork) -> OwnershipTransfer:
        grants = grants_for(uow, actor)
        spec = registry.get(resource)
        record = _load_record(uow, resource, record_id)
        grants.require("transfer", record, resource)
        new_owner = uow.repository(Member).get(to_user)
        if not new_owner.active:
            raise ValidationError(
                entity=resource,
                field=spec.owner_field,
                reason=reason(N_("the new owner is deactivated")),
            )
        previous = getattr(record, spec.owner_field)
        setattr(record, spec.owner_field, to_user)
        if hasattr(record, spec.department_field):
            setattr(record, spec.department_field, new_owner.department_id)
        assert spec.entity is not None
        uow.repository(spec.entity).save(record)
        transfer = OwnershipTransfer(
            id=crm.ids.new(now),
            tenant_id=actor.tenant_id,
            resource=resource,
            record_id=record_id,
            from_owner=previous,
            to_owner=to_user,
            transferred_by=actor.user_id,
            transferred_at=now,
            note=note,
        )
        return uow.repository(OwnershipTransfer).add(transfer)

    return guarded(crm, actor, work)


# -- asking --------------------------------------------------------------------------------


def check_access(crm: Crm, actor: Actor, operation: str, resource: str, record_id: UUID) -> bool:
    """Whether the actor may do ``operation`` to one stored record (no audit entry).

    Raises:
        NotFound: no such record in the actor's tenant.
    """

    def work(uow: UnitOfWork) -> bool:
        return grants_for(uow, actor).can(
            operation, _load_record(uow, resource, record_id), resource
        )

    return crm.run(actor.tenant_id, work)


def explain_access(
    crm: Crm, actor: Actor, operation: str, resource: str, record_id: UUID
) -> Decision:
    """Why the actor may or may not do ``operation`` to a record ("why can't I see this?").

    The answer names grants, scopes, shares and rules, never the record's data.

    Raises:
        NotFound: no such record in the actor's tenant.
    """

    def work(uow: UnitOfWork) -> Decision:
        record = _load_record(uow, resource, record_id)
        return grants_for(uow, actor).explain(operation, record, resource)

    return crm.run(actor.tenant_id, work)
