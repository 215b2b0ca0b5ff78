"""Each pipeline aggregate's events share one base that names the aggregate once.

The outbox stores every event under its ``event_type`` and ``aggregate_type``; the
bases change neither, and a base is never what a machine records.
"""

from __future__ import annotations

import pytest

import crmkit.pipeline.model
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.machine import Machine
from crmkit.pipeline import (
    CONTRACT,
    FOLLOW_UP,
    LEAD,
    OPPORTUNITY,
    QUOTE,
    SALES_ORDER,
    ContractEvent,
    FollowUpPlanEvent,
    LeadEvent,
    OpportunityEvent,
    QuoteEvent,
    SalesOrderEvent,
)
from tests.declared_events import events_declared_in

# What the outbox has stored for each event since before the bases existed.
STORED = {
    "ActivityLogged": "activity",
    "ContractApproved": "contract",
    "ContractClosed": "contract",
    "ContractCreated": "contract",
    "ContractRejected": "contract",
    "ContractRenewed": "contract",
    "ContractSigned": "contract",
    "ContractSubmitted": "contract",
    "ContractUnapproved": "contract",
    "DeliveryRecorded": "sales_order",
    "FollowUpCancelled": "follow_up_plan",
    "FollowUpDone": "follow_up_plan",
    "FollowUpPlanned": "follow_up_plan",
    "FollowUpRescheduled": "follow_up_plan",
    "LeadContacted": "lead",
    "LeadConverted": "lead",
    "LeadCreated": "lead",
    "LeadDisqualified": "lead",
    "LeadQualified": "lead",
    "LeadRecycled": "lead",
    "LeadReopened": "lead",
    "OpportunityLinesChanged": "opportunity",
    "OpportunityLost": "opportunity",
    "OpportunityOpened": "opportunity",
    "OpportunityWon": "opportunity",
    "OrderCancelled": "sales_order",
    "OrderCompleted": "sales_order",
    "OrderConfirmed": "sales_order",
    "OrderCreated": "sales_order",
    "QuoteApproved": "quote",
    "QuoteConverted": "quote",
    "QuoteCreated": "quote",
    "QuoteDeclined": "quote",
    "QuoteRejected": "quote",
    "QuoteSubmitted": "quote",
    "QuoteSuperseded": "quote",
    "QuoteUnapproved": "quote",
    "StageChanged": "opportunity",
    "StepFinished": "sequence_step",
}
BASES: dict[type[DomainEvent], tuple[str, Machine[object]]] = {
    QuoteEvent: ("quote", QUOTE),
    ContractEvent: ("contract", CONTRACT),
    LeadEvent: ("lead", LEAD),
    OpportunityEvent: ("opportunity", OPPORTUNITY),
    SalesOrderEvent: ("sales_order", SALES_ORDER),
    FollowUpPlanEvent: ("follow_up_plan", FOLLOW_UP),
}


def test_every_pipeline_event_keeps_the_aggregate_type_the_outbox_stored() -> None:
    events = events_declared_in(crmkit.pipeline.model)
    assert {name: events[name].aggregate_type for name in STORED} == STORED
    assert all(events[name].event_type == name for name in STORED)


@pytest.mark.parametrize("base", list(BASES), ids=lambda base: base.__name__)
def test_a_machine_records_only_events_of_its_aggregate_and_never_the_base(
    base: type[DomainEvent],
) -> None:
    aggregate_type, machine = BASES[base]
    assert base.aggregate_type == aggregate_type
    recorded = {t.event for t in machine.transitions if t.event is not None}
    assert recorded
    assert all(issubclass(event, base) and event is not base for event in recorded)
    assert {
        c.aggregate_type
        for c in events_declared_in(crmkit.pipeline.model).values()
        if issubclass(c, base)
    } == {aggregate_type}
