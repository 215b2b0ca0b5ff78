"""The audit log of refusals, and the guard that writes it around a use case.

A denial is raised inside the use case's transaction, which then rolls back;
:func:`guarded` records it in the audit log in a transaction of its own, so the
log keeps every refusal while the refused work leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import PermissionDenied
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions.model import (
    Decision,
    Denial,
)

R = TypeVar("R")

__all__ = ["guarded", "record_denial"]


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
