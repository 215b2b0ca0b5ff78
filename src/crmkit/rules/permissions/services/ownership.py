"""Ownership: giving a record to another member, kept as history."""

from __future__ import annotations

from uuid import UUID

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import ValidationError, reason
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import UserId
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions.access import load_record
from crmkit.rules.permissions.guard import guarded
from crmkit.rules.permissions.model import (
    Member,
    OwnershipTransfer,
    registry,
)
from crmkit.rules.permissions.policy_cache import grants_for

__all__ = ["transfer_ownership"]


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
        record = load_record(uow, resource, record_id)
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
