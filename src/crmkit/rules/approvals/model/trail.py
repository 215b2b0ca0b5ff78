"""What an approval request records: the route it resolved, its trail and its votes.

These are the values :class:`~crmkit.rules.approvals.model.request.ApprovalRequest`
is made of. A submission freezes the flow into a route of :class:`RouteStage` (real
people, not selectors), every command is kept as one :class:`TrailEntry`, and each
approver's vote is a :class:`Decision`; :class:`ReviewState` is the part of a request
that the trail alone determines.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

import attrs

from crmkit.rules.approvals.model.calendar import Deadline
from crmkit.rules.approvals.model.flows import Outcome, Rule
from crmkit.rules.approvals.model.lifecycle import RequestStatus

__all__ = ["Action", "AlertKind", "Decision", "ReviewState", "RouteStage", "TrailEntry"]


def _uuids(values: Iterable[UUID]) -> tuple[UUID, ...]:
    return tuple(values)


def _route(values: Iterable[RouteStage]) -> tuple[RouteStage, ...]:
    return tuple(values)


@attrs.frozen
class RouteStage:
    """A stage as resolved for one submission: real people, not selectors.

    Attributes:
        name: the flow stage's name.
        rule: any / all / N of M.
        quorum: the N of an ``N_OF_M`` stage.
        approvers: who decides, in order (delegation swaps one, co-signing adds one).
        remind_after, escalate_after: the stage's deadlines, from its opening.
        escalate_to: who hears of an escalation (empty: the late approvers' managers).
    """

    name: str
    rule: Rule
    approvers: tuple[UUID, ...] = attrs.field(converter=_uuids)
    quorum: int | None = None
    remind_after: Deadline | None = None
    escalate_after: Deadline | None = None
    escalate_to: tuple[UUID, ...] = attrs.field(default=(), converter=_uuids)

    def required(self) -> int:
        """How many approvals approve this stage."""
        if self.rule is Rule.ANY:
            return 1
        if self.rule is Rule.ALL:
            return len(self.approvers)
        return min(self.quorum or 1, len(self.approvers))


class Action(enum.Enum):
    """What a trail entry records."""

    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    RETURN = "return"
    WITHDRAW = "withdraw"
    DELEGATE = "delegate"
    ADD_COSIGNER = "add_cosigner"
    URGE = "urge"
    UNAPPROVE = "unapprove"
    REMIND = "remind"
    ESCALATE = "escalate"


class AlertKind(enum.Enum):
    """The two deadlines of a stage."""

    REMIND = "remind"
    ESCALATE = "escalate"


@attrs.frozen
class TrailEntry:
    """One recorded command: who did what, when, with what comment.

    Attributes:
        action: what was done.
        actor_id: who did it (:data:`SYSTEM` for the overdue scan).
        at: when (UTC).
        comment: the actor's comment.
        target_id: the delegate or co-signer, for those actions.
        route: the resolved stages, for a submission.
        recipient_ids: who was told, for urges, reminders and escalations.
    """

    action: Action
    actor_id: UUID
    at: datetime
    comment: str = ""
    target_id: UUID | None = None
    route: tuple[RouteStage, ...] = attrs.field(default=(), converter=_route)
    recipient_ids: tuple[UUID, ...] = attrs.field(default=(), converter=_uuids)


@attrs.frozen
class Decision:
    """One approver's vote at one stage of one round."""

    round: int
    stage: int
    approver_id: UUID
    outcome: Outcome
    at: datetime
    comment: str = ""


@attrs.frozen
class ReviewState:
    """Everything the trail determines; :func:`replay` rebuilds it from the trail."""

    status: RequestStatus
    round: int
    stage: int
    route: tuple[RouteStage, ...]
    decisions: tuple[Decision, ...]
    submitted_at: datetime | None
    stage_opened_at: datetime | None
    last_urged_at: datetime | None
    alerts_sent: tuple[str, ...]
