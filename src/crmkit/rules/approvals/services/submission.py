"""Submitting a document for approval, from a host or from inside an area's own transaction.

A submission routes the document on its facts (:mod:`.routing`), opens or reopens
its one request and runs the document type's hooks; a route no stage applies to
approves at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.ports import UnitOfWork
from crmkit.rules.approvals.model.flows import ApprovalFlow, Facts
from crmkit.rules.approvals.model.request import ApprovalRequest, request_id_for
from crmkit.rules.approvals.services._common import store
from crmkit.rules.approvals.services.approvable import ApprovalSubject, describe_document
from crmkit.rules.approvals.services.flows import active_flow, flow_for
from crmkit.rules.approvals.services.routing import ApprovalDirectory, resolve_route
from crmkit.rules.permissions import grants_for, guarded
from crmkit.rules.permissions.directory import OrgDirectory

__all__ = ["decided_by", "document_hook", "submit_for_approval", "submit_if_flow", "submit_in"]


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
        TypeError: ``title`` is no text, or ``facts`` no mapping.
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
            raise invalid(
                "approval request",
                "facts",
                N_("{name} is read from the stored document and cannot be given"),
                name=name,
            )
    return Facts({**given, **stored})


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
        flow = flow_for(uow, document_type, flow_id)
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
    return store(uow, request, before, events, new=new)


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
        uow.outbox.add(event)

    return hook
