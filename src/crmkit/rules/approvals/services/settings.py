"""The tenant's approval settings: may anyone approve their own document?

A document's owner (who drew up the quote, asked for the refund, claimed the
expenses) or the person who submitted it for review is the one party whose "yes"
proves nothing, so by default nobody approves their own document — whether an
approval flow decides it or someone with the ``approve`` grant decides it by hand.
A very small company where the boss does everything may say otherwise, explicitly,
for the whole tenant (:func:`configure_approvals`).

Inside a flow the submitter is left out of every stage (see
:func:`~crmkit.rules.approvals.resolve_route`); a flow's own ``allow_self_approval``
option opts that one flow out. By hand, the areas call :func:`ensure_not_own` before
they record an approval.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import ClassVar

import attrs

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId
from crmkit.ports import UnitOfWork
from crmkit.rules.approvals.errors import SelfApprovalForbidden
from crmkit.rules.approvals.services.submission import FLOWS
from crmkit.rules.permissions import grants_for, guarded

__all__ = [
    "ApprovalSettings",
    "approval_settings",
    "approval_settings_id",
    "configure_approvals",
    "ensure_not_own",
]

_SETTINGS = uuid.UUID("7a4c1c55-3b8e-4f43-9a57-0d6e2f1b5c21")


def approval_settings_id(tenant_id: TenantId) -> uuid.UUID:
    """Each tenant has one approval settings record with this id."""
    return uuid.uuid5(_SETTINGS, str(tenant_id))


@attrs.define(eq=False)
class ApprovalSettings:
    """A tenant's approval settings.

    Attributes:
        id: :func:`approval_settings_id` of the tenant.
        tenant_id: the owning tenant.
        allow_self_approval: whether the owner or submitter of a document may approve it
            by hand (off by default; flows decide by their own option).
        version: optimistic-locking counter.
    """

    entity_name: ClassVar[str] = N_("approval settings")

    id: uuid.UUID
    tenant_id: TenantId
    allow_self_approval: bool = False
    version: int = 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApprovalSettings) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)


def approval_settings(uow: UnitOfWork) -> ApprovalSettings:
    """The tenant's settings (the defaults when nobody configured them)."""
    key = approval_settings_id(uow.tenant_id)
    found = uow.repository(ApprovalSettings).find(key)
    return found or ApprovalSettings(id=key, tenant_id=uow.tenant_id)


def configure_approvals(crm: Crm, actor: Actor, *, allow_self_approval: bool) -> ApprovalSettings:
    """Set whether owners and submitters may approve their own documents by hand.

    Administration: the tenant administrator, or whoever holds ``edit`` on approval flows.

    Raises:
        PermissionDenied: the actor may not administer approvals.
    """

    def work(uow: UnitOfWork) -> ApprovalSettings:
        grants_for(uow, actor).require_operation("edit", FLOWS)
        repo = uow.repository(ApprovalSettings)
        current = approval_settings(uow)
        current.allow_self_approval = allow_self_approval
        return repo.save(current) if current.version else repo.add(current)

    return guarded(crm, actor, work)


def ensure_not_own(
    uow: UnitOfWork, approver: Actor, owners: Iterable[uuid.UUID | None], document: str
) -> None:
    """Refuse an approval by hand from the document's owner or submitter.

    Args:
        approver: who is approving.
        owners: the document's owner, submitter, requester, claimant... (``None`` ignored).
        document: how the error names the document ("quote QT-2026-00001").

    Raises:
        SelfApprovalForbidden: the approver is one of ``owners`` and the tenant does not
            allow self-approval.
    """
    if approver.user_id not in {o for o in owners if o is not None}:
        return
    if approval_settings(uow).allow_self_approval:
        return
    raise SelfApprovalForbidden(actor=approver.name or approver.user_id, resource=document)
