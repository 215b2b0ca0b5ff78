"""The approval inbox (待审批): one task per approver a request waits for.

The services rewrite a request's tasks each time they save the request, so "what
waits for me" is an indexed query instead of a scan of every request's route.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar
from uuid import UUID

import attrs

from crmkit.kernel.entity import Entity
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId
from crmkit.rules.approvals.model.request import ApprovalRequest, ApprovalRequestId

__all__ = ["ApprovalTask"]


@attrs.define(eq=False)
class ApprovalTask(Entity):
    """One approver's pending item in the approval inbox (待审批).

    Tasks are a read model the services keep in step with each request: one row per
    (request, round, stage, pending approver), deleted once the approver has voted
    or the stage has moved on. They exist so "what waits for me" is an indexed query.

    Attributes:
        id: derived from request, round, stage and approver.
        tenant_id: the owning tenant.
        request_id: the approval request.
        approver_id: who it waits for.
        document_type, document_id, title: the document.
        submitter_id: who submitted it.
        round, stage, stage_name: where in the flow.
        waiting_since: when the stage began waiting (the item's age).
        due_at: when the approver will be reminded, if the stage has a deadline.
        version: optimistic-locking counter.
    """

    entity_name: ClassVar[str] = N_("approval task")

    id: UUID
    tenant_id: TenantId
    request_id: ApprovalRequestId
    approver_id: UUID
    document_type: str
    document_id: UUID
    title: str
    submitter_id: UUID
    round: int
    stage: int
    stage_name: str
    waiting_since: datetime
    due_at: datetime | None = None
    version: int = 0


def tasks_for(request: ApprovalRequest) -> list[ApprovalTask]:
    """The inbox items a request should have now: one per pending approver."""
    current = request.current_stage
    if current is None or request.stage_opened_at is None:
        return []
    return [
        ApprovalTask(
            id=uuid.uuid5(request.id, f"{request.round}:{request.stage}:{approver}"),
            tenant_id=request.tenant_id,
            request_id=request.id,
            approver_id=approver,
            document_type=request.document_type,
            document_id=request.document_id,
            title=request.title,
            submitter_id=request.submitter_id,
            round=request.round,
            stage=request.stage,
            stage_name=current.name,
            waiting_since=request.stage_opened_at,
            due_at=request.remind_at,
        )
        for approver in request.pending_approvers()
    ]
