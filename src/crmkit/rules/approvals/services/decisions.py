"""Deciding a request: approve, reject, send back, withdraw, delegate, co-sign, unapprove.

Each is one transaction on one request (see :mod:`._common`); the request itself
refuses whoever may not make the move. Loading a request with its whole trail is
here too, as it is what an approver opens before deciding.
"""

from __future__ import annotations

from uuid import UUID

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import PermissionDenied
from crmkit.kernel.events import DomainEvent
from crmkit.ports import UnitOfWork
from crmkit.rules.approvals.model.flows import Outcome
from crmkit.rules.approvals.model.lifecycle import RequestStatus
from crmkit.rules.approvals.model.request import ApprovalRequest
from crmkit.rules.approvals.services._common import bring_in, command, decide
from crmkit.rules.approvals.services.approvable import describe_document
from crmkit.rules.approvals.services.routing import ApprovalDirectory, people_for
from crmkit.rules.permissions import grants_for, guarded

__all__ = [
    "add_cosigner",
    "approve_request",
    "delegate_request",
    "get_approval_request",
    "reject_request",
    "return_request",
    "unapprove_request",
    "withdraw_request",
]


def approve_request(
    crm: Crm, actor: Actor, request_id: UUID, *, comment: str = ""
) -> ApprovalRequest:
    """Vote to approve the request's current stage.

    Raises:
        NotFound: no such request.
        InvalidTransition: it is not in review.
        NotAnApprover: the actor is not an approver of the current stage.
        AlreadyDecided: the actor already decided this stage.
        SelfApprovalForbidden: the submitter may not approve their own document.
        ConcurrencyConflict: someone decided at the same moment; call again.
    """
    return decide(crm, actor, request_id, ApprovalRequest.approve, comment, votes=True)


def reject_request(
    crm: Crm, actor: Actor, request_id: UUID, *, comment: str = ""
) -> ApprovalRequest:
    """Vote to reject the current stage. Raises: as :func:`approve_request`."""
    return decide(crm, actor, request_id, ApprovalRequest.reject, comment, votes=True)


def return_request(
    crm: Crm, actor: Actor, request_id: UUID, *, comment: str = ""
) -> ApprovalRequest:
    """Send the document back to its submitter for changes. Raises: as :func:`approve_request`."""
    return decide(crm, actor, request_id, ApprovalRequest.send_back, comment, votes=True)


def withdraw_request(
    crm: Crm, actor: Actor, request_id: UUID, *, comment: str = ""
) -> ApprovalRequest:
    """The submitter withdraws the document from review.

    Raises:
        NotFound: no such request.
        InvalidTransition: it cannot be withdrawn in its state.
        PermissionDenied: the actor is not the submitter.
    """
    return decide(crm, actor, request_id, ApprovalRequest.withdraw, comment)


def delegate_request(
    crm: Crm, actor: Actor, request_id: UUID, to: UUID, *, comment: str = ""
) -> ApprovalRequest:
    """Hand the actor's place at the current stage to ``to``.

    Raises:
        As :func:`approve_request`; ``AlreadyDecided`` if ``to`` already sits in the stage.
    """
    return bring_in(crm, actor, request_id, ApprovalRequest.delegate, to, comment)


def add_cosigner(
    crm: Crm, actor: Actor, request_id: UUID, cosigner: UUID, *, comment: str = ""
) -> ApprovalRequest:
    """Add ``cosigner`` to the current stage (加签). Raises: as :func:`delegate_request`."""
    return bring_in(crm, actor, request_id, ApprovalRequest.add_cosigner, cosigner, comment)


def _check_may_unapprove(
    request: ApprovalRequest, user: UUID, directory: ApprovalDirectory | None
) -> None:
    if request.unapprovers:
        allowed = people_for(
            request.unapprovers, request.tenant_id, request.submitter_id, directory
        )
    else:
        last = len(request.route) - 1
        allowed = [
            d.approver_id for d in request.stage_decisions(last) if d.outcome is Outcome.APPROVE
        ]
    if user in allowed:
        return
    # Someone who took part in the request (submitted it, decided a stage) knows its
    # state already: they are told it is not approved. Anyone else is refused before
    # the state is looked at, so a refusal reveals nothing about the request.
    took_part = user == request.submitter_id or any(e.actor_id == user for e in request.trail)
    if request.status is not RequestStatus.APPROVED and took_part:
        return
    raise PermissionDenied(
        actor=user, operation="unapprove", resource=f"{request.document_type} {request.title}"
    )


def unapprove_request(
    crm: Crm,
    actor: Actor,
    request_id: UUID,
    *,
    directory: ApprovalDirectory | None = None,
    comment: str = "",
) -> ApprovalRequest:
    """Reverse an approval (反审核), so the document can be edited and resubmitted.

    Who may: the flow's ``unapprovers`` (resolved through ``directory``), or — when
    the flow names none — whoever approved the last stage.

    Raises:
        NotFound: no such request.
        InvalidTransition: it is not approved.
        PermissionDenied: the actor may not unapprove it.
    """

    def act(request: ApprovalRequest) -> list[DomainEvent]:
        # Who may comes before the request's state: a stranger learns nothing of it.
        _check_may_unapprove(request, actor.user_id, directory)
        return request.unapprove(actor.user_id, now=crm.now(), comment=comment)

    return command(crm, actor, request_id, act)


def _concerns(request: ApprovalRequest, user: UUID) -> bool:
    """Whether ``user`` submitted the request or sits (or sat) in one of its stages."""
    if user == request.submitter_id:
        return True
    reached = request.route[: request.stage + 1]
    if any(user in stage.approvers for stage in reached):
        return True
    if any(d.approver_id == user for d in request.decisions):
        return True
    return any(e.target_id == user or e.actor_id == user for e in request.trail)


def get_approval_request(crm: Crm, actor: Actor, request_id: UUID) -> ApprovalRequest:
    """Load one request with its route, votes and trail.

    The request tells the document's title, amount and every comment, so it is shown to
    the people it concerns only: its submitter, the approvers of its stages so far
    (including delegates and co-signers), the tenant administrator, and whoever may
    view the underlying document (when its area describes it).

    Raises:
        NotFound: no such request in the actor's tenant.
        PermissionDenied: the request does not concern the actor.
    """

    def work(uow: UnitOfWork) -> ApprovalRequest:
        request = uow.repository(ApprovalRequest).get(request_id)
        if _concerns(request, actor.user_id):
            return request
        grants = grants_for(uow, actor)
        if grants.is_tenant_admin:
            return request
        subject = describe_document(uow, request.document_type, request.document_id, required=False)
        if subject is not None and grants.can("view", subject.record, subject.resource):
            return request
        raise PermissionDenied(actor=grants.label, operation="view", resource=request.document_type)

    return guarded(crm, actor, work, read_only=True)
