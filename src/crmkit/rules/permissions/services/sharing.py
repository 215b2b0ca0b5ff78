"""Sharing: one record with a user, a role or a department, and rule-based sharing."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import attrs

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import NotFound
from crmkit.kernel.limits import to_member
from crmkit.kernel.query import F, Query
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions.access import load_record
from crmkit.rules.permissions.guard import administer, guarded
from crmkit.rules.permissions.model import (
    Access,
    Department,
    GranteeKind,
    Grants,
    Member,
    RecordShare,
    Role,
    SharingRule,
    registry,
)
from crmkit.rules.permissions.policy_cache import bump_epoch, grants_for

__all__ = [
    "define_sharing_rule",
    "delete_sharing_rule",
    "share_record",
    "unshare_record",
]


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
        record = load_record(uow, resource, record_id)
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
        bump_epoch(crm, uow)
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
            record = load_record(uow, share.resource, share.record_id)
            grants.require("share", record, share.resource)
        repo.delete(share)
        bump_epoch(crm, uow)

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

    return administer(crm, actor, work, target="sharing_rule")


def delete_sharing_rule(crm: Crm, actor: Actor, rule_id: UUID) -> None:
    """Delete a sharing rule.

    Raises:
        NotFound: no such rule.
    """

    def work(uow: UnitOfWork, _grants: Grants) -> None:
        repo = uow.repository(SharingRule)
        repo.delete(repo.get(rule_id))

    administer(crm, actor, work, target="sharing_rule")
