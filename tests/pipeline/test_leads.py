"""Leads: lifecycle, conversion in one transaction, scoring."""

from __future__ import annotations

import uuid

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit import Crm, NotFound
from crmkit.customers import Contact, Customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import GuardFailed, InvalidTransition, ValidationError
from crmkit.kernel.ids import TenantId
from crmkit.kernel.machine import assert_every_state_reaches_final
from crmkit.kernel.money import Money
from crmkit.pipeline import (
    LEAD,
    Lead,
    LeadStatus,
    LearnedScorer,
    Opportunity,
    ScoringRule,
    StageChange,
    configure_pipeline,
    contact_lead,
    convert_lead,
    create_lead,
    define_sales_process,
    disqualify_lead,
    learn_lead_scorer,
    qualify_lead,
    recycle_lead,
    reopen_lead,
    score_by_rules,
)
from crmkit.pipeline.model.opportunities import default_process
from crmkit.pipeline.model.scoring import lead_features


def test_every_lead_state_can_still_end_converted() -> None:
    assert_every_state_reaches_final(LEAD)


def test_a_lead_is_qualified_then_converted_into_customer_and_opportunity(
    crm: Crm, actor: Actor
) -> None:
    process = define_sales_process(
        crm, actor, "standard", default_process(actor.tenant_id, uuid.uuid4()).stages
    )
    lead = create_lead(
        crm,
        actor,
        name="王芳",
        company="苏州精密机械有限公司",
        source="trade_show",
        phone="+86 512 6666 8888",
        industry="机械",
    )
    contact_lead(crm, actor, lead.id)
    qualify_lead(crm, actor, lead.id)
    done = convert_lead(crm, actor, lead.id, process_id=process.id, amount=Money("250000", "CNY"))
    assert done.lead.status is LeadStatus.CONVERTED
    assert done.customer.name == "苏州精密机械有限公司"
    assert done.opportunity is not None
    assert (done.opportunity.customer_id, done.opportunity.stage, done.opportunity.lead_id) == (
        done.customer.id,
        "initial",
        lead.id,
    )

    def stored(uow):
        return (
            uow.repository(Customer).count(),
            uow.repository(Contact).query(),
            uow.repository(Opportunity).count(),
            uow.repository(StageChange).count(),
            uow.repository(Lead).get(lead.id),
        )

    customers, contacts, deals, changes, reloaded = crm.run(actor.tenant_id, stored)
    assert (customers, len(contacts), deals, changes) == (1, 1, 1, 1)
    assert (contacts[0].name, contacts[0].customer_id, contacts[0].primary) == (
        "王芳",
        done.customer.id,
        True,
    )
    assert done.contact.id == contacts[0].id
    assert (reloaded.customer_id, reloaded.opportunity_id) == (
        done.customer.id,
        done.opportunity.id,
    )
    with pytest.raises(InvalidTransition):
        convert_lead(crm, actor, lead.id)


def test_a_failed_conversion_leaves_nothing_behind(crm: Crm, actor: Actor) -> None:
    lead = create_lead(crm, actor, name="李雷")
    with pytest.raises(NotFound):  # the process does not exist: found mid-conversion
        convert_lead(crm, actor, lead.id, process_id=uuid.uuid4(), amount=Money("1", "CNY"))

    def stored(uow):
        return (
            uow.repository(Customer).count(),
            uow.repository(Contact).count(),
            uow.repository(Lead).get(lead.id).status,
        )

    assert crm.run(actor.tenant_id, stored) == (0, 0, LeadStatus.NEW)


def test_disqualifying_needs_a_reason_from_the_tenants_list(crm: Crm, actor: Actor) -> None:
    configure_pipeline(crm, actor, disqualify_reasons=["无预算 no budget", "联系不上 unreachable"])
    lead = create_lead(crm, actor, name="张三")
    with pytest.raises(GuardFailed) as raised:
        disqualify_lead(crm, actor, lead.id, "I don't like them")
    assert raised.value.guard == "reason_on_the_tenants_list"
    dropped = disqualify_lead(crm, actor, lead.id, "无预算 no budget")
    assert (dropped.status, dropped.disqualify_reason) == (
        LeadStatus.DISQUALIFIED,
        "无预算 no budget",
    )
    again = reopen_lead(crm, actor, dropped.id)
    assert (again.status, again.disqualify_reason) == (LeadStatus.NEW, None)


def test_recycling_returns_the_lead_to_the_pool(crm: Crm, actor: Actor) -> None:
    lead = create_lead(crm, actor, name="赵六")
    recycled = recycle_lead(crm, actor, lead.id)
    assert (recycled.status, recycled.owner_id) == (LeadStatus.RECYCLED, None)


def test_a_lead_needs_a_name(crm: Crm, actor: Actor) -> None:
    with pytest.raises(ValidationError) as raised:
        create_lead(crm, actor, name=" ")
    assert (raised.value.entity, raised.value.field) == ("lead", "name")


@given(
    st.lists(
        st.sampled_from(["contact", "qualify", "disqualify", "recycle", "reopen", "convert"]),
        max_size=12,
    )
)
def test_random_trigger_sequences_keep_the_lead_consistent(triggers: list[str]) -> None:
    now = pendulum.datetime(2026, 3, 2, tz="UTC")
    lead = Lead(
        id=uuid.uuid4(),
        tenant_id=TenantId(uuid.uuid4()),
        name="x",
        created_at=now,
        owner_id=uuid.uuid4(),
    )
    conversions = 0
    for trigger in triggers:
        before = (lead.status, lead.owner_id, lead.customer_id)
        try:
            if trigger == "disqualify":
                lead.disqualify("no budget", frozenset({"no budget"}), now)
            elif trigger == "reopen":
                lead.reopen(uuid.uuid4(), now)  # type: ignore[arg-type]
            elif trigger == "convert":
                lead.convert(uuid.uuid4(), None, now)
                conversions += 1
            else:
                getattr(lead, trigger)(now)
        except InvalidTransition:
            assert (lead.status, lead.owner_id, lead.customer_id) == before
    assert conversions <= 1
    assert (lead.status is LeadStatus.CONVERTED) == (conversions == 1)
    assert (lead.customer_id is not None) == (conversions == 1)
    assert (lead.owner_id is None) == (lead.status is LeadStatus.RECYCLED)
    assert (lead.disqualify_reason is not None) == (lead.status is LeadStatus.DISQUALIFIED)


def test_rule_based_scores_explain_themselves() -> None:
    now = pendulum.datetime(2026, 3, 2, tz="UTC")
    lead = Lead(
        id=uuid.uuid4(),
        tenant_id=TenantId(uuid.uuid4()),
        name="x",
        created_at=now,
        source="referral",
        industry="电子",
        phone="138",
        last_activity_at=now,
    )
    card = score_by_rules(
        lead,
        [
            ScoringRule("source", "referral", 30),
            ScoringRule("industry", "电子", 10),
            ScoringRule("source", "cold_call", -5),
        ],
        now,
    )
    assert card.total == 30 + 10 + 5 + 10
    assert card.reasons[0] == ("source=referral", 30.0)


def test_the_learned_score_follows_the_tenants_history(crm: Crm, actor: Actor) -> None:
    process = define_sales_process(
        crm, actor, "p", default_process(actor.tenant_id, uuid.uuid4()).stages
    )
    for i in range(12):
        source = "referral" if i % 3 else "cold_call"
        lead = create_lead(crm, actor, name=f"l{i}", source=source)
        if source == "referral":
            convert_lead(crm, actor, lead.id, process_id=process.id, amount=Money("1", "CNY"))
        else:
            disqualify_lead(crm, actor, lead.id, "no budget")
    scorer = learn_lead_scorer(crm, actor)
    hot = create_lead(crm, actor, name="hot", source="referral")
    cold = create_lead(crm, actor, name="cold", source="cold_call")
    assert scorer.score(hot).total > 50 > scorer.score(cold).total
    assert scorer.score(hot).reasons[0][0] == "source=referral"


def test_an_unseen_value_is_neutral_in_the_learned_score() -> None:
    scorer = LearnedScorer.fit([({"source": "a"}, True), ({"source": "b"}, False)])
    assert scorer.explain({"source": "never seen"}).reasons == (("source=never seen", 0.0),)
    assert set(
        lead_features(
            Lead(
                id=uuid.uuid4(),
                tenant_id=TenantId(uuid.uuid4()),
                name="x",
                created_at=pendulum.now("UTC"),
            )
        )
    ) >= {"source", "industry"}
