"""Business-hour deadlines, flow validation and storing flows as data."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pendulum
import pytest

from crmkit.kernel.converter import structure, unstructure
from crmkit.kernel.errors import ValidationError
from crmkit.kernel.events import registered_events
from crmkit.kernel.ids import TenantId
from crmkit.kernel.machine import unreachable_states
from crmkit.kernel.money import Money
from crmkit.kernel.query import F
from crmkit.rules.approvals import (
    APPROVAL,
    ApprovalEvent,
    ApprovalFlow,
    ApprovalFlowId,
    Approvers,
    BusinessCalendar,
    Deadline,
    Facts,
    FlowStage,
    Rule,
)

SHANGHAI = BusinessCalendar()


def local(text: str) -> pendulum.DateTime:
    return pendulum.parse(text, tz="Asia/Shanghai")  # type: ignore[return-value]


def test_business_hours_skip_nights_and_weekends() -> None:
    friday_5pm = local("2026-03-06T17:00:00")
    assert SHANGHAI.add_business_hours(friday_5pm, 8) == local("2026-03-09T16:00:00")
    saturday = local("2026-03-07T10:00:00")
    assert SHANGHAI.add_business_hours(saturday, 1) == local("2026-03-09T10:00:00")
    early = local("2026-03-02T07:00:00")
    assert SHANGHAI.add_business_hours(early, 9) == local("2026-03-02T18:00:00")


def test_holidays_and_makeup_workdays_move_the_deadline() -> None:
    calendar = BusinessCalendar(
        holidays=(dt.date(2026, 3, 9),), extra_workdays=(dt.date(2026, 3, 7),)
    )
    friday_5pm = local("2026-03-06T17:00:00")
    # Saturday is a make-up working day (调休); Monday is a holiday.
    assert calendar.add_business_hours(friday_5pm, 3) == local("2026-03-07T11:00:00")
    assert calendar.add_business_hours(friday_5pm, 12) == local("2026-03-10T11:00:00")


def test_calendar_day_deadlines_keep_the_local_time() -> None:
    start = local("2026-03-06T17:30:00")
    assert SHANGHAI.deadline(start, Deadline.days(2)) == local("2026-03-08T17:30:00")
    assert SHANGHAI.deadline(start, Deadline.business_hours(1)) == local("2026-03-09T09:30:00")


def test_a_broken_calendar_is_refused() -> None:
    with pytest.raises(ValidationError):
        BusinessCalendar(workdays=())
    with pytest.raises(ValidationError):
        BusinessCalendar(opens=dt.time(18), closes=dt.time(9))
    with pytest.raises(ValidationError):
        BusinessCalendar(timezone="Mars/Olympus")
    with pytest.raises(ValidationError):
        Deadline.days(0)


def test_stage_rules_are_checked_when_declared() -> None:
    with pytest.raises(ValidationError):
        FlowStage("n", [Approvers.manager()], rule=Rule.N_OF_M)
    with pytest.raises(ValidationError):
        FlowStage("n", [Approvers.manager()], quorum=2)
    with pytest.raises(ValidationError):
        FlowStage("n", [])
    with pytest.raises(ValidationError):
        Approvers.of_role("")


def test_flows_round_trip_through_the_converter_with_typed_conditions() -> None:
    flow = ApprovalFlow(
        id=ApprovalFlowId(uuid.uuid4()),
        tenant_id=TenantId(uuid.uuid4()),
        name="合同审批",
        document_type="contract",
        stages=(
            FlowStage(
                "finance",
                [Approvers.of_role("finance"), Approvers.named(uuid.uuid4())],
                rule=Rule.N_OF_M,
                quorum=1,
                when=F("amount").gt(Money("100000", "CNY")) | ~F("discount").le(Decimal("0.15")),
                remind_after=Deadline.business_hours(8),
            ),
        ),
        calendar=BusinessCalendar(holidays=(dt.date(2026, 10, 1),)),
    )
    back = structure(unstructure(flow), ApprovalFlow)
    assert back.stages == flow.stages
    assert back.calendar == flow.calendar
    big = Facts(amount=Money("120000.00", "CNY"), discount=Decimal("0.05"))
    small = Facts(amount=Money("9000", "CNY"), discount=Decimal("0.15"))
    assert [len(back.stages_for(f)) for f in (big, small)] == [1, 0]
    assert structure(unstructure(big), Facts) == big


def test_facts_refuse_values_they_could_not_store() -> None:
    with pytest.raises(ValidationError):
        Facts(amount=object())


def test_the_machine_is_well_formed_and_every_event_is_registered() -> None:
    events = [c for c in registered_events().values() if issubclass(c, ApprovalEvent)]
    assert len(events) >= 13
    assert not unreachable_states(APPROVAL)
    assert APPROVAL.to_mermaid().startswith("stateDiagram-v2")
