"""How other areas take part in approvals without approvals knowing them.

A contract, a quote or an expense claim asks two things of approvals: *may this
document be edited now?* and *tell me when it is approved or unapproved*. The
first is :func:`is_locked` / :func:`ensure_editable`, which an area calls inside
its own unit of work before it saves an edit. The second is
:func:`register_approvable`: the area registers callbacks for its document type,
and the approval services call them inside the same transaction as the decision,
so "contract approved" and "contract status = effective" commit together.

An area may also register how to *describe* a stored document
(``describe=(uow, document_id) -> ApprovalSubject | None``): the facts its
flow conditions read, as stored, and the permission record that says who may see
it. Approvals then route a (re)submission on the stored facts, never on facts a
caller makes up, and show a request to those who may view the document.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol
from uuid import UUID

import attrs

from crmkit.ports import UnitOfWork
from crmkit.rules.approvals.errors import DocumentLocked
from crmkit.rules.approvals.model import RequestStatus
from crmkit.rules.approvals.request import ApprovalRequest, request_id_for

__all__ = [
    "Approvable",
    "ApprovalHook",
    "ApprovalHooks",
    "ApprovalSubject",
    "Describe",
    "approval_of",
    "describe_document",
    "ensure_editable",
    "hooks_for",
    "is_locked",
    "register_approvable",
]

ApprovalHook = Callable[[UnitOfWork, ApprovalRequest], None]


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
        describe: reads the stored document (see :class:`ApprovalSubject`).
    """

    on_approved: ApprovalHook | None = None
    on_unapproved: ApprovalHook | None = None
    on_closed: ApprovalHook | None = None
    describe: Describe | None = None


_HOOKS: dict[str, ApprovalHooks] = {}


def register_approvable(
    document_type: str,
    *,
    on_approved: ApprovalHook | None = None,
    on_unapproved: ApprovalHook | None = None,
    on_closed: ApprovalHook | None = None,
    describe: Describe | None = None,
) -> ApprovalHooks:
    """Register the callbacks of a document type (replacing earlier ones).

    Args:
        document_type: the type name documents are submitted under ("contract").
        on_approved, on_unapproved, on_closed, describe: see :class:`ApprovalHooks`.

    Returns:
        The registered hooks.
    """
    hooks = ApprovalHooks(on_approved, on_unapproved, on_closed, describe)
    _HOOKS[document_type] = hooks
    return hooks


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
