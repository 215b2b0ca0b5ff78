"""The approval inbox (待审批): what waits for a user, oldest first, with counts.

It reads the :class:`~crmkit.rules.approvals.model.request.ApprovalTask` rows the
services keep in step with every request, so it is one indexed query on
(tenant, approver, waiting since) however many requests a tenant has. The counts
per document type come from a small query port: the memory adapter counts in
Python, the SQL adapter with one ``GROUP BY``.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import attrs

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.limits import to_member
from crmkit.kernel.query import Expr, F, Order, Query
from crmkit.ports import UnitOfWork, queries
from crmkit.rules.approvals.model import RequestStatus
from crmkit.rules.approvals.model.request import ApprovalRequest
from crmkit.rules.approvals.model.tasks import ApprovalTask

__all__ = ["Inbox", "InboxCounts", "InboxItem", "approval_inbox", "my_submissions"]


@attrs.frozen
class InboxItem:
    """One document waiting for the user.

    Attributes:
        request_id, document_type, document_id, title: what to open.
        submitter_id: who submitted it.
        stage_name: the stage waiting for the user.
        waiting_since: when that stage opened.
        age_hours: whole hours waited so far.
        due_at: when the user will be reminded, if the stage has a deadline.
        overdue: the deadline has passed.
    """

    request_id: UUID
    document_type: str
    document_id: UUID
    title: str
    submitter_id: UUID
    stage_name: str
    waiting_since: datetime
    age_hours: int
    due_at: datetime | None
    overdue: bool


@attrs.frozen
class Inbox:
    """A page of the user's approval inbox and its counts.

    Attributes:
        items: the page, oldest first.
        total: everything waiting for the user (all pages, all types).
        overdue: how many of those are past their deadline.
        by_document_type: waiting items per document type.
    """

    items: tuple[InboxItem, ...]
    total: int
    overdue: int
    by_document_type: dict[str, int]


class InboxCounts(Protocol):
    """Query port: how many inbox items per document type match ``where``."""

    def by_document_type(self, where: Expr) -> dict[str, int]:
        """Counts per document type."""
        ...


class MemoryInboxCounts:
    """:class:`InboxCounts` for the memory adapter."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def by_document_type(self, where: Expr) -> dict[str, int]:
        """Counts per document type."""
        tasks = self._uow.repository(ApprovalTask).query(Query(where))
        return dict(Counter(t.document_type for t in tasks))


def approval_inbox(
    crm: Crm,
    actor: Actor,
    *,
    document_type: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Inbox:
    """What waits for the actor's decision, oldest first, with counts.

    Args:
        document_type: only this kind of document (counts still cover every kind).
        limit, offset: the page.

    Returns:
        The inbox page with its totals.
    """
    now = crm.now()
    mine = F("approver_id").eq(actor.user_id)
    page_filter = mine if document_type is None else mine & F("document_type").eq(document_type)

    def work(uow: UnitOfWork) -> Inbox:
        repo = uow.repository(ApprovalTask)
        tasks = repo.query(
            Query(page_filter, order_by=(Order("waiting_since"),), limit=limit, offset=offset)
        )
        counts: Any = queries(uow, InboxCounts)
        return Inbox(
            items=tuple(
                InboxItem(
                    request_id=t.request_id,
                    document_type=t.document_type,
                    document_id=t.document_id,
                    title=t.title,
                    submitter_id=t.submitter_id,
                    stage_name=t.stage_name,
                    waiting_since=t.waiting_since,
                    age_hours=int((now.timestamp() - t.waiting_since.timestamp()) // 3600),
                    due_at=t.due_at,
                    overdue=t.due_at is not None and t.due_at <= now,
                )
                for t in tasks
            ),
            total=repo.count(mine),
            overdue=repo.count(mine & F("due_at").le(now)),
            by_document_type=dict(sorted(counts.by_document_type(mine).items())),
        )

    return crm.run(actor.tenant_id, work)


def my_submissions(
    crm: Crm,
    actor: Actor,
    *,
    status: RequestStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[ApprovalRequest]:
    """The actor's submitted documents (newest first), optionally in one status."""
    status = (
        None
        if status is None
        else to_member(RequestStatus, status, entity="approval request", field="status")
    )
    where: Expr = F("submitter_id").eq(actor.user_id)
    if status is not None:
        where = where & F("status").eq(status)
    query = Query(
        where, order_by=(Order("submitted_at", descending=True),), limit=limit, offset=offset
    )
    return crm.run(actor.tenant_id, lambda uow: uow.repository(ApprovalRequest).query(query))
