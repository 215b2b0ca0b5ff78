"""Approval use cases: each function is one transaction (batches: one per document).

Every command loads the request, lets the domain check and record it, saves it
under the optimistic lock, keeps the approval inbox in step, calls the document
type's hooks and puts the events in the outbox — all in one unit of work. When
two approvers decide the same request at the same moment the second save raises
``ConcurrencyConflict``; calling again reloads and sees the stage as it now is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import (
    ConcurrencyConflict,
    CrmError,
    NotFound,
    PermissionDenied,
    ValidationError,
    reason,
)
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId
from crmkit.kernel.query import F, Query
from crmkit.ports import UnitOfWork
from crmkit.rules.approvals.approvable import ApprovalSubject, describe_document, notify_hooks
from crmkit.rules.approvals.directory import ApprovalDirectory
from crmkit.rules.approvals.errors import NoApprover, SelfApprovalForbidden
from crmkit.rules.approvals.model import (
    ApprovalFlow,
    ApprovalFlowId,
    ApproverKind,
    Approvers,
    Facts,
    FlowStage,
    Outcome,
    RequestStatus,
    Rule,
)
from crmkit.rules.approvals.request import (
    AlertKind,
    ApprovalRequest,
    ApprovalTask,
    RouteStage,
    request_id_for,
    tasks_for,
)
from crmkit.rules.permissions import grants_for, guarded, register_resource
from crmkit.rules.permissions.directory import OrgDirectory

__all__ = [
    "BatchItem",
    "BatchResult",
    "ScanResult",
    "active_flow",
    "add_cosigner",
    "approve_request",
    "batch_approve",
    "batch_unapprove",
    "decided_by",
    "define_flow",
    "delegate_request",
    "document_hook",
    "get_approval_request",
    "get_flow",
    "reject_request",
    "resolve_route",
    "return_request",
    "scan_overdue_approvals",
    "set_flow_active",
    "submit_for_approval",
    "submit_if_flow",
    "submit_in",
    "unapprove_request",
    "urge_request",
    "withdraw_request",
]


# -- flows -----------------------------------------------------------------------------


# Defining and switching flows is administration: the tenant administrator, or whoever
# holds "edit" on approval flows.
FLOWS = "approval_flow"
register_resource(FLOWS, entity=ApprovalFlow, operations=("view", "edit"))


def define_flow(
    crm: Crm,
    actor: Actor,
    *,
    name: str,
    document_type: str,
    stages: Sequence[FlowStage],
    **options: Any,
) -> ApprovalFlow:
    """Store a new approval flow for a document type.

    Args:
        name: shown to users.
        document_type: the documents it approves.
        stages: the stages in order.
        **options: other :class:`ApprovalFlow` fields (``allow_self_approval``,
            ``urge_interval_minutes``, ``calendar``, ``unapprovers``).

    Raises:
        ValidationError: a stage or option breaks a rule; nothing is stored.
    """
    flow = ApprovalFlow(
        id=ApprovalFlowId(crm.new_id()),
        tenant_id=actor.tenant_id,
        name=name,
        document_type=document_type,
        stages=tuple(stages),
        **options,
    )

    def work(uow: UnitOfWork) -> ApprovalFlow:
        grants_for(uow, actor).require_operation("edit", FLOWS)
        return uow.repository(ApprovalFlow).add(flow)

    return guarded(crm, actor, work)


def get_flow(crm: Crm, actor: Actor, flow_id: UUID) -> ApprovalFlow:
    """Load a flow (the tenant administrator, or whoever holds ``view`` on approval flows).

    Raises:
        NotFound: no such flow in the actor's tenant.
        PermissionDenied: the actor may not view it.
    """

    def work(uow: UnitOfWork) -> ApprovalFlow:
        flow = uow.repository(ApprovalFlow).get(flow_id)
        grants_for(uow, actor).require("view", flow, FLOWS)
        return flow

    return guarded(crm, actor, work, read_only=True)


def set_flow_active(crm: Crm, actor: Actor, flow_id: UUID, active: bool) -> ApprovalFlow:
    """Switch a flow on or off for new submissions (requests in review keep their route)."""

    def work(uow: UnitOfWork) -> ApprovalFlow:
        grants_for(uow, actor).require_operation("edit", FLOWS)
        repo = uow.repository(ApprovalFlow)
        flow = repo.get(flow_id)
        flow.active = active
        return repo.save(flow)

    return guarded(crm, actor, work)


def _flow_for(uow: UnitOfWork, document_type: str, flow_id: UUID | None) -> ApprovalFlow:
    repo = uow.repository(ApprovalFlow)
    if flow_id is not None:
        return repo.get(flow_id)
    found = repo.query(Query(F("document_type").eq(document_type) & F("active").eq(True), limit=2))
    if len(found) != 1:
        # None, or several: the caller must say which flow (never guess between two).
        raise NotFound(entity="approval flow", id=document_type)
    return found[0]


# -- routing ---------------------------------------------------------------------------


def _select(
    selector: Approvers,
    tenant_id: TenantId,
    submitter: UUID,
    directory: ApprovalDirectory | None,
) -> list[UUID]:
    if selector.kind is ApproverKind.USER:
        return list(selector.user_ids)
    if directory is None:
        return []
    if selector.kind is ApproverKind.ROLE:
        return directory.members_of_role(tenant_id, selector.role or "")
    if selector.kind is ApproverKind.DEPARTMENT_HEAD:
        department = directory.department_of(tenant_id, submitter)
        head = None if department is None else directory.department_head(tenant_id, department)
        return [] if head is None else [head]
    manager = directory.manager_of(tenant_id, submitter)
    if selector.kind is ApproverKind.MANAGERS_MANAGER and manager is not None:
        manager = directory.manager_of(tenant_id, manager)
    return [] if manager is None else [manager]


def _people(
    selectors: Iterable[Approvers],
    tenant_id: TenantId,
    submitter: UUID,
    directory: ApprovalDirectory | None,
) -> list[UUID]:
    found: list[UUID] = []
    for selector in selectors:
        for person in _select(selector, tenant_id, submitter, directory):
            if person not in found:
                found.append(person)
    return found


def resolve_route(
    flow: ApprovalFlow,
    facts: Facts,
    submitter: UUID,
    directory: ApprovalDirectory | None,
    *,
    owners: Iterable[UUID] = (),
) -> tuple[RouteStage, ...]:
    """Turn a flow into the stages and people a document with these facts goes to.

    Stages whose condition is false are skipped. Unless the flow allows
    self-approval the submitter and the document's ``owners`` are left out of every
    stage, whatever its approver kind, and a stage left empty by that goes to the
    submitter's manager (unless that is an owner too).

    Raises:
        NoApprover: a stage resolves to nobody, or to fewer people than its quorum.
    """
    own = {submitter, *owners}
    route = []
    for stage in flow.stages_for(facts):
        people = _people(stage.approvers, flow.tenant_id, submitter, directory)
        if not flow.allow_self_approval and own & set(people):
            people = [p for p in people if p not in own]
            if not people:
                people = _select(Approvers.manager(), flow.tenant_id, submitter, directory)
                people = [p for p in people if p not in own]
        if not people or (stage.rule is Rule.N_OF_M and len(people) < (stage.quorum or 1)):
            raise NoApprover(flow=flow.name, stage=stage.name)
        route.append(
            RouteStage(
                name=stage.name,
                rule=stage.rule,
                approvers=tuple(people),
                quorum=stage.quorum,
                remind_after=stage.remind_after,
                escalate_after=stage.escalate_after,
                escalate_to=tuple(_people(stage.escalate_to, flow.tenant_id, submitter, directory)),
            )
        )
    return tuple(route)


# -- commands --------------------------------------------------------------------------


def _sync_tasks(uow: UnitOfWork, request: ApprovalRequest) -> None:
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


def _store(
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
    _sync_tasks(uow, request)
    notify_hooks(uow, before, request)
    uow.outbox.add(*events)
    return request


def submit_for_approval(
    crm: Crm,
    actor: Actor,
    *,
    document_type: str,
    document_id: UUID,
    title: str,
    facts: Facts | Mapping[str, Any] | None = None,
    directory: ApprovalDirectory | None = None,
    flow_id: UUID | None = None,
    comment: str = "",
) -> ApprovalRequest:
    """Submit a document (or resubmit it after rejection, return, withdrawal or unapproval).

    A document an area stores (a quote, a contract, a refund...) is routed on its
    stored facts: ``facts`` may add keys the document does not report, and giving one
    it does report with another value is refused. Such a document is submitted only by
    someone who may ``edit`` it. A host's own documents (types no area describes) are
    routed on ``facts`` as given.

    Args:
        document_type, document_id, title: the document.
        facts: the fields the flow's conditions read (amount, discount, ...), for a
            host's own document; extra fields for an area's.
        directory: the org chart, for managers, department heads and roles.
        flow_id: the flow to use; by default the one active flow of the document type.
        comment: the submitter's note.

    Returns:
        The request, in review (or approved at once when no stage applies).

    Raises:
        NotFound: no flow (or no single active flow) for the document type, or an area
            stores documents of that type but none ``document_id`` in this tenant.
        NoApprover: a stage resolves to nobody.
        InvalidTransition: the document is already in review or approved.
        PermissionDenied: someone other than the first submitter resubmits, or the actor
            may not edit the stored document.
        ValidationError: ``facts`` gives another value for a fact the document reports.
    """

    def work(uow: UnitOfWork) -> ApprovalRequest:
        subject = describe_document(uow, document_type, document_id)
        if subject is not None:
            grants_for(uow, actor).require("edit", subject.record, subject.resource)
        return submit_in(
            uow,
            actor,
            now=crm.now(),
            document_type=document_type,
            document_id=document_id,
            title=title,
            facts=facts,
            directory=directory,
            flow_id=flow_id,
            comment=comment,
        )

    return guarded(crm, actor, work)


def _routing_facts(
    actor: Actor,
    subject: ApprovalSubject | None,
    given: Mapping[str, Any],
    directory: ApprovalDirectory,
) -> Facts:
    """The facts a (re)submission is routed on: the stored document's, plus the caller's.

    Raises:
        ValidationError: the caller gives another value for a fact the document reports.
    """
    if subject is None:
        return Facts(dict(given))
    stored = dict(subject.facts)
    if "department" not in stored:
        department = directory.department_of(actor.tenant_id, actor.user_id)
        if department is not None:
            stored["department"] = department
    for name, value in given.items():
        if name in stored and stored[name] != value:
            raise ValidationError(
                entity="approval request",
                field="facts",
                reason=reason(
                    N_("{name} is read from the stored document and cannot be given"),
                    name=name,
                ),
            )
    return Facts({**given, **stored})


def active_flow(uow: UnitOfWork, document_type: str) -> ApprovalFlow | None:
    """The tenant's one active flow for ``document_type``, or None (none, or several).

    Areas that submit their documents automatically use it: several active flows are
    ambiguous, and the document then keeps its manual approval rather than guessing.
    """
    try:
        return _flow_for(uow, document_type, None)
    except NotFound:
        return None


def submit_in(
    uow: UnitOfWork,
    actor: Actor,
    *,
    now: datetime,
    document_type: str,
    document_id: UUID,
    title: str,
    facts: Facts | Mapping[str, Any] | None = None,
    flow: ApprovalFlow | None = None,
    flow_id: UUID | None = None,
    directory: ApprovalDirectory | None = None,
    comment: str = "",
) -> ApprovalRequest:
    """:func:`submit_for_approval` inside the caller's unit of work.

    An area submitting its own document (a quote going to review) changes the
    document's status and opens the request in one transaction. A route no stage
    applies to approves at once, and the document type's ``on_approved`` hook runs
    now, so the caller saves the document in its "in approval" state first.

    Args:
        flow: the flow to use (else ``flow_id``, else the one active flow).

    Raises:
        NotFound: no flow (or no single active flow) for the document type.
        NoApprover: a stage resolves to nobody.
        InvalidTransition: the document is already in review or approved.
        PermissionDenied: someone other than the first submitter resubmits.
        ValidationError: ``facts`` gives another value for a fact the stored document
            reports (see :func:`submit_for_approval`).
    """
    given = facts.values if isinstance(facts, Facts) else dict(facts or {})
    directory = directory or OrgDirectory(uow)
    subject = describe_document(uow, document_type, document_id)
    snapshot = _routing_facts(actor, subject, given, directory)
    repo = uow.repository(ApprovalRequest)
    request = repo.find(request_id_for(actor.tenant_id, document_type, document_id))
    new = request is None
    if flow is None:
        flow = _flow_for(uow, document_type, flow_id)
        if request is not None and flow_id is None:
            # A resubmission stays with its flow while that flow is in use.
            previous = uow.repository(ApprovalFlow).find(request.flow_id)
            flow = previous if previous is not None and previous.active else flow
    if request is None:
        request = ApprovalRequest(
            id=request_id_for(actor.tenant_id, document_type, document_id),
            tenant_id=actor.tenant_id,
            flow_id=flow.id,
            flow_name=flow.name,
            document_type=document_type,
            document_id=document_id,
            title=title,
            submitter_id=actor.user_id,
        )
    before = request.status
    # A resubmission follows the flow as it is now, with the document as it is now.
    request.flow_id, request.flow_name, request.title = flow.id, flow.name, title
    request.facts = snapshot
    request.allow_self_approval = flow.allow_self_approval
    request.urge_interval_minutes = flow.urge_interval_minutes
    request.calendar = flow.calendar
    request.unapprovers = flow.unapprovers
    owners = () if subject is None or subject.owner_id is None else (subject.owner_id,)
    route = resolve_route(flow, snapshot, request.submitter_id, directory, owners=owners)
    events = request.submit(actor.user_id, route, now=now, comment=comment)
    return _store(uow, request, before, events, new=new)


def decided_by(request: ApprovalRequest) -> tuple[UUID, str, datetime]:
    """Who made the request's latest move, their comment, and when (for hooks)."""
    last = request.trail[-1]
    return last.actor_id, last.comment, last.at


def submit_if_flow(
    uow: UnitOfWork,
    actor: Actor,
    *,
    now: datetime,
    document_type: str,
    document_id: UUID,
    title: str,
    facts: Mapping[str, Any],
    department: UUID | None = None,
) -> bool:
    """Submit an area's document to the tenant's one active flow for its type, if any.

    The facts gain ``department`` (``department``, else the submitter's department in
    the org chart, when known). Runs inside the caller's unit of work (see
    :func:`submit_in`).

    Returns:
        Whether a flow took the document (False: it keeps its manual approval).

    Raises:
        NoApprover: a stage of the flow resolves to nobody (nothing is stored).
    """
    flow = active_flow(uow, document_type)
    if flow is None:
        return False
    directory = OrgDirectory(uow)
    values = dict(facts)
    department = department or directory.department_of(actor.tenant_id, actor.user_id)
    if department is not None:
        values["department"] = department
    submit_in(
        uow,
        actor,
        now=now,
        document_type=document_type,
        document_id=document_id,
        title=title,
        facts=values,
        flow=flow,
        directory=directory,
    )
    return True


def document_hook(
    entity_type: type[Any], act: Callable[[Any, UUID, str, datetime], DomainEvent | None]
) -> Callable[[UnitOfWork, ApprovalRequest], None]:
    """An approval hook that applies a flow's decision to an area's own document.

    ``act(document, who, comment, at)`` makes the document's move and returns its
    event; the hook loads the document, saves it and adds the event to the outbox.
    Documents of that type the area does not store (a host's own, submitted
    directly) are left alone.
    """

    def hook(uow: UnitOfWork, request: ApprovalRequest) -> None:
        repo = uow.repository(entity_type)
        document = repo.find(request.document_id)
        if document is None:
            return
        who, comment, at = decided_by(request)
        event = act(document, who, comment, at)
        repo.save(document)
        if event is not None:
            uow.outbox.add(event)

    return hook


def _not_the_owner(uow: UnitOfWork, request: ApprovalRequest, user: UUID) -> None:
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


def _command(
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
            _not_the_owner(uow, request, actor.user_id)
        if newcomer is not None:
            _not_the_owner(uow, request, newcomer)
        before = request.status
        events = act(request)
        return _store(uow, request, before, events)

    return crm.run(actor.tenant_id, work)


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
    return _command(
        crm,
        actor,
        request_id,
        lambda r: r.approve(actor.user_id, now=crm.now(), comment=comment),
        votes=True,
    )


def reject_request(
    crm: Crm, actor: Actor, request_id: UUID, *, comment: str = ""
) -> ApprovalRequest:
    """Vote to reject the current stage. Raises: as :func:`approve_request`."""
    return _command(
        crm,
        actor,
        request_id,
        lambda r: r.reject(actor.user_id, now=crm.now(), comment=comment),
        votes=True,
    )


def return_request(
    crm: Crm, actor: Actor, request_id: UUID, *, comment: str = ""
) -> ApprovalRequest:
    """Send the document back to its submitter for changes. Raises: as :func:`approve_request`."""
    return _command(
        crm,
        actor,
        request_id,
        lambda r: r.send_back(actor.user_id, now=crm.now(), comment=comment),
        votes=True,
    )


def withdraw_request(
    crm: Crm, actor: Actor, request_id: UUID, *, comment: str = ""
) -> ApprovalRequest:
    """The submitter withdraws the document from review.

    Raises:
        NotFound: no such request.
        InvalidTransition: it cannot be withdrawn in its state.
        PermissionDenied: the actor is not the submitter.
    """
    return _command(
        crm, actor, request_id, lambda r: r.withdraw(actor.user_id, now=crm.now(), comment=comment)
    )


def delegate_request(
    crm: Crm, actor: Actor, request_id: UUID, to: UUID, *, comment: str = ""
) -> ApprovalRequest:
    """Hand the actor's place at the current stage to ``to``.

    Raises:
        As :func:`approve_request`; ``AlreadyDecided`` if ``to`` already sits in the stage.
    """
    return _command(
        crm,
        actor,
        request_id,
        lambda r: r.delegate(actor.user_id, to, now=crm.now(), comment=comment),
        newcomer=to,
    )


def add_cosigner(
    crm: Crm, actor: Actor, request_id: UUID, cosigner: UUID, *, comment: str = ""
) -> ApprovalRequest:
    """Add ``cosigner`` to the current stage (加签). Raises: as :func:`delegate_request`."""
    return _command(
        crm,
        actor,
        request_id,
        lambda r: r.add_cosigner(actor.user_id, cosigner, now=crm.now(), comment=comment),
        newcomer=cosigner,
    )


def urge_request(crm: Crm, actor: Actor, request_id: UUID, *, comment: str = "") -> ApprovalRequest:
    """The submitter urges (催办) the pending approvers.

    Raises:
        NotFound: no such request.
        InvalidTransition: it is not waiting for anyone.
        PermissionDenied: the actor is not the submitter.
        UrgeTooSoon: the last urge was less than the flow's interval ago.
    """
    return _command(
        crm, actor, request_id, lambda r: r.urge(actor.user_id, now=crm.now(), comment=comment)
    )


def _check_may_unapprove(
    request: ApprovalRequest, user: UUID, directory: ApprovalDirectory | None
) -> None:
    if request.unapprovers:
        allowed = _people(request.unapprovers, request.tenant_id, request.submitter_id, directory)
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

    return _command(crm, actor, request_id, act)


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


# -- batches ---------------------------------------------------------------------------


@attrs.frozen
class BatchItem:
    """The outcome for one document of a batch.

    Attributes:
        request_id: the request.
        ok: whether it succeeded.
        status: the request's status afterwards (when it succeeded).
        code: the error code (when it failed), e.g. ``not_an_approver``.
        message: the error message in English; ``error.message(locale)`` for others.
        error: the error itself (when it failed).
    """

    request_id: UUID
    ok: bool
    status: RequestStatus | None = None
    code: str | None = None
    message: str | None = None
    error: CrmError | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class BatchResult:
    """Per-document outcomes of a batch, in the order asked."""

    items: tuple[BatchItem, ...]

    @property
    def succeeded(self) -> list[UUID]:
        """The requests that succeeded."""
        return [i.request_id for i in self.items if i.ok]

    @property
    def failed(self) -> list[BatchItem]:
        """The items that failed, with their code and message."""
        return [i for i in self.items if not i.ok]


def _batch(request_ids: Iterable[UUID], one: Callable[[UUID], ApprovalRequest]) -> BatchResult:
    items = []
    for request_id in request_ids:
        try:
            request = one(request_id)
        except CrmError as error:
            items.append(
                BatchItem(request_id, False, code=error.code, message=str(error), error=error)
            )
        else:
            items.append(BatchItem(request_id, True, status=request.status))
    return BatchResult(tuple(items))


def batch_approve(
    crm: Crm, actor: Actor, request_ids: Iterable[UUID], *, comment: str = ""
) -> BatchResult:
    """Approve many requests, each in its own transaction: one failure stops no other."""
    return _batch(request_ids, lambda rid: approve_request(crm, actor, rid, comment=comment))


def batch_unapprove(
    crm: Crm,
    actor: Actor,
    request_ids: Iterable[UUID],
    *,
    directory: ApprovalDirectory | None = None,
    comment: str = "",
) -> BatchResult:
    """Unapprove many requests, each in its own transaction."""
    return _batch(
        request_ids,
        lambda rid: unapprove_request(crm, actor, rid, directory=directory, comment=comment),
    )


# -- deadlines -------------------------------------------------------------------------


@attrs.frozen
class ScanResult:
    """What one overdue scan did.

    Attributes:
        reminded: requests whose approvers were reminded.
        escalated: requests escalated.
        skipped: requests changed by someone else during the scan (the next scan
            looks at them again).
    """

    reminded: tuple[UUID, ...] = ()
    escalated: tuple[UUID, ...] = ()
    skipped: tuple[UUID, ...] = ()


def _escalation_recipients(
    request: ApprovalRequest, directory: ApprovalDirectory | None
) -> list[UUID]:
    current = request.current_stage
    if current is not None and current.escalate_to:
        return list(current.escalate_to)
    found: list[UUID] = []
    for late in request.pending_approvers():
        boss = None if directory is None else directory.manager_of(request.tenant_id, late)
        if boss is not None and boss not in found:
            found.append(boss)
    return found


def scan_overdue_approvals(
    crm: Crm,
    tenant_id: TenantId,
    *,
    directory: ApprovalDirectory | None = None,
    batch_size: int = 500,
) -> ScanResult:
    """Remind and escalate every stage past its deadlines; safe to run often and twice.

    Each (request, round, stage, reminder or escalation) is sent once: the request
    records what it sent, and two scanners racing on one request meet the optimistic
    lock, so the loser skips it.

    Args:
        tenant_id: the tenant to scan.
        directory: finds the late approvers' managers for escalations.
        batch_size: how many due requests one query reads.

    Returns:
        Which requests were reminded, escalated or skipped.
    """
    now = crm.now()
    due_ids: list[UUID] = crm.run(
        tenant_id,
        lambda uow: [
            r.id
            for r in uow.repository(ApprovalRequest).query(
                Query(
                    F("status").eq(RequestStatus.IN_REVIEW) & F("alert_due_at").le(now),
                    limit=batch_size,
                )
            )
        ],
    )
    reminded: list[UUID] = []
    escalated: list[UUID] = []
    skipped: list[UUID] = []

    def one(request_id: UUID) -> tuple[bool, bool]:
        def work(uow: UnitOfWork) -> tuple[bool, bool]:
            request = uow.repository(ApprovalRequest).get(request_id)
            before = request.status
            events = request.alert(AlertKind.REMIND, request.pending_approvers(), now=now)
            reminded_here = bool(events)
            escalation = request.alert(
                AlertKind.ESCALATE, _escalation_recipients(request, directory), now=now
            )
            events += escalation
            if events:
                _store(uow, request, before, events)
            return reminded_here, bool(escalation)

        return crm.run(tenant_id, work)

    for request_id in due_ids:
        try:
            did_remind, did_escalate = one(request_id)
        except ConcurrencyConflict:
            skipped.append(request_id)
            continue
        if did_remind:
            reminded.append(request_id)
        if did_escalate:
            escalated.append(request_id)
    return ScanResult(tuple(reminded), tuple(escalated), tuple(skipped))
