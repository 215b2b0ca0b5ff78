"""Stateful invariants of an approval request, driven by hypothesis.

Random submitters' and approvers' commands (most of them illegal at the moment
they are tried) run against one request and an editable document guarded by the
request's lock. After every step:

- each approver decides a stage at most once per round;
- nothing is approved after a rejection, return or withdrawal without a resubmission;
- an approved (or in-review) document never changes without an unapprove;
- a completed stage counted exactly as many approvals as its rule requires;
- a refused command changed nothing;
- the submitter, who sits in some stages, never votes unless the flow allows self-approval;
- the audit trail replays to the live state.
"""

from __future__ import annotations

import copy
import uuid
from datetime import timedelta

import pendulum
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from crmkit.kernel.errors import CrmError
from crmkit.kernel.ids import TenantId
from crmkit.rules.approvals import (
    Action,
    AlertKind,
    ApprovalFlowId,
    ApprovalRequest,
    ApprovalRequestId,
    Deadline,
    Outcome,
    RequestStatus,
    RouteStage,
    Rule,
    SelfApprovalForbidden,
    replay,
)

USERS = [uuid.UUID(int=i) for i in range(1, 7)]
SUBMITTER = USERS[0]
users = st.sampled_from(USERS)


@st.composite
def stages(draw: st.DrawFn) -> RouteStage:
    # The submitter sits in some stages: the domain must refuse their vote itself, whatever
    # the stage's rule, not rely on the services leaving them out of the route.
    people = draw(st.lists(st.sampled_from(USERS), min_size=1, max_size=4, unique=True))
    kind = draw(st.sampled_from(list(Rule)))
    quorum = draw(st.integers(1, len(people))) if kind is Rule.N_OF_M else None
    return RouteStage(
        name=f"s{draw(st.integers(0, 999))}",
        rule=kind,
        approvers=tuple(people),
        quorum=quorum,
        remind_after=draw(st.none() | st.just(Deadline.business_hours(2))),
        escalate_after=draw(st.none() | st.just(Deadline.days(1))),
    )


routes = st.lists(stages(), min_size=0, max_size=3)
comments = st.sampled_from(["", "同意", "请补充"])

CLOSED = (RequestStatus.REJECTED, RequestStatus.RETURNED, RequestStatus.WITHDRAWN)


class ApprovalMachine(RuleBasedStateMachine):
    @initialize(allow_self=st.booleans())
    def start(self, allow_self: bool) -> None:
        self.now = pendulum.datetime(2026, 3, 2, 1, 0, tz="UTC")
        self.request = ApprovalRequest(
            id=ApprovalRequestId(uuid.UUID(int=99)),
            tenant_id=TenantId(uuid.UUID(int=100)),
            flow_id=ApprovalFlowId(uuid.UUID(int=101)),
            flow_name="flow",
            document_type="contract",
            document_id=uuid.UUID(int=102),
            title="HT-1",
            submitter_id=SUBMITTER,
            allow_self_approval=allow_self,
            urge_interval_minutes=60,
        )
        self.document = 0
        self.document_when_locked: int | None = None

    def attempt(self, command: str, *args: object, **kwargs: object) -> None:
        before = copy.deepcopy(self.request)
        try:
            getattr(self.request, command)(*args, now=self.now, **kwargs)
        except CrmError:
            # Refused: nothing changed, not even the trail.
            assert self.request.review_state() == before.review_state()
            assert self.request.trail == before.trail
        if self.request.is_locked and not before.is_locked:
            self.document_when_locked = self.document
        if not self.request.is_locked:
            self.document_when_locked = None

    @rule(minutes=st.integers(0, 600))
    def time_passes(self, minutes: int) -> None:
        self.now = self.now + timedelta(minutes=minutes)

    @rule(by=users, route=routes, comment=comments)
    def submit(self, by: uuid.UUID, route: list[RouteStage], comment: str) -> None:
        self.attempt("submit", by, route, comment=comment)

    @rule(by=users, comment=comments)
    def approve(self, by: uuid.UUID, comment: str) -> None:
        self.attempt("approve", by, comment=comment)

    # Random users rarely hit the interesting cases, so also act as the submitter and as
    # members of the current stage — including members who have already voted.
    @rule(route=routes)
    def submitter_submits(self, route: list[RouteStage]) -> None:
        self.attempt("submit", SUBMITTER, route)

    @precondition(
        lambda self: (
            self.request.current_stage is not None
            and SUBMITTER in self.request.current_stage.approvers
        )
    )
    @rule(command=st.sampled_from(["approve", "reject"]))
    def the_submitter_votes_in_their_own_stage(self, command: str) -> None:
        self.attempt(command, SUBMITTER)

    @precondition(lambda self: self.request.current_stage is not None)
    @rule(data=st.data(), command=st.sampled_from(["approve", "approve", "reject", "send_back"]))
    def stage_member_votes(self, data: st.DataObject, command: str) -> None:
        stage = self.request.current_stage
        assert stage is not None
        self.attempt(command, data.draw(st.sampled_from(stage.approvers)))

    @precondition(lambda self: self.request.current_stage is not None)
    @rule(data=st.data(), to=users, command=st.sampled_from(["delegate", "add_cosigner"]))
    def stage_member_hands_on(self, data: st.DataObject, to: uuid.UUID, command: str) -> None:
        stage = self.request.current_stage
        assert stage is not None
        self.attempt(command, data.draw(st.sampled_from(stage.approvers)), to)

    @precondition(lambda self: self.request.status is RequestStatus.APPROVED)
    @rule()
    def someone_unapproves(self) -> None:
        self.attempt("unapprove", USERS[1])

    @rule(by=users, comment=comments)
    def reject(self, by: uuid.UUID, comment: str) -> None:
        self.attempt("reject", by, comment=comment)

    @rule(by=users)
    def send_back(self, by: uuid.UUID) -> None:
        self.attempt("send_back", by)

    @rule(by=users)
    def withdraw(self, by: uuid.UUID) -> None:
        self.attempt("withdraw", by)

    @rule(by=users, to=users)
    def delegate(self, by: uuid.UUID, to: uuid.UUID) -> None:
        self.attempt("delegate", by, to)

    @rule(by=users, to=users)
    def add_cosigner(self, by: uuid.UUID, to: uuid.UUID) -> None:
        self.attempt("add_cosigner", by, to)

    @rule(by=users)
    def urge(self, by: uuid.UUID) -> None:
        self.attempt("urge", by)

    @rule(by=users)
    def unapprove(self, by: uuid.UUID) -> None:
        self.attempt("unapprove", by)

    @rule(kind=st.sampled_from(list(AlertKind)))
    def overdue_scan(self, kind: AlertKind) -> None:
        self.attempt("alert", kind, self.request.pending_approvers())

    @rule(value=st.integers(1, 1000))
    def edit_document(self, value: int) -> None:
        # What an area does before saving an edit: ask whether the document is locked.
        if not self.request.is_locked:
            self.document = value

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def each_approver_decides_a_stage_at_most_once(self) -> None:
        keys = [(d.round, d.stage, d.approver_id) for d in self.request.decisions]
        assert len(keys) == len(set(keys))

    @invariant()
    def nothing_is_decided_after_a_rejection_without_resubmission(self) -> None:
        trail = self.request.trail
        for i, entry in enumerate(trail):
            status = replay(trail[:i]).status
            if status in CLOSED:
                assert entry.action in (Action.SUBMIT,), (status, entry.action)
            if status is RequestStatus.APPROVED:
                assert entry.action is Action.UNAPPROVE

    @invariant()
    def a_locked_document_does_not_change(self) -> None:
        if self.request.is_locked:
            assert self.document == self.document_when_locked

    @invariant()
    def completed_stages_counted_exactly_their_rule(self) -> None:
        request = self.request
        done = len(request.route) if request.status is RequestStatus.APPROVED else request.stage
        if request.status not in (RequestStatus.IN_REVIEW, RequestStatus.APPROVED):
            return
        for index in range(done):
            approvals = [d for d in request.stage_decisions(index) if d.outcome is Outcome.APPROVE]
            assert len(approvals) == request.route[index].required()

    @invariant()
    def the_submitter_votes_only_where_self_approval_is_allowed(self) -> None:
        if not self.request.allow_self_approval:
            assert all(d.approver_id != SUBMITTER for d in self.request.decisions)

    @invariant()
    def the_trail_replays_to_the_live_state(self) -> None:
        assert replay(self.request.trail) == self.request.review_state()


def _request_with_the_submitter_in(stage: RouteStage, *, allow_self: bool) -> ApprovalRequest:
    request = ApprovalRequest(
        id=ApprovalRequestId(uuid.UUID(int=99)),
        tenant_id=TenantId(uuid.UUID(int=100)),
        flow_id=ApprovalFlowId(uuid.UUID(int=101)),
        flow_name="flow",
        document_type="contract",
        document_id=uuid.UUID(int=102),
        title="HT-1",
        submitter_id=SUBMITTER,
        allow_self_approval=allow_self,
    )
    request.submit(SUBMITTER, [stage], now=pendulum.datetime(2026, 3, 2, 1, tz="UTC"))
    return request


@pytest.mark.parametrize("kind", list(Rule))
@pytest.mark.parametrize("vote", ["approve", "reject"])
def test_the_submitter_cannot_vote_in_any_kind_of_stage(kind: Rule, vote: str) -> None:
    stage = RouteStage(
        name="team",
        rule=kind,
        approvers=(SUBMITTER, USERS[1], USERS[2]),
        quorum=2 if kind is Rule.N_OF_M else None,
    )
    request = _request_with_the_submitter_in(stage, allow_self=False)
    with pytest.raises(SelfApprovalForbidden):
        getattr(request, vote)(SUBMITTER, now=pendulum.datetime(2026, 3, 2, 2, tz="UTC"))
    assert not request.decisions
    allowed = _request_with_the_submitter_in(stage, allow_self=True)
    getattr(allowed, vote)(SUBMITTER, now=pendulum.datetime(2026, 3, 2, 2, tz="UTC"))
    assert [d.approver_id for d in allowed.decisions] == [SUBMITTER]


ApprovalMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None
)
test_approval_invariants = ApprovalMachine.TestCase
