"""Urging and deadlines: the submitter's 催办, and the scan that reminds and escalates.

A stage may have deadlines (remind after, escalate after) counted in the flow's
business calendar; :func:`scan_overdue_approvals` is what a host's scheduler runs to
act on them.
"""

from __future__ import annotations

from uuid import UUID

import attrs

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import ConcurrencyConflict
from crmkit.kernel.ids import TenantId
from crmkit.kernel.query import F, Query
from crmkit.ports import UnitOfWork
from crmkit.rules.approvals.model.lifecycle import RequestStatus
from crmkit.rules.approvals.model.request import ApprovalRequest
from crmkit.rules.approvals.model.trail import AlertKind
from crmkit.rules.approvals.services._common import decide, store
from crmkit.rules.approvals.services.routing import ApprovalDirectory

__all__ = ["ScanResult", "scan_overdue_approvals", "urge_request"]


def urge_request(crm: Crm, actor: Actor, request_id: UUID, *, comment: str = "") -> ApprovalRequest:
    """The submitter urges (催办) the pending approvers.

    Raises:
        NotFound: no such request.
        InvalidTransition: it is not waiting for anyone.
        PermissionDenied: the actor is not the submitter.
        UrgeTooSoon: the last urge was less than the flow's interval ago.
    """
    return decide(crm, actor, request_id, ApprovalRequest.urge, comment)


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
                store(uow, request, before, events)
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
