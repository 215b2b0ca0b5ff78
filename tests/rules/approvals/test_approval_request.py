"""The approval request on its own: each command's events, trail and refusals in full.

The services tests drive the request through a crm; these hold what a host and its
notifiers read off the request itself — every field of every event (who acted, which
stage, which comment), the trail as recorded, the review state, and the whole
``to_dict()`` of each refusal, which a host shows or logs.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import attrs
import pendulum
import pytest

from crmkit.kernel.errors import CrmError, ValidationError
from crmkit.kernel.events import DomainEvent
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
    ReviewState,
    RouteStage,
    Rule,
    replay,
)
from crmkit.rules.approvals.model.request import request_id_for
from crmkit.rules.approvals.model.trail import Decision

SUBMITTER, ANN, BOB, CAT, DAN = (uuid.UUID(int=i) for i in range(1, 6))
TENANT = TenantId(uuid.UUID(int=100))
DOCUMENT = uuid.UUID(int=102)
T0 = pendulum.datetime(2026, 3, 2, 1, 0, tz="UTC")  # Monday 09:00 in Shanghai


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def new_request(*, title: str = "HT-1", allow_self: bool = False) -> ApprovalRequest:
    return ApprovalRequest(
        id=ApprovalRequestId(uuid.UUID(int=99)),
        tenant_id=TENANT,
        flow_id=ApprovalFlowId(uuid.UUID(int=101)),
        flow_name="合同审批",
        document_type="contract",
        document_id=DOCUMENT,
        title=title,
        submitter_id=SUBMITTER,
        allow_self_approval=allow_self,
        urge_interval_minutes=60,
    )


def manager_stage(*people: uuid.UUID) -> RouteStage:
    return RouteStage(
        name="manager",
        rule=Rule.ANY,
        approvers=people or (ANN,),
        remind_after=Deadline.business_hours(2),
        escalate_after=Deadline.business_hours(4),
    )


def finance_stage() -> RouteStage:
    return RouteStage(name="finance", rule=Rule.ALL, approvers=(BOB, CAT))


def in_review(*route: RouteStage, **options: Any) -> ApprovalRequest:
    request = new_request(**options)
    request.submit(SUBMITTER, route or (manager_stage(),), now=T0)
    return request


def described(events: list[DomainEvent]) -> list[tuple[str, dict[str, Any]]]:
    """Each event's type and fields, but its id (made fresh for each event)."""
    return [
        (
            type(e).__name__,
            {k: v for k, v in attrs.asdict(e, recurse=False).items() if k != "event_id"},
        )
        for e in events
    ]


def header(minutes: int, actor: uuid.UUID, round_: int = 1, **fields: Any) -> dict[str, Any]:
    return {
        "tenant_id": TENANT,
        "aggregate_id": uuid.UUID(int=99),
        "occurred_at": at(minutes),
        "document_type": "contract",
        "document_id": DOCUMENT,
        "title": "HT-1",
        "round": round_,
        "actor_id": actor,
        **fields,
    }


def refusal(command: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(CrmError) as refused:
        command(*args, **kwargs)
    return refused.value.to_dict()


# -- events ------------------------------------------------------------------------------


def test_submit_then_approve_report_every_field_of_their_events() -> None:
    request = new_request()
    submitted = request.submit(
        SUBMITTER, [manager_stage(), finance_stage()], now=at(0), comment="请审批"
    )
    assert described(submitted) == [
        (
            "ApprovalSubmitted",
            header(
                0,
                SUBMITTER,
                submitter_id=SUBMITTER,
                flow_name="合同审批",
                stage_names=("manager", "finance"),
            ),
        ),
        (
            "ApprovalStageOpened",
            header(0, SUBMITTER, stage=0, stage_name="manager", approver_ids=(ANN,)),
        ),
    ]
    approved = request.approve(ANN, now=at(5), comment="同意")
    assert described(approved) == [
        ("ApprovalDecided", header(5, ANN, stage=0, outcome=Outcome.APPROVE, comment="同意")),
        (
            "ApprovalStageOpened",
            header(5, ANN, stage=1, stage_name="finance", approver_ids=(BOB, CAT)),
        ),
    ]
    request.approve(BOB, now=at(6))
    done = request.approve(CAT, now=at(7), comment="好")
    assert described(done) == [
        ("ApprovalDecided", header(7, CAT, stage=1, outcome=Outcome.APPROVE, comment="好")),
        ("ApprovalApproved", header(7, CAT, submitter_id=SUBMITTER)),
    ]
    assert described(request.unapprove(DAN, now=at(9), comment="金额有误")) == [
        ("ApprovalUnapproved", header(9, DAN, comment="金额有误"))
    ]


def test_a_rejecting_vote_reports_the_vote_and_the_rejection_with_its_comment() -> None:
    request = in_review(finance_stage())
    assert described(request.reject(BOB, now=at(3), comment="价格太低")) == [
        ("ApprovalDecided", header(3, BOB, stage=0, outcome=Outcome.REJECT, comment="价格太低")),
        ("ApprovalRejected", header(3, BOB, submitter_id=SUBMITTER, comment="价格太低")),
    ]


def test_return_and_withdraw_report_who_and_why() -> None:
    request = in_review()
    assert described(request.send_back(ANN, now=at(2), comment="补充附件")) == [
        ("ApprovalReturned", header(2, ANN, submitter_id=SUBMITTER, comment="补充附件"))
    ]
    request.submit(SUBMITTER, [manager_stage()], now=at(3))
    assert described(request.withdraw(SUBMITTER, now=at(4), comment="撤回修改")) == [
        ("ApprovalWithdrawn", header(4, SUBMITTER, round_=2, comment="撤回修改"))
    ]


def test_resubmitting_along_an_empty_route_approves_at_once() -> None:
    request = in_review()
    request.send_back(ANN, now=at(1))
    events = request.submit(SUBMITTER, [], now=at(2))
    assert described(events) == [
        (
            "ApprovalSubmitted",
            header(
                2, SUBMITTER, round_=2, submitter_id=SUBMITTER, flow_name="合同审批", stage_names=()
            ),
        ),
        ("ApprovalApproved", header(2, SUBMITTER, round_=2, submitter_id=SUBMITTER)),
    ]
    assert request.status is RequestStatus.APPROVED


def test_delegating_and_cosigning_change_only_the_current_stage() -> None:
    request = in_review(manager_stage(ANN, BOB), finance_stage())
    delegated = request.delegate(ANN, DAN, now=at(1), comment="出差中")
    assert described(delegated) == [("ApprovalDelegated", header(1, ANN, stage=0, delegate_id=DAN))]
    cosigned = request.add_cosigner(BOB, CAT, now=at(2), comment="请财务看")
    assert described(cosigned) == [
        ("ApprovalCosignerAdded", header(2, BOB, stage=0, cosigner_id=CAT))
    ]
    assert request.route == (
        attrs.evolve(manager_stage(ANN, BOB), approvers=(DAN, BOB, CAT)),
        finance_stage(),
    )
    assert [(e.action, e.actor_id, e.target_id, e.comment) for e in request.trail[1:]] == [
        (Action.DELEGATE, ANN, DAN, "出差中"),
        (Action.ADD_COSIGNER, BOB, CAT, "请财务看"),
    ]


def test_delegating_at_a_later_stage_keeps_the_stages_around_it() -> None:
    last = RouteStage(name="director", rule=Rule.ANY, approvers=(DAN,))
    request = in_review(manager_stage(), finance_stage(), last)
    request.approve(ANN, now=at(1))
    request.delegate(BOB, ANN, now=at(2))
    assert request.route == (
        manager_stage(),
        RouteStage(name="finance", rule=Rule.ALL, approvers=(ANN, CAT)),
        last,
    )


def test_urging_tells_the_pending_approvers_and_records_the_comment() -> None:
    request = in_review(finance_stage())
    request.approve(BOB, now=at(1))
    urged = request.urge(SUBMITTER, now=at(2), comment="客户在等")
    assert described(urged) == [
        ("ApprovalUrged", header(2, SUBMITTER, stage=0, recipient_ids=(CAT,), comment="客户在等"))
    ]
    assert request.last_urged_at == at(2)
    assert (request.trail[-1].action, request.trail[-1].comment) == (Action.URGE, "客户在等")


def test_reminders_and_escalations_carry_their_own_deadline() -> None:
    # Opened Monday 09:00 Shanghai: the reminder is due at 11:00, the escalation at 13:00.
    request = in_review()
    remind_at, escalate_at = T0 + timedelta(hours=2), T0 + timedelta(hours=4)
    assert (request.remind_at, request.escalate_at, request.alert_due_at) == (
        remind_at,
        escalate_at,
        remind_at,
    )
    assert request.alert(AlertKind.REMIND, [ANN], now=remind_at - timedelta(minutes=1)) == []
    reminded = request.alert(AlertKind.REMIND, [ANN], now=at(150))
    assert described(reminded) == [
        (
            "ApprovalReminderDue",
            header(150, uuid.UUID(int=0), stage=0, recipient_ids=(ANN,), due_at=remind_at),
        )
    ]
    assert request.alert_due_at == escalate_at
    escalated = request.alert(AlertKind.ESCALATE, [DAN], now=at(300))
    assert described(escalated) == [
        (
            "ApprovalEscalated",
            header(
                300,
                uuid.UUID(int=0),
                stage=0,
                recipient_ids=(DAN,),
                late_approver_ids=(ANN,),
                due_at=escalate_at,
            ),
        )
    ]
    assert request.alerts_sent == ("1:0:remind", "1:0:escalate")
    assert request.alert_due_at is None
    assert request.alert(AlertKind.ESCALATE, [DAN], now=at(400)) == []


def test_a_stage_without_deadlines_is_never_alerted_on() -> None:
    request = in_review(finance_stage())
    assert (request.remind_at, request.escalate_at, request.alert_due_at) == (None, None, None)
    for kind in AlertKind:
        assert request.alert(kind, [BOB], now=at(10_000)) == []
    assert len(request.trail) == 1


# -- the trail and the review state ------------------------------------------------------


def test_commands_without_a_comment_record_none() -> None:
    request = new_request()
    request.submit(SUBMITTER, [manager_stage(ANN, BOB)], now=at(0))
    request.urge(SUBMITTER, now=at(0))
    request.delegate(ANN, CAT, now=at(1))
    request.add_cosigner(BOB, DAN, now=at(2))
    request.approve(BOB, now=at(3))
    request.unapprove(DAN, now=at(4))
    request.submit(SUBMITTER, [finance_stage()], now=at(5))
    request.reject(BOB, now=at(6))
    request.submit(SUBMITTER, [finance_stage()], now=at(7))
    request.send_back(CAT, now=at(8))
    request.submit(SUBMITTER, [finance_stage()], now=at(9))
    request.withdraw(SUBMITTER, now=at(10))
    assert [e.action.value for e in request.trail] == [
        "submit",
        "urge",
        "delegate",
        "add_cosigner",
        "approve",
        "unapprove",
        "submit",
        "reject",
        "submit",
        "return",
        "submit",
        "withdraw",
    ]
    assert {e.comment for e in request.trail} == {""}
    assert {d.comment for d in request.decisions} == {""}


def test_each_command_keeps_its_comment_in_the_trail() -> None:
    request = new_request()
    request.submit(SUBMITTER, [manager_stage()], now=at(0), comment="首次")
    request.reject(ANN, now=at(1), comment="不行")
    request.submit(SUBMITTER, [], now=at(2), comment="再次")
    request.unapprove(DAN, now=at(3), comment="反审核")
    assert [e.comment for e in request.trail] == ["首次", "不行", "再次", "反审核"]


def test_the_review_state_is_what_the_request_holds() -> None:
    request = in_review(finance_stage())
    request.approve(BOB, now=at(1), comment="同意")
    request.urge(SUBMITTER, now=at(2))
    assert request.review_state() == ReviewState(
        status=RequestStatus.IN_REVIEW,
        round=1,
        stage=0,
        route=(finance_stage(),),
        decisions=(Decision(1, 0, BOB, Outcome.APPROVE, at(1), "同意"),),
        submitted_at=T0,
        stage_opened_at=T0,
        last_urged_at=at(2),
        alerts_sent=(),
    )
    assert replay(request.trail) == request.review_state()


def test_replay_of_nothing_is_a_draft_and_of_one_submission_is_in_review() -> None:
    assert replay(()) == new_request().review_state()
    request = in_review()
    assert replay(request.trail) == request.review_state()
    assert replay(request.trail).status is RequestStatus.IN_REVIEW


def test_the_request_id_of_a_document_never_changes() -> None:
    # Stored requests are found again by this id when the document is resubmitted: the
    # derivation must stay the same across releases.
    assert request_id_for(TENANT, "contract", DOCUMENT) == uuid.UUID(
        "9216929d-24e4-54a1-9a7f-3618671bd512"
    )
    assert request_id_for(TENANT, "quote", DOCUMENT) != request_id_for(TENANT, "contract", DOCUMENT)


@pytest.mark.parametrize("document_type", ["con\ud800tract", "con\x00tract"])
def test_a_document_type_no_store_holds_gets_no_request_id(document_type: str) -> None:
    # uuid5 cannot even encode a lone surrogate: refuse it naming the field, as a store would.
    with pytest.raises(ValidationError) as refused:
        request_id_for(TENANT, document_type, DOCUMENT)
    assert refused.value.to_dict()["message"].startswith("approval request.document_type: contains")


def test_an_n_of_m_stage_without_a_quorum_needs_one_approval() -> None:
    assert RouteStage(name="any two", rule=Rule.N_OF_M, approvers=(ANN, BOB)).required() == 1
    assert RouteStage("q", Rule.N_OF_M, (ANN, BOB, CAT), quorum=5).required() == 3


# -- refusals ------------------------------------------------------------------------------


def _invalid(state: str, trigger: str) -> dict[str, Any]:
    return {
        "code": "invalid_transition",
        "message": f"approval_request: cannot {trigger} from state {state}.",
        "machine": "approval_request",
        "state": state,
        "trigger": trigger,
    }


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("approve", (ANN,)),
        ("reject", (ANN,)),
        ("send_back", (ANN,)),
        ("withdraw", (SUBMITTER,)),
        ("delegate", (ANN, BOB)),
        ("add_cosigner", (ANN, BOB)),
        ("urge", (SUBMITTER,)),
        ("unapprove", (ANN,)),
    ],
)
def test_a_draft_refuses_every_command_but_submit_naming_it(
    command: str, args: tuple[uuid.UUID, ...]
) -> None:
    request = new_request()
    refused = refusal(getattr(request, command), *args, now=at(0))
    assert refused == _invalid("draft", command)
    assert request.trail == ()


def test_a_request_in_review_refuses_submit_and_unapprove() -> None:
    request = in_review()
    assert refusal(request.submit, SUBMITTER, [], now=at(1)) == _invalid("in_review", "submit")
    assert refusal(request.unapprove, ANN, now=at(1)) == _invalid("in_review", "unapprove")


@pytest.mark.parametrize(
    ("title", "label"), [("HT-1", "contract HT-1"), ("", f"contract {DOCUMENT}")]
)
def test_only_the_submitter_may_resubmit_withdraw_or_urge(title: str, label: str) -> None:
    request = in_review(title=title)
    for command, operation in (("withdraw", "withdraw"), ("urge", "urge")):
        assert refusal(getattr(request, command), ANN, now=at(1)) == {
            "code": "permission_denied",
            "message": f"{ANN} may not {operation} {label}.",
            "actor": str(ANN),
            "operation": operation,
            "resource": label,
            "decision": None,
            "field": None,
        }
    request.send_back(ANN, now=at(2))
    assert refusal(request.submit, ANN, [manager_stage()], now=at(3)) == {
        "code": "permission_denied",
        "message": f"{ANN} may not resubmit {label}.",
        "actor": str(ANN),
        "operation": "resubmit",
        "resource": label,
        "decision": None,
        "field": None,
    }


def test_a_vote_refusal_names_the_voter_the_document_and_the_stage() -> None:
    request = in_review(manager_stage(ANN, SUBMITTER), finance_stage())
    for vote in ("approve", "reject", "send_back"):
        assert refusal(getattr(request, vote), BOB, now=at(1)) == {
            "code": "not_an_approver",
            "message": f"{BOB} is not waited on at stage manager of contract HT-1.",
            "actor": str(BOB),
            "operation": "decide",
            "resource": "contract HT-1",
            "stage": "manager",
            "field": None,
        }
    assert refusal(request.approve, SUBMITTER, now=at(1)) == {
        "code": "self_approval_forbidden",
        "message": f"{SUBMITTER} submitted contract HT-1 and may not approve it.",
        "actor": str(SUBMITTER),
        "operation": "approve",
        "resource": "contract HT-1",
        "field": None,
    }
    request = in_review(finance_stage())
    request.approve(BOB, now=at(1))
    assert refusal(request.reject, BOB, now=at(2)) == {
        "code": "already_decided",
        "message": f"{BOB} has already decided stage finance of contract HT-1.",
        "actor": str(BOB),
        "resource": "contract HT-1",
        "stage": "finance",
    }


def test_a_newcomer_refusal_names_the_newcomer() -> None:
    request = in_review(finance_stage())
    assert refusal(request.add_cosigner, BOB, CAT, now=at(1)) == {
        "code": "already_decided",
        "message": f"{CAT} has already decided stage finance of contract HT-1.",
        "actor": str(CAT),
        "resource": "contract HT-1",
        "stage": "finance",
    }
    assert refusal(request.delegate, BOB, SUBMITTER, now=at(1)) == {
        "code": "self_approval_forbidden",
        "message": f"{SUBMITTER} submitted contract HT-1 and may not approve it.",
        "actor": str(SUBMITTER),
        "operation": "approve",
        "resource": "contract HT-1",
        "field": None,
    }
    assert len(request.trail) == 1
