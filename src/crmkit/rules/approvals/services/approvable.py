"""How other areas take part in approvals without approvals knowing them.

A contract, a quote or an expense claim asks two things of approvals: *may this
document be changed now?* and *tell me when it is approved or unapproved*. Both
start with :func:`register_approvable`: the area registers its document type, the
entity class its documents are stored as, and callbacks the approval services call
inside the same transaction as the decision, so "contract approved" and "contract
status = effective" commit together.

The first question has one answer for every service of every area:
:func:`ensure_not_in_review`. While a flow decides a document (its request is
``in_review``), **nothing** may change it — not an edit, not a state move, not an
attachment — except the flow itself (approve, reject, return, withdraw), whose hooks
run after the request has left review. Each area loads a document for a change
through one helper that calls it, and a test tries every public service of every
registered document type on a document in review. :func:`ensure_editable` is the
stricter rule for content revisions and manual decisions, which an approved request
forbids too (unapprove first, 反审核).

An area may also register how to *describe* a stored document
(``describe=(uow, document_id) -> ApprovalSubject | None``): the facts its flow
conditions read, as stored, the document's owner, and the permission record that says
who may see it. Approvals then route a (re)submission on the stored facts, never on
facts a caller makes up, and show a request to those who may view the document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol
from uuid import UUID

import attrs

from crmkit.ports import UnitOfWork
from crmkit.rules.approvals.errors import DocumentLocked
from crmkit.rules.approvals.model import RequestStatus
from crmkit.rules.approvals.model.request import ApprovalRequest, request_id_for

__all__ = [
    "Approvable",
    "ApprovalHooks",
    "ApprovalSubject",
    "Describe",
    "LockedBy",
    "approvable_documents",
    "approval_of",
    "describe_document",
    "ensure_editable",
    "ensure_not_in_review",
    "in_review",
    "is_locked",
    "register_approvable",
]

ApprovalHook = Callable[[UnitOfWork, ApprovalRequest], None]

LockedBy = Callable[[UnitOfWork, UUID], Iterable[tuple[str, UUID]]]
"""``locked_by(uow, document_id)``: further ``(document_type, document_id)`` requests
that lock a document besides its own (a held order's resubmitted credit overrides)."""


@attrs.frozen
class ApprovalSubject:
    """A stored document as approvals see it.

    Attributes:
        facts: what the flow's conditions read, as stored (``amount``, ``discount``...).
            A submission's own facts may add keys, never change these.
        resource: the permission resource of ``record`` (``"contract"``).
        record: the document itself, for ``grants.can("view" | "edit", record, resource)``.
        owner_id: who owns the document (drew it up, asked for it); like the submitter,
            they never approve it unless self-approval is allowed.
    """

    facts: Mapping[str, Any]
    resource: str
    record: Any
    owner_id: UUID | None = None


Describe = Callable[[UnitOfWork, UUID], ApprovalSubject | None]
"""``describe(uow, document_id)``: the stored document, or None when the area does not
store one by that id (a host's own document submitted under the same type)."""


class Approvable(Protocol):
    """A document that goes through approval: it knows its type and id."""

    @property
    def id(self) -> UUID: ...

    @property
    def approval_document_type(self) -> str: ...


@attrs.frozen
class ApprovalHooks:
    """Callbacks one document type registers; each runs inside the deciding transaction.

    Attributes:
        on_approved: the last stage approved the document.
        on_unapproved: an approved document was unapproved.
        on_closed: the document left review without approval (rejected, returned,
            withdrawn).
        entity: the class the area stores these documents as (``Contract``); its
            records are locked while their request is in review.
        locked_by: further requests that lock such a document (see :data:`LockedBy`).
        describe: reads the stored document (see :class:`ApprovalSubject`).
    """

    on_approved: ApprovalHook | None = None
    on_unapproved: ApprovalHook | None = None
    on_closed: ApprovalHook | None = None
    entity: type[Any] | None = None
    locked_by: LockedBy | None = None
    describe: Describe | None = None


_HOOKS: dict[str, ApprovalHooks] = {}


def register_approvable(
    document_type: str,
    *,
    entity: type[Any] | None = None,
    locked_by: LockedBy | None = None,
    on_approved: ApprovalHook | None = None,
    on_unapproved: ApprovalHook | None = None,
    on_closed: ApprovalHook | None = None,
    describe: Describe | None = None,
) -> ApprovalHooks:
    """Register a document type: its entity class and callbacks (replacing earlier ones).

    Args:
        document_type: the type name documents are submitted under ("contract").
        entity: the class the area stores these documents as; :func:`ensure_not_in_review`
            refuses changes to its records while their request is in review. ``None``
            keeps the entity registered before (replacing the callbacks never unlocks
            an area's documents), or none for a type a host keeps itself.
        locked_by: further requests that lock such a document (see :data:`LockedBy`);
            ``None`` keeps the earlier one, like ``entity``.
        on_approved, on_unapproved, on_closed: see :class:`ApprovalHooks`.
        describe: reads a stored document (see :class:`ApprovalSubject`); ``None``
            keeps the earlier one, like ``entity`` (replacing the callbacks never lets a
            caller's facts override the stored document's).

    Returns:
        The registered hooks.
    """
    earlier = _HOOKS.get(document_type, ApprovalHooks())
    hooks = ApprovalHooks(
        on_approved,
        on_unapproved,
        on_closed,
        entity if entity is not None else earlier.entity,
        locked_by if locked_by is not None else earlier.locked_by,
        describe if describe is not None else earlier.describe,
    )
    _HOOKS[document_type] = hooks
    return hooks


def approvable_documents() -> dict[str, type[Any] | None]:
    """Every registered document type and the entity class it is stored as."""
    return {document_type: hooks.entity for document_type, hooks in _HOOKS.items()}


def hooks_for(document_type: str) -> ApprovalHooks:
    """The hooks of a document type (no-op hooks when none were registered)."""
    return _HOOKS.get(document_type, ApprovalHooks())


def describe_document(
    uow: UnitOfWork, document_type: str, document_id: UUID
) -> ApprovalSubject | None:
    """The stored document behind a request, when its area registered ``describe``."""
    describe = hooks_for(document_type).describe
    return None if describe is None else describe(uow, document_id)


def approval_of(uow: UnitOfWork, document_type: str, document_id: UUID) -> ApprovalRequest | None:
    """The document's approval request, or None if it was never submitted."""
    request_id = request_id_for(uow.tenant_id, document_type, document_id)
    return uow.repository(ApprovalRequest).find(request_id)


def is_locked(uow: UnitOfWork, document_type: str, document_id: UUID) -> bool:
    """Whether the document is in review or approved, so edits must be refused."""
    request = approval_of(uow, document_type, document_id)
    return request is not None and request.is_locked


def in_review(uow: UnitOfWork, document: Any) -> ApprovalRequest | None:
    """The request in review that locks ``document`` (an area's record), if any.

    Looks at the request of every document type registered with ``document``'s class,
    and at the further requests their ``locked_by`` names.
    """
    for document_type, hooks in _HOOKS.items():
        if hooks.entity is None or not isinstance(document, hooks.entity):
            continue
        refs: list[tuple[str, UUID]] = [(document_type, document.id)]
        if hooks.locked_by is not None:
            refs.extend(hooks.locked_by(uow, document.id))
        for ref_type, ref_id in refs:
            request = approval_of(uow, ref_type, ref_id)
            if request is not None and request.status is RequestStatus.IN_REVIEW:
                return request
    return None


def ensure_not_in_review(uow: UnitOfWork, document: Any) -> None:
    """Refuse any change to a document while an approval flow decides it.

    The one check every mutating service of an approvable document goes through,
    right after loading the document (and checking the actor's permission), before
    the document's own rules run: a document in review answers ``DocumentLocked``
    whatever was asked of it. The flow's own decisions do not pass here.

    Raises:
        DocumentLocked: a request that covers the document is in review; withdraw
            it (or wait for the decision) first.
    """
    request = in_review(uow, document)
    if request is not None:
        raise DocumentLocked(
            document_type=request.document_type,
            document_id=request.document_id,
            status=request.status.value,
        )


def ensure_editable(uow: UnitOfWork, document_type: str, document_id: UUID) -> None:
    """Refuse an edit of a locked document.

    Raises:
        DocumentLocked: the document is in review, or approved and not unapproved.
    """
    request = approval_of(uow, document_type, document_id)
    if request is not None and request.is_locked:
        raise DocumentLocked(
            document_type=document_type,
            document_id=document_id,
            status=request.status.value,
        )


_CLOSED = (RequestStatus.REJECTED, RequestStatus.RETURNED, RequestStatus.WITHDRAWN)


def notify_hooks(uow: UnitOfWork, before: RequestStatus, request: ApprovalRequest) -> None:
    """Call the document type's hook for a status change (used by the services)."""
    if before is request.status:
        return
    hooks = hooks_for(request.document_type)
    if request.status is RequestStatus.APPROVED:
        hook = hooks.on_approved
    elif request.status is RequestStatus.UNAPPROVED:
        hook = hooks.on_unapproved
    elif request.status in _CLOSED:
        hook = hooks.on_closed
    else:
        hook = None
    if hook is not None:
        hook(uow, request)
