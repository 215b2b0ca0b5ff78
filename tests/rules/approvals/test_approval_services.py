"""Approval flows end to end through the services, on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

# The areas register their document types (contract, quote, refund) with approvals on
# import; run alone, this module must import them itself.
import crmkit.billing
import crmkit.pipeline  # noqa: F401
from crmkit import Crm
from crmkit.kernel.clock import FixedClock
from crmkit.kernel.errors import InvalidTransition, NotFound, PermissionDenied
from crmkit.kernel.ids import TenantId
from crmkit.kernel.money import Money
from crmkit.ports import UnitOfWork
from crmkit.rules.approvals import (
    AlreadyDecided,
    ApprovalApproved,
    ApprovalEscalated,
    ApprovalReminderDue,
    ApprovalRequest,
    ApprovalStageOpened,
    ApprovalUrged,
    Approvers,
    DocumentLocked,
    Facts,
    FlowStage,
    NoApprover,
    NotAnApprover,
    Outcome,
    RequestStatus,
    Rule,
    SelfApprovalForbidden,
    UrgeTooSoon,
    add_cosigner,
    approval_inbox,
    approve_request,
    batch_approve,
    batch_unapprove,
    define_flow,
    delegate_request,
    ensure_editable,
    get_approval_request,
    is_locked,
    my_submissions,
    register_approvable,
    reject_request,
    replay,
    return_request,
    scan_overdue_approvals,
    submit_for_approval,
    unapprove_request,
    urge_request,
    withdraw_request,
)
from crmkit.rules.approvals.services.approvable import hooks_for
from tests.rules.approvals.builders import HOST_DOCUMENT, Org, contract_flow, make_org


@pytest.fixture
def org(tenant: TenantId) -> Org:
    return make_org(tenant)


def submit(
    crm: Crm, org: Org, amount: str = "50000", discount: str = "0.05", **kw: Any
) -> ApprovalRequest:
    return submit_for_approval(
        crm,
        kw.pop("actor", org.rep),
        document_type=kw.pop("document_type", HOST_DOCUMENT),
        document_id=kw.pop("document_id", uuid.uuid4()),
        title=kw.pop("title", "HT-202603-0001"),
        facts=Facts(amount=Money(amount, "CNY"), discount=Decimal(discount)),
        directory=org.directory,
        **kw,
    )


def events_of(crm: Crm, tenant: TenantId, kind: type) -> list[Any]:
    with crm.unit_of_work(tenant) as uow:
        return [e for e in uow.outbox.pending(10_000) if isinstance(e, kind)]


def test_small_contract_goes_to_the_manager_only(crm: Crm, org: Org) -> None:
    contract_flow(crm, org)
    request = submit(crm, org)
    assert request.status is RequestStatus.IN_REVIEW
    assert [s.name for s in request.route] == ["manager"]
    assert request.pending_approvers() == (org.manager.user_id,)
    approved = approve_request(crm, org.manager, request.id, comment="同意")
    assert approved.status is RequestStatus.APPROVED
    decision = approved.decisions[-1]
    assert (decision.approver_id, decision.outcome, decision.comment) == (
        org.manager.user_id,
        Outcome.APPROVE,
        "同意",
    )
    assert decision.at == crm.now()
    assert [e.submitter_id for e in events_of(crm, org.tenant, ApprovalApproved)] == [
        org.rep.user_id
    ]


def test_conditions_add_finance_and_director_stages(crm: Crm, org: Org) -> None:
    contract_flow(crm, org)
    request = submit(crm, org, amount="120000", discount="0.18")
    assert [s.name for s in request.route] == ["manager", "finance", "director"]
    request = approve_request(crm, org.manager, request.id)
    assert request.stage == 1
    # Two of three finance people approve the stage; the third is no longer asked.
    request = approve_request(crm, org.finance[0], request.id)
    assert request.stage == 1
    request = approve_request(crm, org.finance[2], request.id)
    assert request.stage == 2
    with pytest.raises(NotAnApprover):
        approve_request(crm, org.finance[1], request.id)
    request = approve_request(crm, org.director, request.id)
    assert request.status is RequestStatus.APPROVED
    # Events of one instant have no order among themselves in the outbox.
    opened = sorted(events_of(crm, org.tenant, ApprovalStageOpened), key=lambda e: e.stage)
    assert [e.stage_name for e in opened] == ["manager", "finance", "director"]
    assert opened[1].approver_ids == tuple(f.user_id for f in org.finance)


def test_approvers_resolve_from_the_org_chart(crm: Crm, org: Org) -> None:
    define_flow(
        crm,
        org.manager,
        name="expense",
        document_type="expense",
        stages=[
            FlowStage("up two", [Approvers.managers_manager()]),
            FlowStage("head", [Approvers.department_head()]),
            FlowStage("named", [Approvers.named(org.outsider.user_id)]),
        ],
    )
    request = submit(crm, org, document_type="expense")
    assert [s.approvers for s in request.route] == [
        (org.vp.user_id,),
        (org.head.user_id,),
        (org.outsider.user_id,),
    ]


def test_a_stage_nobody_can_approve_is_refused_at_submission(crm: Crm, org: Org) -> None:
    define_flow(
        crm,
        org.manager,
        name="broken",
        document_type="travel_request",
        stages=[FlowStage("nobody", [Approvers.of_role("empty")])],
    )
    with pytest.raises(NoApprover):
        submit(crm, org, document_type="travel_request")
    with crm.unit_of_work(org.tenant) as uow:
        assert uow.repository(ApprovalRequest).count() == 0


def test_submitter_cannot_approve_their_own_document(crm: Crm, org: Org) -> None:
    define_flow(
        crm,
        org.manager,
        name="quote",
        document_type="leave_request",
        stages=[FlowStage("team", [Approvers.named(org.rep.user_id, org.director.user_id)])],
    )
    request = submit(crm, org, document_type="leave_request")
    # Left out of the route, so the rep cannot approve; nor may anyone delegate to them.
    assert request.route[0].approvers == (org.director.user_id,)
    with pytest.raises(NotAnApprover):
        approve_request(crm, org.rep, request.id)
    with pytest.raises(SelfApprovalForbidden):
        delegate_request(crm, org.director, request.id, org.rep.user_id)


def test_a_stage_of_only_the_submitter_goes_to_their_manager(crm: Crm, org: Org) -> None:
    define_flow(
        crm,
        org.manager,
        name="discount",
        document_type="discount",
        stages=[FlowStage("self", [Approvers.named(org.rep.user_id)])],
    )
    request = submit(crm, org, document_type="discount")
    assert request.route[0].approvers == (org.manager.user_id,)


def test_self_approval_when_the_flow_allows_it(crm: Crm, org: Org) -> None:
    define_flow(
        crm,
        org.manager,
        name="self ok",
        document_type="memo",
        stages=[FlowStage("self", [Approvers.named(org.rep.user_id)])],
        allow_self_approval=True,
    )
    request = submit(crm, org, document_type="memo")
    assert approve_request(crm, org.rep, request.id).status is RequestStatus.APPROVED


def test_rejection_stops_everything_until_resubmitted(crm: Crm, org: Org) -> None:
    contract_flow(crm, org)
    request = submit(crm, org, amount="120000")
    request = reject_request(crm, org.manager, request.id, comment="价格太低")
    assert request.status is RequestStatus.REJECTED
    with pytest.raises(InvalidTransition):
        approve_request(crm, org.manager, request.id)
    assert not is_locked_now(crm, org, request)
    request = submit(crm, org, amount="90000", document_id=request.document_id)
    assert (request.status, request.round, [s.name for s in request.route]) == (
        RequestStatus.IN_REVIEW,
        2,
        ["manager"],
    )
    assert approve_request(crm, org.manager, request.id).status is RequestStatus.APPROVED


def is_locked_now(crm: Crm, org: Org, request: ApprovalRequest) -> bool:
    return crm.run(
        org.tenant, lambda uow: is_locked(uow, request.document_type, request.document_id)
    )


def test_n_of_m_rejects_once_the_quorum_is_out_of_reach(crm: Crm, org: Org) -> None:
    contract_flow(crm, org)
    request = submit(crm, org, amount="500000")
    request = approve_request(crm, org.manager, request.id)
    request = reject_request(crm, org.finance[0], request.id)
    assert request.status is RequestStatus.IN_REVIEW  # 2 of the 3 may still approve
    request = reject_request(crm, org.finance[1], request.id)
    assert request.status is RequestStatus.REJECTED


def test_return_and_withdraw_hand_the_document_back(crm: Crm, org: Org) -> None:
    contract_flow(crm, org)
    request = submit(crm, org)
    with pytest.raises(PermissionDenied):
        withdraw_request(crm, org.manager, request.id)
    returned = return_request(crm, org.manager, request.id, comment="补充附件")
    assert returned.status is RequestStatus.RETURNED
    again = submit(crm, org, document_id=request.document_id)
    withdrawn = withdraw_request(crm, org.rep, again.id, comment="撤回修改")
    assert withdrawn.status is RequestStatus.WITHDRAWN
    assert [e.action.value for e in withdrawn.trail] == ["submit", "return", "submit", "withdraw"]
    assert [e.comment for e in withdrawn.trail][1:4:2] == ["补充附件", "撤回修改"]


def test_delegation_and_cosigning(crm: Crm, org: Org) -> None:
    define_flow(
        crm,
        org.manager,
        name="all",
        document_type="purchase_order",
        stages=[
            FlowStage("both", [Approvers.named(org.manager.user_id, org.vp.user_id)], rule=Rule.ALL)
        ],
    )
    request = submit(crm, org, document_type="purchase_order")
    request = delegate_request(crm, org.vp, request.id, org.head.user_id, comment="出差中")
    assert request.route[0].approvers == (org.manager.user_id, org.head.user_id)
    with pytest.raises(NotAnApprover):
        approve_request(crm, org.vp, request.id)
    request = add_cosigner(crm, org.manager, request.id, org.director.user_id)
    with pytest.raises(AlreadyDecided):
        add_cosigner(crm, org.manager, request.id, org.director.user_id)
    request = approve_request(crm, org.manager, request.id)
    request = approve_request(crm, org.head, request.id)
    assert request.status is RequestStatus.IN_REVIEW  # the co-signer must approve too
    with pytest.raises(AlreadyDecided):
        approve_request(crm, org.manager, request.id)
    request = approve_request(crm, org.director, request.id)
    assert request.status is RequestStatus.APPROVED


def test_documents_are_locked_in_review_and_after_approval_until_unapproved(
    crm: Crm, org: Org
) -> None:
    contract_flow(crm, org)
    seen: list[tuple[str, RequestStatus]] = []

    def record(kind: str) -> Any:
        def hook(uow: UnitOfWork, request: ApprovalRequest) -> None:
            seen.append((kind, request.status))

        return hook

    previous = hooks_for(HOST_DOCUMENT)  # put back below
    register_approvable(
        HOST_DOCUMENT,
        on_approved=record("approved"),
        on_unapproved=record("unapproved"),
        on_closed=record("closed"),
    )
    try:
        request = submit(crm, org)
        assert is_locked_now(crm, org, request)
        with pytest.raises(DocumentLocked):
            crm.run(
                org.tenant,
                lambda uow: ensure_editable(uow, HOST_DOCUMENT, request.document_id),
            )
        request = approve_request(crm, org.manager, request.id)
        assert is_locked_now(crm, org, request)
        with pytest.raises(PermissionDenied):
            unapprove_request(crm, org.outsider, request.id, directory=org.directory)
        request = unapprove_request(crm, org.manager, request.id, comment="金额有误")
        assert request.status is RequestStatus.UNAPPROVED
        assert not is_locked_now(crm, org, request)
        assert request.trail[-1].action.value == "unapprove"
        assert request.trail[-1].actor_id == org.manager.user_id
        assert seen == [
            ("approved", RequestStatus.APPROVED),
            ("unapproved", RequestStatus.UNAPPROVED),
        ]
    finally:
        register_approvable(
            HOST_DOCUMENT,
            on_approved=previous.on_approved,
            on_unapproved=previous.on_unapproved,
            on_closed=previous.on_closed,
        )


def test_named_unapprovers_replace_the_last_approver(crm: Crm, org: Org) -> None:
    contract_flow(crm, org, unapprovers=(Approvers.of_role("finance"),))
    request = approve_request(crm, org.manager, submit(crm, org).id)
    with pytest.raises(PermissionDenied):
        unapprove_request(crm, org.manager, request.id, directory=org.directory)
    unapproved = unapprove_request(crm, org.finance[0], request.id, directory=org.directory)
    assert unapproved.status is RequestStatus.UNAPPROVED


def test_urging_is_limited_to_once_per_interval(crm: Crm, org: Org, clock: FixedClock) -> None:
    contract_flow(crm, org, urge_interval_minutes=60)
    request = submit(crm, org)
    urge_request(crm, org.rep, request.id, comment="客户在等")
    clock.advance(minutes=30)
    with pytest.raises(UrgeTooSoon) as refused:
        urge_request(crm, org.rep, request.id)
    assert (refused.value.code, refused.value.value, refused.value.maximum) == (
        "urge_too_soon",
        30,
        60,
    )
    with pytest.raises(PermissionDenied):
        urge_request(crm, org.manager, request.id)
    clock.advance(minutes=30)
    urge_request(crm, org.rep, request.id)
    urged = events_of(crm, org.tenant, ApprovalUrged)
    assert [e.recipient_ids for e in urged] == [(org.manager.user_id,)] * 2


def test_batch_approve_reports_each_document_on_its_own(crm: Crm, org: Org) -> None:
    contract_flow(crm, org)
    mine = [submit(crm, org).id for _ in range(3)]
    big = submit(crm, org, amount="120000")
    big = approve_request(crm, org.manager, big.id)  # now waits for finance, not the manager
    missing = uuid.uuid4()
    result = batch_approve(crm, org.manager, [*mine, big.id, missing], comment="批量同意")
    assert result.succeeded == mine
    assert [(i.request_id, i.code) for i in result.failed] == [
        (big.id, "not_an_approver"),
        (missing, "not_found"),
    ]
    assert all(i.message for i in result.failed)
    assert {i.status for i in result.items if i.ok} == {RequestStatus.APPROVED}

    undone = batch_unapprove(crm, org.manager, [*mine, big.id])
    assert undone.succeeded == mine
    assert [i.code for i in undone.failed] == ["invalid_transition"]
    assert get_approval_request(crm, org.manager, mine[0]).status is RequestStatus.UNAPPROVED


def test_inbox_lists_what_waits_oldest_first_with_counts(
    crm: Crm, org: Org, clock: FixedClock
) -> None:
    contract_flow(crm, org)
    define_flow(
        crm,
        org.manager,
        name="expense",
        document_type="expense",
        stages=[FlowStage("manager", [Approvers.manager()])],
    )
    clock.set("2026-03-02T01:00:00Z")  # Monday 09:00 in Shanghai
    first = submit(crm, org, title="first")
    clock.advance(hours=2)
    submit(crm, org, title="second", document_type="expense")
    clock.advance(hours=3)
    done = submit(crm, org, title="done")
    approve_request(crm, org.manager, done.id)
    clock.advance(hours=1)

    inbox = approval_inbox(crm, org.manager)
    assert [i.title for i in inbox.items] == ["first", "second"]
    assert [i.age_hours for i in inbox.items] == [6, 4]
    assert inbox.total == 2
    assert inbox.by_document_type == {HOST_DOCUMENT: 1, "expense": 1}
    # The contract stage has a 4-business-hour reminder deadline: 6 hours is past it.
    assert inbox.overdue == 1
    assert inbox.items[0].overdue
    only = approval_inbox(crm, org.manager, document_type="expense")
    assert [i.title for i in only.items] == ["second"]
    assert only.total == 2
    assert approval_inbox(crm, org.rep).total == 0
    assert [r.title for r in my_submissions(crm, org.rep)] == ["done", "second", "first"]
    assert [r.id for r in my_submissions(crm, org.rep, status=RequestStatus.APPROVED)] == [done.id]
    assert first.id in {i.request_id for i in inbox.items}


def test_overdue_scan_reminds_then_escalates_once_each(
    crm: Crm, org: Org, clock: FixedClock
) -> None:
    contract_flow(crm, org)
    clock.set("2026-03-02T01:00:00Z")  # Monday 09:00 in Shanghai
    request = submit(crm, org)
    assert request.remind_at is not None
    assert request.remind_at.isoformat().startswith("2026-03-02T05:00")
    clock.set("2026-03-02T04:59:00Z")
    assert scan_overdue_approvals(crm, org.tenant, directory=org.directory).reminded == ()
    clock.set("2026-03-02T05:00:00Z")
    first = scan_overdue_approvals(crm, org.tenant, directory=org.directory)
    assert first.reminded == (request.id,)
    assert first.escalated == ()
    assert scan_overdue_approvals(crm, org.tenant, directory=org.directory).reminded == ()
    # 8 business hours from Monday 09:00 is Monday 17:00 local.
    clock.set("2026-03-02T09:00:00Z")
    second = scan_overdue_approvals(crm, org.tenant, directory=org.directory)
    assert (second.reminded, second.escalated) == ((), (request.id,))
    assert scan_overdue_approvals(crm, org.tenant, directory=org.directory) == type(second)()
    reminders = events_of(crm, org.tenant, ApprovalReminderDue)
    escalations = events_of(crm, org.tenant, ApprovalEscalated)
    assert [e.recipient_ids for e in reminders] == [(org.manager.user_id,)]
    assert [(e.recipient_ids, e.late_approver_ids) for e in escalations] == [
        ((org.vp.user_id,), (org.manager.user_id,))
    ]
    stored = get_approval_request(crm, org.manager, request.id)
    assert stored.alert_due_at is None
    assert replay(stored.trail) == stored.review_state()


def test_unknown_document_type_has_no_flow(crm: Crm, org: Org) -> None:
    with pytest.raises(NotFound):
        submit(crm, org, document_type="nothing")


def test_the_trail_replays_to_the_stored_state(crm: Crm, org: Org) -> None:
    contract_flow(crm, org)
    request = submit(crm, org, amount="200000", discount="0.2")
    request = approve_request(crm, org.manager, request.id)
    request = delegate_request(crm, org.finance[0], request.id, org.outsider.user_id)
    request = reject_request(crm, org.outsider, request.id)
    request = approve_request(crm, org.finance[1], request.id)
    request = return_request(crm, org.finance[2], request.id)
    request = submit(crm, org, document_id=request.document_id)
    stored = get_approval_request(crm, org.rep, request.id)
    assert replay(stored.trail) == stored.review_state()
    assert stored.round == 2
    assert stored.status is RequestStatus.IN_REVIEW


@pytest.mark.parametrize("document_type", ["contract", "quote", "refund"])
def test_an_area_document_the_tenant_does_not_hold_cannot_be_submitted(
    crm: Crm, org: Org, document_type: str
) -> None:
    # The area describes its documents: an id it does not store (another tenant's, or
    # none at all) is not a document here, whatever facts the caller sends with it.
    define_flow(
        crm,
        org.manager,
        name="any",
        document_type=document_type,
        stages=[FlowStage("manager", [Approvers.manager()])],
    )
    with pytest.raises(NotFound):
        submit(crm, org, document_type=document_type)
    with crm.unit_of_work(org.tenant) as uow:
        assert uow.repository(ApprovalRequest).count() == 0
