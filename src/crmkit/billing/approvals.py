"""Route billing documents (refunds, expense claims) through the tenant's approval flows.

When a tenant has an active approval flow for ``"refund"`` or ``"expense_claim"``,
requesting a refund or submitting an expense claim also submits it to that flow,
in the same transaction. The flow's last approval fires the document's own
``approve`` transition through the hooks registered here, inside the deciding
transaction; a rejection, return or withdrawal rejects the document (neither
machine has a way back to draft). While the flow decides, the manual
``approve_*`` / ``reject_*`` services refuse with ``DocumentLocked``. Without a
flow, :func:`~crmkit.billing.services.approve_refund` and
:func:`~crmkit.billing.services.approve_expense_claim` keep working by hand.

Submission happens inside the document's own unit of work
(:func:`crmkit.rules.approvals.submit_in`), so the document's status change and the
approval request commit together.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from crmkit.billing.flows import EXPENSE_CLAIM_FLOW, REFUND_FLOW
from crmkit.billing.model.expenses import ClaimState, ExpenseClaim
from crmkit.billing.model.receipts import Refund
from crmkit.kernel.actor import Actor
from crmkit.ports import UnitOfWork
from crmkit.rules.approvals import (
    ApprovalRequest,
    active_flow,
    decided_by,
    register_approvable,
    submit_in,
)
from crmkit.rules.permissions.directory import OrgDirectory

__all__ = [
    "EXPENSE_CLAIM_DOCUMENT",
    "REFUND_DOCUMENT",
    "register_document_hooks",
    "route_expense_claim",
    "route_refund",
]

REFUND_DOCUMENT = "refund"
EXPENSE_CLAIM_DOCUMENT = "expense_claim"


def _with_department(
    uow: UnitOfWork, actor: Actor, department: UUID | None, **values: Any
) -> dict[str, Any]:
    if department is None:
        department = OrgDirectory(uow).department_of(actor.tenant_id, actor.user_id)
    if department is not None:
        values["department"] = department
    return values


def route_refund(uow: UnitOfWork, actor: Actor, refund: Refund, now: datetime) -> bool:
    """Submit a just-requested refund to the tenant's ``"refund"`` flow, if it has one.

    Facts: ``amount`` (Money) and the requester's ``department``.

    Returns:
        Whether a flow took the refund (False: it waits for ``approve_refund``).

    Raises:
        NoApprover: a stage of the flow resolves to nobody (nothing is stored).
    """
    flow = active_flow(uow, REFUND_DOCUMENT)
    if flow is None:
        return False
    submit_in(
        uow,
        actor,
        flow=flow,
        now=now,
        document_type=REFUND_DOCUMENT,
        document_id=refund.id,
        title=refund.reason or str(refund.amount),
        facts=_with_department(uow, actor, None, amount=refund.amount),
    )
    return True


def route_expense_claim(uow: UnitOfWork, actor: Actor, claim: ExpenseClaim, now: datetime) -> bool:
    """Submit a just-submitted expense claim to the tenant's ``"expense_claim"`` flow.

    Facts: ``amount`` (the claim's total), ``department`` and
    ``needs_extra_approval`` (a line is over a limit asking for an extra stage — a
    flow stage conditioned on it plays the extra approval stage).

    Returns:
        Whether a flow took the claim (False: it waits for ``approve_expense_claim``).

    Raises:
        NoApprover: a stage of the flow resolves to nobody (nothing is stored).
    """
    flow = active_flow(uow, EXPENSE_CLAIM_DOCUMENT)
    if flow is None:
        return False
    submit_in(
        uow,
        actor,
        flow=flow,
        now=now,
        document_type=EXPENSE_CLAIM_DOCUMENT,
        document_id=claim.id,
        title=str(claim.total),
        facts=_with_department(
            uow,
            actor,
            claim.department_id,
            amount=claim.total,
            needs_extra_approval=claim.needs_extra_approval,
        ),
    )
    return True


# -- hooks: called by the approval services inside the deciding transaction ------------------


def _refund_decided(trigger: str) -> Callable[[UnitOfWork, ApprovalRequest], None]:
    def hook(uow: UnitOfWork, request: ApprovalRequest) -> None:
        repo = uow.repository(Refund)
        refund = repo.find(request.document_id)
        if refund is None:
            return  # a host's own document of that type, submitted directly: not ours
        _who, _comment, at = decided_by(request)
        event = REFUND_FLOW.fire(refund, trigger, now=at)
        repo.save(refund)
        if event is not None:
            uow.outbox.add(event)

    return hook


def _claim_approved(uow: UnitOfWork, request: ApprovalRequest) -> None:
    repo = uow.repository(ExpenseClaim)
    claim = repo.find(request.document_id)
    if claim is None:
        return  # a host's own document of that type, submitted directly: not ours
    # The flow's stages replace the claim's own extra stage: its last approval is final.
    while claim.state is not ClaimState.APPROVED:
        EXPENSE_CLAIM_FLOW.fire(claim, "approve")
    repo.save(claim)


def _claim_closed(uow: UnitOfWork, request: ApprovalRequest) -> None:
    repo = uow.repository(ExpenseClaim)
    claim = repo.find(request.document_id)
    if claim is None:
        return  # a host's own document of that type, submitted directly: not ours
    EXPENSE_CLAIM_FLOW.fire(claim, "reject")
    repo.save(claim)


def register_document_hooks() -> None:
    """(Re-)register the refund and expense-claim hooks with the approvals area.

    Called on import; call it again if something replaced the hooks of ``"refund"``
    or ``"expense_claim"`` (the registry keeps one set per document type).
    """
    # A refund or claim the flow rejects, returns or sees withdrawn is rejected for good
    # (neither state machine has a way back to a draft); a new request starts over.
    register_approvable(
        REFUND_DOCUMENT,
        on_approved=_refund_decided("approve"),
        on_closed=_refund_decided("reject"),
    )
    register_approvable(
        EXPENSE_CLAIM_DOCUMENT, on_approved=_claim_approved, on_closed=_claim_closed
    )


register_document_hooks()
