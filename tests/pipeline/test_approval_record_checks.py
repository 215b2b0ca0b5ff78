"""Approval requests are read by the people they concern and routed on the stored
document (issue 14), on every backend.

The org is :mod:`tests.rules.permissions.record_org`: reps Li (East, under Wang) and Chen
(North), finance clerk Zhao, analyst Qian (views every quote), a non-member and another
tenant's administrator.
"""

from __future__ import annotations

from datetime import date

import pytest

from crmkit import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import NotFound, PermissionDenied, ValidationError
from crmkit.kernel.money import Money
from crmkit.kernel.query import F
from crmkit.pipeline.model.contracts import ContractKind
from crmkit.pipeline.model.pricing import DiscountRate
from crmkit.pipeline.registrations import register_document_hooks
from crmkit.pipeline.services import (
    LineRequest,
    create_contract,
    create_quote,
    submit_contract,
    submit_quote,
)
from crmkit.rules.approvals import (
    ApprovalRequest,
    Approvers,
    FlowStage,
    RequestStatus,
    SelfApprovalForbidden,
    add_cosigner,
    approval_of,
    approve_request,
    define_flow,
    delegate_request,
    get_approval_request,
    get_flow,
    reject_request,
    submit_for_approval,
)
from tests.rules.permissions.record_org import Org, customer_of, make_org


@pytest.fixture
def org(crm: Crm, actor: Actor) -> Org:
    return make_org(crm, actor)


@pytest.fixture(autouse=True)
def _hooks() -> None:
    """Other tests may register their own hooks for these document types: take ours back."""
    register_document_hooks()


def _request(crm: Crm, org: Org, document_type: str, document_id: object) -> ApprovalRequest:
    found = crm.run(
        org.admin.tenant_id,
        lambda uow: approval_of(uow, document_type, document_id),  # type: ignore[arg-type]
    )
    assert found is not None
    return found


def test_an_approval_request_is_read_by_its_submitter_approvers_and_document_viewers(
    crm: Crm, org: Org
) -> None:
    define_flow(
        crm,
        org.admin,
        name="quotes",
        document_type="quote",
        stages=[FlowStage("manager", [Approvers.manager()])],
    )
    quote = create_quote(
        crm,
        org.li,
        customer_id=customer_of(crm, org.li).id,
        currency="CNY",
        lines=[LineRequest("GATEWAY", "2")],
        total_discount=DiscountRate("0.40"),
    )
    submit_quote(crm, org.li, quote.id)
    request = _request(crm, org, "quote", quote.id)
    for reader in (org.li, org.wang, org.admin, org.qian):
        assert get_approval_request(crm, reader, request.id).title == quote.number
    for outsider in (org.chen, org.zhao, org.stranger):
        with pytest.raises(PermissionDenied):
            get_approval_request(crm, outsider, request.id)
    with pytest.raises(NotFound):
        get_approval_request(crm, org.outsider, request.id)


def test_a_resubmission_is_routed_on_the_contract_as_stored(crm: Crm, org: Org) -> None:
    define_flow(
        crm,
        org.admin,
        name="contracts",
        document_type="contract",
        stages=[
            FlowStage("manager", [Approvers.manager()]),
            FlowStage(
                "finance",
                [Approvers.named(org.zhao.user_id)],
                when=F("amount").gt(Money("100000", "CNY")),
            ),
        ],
    )
    contract = create_contract(
        crm,
        org.li,
        kind=ContractKind.SALES,
        title="Plant",
        customer_id=customer_of(crm, org.li).id,
        amount=Money("500000", "CNY"),
        start_date=date(2026, 3, 1),
    )
    submit_contract(crm, org.li, contract.id)
    request = _request(crm, org, "contract", contract.id)
    assert [s.name for s in request.route] == ["manager", "finance"]
    assert reject_request(crm, org.wang, request.id).status is RequestStatus.REJECTED

    def resubmit(**facts: object) -> ApprovalRequest:
        return submit_for_approval(
            crm,
            org.li,
            document_type="contract",
            document_id=contract.id,
            title=contract.number,
            facts=facts,
        )

    with pytest.raises(ValidationError):
        resubmit(amount=Money("1", "CNY"))
    assert _request(crm, org, "contract", contract.id).status is RequestStatus.REJECTED
    again = resubmit(note="customer agreed")  # the caller may add, never override
    assert [s.name for s in again.route] == ["manager", "finance"]
    assert again.facts["amount"] == Money("500000", "CNY")
    assert again.facts["note"] == "customer agreed"
    with pytest.raises(PermissionDenied):  # someone else's contract is not theirs to submit
        submit_for_approval(
            crm, org.chen, document_type="contract", document_id=contract.id, title="x"
        )


def test_the_owner_of_a_document_sits_in_no_stage_even_when_someone_else_submits_it(
    crm: Crm, org: Org
) -> None:
    define_flow(
        crm,
        org.admin,
        name="quotes",
        document_type="quote",
        stages=[FlowStage("desk", [Approvers.named(org.li.user_id, org.chen.user_id)])],
    )
    quote = create_quote(
        crm,
        org.li,
        customer_id=customer_of(crm, org.li).id,
        currency="CNY",
        lines=[LineRequest("GATEWAY", "2")],
        total_discount=DiscountRate("0.40"),
    )
    submit_quote(crm, org.wang, quote.id)  # her manager submits Li's quote
    request = _request(crm, org, "quote", quote.id)
    assert request.route[0].approvers == (org.chen.user_id,)
    with pytest.raises(SelfApprovalForbidden):
        delegate_request(crm, org.chen, request.id, org.li.user_id)
    with pytest.raises(SelfApprovalForbidden):
        add_cosigner(crm, org.chen, request.id, org.li.user_id)
    assert approve_request(crm, org.chen, request.id).status is RequestStatus.APPROVED


def test_a_flow_is_read_by_who_administers_or_may_view_flows(crm: Crm, org: Org) -> None:
    flow = define_flow(
        crm,
        org.admin,
        name="quotes",
        document_type="quote",
        stages=[FlowStage("manager", [Approvers.manager()])],
    )
    assert get_flow(crm, org.admin, flow.id).name == "quotes"
    for outsider in (org.li, org.stranger):
        with pytest.raises(PermissionDenied):
            get_flow(crm, outsider, flow.id)
    with pytest.raises(NotFound):
        get_flow(crm, org.outsider, flow.id)
