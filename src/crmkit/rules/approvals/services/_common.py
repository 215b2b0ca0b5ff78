"""What every approval command does after the domain has spoken: store, sync, notify.

Every command loads the request, lets the domain check and record it, saves it
under the optimistic lock, keeps the approval inbox in step, calls the document
type's hooks and puts the events in the outbox — all in one unit of work. When
two approvers decide the same request at the same moment the second save raises
``ConcurrencyConflict``; calling again reloads and sees the stage as it now is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.query import F, Query
from crmkit.ports import UnitOfWork
from crmkit.rules.approvals.errors import SelfApprovalForbidden
from crmkit.rules.approvals.model.lifecycle import RequestStatus
from crmkit.rules.approvals.model.request import ApprovalRequest
from crmkit.rules.approvals.model.tasks import ApprovalTask, tasks_for
from crmkit.rules.approvals.services.approvable import describe_document, notify_hooks

__all__ = ["bring_in", "command", "decide", "store"]


def sync_tasks(uow: UnitOfWork, request: ApprovalRequest) -> None:
    repo = uow.repository(ApprovalTask)
    wanted = {task.id: task for task in tasks_for(request)}
    existing = repo.query(Query(F("request_id").eq(request.id)))
    for task in existing:
        if task.id in wanted:
            current = wanted.pop(task.id)
            if task.due_at != current.due_at:
                task.due_at = current.due_at
                repo.save(task)
        else:
            repo.delete(task)
    repo.add_many(list(wanted.values()))


def store(
    uow: UnitOfWork,
    request: ApprovalRequest,
    before: RequestStatus,
    events: Sequence[DomainEvent],
    *,
    new: bool = False,
) -> ApprovalRequest:
    repo = uow.repository(ApprovalRequest)
    if new:
        repo.add(request)
    else:
        repo.save(request)
    sync_tasks(uow, request)
    notify_hooks(uow, before, request)
    uow.outbox.add(*events)
    return request


def not_the_owner(uow: UnitOfWork, request: ApprovalRequest, user: UUID) -> None:
    """Refuse ``user`` a place or a vote in the review of a document they own.

    The request itself knows its submitter (and refuses them); the owner comes from
    the document as stored, when its area describes it.

    Raises:
        SelfApprovalForbidden: ``user`` owns the document and the flow does not allow
            self-approval.
    """
    if request.allow_self_approval:
        return
    subject = describe_document(uow, request.document_type, request.document_id, required=False)
    if subject is not None and subject.owner_id == user:
        raise SelfApprovalForbidden(actor=user, resource=request.document_type)


def command(
    crm: Crm,
    actor: Actor,
    request_id: UUID,
    act: Callable[[ApprovalRequest], list[DomainEvent]],
    *,
    newcomer: UUID | None = None,
    votes: bool = False,
) -> ApprovalRequest:
    def work(uow: UnitOfWork) -> ApprovalRequest:
        request = uow.repository(ApprovalRequest).get(request_id)
        if votes:
            not_the_owner(uow, request, actor.user_id)
        if newcomer is not None:
            not_the_owner(uow, request, newcomer)
        before = request.status
        events = act(request)
        return store(uow, request, before, events)

    return crm.run(actor.tenant_id, work)


def decide(
    crm: Crm,
    actor: Actor,
    request_id: UUID,
    verb: Callable[..., list[DomainEvent]],
    comment: str,
    *,
    votes: bool = False,
) -> ApprovalRequest:
    """Run one of the request's own moves (``ApprovalRequest.approve``, ``.withdraw``...)
    for the actor, now, with their comment: the commands that take nothing else."""
    return command(
        crm,
        actor,
        request_id,
        lambda r: verb(r, actor.user_id, now=crm.now(), comment=comment),
        votes=votes,
    )


def bring_in(
    crm: Crm,
    actor: Actor,
    request_id: UUID,
    verb: Callable[..., list[DomainEvent]],
    newcomer: UUID,
    comment: str,
) -> ApprovalRequest:
    """Run a move of the request that seats ``newcomer`` at the current stage
    (``ApprovalRequest.delegate``, ``.add_cosigner``) for the actor, now."""
    return command(
        crm,
        actor,
        request_id,
        lambda r: verb(r, actor.user_id, newcomer, now=crm.now(), comment=comment),
        newcomer=newcomer,
    )
