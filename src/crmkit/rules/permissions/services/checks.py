"""Asking: may this actor do an operation to one stored record, and why (not)?

Both answer about the caller's own access and never show the record's data.
"""

from __future__ import annotations

from uuid import UUID

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions.access import load_record
from crmkit.rules.permissions.model import Decision
from crmkit.rules.permissions.policy_cache import grants_for

__all__ = ["check_access", "explain_access"]


def check_access(crm: Crm, actor: Actor, operation: str, resource: str, record_id: UUID) -> bool:
    """Whether the actor may do ``operation`` to one stored record (no audit entry).

    Raises:
        NotFound: no such record in the actor's tenant.
    """

    def work(uow: UnitOfWork) -> bool:
        return grants_for(uow, actor).can(
            operation, load_record(uow, resource, record_id), resource
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
        record = load_record(uow, resource, record_id)
        return grants_for(uow, actor).explain(operation, record, resource)

    return crm.run(actor.tenant_id, work)
