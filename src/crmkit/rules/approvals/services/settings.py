"""Reading and changing the tenant's approval settings, and the check areas make by hand.

What the setting means is explained in :mod:`crmkit.rules.approvals.model.settings`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.ports import UnitOfWork
from crmkit.rules.approvals.errors import SelfApprovalForbidden
from crmkit.rules.approvals.model.settings import ApprovalSettings, approval_settings_id
from crmkit.rules.approvals.services.flows import FLOWS
from crmkit.rules.permissions import grants_for, guarded

__all__ = ["approval_settings", "configure_approvals", "ensure_not_own"]


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
