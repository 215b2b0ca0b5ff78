"""The pool rules on their own: no storage, one customer, the instant passed in.

tests/customers/test_pool.py drives the same rules through the services on every backend;
these pin the edges the services hide (each boundary instant, each refusal's whole error,
each field a move leaves behind), and run fast enough for mutation testing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from crmkit.customers.errors import CooldownActive, HoldingLimitReached, NotInPool
from crmkit.customers.model.customer import Customer, PoolState
from crmkit.customers.model.pool import (
    POLICY_ID,
    POOL,
    AssignmentRule,
    AssignmentStrategy,
    CustomerAssigned,
    CustomerClaimed,
    CustomerReturnedToPool,
    CustomerStageChanged,
    PoolPolicy,
    ReturnReason,
    _closed_from,
    assign,
    choose_assignee,
    claim,
    cooldown_until,
    move_stage,
    release,
    return_due,
)
from crmkit.kernel.errors import CrmError, InvalidTransition, ValidationError
from crmkit.kernel.ids import TenantId, UserId

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TENANT = TenantId(uuid.UUID(int=1))
LI, WANG, BOSS = UserId(uuid.UUID(int=11)), UserId(uuid.UUID(int=12)), UserId(uuid.UUID(int=13))
SALES = uuid.UUID(int=21)
US = timedelta(microseconds=1)


def _customer(**fields: Any) -> Customer:
    return Customer(
        id=uuid.UUID(int=100), tenant_id=TENANT, name="北京华为科技", created_at=T0, **fields
    )


def _policy(**fields: Any) -> PoolPolicy:
    return PoolPolicy(id=POLICY_ID, tenant_id=TENANT, **fields)


def _owned(state: PoolState = PoolState.CLAIMED, **fields: Any) -> Customer:
    return _customer(owner_id=LI, pool_state=state, owned_since=T0, **fields)


def _error(raised: pytest.ExceptionInfo[CrmError]) -> dict[str, Any]:
    return raised.value.to_dict()


# -- policy ------------------------------------------------------------------------------------


def test_the_default_policy_is_the_documented_one() -> None:
    policy = PoolPolicy.default(TENANT)
    assert (policy.id, policy.tenant_id) == (POLICY_ID, TENANT)
    assert (
        policy.protection_days,
        policy.deal_days,
        policy.cooldown_days,
        policy.holding_limit,
    ) == (30, 90, 7, 50)


@pytest.mark.parametrize("field", ["protection_days", "deal_days", "cooldown_days"])
def test_a_period_is_none_or_a_whole_number_of_days(field: str) -> None:
    assert getattr(_policy(**{field: 0}), field) == 0
    assert getattr(_policy(**{field: None}), field) is None
    for bad in (-1, 1.5, "3"):
        with pytest.raises(ValidationError) as refused:
            _policy(**{field: bad})
        assert _error(refused) == {
            "code": "validation_error",
            "message": f"pool_policy.{field}: must be a whole number of days, zero or more",
            "entity": "pool_policy",
            "field": field,
            "reason": "must be a whole number of days, zero or more",
            "row": None,
        }


def test_the_holding_limit_is_none_or_zero_or_more() -> None:
    assert _policy(holding_limit=0).holding_limit == 0
    assert _policy(holding_limit=None).holding_limit is None
    for bad in (-1, 2.0, "5"):
        with pytest.raises(ValidationError) as refused:
            _policy(holding_limit=bad)
        assert _error(refused) == {
            "code": "validation_error",
            "message": "pool_policy.holding_limit: must be zero or more",
            "entity": "pool_policy",
            "field": "holding_limit",
            "reason": "must be zero or more",
            "row": None,
        }


# -- the cool-down and the return scan ----------------------------------------------------------


def test_the_cooldown_runs_from_the_return_for_its_days() -> None:
    back = _customer(returned_from=LI, returned_at=T0)
    assert cooldown_until(back, _policy(cooldown_days=3)) == T0 + timedelta(days=3)
    assert cooldown_until(back, _policy(cooldown_days=0)) == T0
    assert cooldown_until(back, _policy(cooldown_days=None)) is None
    assert cooldown_until(_customer(), _policy(cooldown_days=3)) is None  # never returned


def test_a_customer_returns_at_the_instant_its_follow_up_period_ends() -> None:
    policy = _policy(protection_days=5, deal_days=None)
    customer = _owned()
    end = T0 + timedelta(days=5)
    assert return_due(customer, policy, end - US) is None
    assert return_due(customer, policy, end) is ReturnReason.NO_FOLLOW_UP
    assert return_due(customer, policy, end + timedelta(days=400)) is ReturnReason.NO_FOLLOW_UP


def test_a_follow_up_restarts_the_protection_period_and_an_older_one_does_not() -> None:
    policy = _policy(protection_days=5, deal_days=None)
    later = _owned(last_activity_at=T0 + timedelta(days=2))
    end = T0 + timedelta(days=7)
    assert return_due(later, policy, end - US) is None
    assert return_due(later, policy, end) is ReturnReason.NO_FOLLOW_UP
    # A follow-up from before the rep got it does not shorten the period.
    earlier = _owned(last_activity_at=T0 - timedelta(days=3))
    assert return_due(earlier, policy, T0 + timedelta(days=5) - US) is None
    assert return_due(earlier, policy, T0 + timedelta(days=5)) is ReturnReason.NO_FOLLOW_UP
    same = _owned(last_activity_at=T0)
    assert return_due(same, policy, T0 + timedelta(days=5) - US) is None
    assert return_due(same, policy, T0 + timedelta(days=5)) is ReturnReason.NO_FOLLOW_UP


def test_a_customer_returns_at_the_instant_its_deal_period_ends_whatever_the_follow_ups() -> None:
    policy = _policy(protection_days=5, deal_days=12)
    customer = _owned(last_activity_at=T0 + timedelta(days=10))
    end = T0 + timedelta(days=12)
    assert return_due(customer, policy, end - US) is None
    assert return_due(customer, policy, end) is ReturnReason.NO_DEAL
    # Both ran out: the follow-up reason is given.
    assert return_due(customer, policy, T0 + timedelta(days=15)) is ReturnReason.NO_FOLLOW_UP
    assert return_due(customer, _policy(protection_days=None, deal_days=None), end) is None


def test_the_periods_run_from_registration_when_the_owner_date_is_unknown() -> None:
    policy = _policy(protection_days=5, deal_days=None)
    customer = _customer(owner_id=LI, owned_since=None)
    assert return_due(customer, policy, T0 + timedelta(days=5) - US) is None
    assert return_due(customer, policy, T0 + timedelta(days=5)) is ReturnReason.NO_FOLLOW_UP
    deal = _policy(protection_days=None, deal_days=2)
    assert return_due(customer, deal, T0 + timedelta(days=2) - US) is None
    assert return_due(customer, deal, T0 + timedelta(days=2)) is ReturnReason.NO_DEAL


@pytest.mark.parametrize("state", sorted(PoolState, key=lambda s: s.value))
def test_only_owned_working_customers_outside_the_recycle_bin_return(state: PoolState) -> None:
    policy = _policy(protection_days=1, deal_days=1)
    late = T0 + timedelta(days=30)
    working = state in {PoolState.CLAIMED, PoolState.ASSIGNED, PoolState.LEAD, PoolState.PROSPECT}
    expected = ReturnReason.NO_FOLLOW_UP if working else None
    assert return_due(_owned(state), policy, late) is expected
    assert return_due(_owned(state, deleted_at=T0), policy, late) is None
    assert return_due(_customer(pool_state=state, owned_since=T0), policy, late) is None


# -- claim and assign ---------------------------------------------------------------------------


def test_a_claim_makes_the_rep_the_owner_and_records_it() -> None:
    customer = _customer()
    now = T0 + timedelta(hours=3)
    event = claim(customer, LI, now=now, policy=_policy(), held=0, department=SALES)
    assert event == CustomerClaimed(
        tenant_id=TENANT,
        aggregate_id=customer.id,
        occurred_at=now,
        owner_id=LI,
        event_id=event.event_id,
    )
    assert (customer.pool_state, customer.owner_id, customer.department_id) == (
        PoolState.CLAIMED,
        LI,
        SALES,
    )
    assert customer.owned_since == now


def test_a_claim_without_a_department_clears_the_old_one() -> None:
    customer = _customer(department_id=SALES)
    claim(customer, LI, now=T0, policy=_policy(), held=0)
    assert customer.department_id is None


@pytest.mark.parametrize("trigger", ["claim", "assign"])
def test_only_a_customer_in_the_pool_without_owner_is_taken(trigger: str) -> None:
    def take(customer: Customer) -> Any:
        if trigger == "claim":
            return claim(customer, WANG, now=T0, policy=_policy(), held=0)
        return assign(customer, WANG, now=T0, policy=_policy(), held=0, by=BOSS)

    owned = _owned(PoolState.LEAD)
    with pytest.raises(NotInPool) as refused:
        take(owned)
    assert _error(refused) == {
        "code": "not_in_pool",
        "message": "customer_pool: the customer is no longer in the public pool (it is lead).",
        "machine": "customer_pool",
        "state": "lead",
        "trigger": trigger,
    }
    # A pool state with an owner left on it (a half-written row) is not in the pool either.
    odd = _customer(owner_id=LI, pool_state=PoolState.IN_POOL)
    with pytest.raises(NotInPool) as refused:
        take(odd)
    assert refused.value.fields["state"] == "in_pool"
    assert (odd.owner_id, odd.pool_state) == (LI, PoolState.IN_POOL)


def test_the_former_owner_waits_for_the_cooldown_to_the_instant() -> None:
    policy = _policy(cooldown_days=2)
    back = _customer(returned_from=LI, returned_at=T0)
    ends = T0 + timedelta(days=2)
    with pytest.raises(CooldownActive) as refused:
        claim(back, LI, now=ends - US, policy=policy, held=0)
    assert _error(refused) == {
        "code": "cooldown_active",
        "message": f"The former owner may claim this customer again from {ends.isoformat()}.",
        "until": ends.isoformat(),
    }
    assert (back.owner_id, back.pool_state) == (None, PoolState.IN_POOL)
    claim(back, LI, now=ends, policy=policy, held=0)
    assert back.owner_id == LI


def test_the_cooldown_binds_only_the_former_owner_and_only_when_set() -> None:
    back = _customer(returned_from=LI, returned_at=T0)
    claim(back, WANG, now=T0, policy=_policy(cooldown_days=2), held=0)
    assert back.owner_id == WANG
    again = _customer(returned_from=LI, returned_at=T0)
    claim(again, LI, now=T0, policy=_policy(cooldown_days=None), held=0)
    assert again.owner_id == LI


def test_a_manager_may_give_a_customer_back_to_its_former_owner_at_once() -> None:
    back = _customer(returned_from=LI, returned_at=T0)
    now = T0 + timedelta(minutes=1)
    event = assign(back, LI, now=now, policy=_policy(cooldown_days=7), held=0, by=BOSS)
    assert event == CustomerAssigned(
        tenant_id=TENANT,
        aggregate_id=back.id,
        occurred_at=now,
        owner_id=LI,
        assigned_by=BOSS,
        event_id=event.event_id,
    )
    assert (back.pool_state, back.owner_id, back.owned_since, back.department_id) == (
        PoolState.ASSIGNED,
        LI,
        now,
        None,
    )
    rule_made = _customer()
    assign(rule_made, WANG, now=now, policy=_policy(), held=0, by=None, department=SALES)
    assert (rule_made.owner_id, rule_made.department_id) == (WANG, SALES)


@pytest.mark.parametrize("trigger", ["claim", "assign"])
def test_the_holding_limit_refuses_at_the_limit_and_not_below(trigger: str) -> None:
    def take(held: int, limit: int | None) -> Customer:
        customer = _customer()
        if trigger == "claim":
            claim(customer, LI, now=T0, policy=_policy(holding_limit=limit), held=held)
        else:
            assign(customer, LI, now=T0, policy=_policy(holding_limit=limit), held=held, by=BOSS)
        return customer

    assert take(held=2, limit=3).owner_id == LI
    assert take(held=1000, limit=None).owner_id == LI
    with pytest.raises(HoldingLimitReached) as refused:
        take(held=3, limit=3)
    assert _error(refused) == {
        "code": "holding_limit_reached",
        "message": "holding_limit: the rep already holds 3 customers, the limit is 3.",
        "limit": "holding_limit",
        "value": 3,
        "maximum": 3,
    }
    with pytest.raises(HoldingLimitReached):
        take(held=0, limit=0)


# -- release, recall, expiry --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("why", "trigger"),
    [
        (ReturnReason.RELEASED, "release"),
        (ReturnReason.RECALLED, "recall"),
        (ReturnReason.NO_FOLLOW_UP, "expire"),
        (ReturnReason.NO_DEAL, "expire"),
    ],
)
def test_a_customer_returned_to_the_pool_remembers_who_had_it(
    why: ReturnReason, trigger: str
) -> None:
    customer = _owned(PoolState.PROSPECT)
    now = T0 + timedelta(days=3)
    event = release(customer, now=now, why=why)
    assert event == CustomerReturnedToPool(
        tenant_id=TENANT,
        aggregate_id=customer.id,
        occurred_at=now,
        former_owner=LI,
        reason=why.value,
        event_id=event.event_id,
    )
    assert (customer.pool_state, customer.owner_id, customer.owned_since) == (
        PoolState.IN_POOL,
        None,
        None,
    )
    assert (customer.returned_from, customer.returned_at) == (LI, now)
    # The trigger is the machine's: only expiry is refused for a won customer.
    won = _owned(PoolState.WON)
    if trigger == "expire":
        with pytest.raises(InvalidTransition) as refused:
            release(won, now=now, why=why)
        assert refused.value.fields["trigger"] == "expire"
        assert (won.owner_id, won.returned_from) == (LI, None)
    else:
        release(won, now=now, why=why)
        assert won.pool_state is PoolState.IN_POOL


# -- funnel moves -------------------------------------------------------------------------------


def test_a_move_that_is_no_funnel_move_is_refused_by_name() -> None:
    customer = _owned()
    with pytest.raises(ValidationError) as refused:
        move_stage(customer, "claim", now=T0)
    assert _error(refused) == {
        "code": "validation_error",
        "message": "customer.pool_state: claim is not a stage move",
        "entity": "customer",
        "field": "pool_state",
        "reason": "claim is not a stage move",
        "row": None,
    }
    assert customer.pool_state is PoolState.CLAIMED


@pytest.mark.parametrize(
    ("start", "trigger", "stage"),
    [
        (PoolState.CLAIMED, "qualify", PoolState.LEAD),
        (PoolState.ASSIGNED, "qualify", PoolState.LEAD),
        (PoolState.LEAD, "develop", PoolState.PROSPECT),
        (PoolState.PROSPECT, "win", PoolState.WON),
        (PoolState.WON, "go_dormant", PoolState.DORMANT),
        (PoolState.DORMANT, "revive", PoolState.WON),
        (PoolState.LEAD, "close", PoolState.CLOSED),
    ],
)
def test_each_funnel_move_records_its_trigger_and_stage(
    start: PoolState, trigger: str, stage: PoolState
) -> None:
    customer = _owned(start)
    now = T0 + timedelta(days=1)
    event = move_stage(customer, trigger, now=now)
    assert event == CustomerStageChanged(
        tenant_id=TENANT,
        aggregate_id=customer.id,
        occurred_at=now,
        trigger=trigger,
        stage=stage.value,
        event_id=event.event_id,
    )
    assert (customer.pool_state, customer.owner_id, customer.owned_since) == (stage, LI, T0)
    assert customer.closed_from is (start if trigger == "close" else None)


def test_won_at_is_the_first_win_only() -> None:
    customer = _owned(PoolState.LEAD)
    first = T0 + timedelta(days=1)
    move_stage(customer, "win", now=first)
    assert customer.won_at == first
    move_stage(customer, "go_dormant", now=first + timedelta(days=1))
    move_stage(customer, "revive", now=first + timedelta(days=2))
    assert customer.won_at == first
    closed = _owned(PoolState.WON)
    move_stage(closed, "close", now=first)
    assert closed.won_at is None  # only a win stamps it


@pytest.mark.parametrize(
    "before", [s for s in sorted(PoolState, key=lambda s: s.value) if s is not PoolState.CLOSED]
)
def test_reopen_goes_back_to_the_state_it_was_closed_from(before: PoolState) -> None:
    customer = _customer() if before is PoolState.IN_POOL else _owned(before)
    move_stage(customer, "close", now=T0)
    assert (customer.pool_state, customer.closed_from) == (PoolState.CLOSED, before)
    now = T0 + timedelta(days=1)
    event = move_stage(customer, "reopen", now=now)
    assert event == CustomerStageChanged(
        tenant_id=TENANT,
        aggregate_id=customer.id,
        occurred_at=now,
        trigger="reopen",
        stage=before.value,
        event_id=event.event_id,
    )
    assert (customer.pool_state, customer.closed_from) == (before, None)
    owner = None if before is PoolState.IN_POOL else LI
    assert customer.owner_id == owner


def test_a_customer_closed_from_an_unknown_state_reopens_into_the_pool_without_owner() -> None:
    customer = _owned(PoolState.CLOSED)  # closed before closed_from was recorded
    now = T0 + timedelta(days=1)
    event = move_stage(customer, "reopen", now=now)
    assert isinstance(event, CustomerStageChanged)
    assert (event.trigger, event.stage) == ("reopen", "in_pool")
    assert (customer.pool_state, customer.owner_id, customer.owned_since) == (
        PoolState.IN_POOL,
        None,
        None,
    )
    assert customer.closed_from is None


def test_the_reopen_guards_are_named_after_their_state_and_read_closed_from() -> None:
    guard = _closed_from(PoolState.LEAD)
    assert guard.name == "closed_from_lead"
    assert guard.check(_customer(closed_from=PoolState.LEAD), {}) is True
    assert guard.check(_customer(closed_from=PoolState.PROSPECT), {}) is False
    assert guard.check(_customer(), {}) is False
    reopen = sorted(str(t.guard.name) for t in POOL.transitions if t.guard is not None)
    assert reopen == sorted(
        f"closed_from_{s.value}" for s in PoolState if s is not PoolState.CLOSED
    )


# -- assignment rules ---------------------------------------------------------------------------


def _rule(**fields: Any) -> AssignmentRule:
    fields.setdefault("members", [LI, WANG, BOSS])
    return AssignmentRule(id=uuid.UUID(int=300), tenant_id=TENANT, name="华北", **fields)


def test_members_are_read_as_user_ids_from_text_too() -> None:
    rule = _rule(members=[str(LI), WANG])
    assert rule.members == (LI, WANG)
    assert rule.strategy is AssignmentStrategy.ROUND_ROBIN
    assert _rule(strategy="least_loaded").strategy is AssignmentStrategy.LEAST_LOADED


@pytest.mark.parametrize(
    ("members", "why"), [([], "is required"), ([LI, WANG, str(LI)], "lists a rep twice")]
)
def test_a_rule_needs_reps_each_named_once(members: list[Any], why: str) -> None:
    with pytest.raises(ValidationError) as refused:
        _rule(members=members)
    assert _error(refused) == {
        "code": "validation_error",
        "message": f"assignment_rule.members: {why}",
        "entity": "assignment_rule",
        "field": "members",
        "reason": why,
        "row": None,
    }


def test_a_rule_matches_by_region_and_industry_when_active() -> None:
    customer = _customer(region="华北", industry="制造")
    assert _rule().matches(customer)
    assert _rule(region="华北", industry="制造").matches(customer)
    assert not _rule(region="华东").matches(customer)
    assert not _rule(industry="贸易").matches(customer)
    assert not _rule(region="华北", industry="贸易").matches(customer)
    assert not _rule(active=False).matches(customer)


def test_round_robin_continues_at_the_cursor_and_skips_full_reps() -> None:
    rule = _rule()
    picked = [choose_assignee(rule, {}, None) for _ in range(4)]
    assert picked == [LI, WANG, BOSS, LI]
    assert rule.cursor == 1
    # Wang is full: the turn passes to the next rep with room, and the cursor past her.
    assert choose_assignee(rule, {WANG: 2, BOSS: 1}, 2) == BOSS
    assert rule.cursor == 0
    assert choose_assignee(rule, {LI: 1}, 2) == LI
    assert rule.cursor == 1
    # Wrapping past the end of the list.
    rule.cursor = 2
    assert choose_assignee(rule, {BOSS: 5}, 2) == LI
    assert rule.cursor == 1


@pytest.mark.parametrize("strategy", ["round_robin", "least_loaded"])
def test_a_rep_missing_from_the_loads_holds_nothing_yet(strategy: str) -> None:
    rule = _rule(strategy=strategy)
    assert choose_assignee(rule, {}, 1) == LI
    assert choose_assignee(_rule(strategy=strategy), {LI: 1}, 1) == WANG


def test_round_robin_gives_none_when_everyone_is_full_and_keeps_the_cursor() -> None:
    rule = _rule(cursor=1)
    assert choose_assignee(rule, {LI: 2, WANG: 2, BOSS: 3}, 2) is None
    assert rule.cursor == 1
    assert choose_assignee(rule, {LI: 2, WANG: 2, BOSS: 3}, 0) is None


def test_least_loaded_takes_the_emptiest_rep_with_room_ties_in_member_order() -> None:
    rule = _rule(strategy="least_loaded", cursor=2)
    assert choose_assignee(rule, {LI: 3, WANG: 1, BOSS: 2}, None) == WANG
    assert choose_assignee(rule, {LI: 1, WANG: 1}, None) == BOSS  # missing counts as 0
    assert choose_assignee(rule, {LI: 1, BOSS: 1}, None) == WANG
    assert choose_assignee(rule, {LI: 0, WANG: 0, BOSS: 0}, None) == LI
    assert choose_assignee(rule, {LI: 1, WANG: 3, BOSS: 3}, 3) == LI
    assert choose_assignee(rule, {LI: 3, WANG: 2, BOSS: 3}, 3) == WANG
    assert choose_assignee(rule, {LI: 3, WANG: 3, BOSS: 3}, 3) is None
    assert rule.cursor == 2  # least-loaded does not move the round-robin cursor
