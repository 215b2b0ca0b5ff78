"""Pipeline writes and reports check the records they touch (issue 14), on every backend.

The org is :mod:`tests.rules.permissions.record_org`: reps Li (East, under Wang) and
Chen (North), finance clerk Zhao, analyst Qian (opportunity amounts hidden), a non-member
and another tenant's administrator.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from crmkit import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import NotFound, PermissionDenied, ValidationError
from crmkit.kernel.money import Money
from crmkit.pipeline import (
    commission_for,
    define_commission_plan,
    set_target,
    target_report,
)
from crmkit.pipeline.model.contracts import ContractKind, ContractStatus
from crmkit.pipeline.model.opportunities import Opportunity
from crmkit.pipeline.model.pricing import DiscountRate
from crmkit.pipeline.model.quotes import QuoteStatus
from crmkit.pipeline.model.targets import Metric, UnitKind
from crmkit.pipeline.services import (
    LineRequest,
    approve_contract,
    approve_quote,
    create_contract,
    create_quote,
    submit_contract,
    submit_quote,
)
from crmkit.rules.approvals import SelfApprovalForbidden, configure_approvals
from crmkit.rules.permissions import share_record
from tests.rules.permissions.record_org import Org, customer_of, deal_of, make_org


@pytest.fixture
def org(crm: Crm, actor: Actor) -> Org:
    return make_org(crm, actor)


def _deal(crm: Crm, org: Org, deal_id: uuid.UUID) -> Opportunity:
    return crm.run(org.admin.tenant_id, lambda uow: uow.repository(Opportunity).get(deal_id))


def _quote(crm: Crm, who: Actor, customer_id: uuid.UUID, **fields: object):  # type: ignore[no-untyped-def]
    return create_quote(
        crm,
        who,
        customer_id=customer_id,
        currency="CNY",
        lines=[LineRequest("GATEWAY", "2")],
        **fields,  # type: ignore[arg-type]
    )


def _contract(crm: Crm, who: Actor, customer_id: uuid.UUID, **fields: object):  # type: ignore[no-untyped-def]
    return create_contract(
        crm,
        who,
        kind=ContractKind.SALES,
        title="Supply",
        customer_id=customer_id,
        amount=Money("10000", "CNY"),
        start_date=date(2026, 3, 1),
        **fields,  # type: ignore[arg-type]
    )


# -- writes naming a customer and a deal ----------------------------------------------------


def test_a_quote_needs_a_customer_the_rep_may_view_and_a_deal_they_may_edit(
    crm: Crm, org: Org
) -> None:
    buyer = customer_of(crm, org.li)
    deal = deal_of(crm, org, org.li, buyer)
    with pytest.raises(PermissionDenied):
        _quote(crm, org.chen, buyer.id)
    with pytest.raises(PermissionDenied):
        create_quote(crm, org.chen, customer_id=buyer.id, currency="CNY", opportunity_id=deal.id)
    # Shared for reading, the customer may be quoted; Li's deal still may not be touched.
    share_record(
        crm, org.admin, "customer", buyer.id, grantee_kind="user", grantee=org.chen.user_id
    )
    assert _quote(crm, org.chen, buyer.id).customer_id == buyer.id
    with pytest.raises(PermissionDenied):
        _quote(crm, org.chen, buyer.id, opportunity_id=deal.id)
    assert "quote" not in _deal(crm, org, deal.id).documents
    assert _quote(crm, org.wang, buyer.id, opportunity_id=deal.id).opportunity_id == deal.id
    assert "quote" in _deal(crm, org, deal.id).documents


def test_a_contract_needs_a_customer_the_rep_may_view_and_their_own_deal(
    crm: Crm, org: Org
) -> None:
    buyer = customer_of(crm, org.li)
    deal = deal_of(crm, org, org.li, buyer)
    with pytest.raises(PermissionDenied):
        _contract(crm, org.chen, buyer.id)
    share_record(
        crm, org.admin, "customer", buyer.id, grantee_kind="user", grantee=org.chen.user_id
    )
    with pytest.raises(PermissionDenied):
        _contract(crm, org.chen, buyer.id, opportunity_id=deal.id)
    assert "contract" not in _deal(crm, org, deal.id).documents
    other = customer_of(crm, org.li)
    with pytest.raises(ValidationError):
        _contract(crm, org.li, other.id, opportunity_id=deal.id)
    with pytest.raises(NotFound):
        _contract(crm, org.li, buyer.id, opportunity_id=uuid.uuid4())
    assert _contract(crm, org.li, buyer.id, opportunity_id=deal.id).opportunity_id == deal.id


# -- targets and commission ------------------------------------------------------------------


def _targets(crm: Crm, org: Org) -> None:
    for who, value in ((org.li, "100"), (org.wang, "200"), (org.chen, "300")):
        set_target(
            crm,
            org.admin,
            unit_kind=UnitKind.USER,
            unit_id=who.user_id,
            period="2026-03",
            metric=Metric.WON_DEALS,
            value=value,
        )


def _names(crm: Crm, who: Actor, metric: Metric = Metric.WON_DEALS) -> set[str]:
    table = target_report(crm, who, period="2026-03", metric=metric)
    return {str(name) for name in table.column("name")}


def test_target_report_shows_own_figures_a_managers_team_or_what_a_grant_reaches(
    crm: Crm, org: Org
) -> None:
    _targets(crm, org)
    assert {"Li", "Wang", "Chen", "East", "North"} <= _names(crm, org.admin)
    assert _names(crm, org.li) == {"Li"}
    assert _names(crm, org.chen) == {"Chen", "North"}  # he is all of North
    assert _names(crm, org.wang) == {"Li", "Wang", "East"}
    with pytest.raises(PermissionDenied):
        target_report(crm, org.stranger, period="2026-03", metric=Metric.WON_DEALS)


def test_target_report_omits_an_amount_the_readers_role_hides(crm: Crm, org: Org) -> None:
    set_target(
        crm,
        org.admin,
        unit_kind=UnitKind.USER,
        unit_id=org.qian.user_id,
        period="2026-03",
        metric=Metric.WON_AMOUNT,
        value="5000",
        currency="CNY",
    )
    table = target_report(crm, org.qian, period="2026-03", metric=Metric.WON_AMOUNT, currency="CNY")
    mine = [r for r in table.to_dicts() if r["name"] == "Qian"]
    assert len(mine) == 1
    assert (mine[0]["target"], mine[0]["actual"], mine[0]["attainment"]) == (5000, None, None)
    seen = target_report(crm, org.admin, period="2026-03", metric=Metric.WON_AMOUNT, currency="CNY")
    assert [r["actual"] for r in seen.to_dicts() if r["name"] == "Qian"] == [0]
    # No grant on anyone's targets: only her own department, of which she is the only member.
    assert _names(crm, org.qian) == {"Analytics"}


def test_commission_goes_to_the_rep_their_manager_or_a_grant_holder(crm: Crm, org: Org) -> None:
    plan = define_commission_plan(crm, org.admin, name="std", currency="CNY", tiers=[("0", "0.03")])

    def statement(who: Actor, rep: Actor):  # type: ignore[no-untyped-def]
        return commission_for(crm, who, plan_id=plan.id, rep_id=rep.user_id, period="2026-03")

    assert statement(org.li, org.li).rep_id == org.li.user_id
    assert statement(org.wang, org.li).rep_id == org.li.user_id
    assert statement(org.admin, org.chen).rep_id == org.chen.user_id
    for who, rep in ((org.chen, org.li), (org.li, org.wang), (org.stranger, org.li)):
        with pytest.raises(PermissionDenied):
            statement(who, rep)
    with pytest.raises(PermissionDenied):
        statement(org.qian, org.qian)  # her role hides the amounts commission is paid on


# -- self-approval without a flow ------------------------------------------------------------


def test_nobody_approves_their_own_quote_or_contract_unless_the_tenant_allows_it(
    crm: Crm, org: Org
) -> None:
    buyer = customer_of(crm, org.wang)
    quote = _quote(crm, org.wang, buyer.id, total_discount=DiscountRate("0.40"))
    assert submit_quote(crm, org.wang, quote.id).status is QuoteStatus.IN_APPROVAL
    with pytest.raises(SelfApprovalForbidden):
        approve_quote(crm, org.wang, quote.id)
    contract = submit_contract(crm, org.wang, _contract(crm, org.wang, buyer.id).id)
    with pytest.raises(SelfApprovalForbidden):
        approve_contract(crm, org.wang, contract.id)
    # Li's quote is approved by her manager as before.
    mine = _quote(crm, org.li, customer_of(crm, org.li).id, total_discount=DiscountRate("0.40"))
    submit_quote(crm, org.li, mine.id)
    assert approve_quote(crm, org.wang, mine.id).status is QuoteStatus.APPROVED
    with pytest.raises(PermissionDenied):
        configure_approvals(crm, org.wang, allow_self_approval=True)
    assert configure_approvals(crm, org.admin, allow_self_approval=True).allow_self_approval
    assert approve_quote(crm, org.wang, quote.id).status is QuoteStatus.APPROVED
    assert approve_contract(crm, org.wang, contract.id).status is ContractStatus.ACTIVE
    assert Decimal("0.40") == quote.total_discount.rate
