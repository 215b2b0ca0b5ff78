"""The approval request: one document's way through its flow, and its audit trail.

A request is created when a document is first submitted and lives as long as the
document: each resubmission starts a new *round* on the same request. Every
command (submit, approve, reject, return, withdraw, delegate, add a co-signer,
urge, unapprove, and the overdue scan's reminders and escalations) is written to
the trail as one :class:`TrailEntry` and then applied by one method,
:meth:`ApprovalRequest._apply`. Everything else — the status, the current stage,
the votes — is derived from the trail, and :func:`replay` rebuilds it from the
trail alone; the tests hold the live request to that.

Commands check first and change second: a command that raises leaves the request
untouched. Concurrency is the storage's optimistic lock: two approvers saving
the same request at once cannot both win, so a stage never counts more votes
than its rule allows.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar, NewType
from uuid import UUID

import attrs

from crmkit.kernel.entity import Entity
from crmkit.kernel.errors import InvalidTransition, PermissionDenied
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId
from crmkit.kernel.limits import check_text
from crmkit.rules.approvals.errors import (
    AlreadyDecided,
    NotAnApprover,
    SelfApprovalForbidden,
    UrgeTooSoon,
)
from crmkit.rules.approvals.model.calendar import BusinessCalendar
from crmkit.rules.approvals.model.events import (
    ApprovalCosignerAdded,
    ApprovalDecided,
    ApprovalDelegated,
    ApprovalEscalated,
    ApprovalReminderDue,
    ApprovalStageOpened,
    ApprovalUrged,
)
from crmkit.rules.approvals.model.flows import ApprovalFlowId, Approvers, Facts, Outcome, Rule
from crmkit.rules.approvals.model.lifecycle import APPROVAL, RequestStatus
from crmkit.rules.approvals.model.trail import (
    Action,
    AlertKind,
    Decision,
    ReviewState,
    RouteStage,
    TrailEntry,
)

__all__ = ["SYSTEM", "ApprovalRequest", "ApprovalRequestId", "replay"]

ApprovalRequestId = NewType("ApprovalRequestId", UUID)

SYSTEM = UUID(int=0)
"""The actor of entries the overdue scan writes."""

_ENTITY = N_("approval request")
_IDS = UUID("5f0e6a1c-3b7d-4e2a-9c41-8d2f7b6a0e13")


def request_id_for(tenant_id: TenantId, document_type: str, document_id: UUID) -> ApprovalRequestId:
    """The id of a document's approval request (one per document, derived, so that two
    concurrent first submissions of the same document collide instead of duplicating).

    Raises:
        ValidationError: ``document_type`` is text no store holds (a NUL, a lone
            surrogate, which ``uuid5`` could not even encode).
    """
    check_text(document_type, entity="approval request", field="document_type")
    return ApprovalRequestId(uuid.uuid5(_IDS, f"{tenant_id}:{document_type}:{document_id}"))


def _alert_key(round_: int, stage: int, kind: AlertKind) -> str:
    return f"{round_}:{stage}:{kind.value}"


@attrs.define(eq=False)
class ApprovalRequest(Entity):
    """One document's approval: its route, votes, status and audit trail.

    Attributes:
        id: the request id (one request per document).
        tenant_id: the owning tenant.
        flow_id, flow_name: the flow it was submitted under.
        document_type, document_id, title: the document under approval.
        submitter_id: who submitted it.
        facts: the fields the flow's conditions read, as of the last submission.
        allow_self_approval, urge_interval_minutes, calendar, unapprovers: copied
            from the flow at submission.
        status: where it stands (see :class:`RequestStatus`).
        round: 0 before the first submission, then 1, 2, ... per submission.
        stage: index of the current stage in ``route``.
        route: the resolved stages of the current round.
        decisions: every vote of every round.
        trail: every command, in order.
        submitted_at: when it was last submitted.
        stage_opened_at: when the current stage began waiting.
        last_urged_at: when the submitter last urged.
        alerts_sent: ``round:stage:kind`` of every reminder and escalation sent.
        remind_at, escalate_at: the current stage's deadlines (UTC).
        alert_due_at: the earliest deadline not yet alerted on (indexed for the scan).
        version: optimistic-locking counter.
    """

    entity_name: ClassVar[str] = _ENTITY

    id: ApprovalRequestId
    tenant_id: TenantId
    flow_id: ApprovalFlowId
    flow_name: str
    document_type: str
    document_id: UUID
    title: str
    submitter_id: UUID
    facts: Facts = attrs.field(factory=Facts)
    allow_self_approval: bool = False
    urge_interval_minutes: int = 240
    calendar: BusinessCalendar = attrs.field(factory=BusinessCalendar)
    unapprovers: tuple[Approvers, ...] = attrs.field(default=(), converter=tuple)
    status: RequestStatus = RequestStatus.DRAFT
    round: int = 0
    stage: int = 0
    route: tuple[RouteStage, ...] = attrs.field(default=(), converter=tuple)
    decisions: tuple[Decision, ...] = attrs.field(default=(), converter=tuple)
    trail: tuple[TrailEntry, ...] = attrs.field(default=(), converter=tuple)
    submitted_at: datetime | None = None
    stage_opened_at: datetime | None = None
    last_urged_at: datetime | None = None
    alerts_sent: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    remind_at: datetime | None = None
    escalate_at: datetime | None = None
    alert_due_at: datetime | None = None
    version: int = 0

    # -- reading -----------------------------------------------------------------------

    @property
    def current_stage(self) -> RouteStage | None:
        """The stage waiting for votes, or None when not in review."""
        if self.status is not RequestStatus.IN_REVIEW or self.stage >= len(self.route):
            return None
        return self.route[self.stage]

    def stage_decisions(self, stage: int | None = None) -> list[Decision]:
        """The votes of this round at ``stage`` (default: the current one)."""
        index = self.stage if stage is None else stage
        return [d for d in self.decisions if d.round == self.round and d.stage == index]

    def pending_approvers(self) -> tuple[UUID, ...]:
        """Who the current stage still waits for (empty when not in review)."""
        current = self.current_stage
        if current is None:
            return ()
        decided = {d.approver_id for d in self.stage_decisions()}
        return tuple(a for a in current.approvers if a not in decided)

    @property
    def is_locked(self) -> bool:
        """Whether the document may not be edited now (in review or approved)."""
        return self.status.locks_document

    def review_state(self) -> ReviewState:
        """The part of the request the trail determines."""
        return ReviewState(
            status=self.status,
            round=self.round,
            stage=self.stage,
            route=self.route,
            decisions=self.decisions,
            submitted_at=self.submitted_at,
            stage_opened_at=self.stage_opened_at,
            last_urged_at=self.last_urged_at,
            alerts_sent=self.alerts_sent,
        )

    def _label(self) -> str:
        return f"{self.document_type} {self.title or self.document_id}"

    # -- commands ----------------------------------------------------------------------

    def submit(
        self, by: UUID, route: Sequence[RouteStage], *, now: datetime, comment: str = ""
    ) -> list[DomainEvent]:
        """Submit (or resubmit) the document along ``route``; an empty route approves it.

        Raises:
            InvalidTransition: already in review or approved.
            PermissionDenied: ``by`` is not the submitter (resubmission).
        """
        if not APPROVAL.can_fire(self, "submit"):
            raise self._refused("submit")
        if self.round:
            self._check_submitter(by, "resubmit")
        return self._record(TrailEntry(Action.SUBMIT, by, now, comment, route=tuple(route)))

    def approve(self, by: UUID, *, now: datetime, comment: str = "") -> list[DomainEvent]:
        """Vote to approve the current stage.

        Raises:
            InvalidTransition: not in review.
            NotAnApprover: ``by`` is not an approver of the current stage.
            AlreadyDecided: ``by`` already voted at this stage in this round.
            SelfApprovalForbidden: ``by`` submitted it and the flow forbids that.
        """
        self._check_voter(by, "approve")
        return self._record(TrailEntry(Action.APPROVE, by, now, comment))

    def reject(self, by: UUID, *, now: datetime, comment: str = "") -> list[DomainEvent]:
        """Vote to reject the current stage (see :class:`Rule` for when that rejects).

        Raises:
            The same errors as :meth:`approve`.
        """
        self._check_voter(by, "reject")
        return self._record(TrailEntry(Action.REJECT, by, now, comment))

    def send_back(self, by: UUID, *, now: datetime, comment: str = "") -> list[DomainEvent]:
        """Return the document to its submitter for changes (退回).

        Raises:
            The same errors as :meth:`approve`.
        """
        self._check_voter(by, "send_back")
        return self._record(TrailEntry(Action.RETURN, by, now, comment))

    def withdraw(self, by: UUID, *, now: datetime, comment: str = "") -> list[DomainEvent]:
        """The submitter takes the document out of review (撤回).

        Raises:
            InvalidTransition: not in review.
            PermissionDenied: ``by`` is not the submitter.
        """
        self._check_state("withdraw")
        self._check_submitter(by, "withdraw")
        return self._record(TrailEntry(Action.WITHDRAW, by, now, comment))

    def delegate(
        self, by: UUID, to: UUID, *, now: datetime, comment: str = ""
    ) -> list[DomainEvent]:
        """Hand ``by``'s place at the current stage to ``to`` (转交).

        Raises:
            InvalidTransition: not in review.
            NotAnApprover: ``by`` is not an approver of the current stage.
            AlreadyDecided: ``by`` already voted at this stage in this round, or ``to``
                already sits in this stage.
            SelfApprovalForbidden: ``by`` submitted it and the flow forbids that, or
                ``to`` is the submitter and the flow forbids that.
        """
        self._check_voter(by, "delegate")
        self._check_newcomer(to)
        return self._record(TrailEntry(Action.DELEGATE, by, now, comment, target_id=to))

    def add_cosigner(
        self, by: UUID, cosigner: UUID, *, now: datetime, comment: str = ""
    ) -> list[DomainEvent]:
        """Add ``cosigner`` as one more approver of the current stage (加签).

        Under ``ALL`` the co-signer must approve too; under ``N_OF_M`` M grows.

        Raises:
            The same errors as :meth:`delegate`.
        """
        self._check_voter(by, "add_cosigner")
        self._check_newcomer(cosigner)
        return self._record(TrailEntry(Action.ADD_COSIGNER, by, now, comment, target_id=cosigner))

    def urge(self, by: UUID, *, now: datetime, comment: str = "") -> list[DomainEvent]:
        """The submitter nudges the pending approvers (催办), at most once per interval.

        Raises:
            InvalidTransition: not in review.
            PermissionDenied: ``by`` is not the submitter.
            UrgeTooSoon: urged less than ``urge_interval_minutes`` ago.
        """
        self._check_state("urge")
        self._check_submitter(by, "urge")
        if self.last_urged_at is not None:
            passed = int((now - self.last_urged_at).total_seconds() // 60)
            if passed < self.urge_interval_minutes:
                raise UrgeTooSoon(value=passed, maximum=self.urge_interval_minutes)
        recipients = self.pending_approvers()
        return self._record(TrailEntry(Action.URGE, by, now, comment, recipient_ids=recipients))

    def unapprove(self, by: UUID, *, now: datetime, comment: str = "") -> list[DomainEvent]:
        """Reverse an approval (反审核); the caller has checked ``by`` may.

        Raises:
            InvalidTransition: not approved.
        """
        if not APPROVAL.can_fire(self, "unapprove"):
            raise self._refused("unapprove")
        return self._record(TrailEntry(Action.UNAPPROVE, by, now, comment))

    def alert(
        self, kind: AlertKind, recipients: Sequence[UUID], *, now: datetime
    ) -> list[DomainEvent]:
        """Send the current stage's reminder or escalation, once per (round, stage, kind).

        Returns:
            The events, or an empty list when it was already sent or is not due.
        """
        due = self.remind_at if kind is AlertKind.REMIND else self.escalate_at
        if self.current_stage is None or due is None or due > now:
            return []
        if _alert_key(self.round, self.stage, kind) in self.alerts_sent:
            return []
        action = Action.REMIND if kind is AlertKind.REMIND else Action.ESCALATE
        return self._record(TrailEntry(action, SYSTEM, now, recipient_ids=tuple(recipients)))

    # -- checks ------------------------------------------------------------------------

    def _refused(self, trigger: str) -> InvalidTransition:
        return InvalidTransition(machine=APPROVAL.name, state=self.status.value, trigger=trigger)

    def _check_state(self, operation: str) -> None:
        if self.status is not RequestStatus.IN_REVIEW:
            raise self._refused(operation)

    def _check_submitter(self, by: UUID, operation: str) -> None:
        if by != self.submitter_id:
            raise PermissionDenied(actor=by, operation=operation, resource=self._label())

    def _check_voter(self, by: UUID, operation: str) -> None:
        self._check_state(operation)
        current = self.current_stage
        assert current is not None  # in review always has a current stage
        if by not in current.approvers:
            raise NotAnApprover(actor=by, resource=self._label(), stage=current.name)
        if any(d.approver_id == by for d in self.stage_decisions()):
            raise AlreadyDecided(actor=by, resource=self._label(), stage=current.name)
        if by == self.submitter_id and not self.allow_self_approval:
            raise SelfApprovalForbidden(actor=by, resource=self._label())

    def _check_newcomer(self, user: UUID) -> None:
        current = self.current_stage
        assert current is not None
        if user in current.approvers:
            raise AlreadyDecided(actor=user, resource=self._label(), stage=current.name)
        if user == self.submitter_id and not self.allow_self_approval:
            raise SelfApprovalForbidden(actor=user, resource=self._label())

    # -- applying ----------------------------------------------------------------------

    def _record(self, entry: TrailEntry) -> list[DomainEvent]:
        events = self._apply(entry)
        self.trail = (*self.trail, entry)
        self._schedule()
        return events

    def _common(self, actor: UUID) -> dict[str, Any]:
        return {
            "document_type": self.document_type,
            "document_id": self.document_id,
            "title": self.title,
            "round": self.round,
            "actor_id": actor,
        }

    def _stage_event(self, at: datetime, by: UUID) -> dict[str, Any]:
        # What every event about the current stage carries; the machine's own events get
        # their header from the machine (see _fire).
        return {
            "tenant_id": self.tenant_id,
            "aggregate_id": self.id,
            "occurred_at": at,
            **self._common(by),
            "stage": self.stage,
        }

    def _apply(self, entry: TrailEntry) -> list[DomainEvent]:
        """Apply one (already checked) entry; the single place state changes."""
        at, by = entry.at, entry.actor_id
        if entry.action is Action.SUBMIT:
            self.round += 1
            self.route = entry.route
            self.stage = 0
            self.submitted_at = at
            self.last_urged_at = None
            submitted = APPROVAL.fire(
                self,
                "submit",
                now=at,
                payload={
                    **self._common(by),
                    "submitter_id": self.submitter_id,
                    "flow_name": self.flow_name,
                    "stage_names": tuple(s.name for s in self.route),
                },
            )
            assert submitted is not None
            return [submitted, *self._open_stage(at, by)]
        if entry.action in (Action.APPROVE, Action.REJECT):
            outcome = Outcome.APPROVE if entry.action is Action.APPROVE else Outcome.REJECT
            self.decisions = (
                *self.decisions,
                Decision(self.round, self.stage, by, outcome, at, entry.comment),
            )
            events: list[DomainEvent] = [
                ApprovalDecided(
                    **self._stage_event(at, by),
                    outcome=outcome,
                    comment=entry.comment,
                )
            ]
            return events + self._settle_stage(at, by, entry.comment)
        if entry.action is Action.RETURN:
            return self._fire("send_back", at, by, comment=entry.comment)
        if entry.action is Action.WITHDRAW:
            return self._fire("withdraw", at, by, comment=entry.comment)
        if entry.action is Action.UNAPPROVE:
            return self._fire("unapprove", at, by, comment=entry.comment)
        if entry.action in (Action.DELEGATE, Action.ADD_COSIGNER):
            return self._change_approvers(entry)
        if entry.action is Action.URGE:
            self.last_urged_at = at
            return [
                ApprovalUrged(
                    **self._stage_event(at, by),
                    recipient_ids=entry.recipient_ids,
                    comment=entry.comment,
                )
            ]
        return self._apply_alert(entry)

    def _fire(self, trigger: str, at: datetime, by: UUID, **fields: Any) -> list[DomainEvent]:
        if trigger in ("send_back", "reject"):
            fields["submitter_id"] = self.submitter_id
        event = APPROVAL.fire(self, trigger, now=at, payload={**self._common(by), **fields})
        assert event is not None  # every transition of APPROVAL records an event
        return [event]

    def _open_stage(self, at: datetime, by: UUID) -> list[DomainEvent]:
        self.stage_opened_at = at
        if self.stage >= len(self.route):
            return self._fire("complete", at, by, submitter_id=self.submitter_id)
        current = self.route[self.stage]
        return [
            ApprovalStageOpened(
                **self._stage_event(at, by),
                stage_name=current.name,
                approver_ids=current.approvers,
            )
        ]

    def _settle_stage(self, at: datetime, by: UUID, comment: str) -> list[DomainEvent]:
        current = self.route[self.stage]
        votes = self.stage_decisions()
        approvals = sum(1 for d in votes if d.outcome is Outcome.APPROVE)
        rejections = len(votes) - approvals
        required = current.required()
        if approvals >= required:
            self.stage += 1
            return self._open_stage(at, by)
        if current.rule is Rule.N_OF_M:
            # Rejected once too few approvers are left to reach the quorum.
            rejected = len(current.approvers) - rejections < required
        else:
            rejected = rejections > 0
        if rejected:
            return self._fire("reject", at, by, comment=comment)
        return []

    def _change_approvers(self, entry: TrailEntry) -> list[DomainEvent]:
        assert entry.target_id is not None
        current = self.route[self.stage]
        if entry.action is Action.DELEGATE:
            approvers = tuple(
                entry.target_id if a == entry.actor_id else a for a in current.approvers
            )
        else:
            approvers = (*current.approvers, entry.target_id)
        changed = attrs.evolve(current, approvers=approvers)
        self.route = (*self.route[: self.stage], changed, *self.route[self.stage + 1 :])
        common = self._stage_event(entry.at, entry.actor_id)
        if entry.action is Action.DELEGATE:
            return [ApprovalDelegated(**common, delegate_id=entry.target_id)]
        return [ApprovalCosignerAdded(**common, cosigner_id=entry.target_id)]

    def _apply_alert(self, entry: TrailEntry) -> list[DomainEvent]:
        kind = AlertKind.REMIND if entry.action is Action.REMIND else AlertKind.ESCALATE
        self.alerts_sent = (*self.alerts_sent, _alert_key(self.round, self.stage, kind))
        common = {
            **self._stage_event(entry.at, entry.actor_id),
            "recipient_ids": entry.recipient_ids,
        }
        if kind is AlertKind.REMIND:
            return [ApprovalReminderDue(**common, due_at=self.remind_at or entry.at)]
        return [
            ApprovalEscalated(
                **common,
                late_approver_ids=self.pending_approvers(),
                due_at=self.escalate_at or entry.at,
            )
        ]

    def _schedule(self) -> None:
        """Recompute the current stage's deadlines and the next one to alert on."""
        current = self.current_stage
        self.remind_at = self.escalate_at = self.alert_due_at = None
        if current is None or self.stage_opened_at is None:
            return
        if current.remind_after is not None:
            self.remind_at = self.calendar.deadline(self.stage_opened_at, current.remind_after)
        if current.escalate_after is not None:
            self.escalate_at = self.calendar.deadline(self.stage_opened_at, current.escalate_after)
        pending = [
            due
            for kind, due in (
                (AlertKind.REMIND, self.remind_at),
                (AlertKind.ESCALATE, self.escalate_at),
            )
            if due is not None and _alert_key(self.round, self.stage, kind) not in self.alerts_sent
        ]
        self.alert_due_at = min(pending) if pending else None


def replay(trail: Sequence[TrailEntry]) -> ReviewState:
    """Rebuild the review state from an audit trail alone.

    The submitter is the actor of the first submission; self-approval is taken as
    allowed because the trail only holds commands that passed their checks.

    Args:
        trail: the entries, in order.

    Returns:
        The state a request with exactly this trail is in.
    """
    submitter = trail[0].actor_id if trail else SYSTEM
    shell = ApprovalRequest(
        id=ApprovalRequestId(SYSTEM),
        tenant_id=TenantId(SYSTEM),
        flow_id=ApprovalFlowId(SYSTEM),
        flow_name="",
        document_type="",
        document_id=SYSTEM,
        title="",
        submitter_id=submitter,
        allow_self_approval=True,
    )
    for entry in trail:
        shell._apply(entry)
    return shell.review_state()
