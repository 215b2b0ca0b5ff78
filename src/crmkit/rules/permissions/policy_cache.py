"""Reading the policy and compiling an actor's grants, cached per policy epoch.

This is the mechanism every use case starts with (:func:`grants_for`); it sits beside
the model, below the permission services and read models that call it.

Every change to the policy saves the tenant's :class:`PolicyEpoch` in the same
transaction. Compiled grants are cached per (storage, tenant, user) under the
epoch they were compiled at; a use case reads the epoch (one primary-key read)
and recompiles only when it moved — in this process or any other.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any
from uuid import UUID

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.query import F, Query, or_
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions.model import (
    Department,
    GranteeKind,
    Grants,
    Member,
    Policy,
    PolicyEpoch,
    RecordShare,
    Role,
    SharingRule,
    compile_grants,
)

__all__ = ["bump_epoch", "grants_for", "invalidate_cache", "load_policy"]

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


def bump_epoch(crm: Crm, uow: UnitOfWork) -> None:
    """Move the tenant's policy epoch in ``uow``: every cached grant of the tenant is stale.

    Every service that changes the policy calls it in the same unit of work, so the
    change and the new epoch commit (or roll back) together.
    """
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
