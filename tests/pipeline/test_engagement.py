"""Campaign ROI and follow-up sequences."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from crmkit import Crm, PermissionDenied, ValidationError
from crmkit.customers import register_customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import FixedClock
from crmkit.kernel.errors import CurrencyMismatch, InvalidTransition
from crmkit.kernel.ids import UserId
from crmkit.kernel.machine import assert_every_state_reaches_final
from crmkit.kernel.money import Money
from crmkit.kernel.recurrence import Recurrence, WeekDay
from crmkit.pipeline import (
    advance_sequences,
    convert_lead,
    create_campaign,
    create_lead,
    default_process,
    define_sales_process,
    define_sequence_template,
    finish_step,
    record_campaign_cost,
    sequence_workbench,
    start_sequence,
    win_opportunity,
)
from crmkit.pipeline.model.sequences import SEQUENCE_STEP, StepAction, StepPlan, StepState
from crmkit.pipeline.queries import PipelineAnalytics
from crmkit.ports import queries
from crmkit.rules.reminders import TriggerKind, define_reminder_rule, scan_due_reminders


def test_campaign_roi_counts_leads_deals_and_won_revenue(crm: Crm, actor: Actor) -> None:
    process = define_sales_process(
        crm, actor, "p", default_process(actor.tenant_id, uuid.uuid4()).stages
    )
    show = create_campaign(
        crm, actor, name="广交会 Canton Fair", channel="trade_show", budget=Money("50000", "CNY")
    )
    record_campaign_cost(crm, actor, show.id, Money("40000", "CNY"))
    quiet = create_campaign(
        crm, actor, name="Newsletter", channel="email", budget=Money("0", "CNY")
    )
    for amount, win in (("100000", True), ("30000", False)):
        lead = create_lead(crm, actor, name="visitor", campaign_id=show.id)
        deal = convert_lead(
            crm, actor, lead.id, process_id=process.id, amount=Money(amount, "CNY")
        ).opportunity
        assert deal is not None
        if win:
            win_opportunity(crm, actor, deal.id)
    create_lead(crm, actor, name="browser", campaign_id=show.id)
    roi = crm.run(actor.tenant_id, lambda uow: queries(uow, PipelineAnalytics).campaign_roi())
    assert roi.to_dicts() == [
        {
            "campaign": "Newsletter",
            "channel": "email",
            "currency": "CNY",
            "cost": Decimal("0"),
            "leads": 0,
            "opportunities": 0,
            "won": 0,
            "won_amount": Decimal("0"),
            "roi": None,
        },
        {
            "campaign": "广交会 Canton Fair",
            "channel": "trade_show",
            "currency": "CNY",
            "cost": Decimal("40000"),
            "leads": 3,
            "opportunities": 2,
            "won": 1,
            "won_amount": Decimal("100000"),
            "roi": Decimal("150.0"),
        },
    ]
    assert quiet.actual_cost.is_zero


def test_campaign_money_is_checked(crm: Crm, actor: Actor) -> None:
    show = create_campaign(crm, actor, name="x", channel="ads", budget=Money("100", "CNY"))
    with pytest.raises(CurrencyMismatch):
        record_campaign_cost(crm, actor, show.id, Money("10", "USD"))
    with pytest.raises(ValidationError):
        create_campaign(
            crm,
            actor,
            name="x",
            channel="ads",
            budget=Money("100", "CNY"),
            starts_on=dt.date(2026, 3, 2),
            ends_on=dt.date(2026, 3, 1),
        )


def test_every_step_state_can_still_finish() -> None:
    assert_every_state_reaches_final(SEQUENCE_STEP)


def test_a_sequence_lays_out_steps_and_the_clock_drives_them(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    customer = register_customer(crm, actor, name="青岛海景酒店")
    template = define_sequence_template(
        crm,
        actor,
        "new customer welcome",
        [
            StepPlan(StepAction.CALL, "welcome call", after_days=0),
            StepPlan(StepAction.EMAIL, "send brochure", after_days=3),
            StepPlan(StepAction.VISIT, "site visit", after_days=7),
            StepPlan(
                StepAction.CALL,
                "weekly check-in",
                recurrence=Recurrence.weekly(
                    dt.date(2026, 3, 2), weekdays=(WeekDay.MONDAY,), count=2
                ),
            ),
        ],
        grace_days=1,
    )
    steps = start_sequence(crm, actor, template.id, customer.id, start=dt.date(2026, 3, 2))
    assert [(s.name, s.due_on.isoformat(), s.state.value) for s in steps] == [
        ("welcome call", "2026-03-02", "due"),
        ("weekly check-in", "2026-03-02", "due"),
        ("send brochure", "2026-03-05", "normal"),
        ("site visit", "2026-03-09", "normal"),
        ("weekly check-in", "2026-03-09", "normal"),
    ]
    finish_step(crm, actor, steps[0].id, StepState.DONE, "talked to 王总")
    finish_step(crm, actor, steps[1].id, StepState.SKIPPED)
    assert advance_sequences(crm, actor.tenant_id, today=dt.date(2026, 3, 5)) == 1
    assert advance_sequences(crm, actor.tenant_id, today=dt.date(2026, 3, 5)) == 0
    assert advance_sequences(crm, actor.tenant_id, today=dt.date(2026, 3, 9)) == 3
    bench = sequence_workbench(crm, actor)
    assert [(s.name, s.state.value) for s in bench] == [
        ("send brochure", "overdue"),
        ("site visit", "due"),
        ("weekly check-in", "due"),
    ]
    finish_step(crm, actor, bench[0].id, StepState.FAILED, "bounced")
    assert next(s.state.value for s in sequence_workbench(crm, actor)) == "failed"
    with pytest.raises(InvalidTransition):
        finish_step(crm, actor, steps[0].id, StepState.SKIPPED)
    stranger = Actor(actor.tenant_id, UserId(uuid.uuid4()), "x")
    with pytest.raises(PermissionDenied):
        finish_step(crm, stranger, bench[1].id, StepState.DONE)


def test_due_steps_feed_reminders(crm: Crm, actor: Actor, clock: FixedClock) -> None:
    customer = register_customer(crm, actor, name="Pacific Foods")
    template = define_sequence_template(
        crm, actor, "t", [StepPlan(StepAction.CALL, "follow-up call", after_days=2)]
    )
    start_sequence(crm, actor, template.id, customer.id, start=dt.date(2026, 3, 2))
    define_reminder_rule(
        crm,
        actor,
        name="steps due",
        trigger=TriggerKind.DATE_FIELD,
        resource="sequence_step",
        field="due_on",
        subject="{title} today",
        only_when=(("state", "normal"),),
    )
    clock.set("2026-03-04T02:00:00Z")
    assert [f.subject for f in scan_due_reminders(crm, actor.tenant_id)] == ["follow-up call today"]


def test_a_step_needs_exactly_one_schedule() -> None:
    with pytest.raises(ValidationError):
        StepPlan(StepAction.CALL, "x")
    with pytest.raises(ValidationError):
        StepPlan(StepAction.CALL, "x", after_days=1, on=dt.date(2026, 1, 1))
