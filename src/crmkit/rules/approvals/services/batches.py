"""Batches: approve or unapprove many requests, each in its own transaction.

One failure stops no other; the result says, per document, what happened.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from uuid import UUID

import attrs

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import CrmError
from crmkit.rules.approvals.model.lifecycle import RequestStatus
from crmkit.rules.approvals.model.request import ApprovalRequest
from crmkit.rules.approvals.services.decisions import approve_request, unapprove_request
from crmkit.rules.approvals.services.routing import ApprovalDirectory

__all__ = ["BatchItem", "BatchResult", "batch_approve", "batch_unapprove"]


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
