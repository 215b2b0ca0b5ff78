"""Opportunities: stages, gates, going back, winning and losing, stage history."""

from __future__ import annotations

import uuid

import pytest

from crmkit import ConcurrencyConflict, Crm, ValidationError
from crmkit.customers import register_customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import FixedClock
from crmkit.kernel.errors import InvalidTransition
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Order, Query
from crmkit.pipeline import (
    OpportunityStatus,
    Stage,
    StageChange,
    attach_document,
    define_sales_process,
    lose_opportunity,
    move_opportunity,
    open_opportunity,
    reopen_opportunity,
    win_opportunity,
)
from crmkit.pipeline.model.opportunities import default_process


@pytest.fixture
def deal(crm: Crm, actor: Actor):  # type: ignore[no-untyped-def]
    process = define_sales_process(
        crm, actor, "standard", default_process(actor.tenant_id, uuid.uuid4()).stages
    )
    customer = register_customer(crm, actor, name="深圳腾达电子")
    return open_opportunity(
        crm,
        actor,
        customer_id=customer.id,
        name="ERP rollout",
        amount=Money("480000", "CNY"),
        process_id=process.id,
    )


def history(crm: Crm, actor: Actor, deal_id: uuid.UUID) -> list[tuple[str | None, str, bool]]:
    changes = crm.run(
        actor.tenant_id,
        lambda uow: uow.repository(StageChange).query(
            Query(where=F("opportunity_id").eq(deal_id), order_by=(Order("changed_at"),))
        ),
    )
    return [(c.from_stage, c.to_stage, c.backwards) for c in changes]


def test_stage_gates_say_what_is_missing(crm: Crm, actor: Actor, deal, clock: FixedClock) -> None:
    with pytest.raises(ValidationError) as raised:
        move_opportunity(crm, actor, deal.id, "proposal")
    assert "needs expected_close first" in str(raised.value)
    with pytest.raises(ValidationError) as raised:
        move_opportunity(crm, actor, deal.id, "needs")
    assert raised.value.field == "stage"


def test_a_deal_moves_forward_through_its_gates_and_back(
    crm: Crm, actor: Actor, deal, clock: FixedClock
) -> None:
    from crmkit.pipeline.services.opportunities import act_on_deal  # set a field the gate needs

    def set_close(_uow, d, _now):  # type: ignore[no-untyped-def]
        d.expected_close = clock.now().date().add(months=2)
        return []

    act_on_deal(crm, actor, deal.id, None, set_close)
    clock.advance(days=3)
    moved = move_opportunity(crm, actor, deal.id, "needs")
    assert (moved.stage, moved.probability) == ("needs", 25)
    with pytest.raises(ValidationError, match="document:quote"):
        move_opportunity(crm, actor, deal.id, "proposal")
    attach_document(crm, actor, deal.id, "quote")
    clock.advance(days=5)
    assert move_opportunity(crm, actor, deal.id, "negotiation").probability == 75
    back = move_opportunity(crm, actor, deal.id, "needs")
    assert back.probability == 25
    assert history(crm, actor, deal.id) == [
        (None, "initial", False),
        ("initial", "needs", False),
        ("needs", "negotiation", False),
        ("negotiation", "needs", True),
    ]


def test_won_and_lost_deals_leave_the_funnel_and_can_be_reopened(
    crm: Crm, actor: Actor, deal
) -> None:
    won = win_opportunity(crm, actor, deal.id)
    assert (won.status, won.probability) == (OpportunityStatus.WON, 100)
    with pytest.raises(InvalidTransition):
        move_opportunity(crm, actor, deal.id, "needs")
    with pytest.raises(InvalidTransition):
        lose_opportunity(crm, actor, deal.id, "price")
    reopened = reopen_opportunity(crm, actor, deal.id)
    assert (reopened.status, reopened.stage) == (OpportunityStatus.OPEN, "initial")
    with pytest.raises(ValidationError):
        lose_opportunity(crm, actor, deal.id, "the moon was full")
    lost = lose_opportunity(crm, actor, deal.id, "price")
    assert (lost.status, lost.probability, lost.lost_reason) == (OpportunityStatus.LOST, 0, "price")
    assert [to for _f, to, _b in history(crm, actor, deal.id)] == [
        "initial",
        "won",
        "initial",
        "lost",
    ]


def test_a_stale_form_cannot_move_a_deal(crm: Crm, actor: Actor, deal) -> None:
    attach_document(crm, actor, deal.id, "quote")
    with pytest.raises(ConcurrencyConflict):
        move_opportunity(crm, actor, deal.id, "needs", expected_version=1)


def test_a_process_checks_its_own_definition(crm: Crm, actor: Actor) -> None:
    with pytest.raises(ValidationError):
        define_sales_process(crm, actor, "bad", [Stage("a", "A", 10), Stage("a", "A2", 20)])
    with pytest.raises(ValidationError):
        define_sales_process(crm, actor, "bad", [Stage("a", "A", 10, required_fields=("colour",))])
    with pytest.raises(ValidationError):
        Stage("a", "A", 120)


def test_the_stage_history_and_the_deal_agree_on_when_it_moved(
    crm: Crm, actor: Actor, deal, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A clock that moves on at every reading: one move must still be one instant.
    def ticking() -> object:
        clock.advance(seconds=1)
        return FixedClock.now(clock)

    monkeypatch.setattr(clock, "now", ticking)
    won = win_opportunity(crm, actor, deal.id)
    (change,) = crm.run(
        actor.tenant_id,
        lambda uow: uow.repository(StageChange).query(
            Query(where=F("opportunity_id").eq(deal.id) & F("to_stage").eq("won"))
        ),
    )
    assert change.changed_at == won.closed_at
