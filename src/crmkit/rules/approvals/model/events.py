"""The events an approval request records for the outbox.

Every command on a request (see :mod:`crmkit.rules.approvals.model.request`) puts
one or more of these in the outbox, in the same transaction as the change;
notifiers turn them into inbox items, emails and SMS. They carry the document's
type, id and title so a notifier never has to load the request to word a message.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import attrs

from crmkit.kernel.events import DomainEvent
from crmkit.rules.approvals.model.flows import Outcome

__all__ = [
    "ApprovalApproved",
    "ApprovalCosignerAdded",
    "ApprovalDecided",
    "ApprovalDelegated",
    "ApprovalEscalated",
    "ApprovalEvent",
    "ApprovalRejected",
    "ApprovalReminderDue",
    "ApprovalReturned",
    "ApprovalStageOpened",
    "ApprovalSubmitted",
    "ApprovalUnapproved",
    "ApprovalUrged",
    "ApprovalWithdrawn",
]


@attrs.frozen(kw_only=True)
class ApprovalEvent(DomainEvent):
    """Base of the approval events: which document, which round, who acted.

    Attributes:
        document_type: the kind of document.
        document_id: the document.
        title: its display title.
        round: 1 for the first submission, +1 for each resubmission.
        actor_id: who acted (the nil UUID for the overdue scan).
    """

    aggregate_type = "approval_request"

    document_type: str
    document_id: UUID
    title: str
    round: int
    actor_id: UUID


@attrs.frozen(kw_only=True)
class ApprovalSubmitted(ApprovalEvent):
    """A document was (re)submitted for approval along ``stage_names``."""

    submitter_id: UUID
    flow_name: str
    stage_names: tuple[str, ...]


@attrs.frozen(kw_only=True)
class ApprovalStageOpened(ApprovalEvent):
    """A stage now waits for ``approver_ids`` (notify each of them)."""

    stage: int
    stage_name: str
    approver_ids: tuple[UUID, ...]


@attrs.frozen(kw_only=True)
class ApprovalDecided(ApprovalEvent):
    """One approver voted at one stage."""

    stage: int
    outcome: Outcome
    comment: str


@attrs.frozen(kw_only=True)
class ApprovalApproved(ApprovalEvent):
    """Every stage approved: the document takes effect (notify the submitter)."""

    submitter_id: UUID


@attrs.frozen(kw_only=True)
class ApprovalRejected(ApprovalEvent):
    """The document was rejected; it may be edited and resubmitted."""

    submitter_id: UUID
    comment: str


@attrs.frozen(kw_only=True)
class ApprovalReturned(ApprovalEvent):
    """An approver sent the document back to the submitter for changes."""

    submitter_id: UUID
    comment: str


@attrs.frozen(kw_only=True)
class ApprovalWithdrawn(ApprovalEvent):
    """The submitter took the document back out of review."""

    comment: str


@attrs.frozen(kw_only=True)
class ApprovalDelegated(ApprovalEvent):
    """An approver handed their place at a stage to ``delegate_id``."""

    stage: int
    delegate_id: UUID


@attrs.frozen(kw_only=True)
class ApprovalCosignerAdded(ApprovalEvent):
    """An approver added ``cosigner_id`` to the stage (加签)."""

    stage: int
    cosigner_id: UUID


@attrs.frozen(kw_only=True)
class ApprovalUrged(ApprovalEvent):
    """The submitter urged (催办) the pending approvers."""

    stage: int
    recipient_ids: tuple[UUID, ...]
    comment: str


@attrs.frozen(kw_only=True)
class ApprovalReminderDue(ApprovalEvent):
    """A stage passed its reminder deadline: remind the pending approvers."""

    stage: int
    recipient_ids: tuple[UUID, ...]
    due_at: datetime


@attrs.frozen(kw_only=True)
class ApprovalEscalated(ApprovalEvent):
    """A stage passed its escalation deadline: tell ``recipient_ids`` who is late."""

    stage: int
    recipient_ids: tuple[UUID, ...]
    late_approver_ids: tuple[UUID, ...]
    due_at: datetime


@attrs.frozen(kw_only=True)
class ApprovalUnapproved(ApprovalEvent):
    """An approved document was unapproved (反审核) and may be edited again."""

    comment: str
