"""Ownership and the public pool through the services, on every backend."""

from __future__ import annotations

import pytest

from crmkit import Crm, InvalidTransition, PermissionDenied
from crmkit.customers import (
    POOL,
    CooldownActive,
    CustomerClaimed,
    CustomerReturnedToPool,
    HoldingLimitReached,
    NotInPool,
    PoolState,
    assign_customer,
    auto_assign_customer,
    claim_customer,
    customer_history,
    define_assignment_rule,
    get_customer,
    get_pool_policy,
    list_customers,
    list_pool,
    move_customer_stage,
    recall_customer,
    register_customer,
    release_customer,
    return_expired_to_pool,
    set_pool_policy,
    transfer_customer,
    update_customer,
)
from crmkit.kernel.errors import ValidationError
from crmkit.rules.permissions import ownership_history
from tests.customers.team import make_team


def _pool_customer(crm: Crm, actor, name: str = "北京华为科技", **fields):
    return register_customer(crm, actor, name=name, owner_id=None, **fields)


def test_a_customer_without_owner_starts_in_the_pool_and_is_seen_by_claimers(
    crm: Crm, actor
) -> None:
    team = make_team(crm, actor)
    pooled = _pool_customer(crm, actor)
    assert (pooled.owner_id, pooled.pool_state) == (None, PoolState.IN_POOL)
    assert [c.id for c in list_pool(crm, team.li)] == [pooled.id]
    assert list_customers(crm, team.li) == []  # not hers: the pool is its own list


def test_a_custom_scope_claim_grant_opens_only_its_part_of_the_pool(crm: Crm, actor) -> None:
    from crmkit.kernel.query import F
    from crmkit.rules.permissions import Grant, Scope, define_role, set_member

    team = make_team(crm, actor)
    # East-region reps may view their own customers but claim only east-region pool ones.
    define_role(
        crm,
        actor,
        "east rep",
        grants=[
            Grant("customer", "view", Scope.OWN),
            Grant("customer", "claim", Scope.CUSTOM, F("region").eq("华东")),
        ],
    )
    set_member(crm, actor, team.wang.user_id, name=team.wang.name, roles=["east rep"])
    east = _pool_customer(crm, actor, "上海华东电子", region="华东")
    north = _pool_customer(crm, actor, "北京华北电子", region="华北")

    assert [c.id for c in list_pool(crm, team.wang)] == [east.id]
    assert {c.id for c in list_pool(crm, team.li)} == {east.id, north.id}  # own scope: all
    with pytest.raises(PermissionDenied):
        claim_customer(crm, team.wang, north.id)
    assert get_customer(crm, actor, north.id).owner_id is None
    assert claim_customer(crm, team.wang, east.id).owner_id == team.wang.user_id


def test_claiming_makes_the_rep_the_owner_and_records_it(crm: Crm, actor, clock) -> None:
    team = make_team(crm, actor)
    pooled = _pool_customer(crm, actor)
    claimed = claim_customer(crm, team.li, pooled.id)
    assert (claimed.owner_id, claimed.pool_state) == (team.li.user_id, PoolState.CLAIMED)
    assert claimed.owned_since == clock.now()
    assert list_pool(crm, team.li) == []
    with pytest.raises(NotInPool):
        claim_customer(crm, team.wang, pooled.id)
    events = crm.run(actor.tenant_id, lambda uow: uow.outbox.pending())
    assert any(isinstance(e, CustomerClaimed) for e in events)
    fields = {(r.action, r.field) for r in customer_history(crm, actor, pooled.id)}
    assert ("claim", "owner_id") in fields
    assert ("claim", "pool_state") in fields


def test_the_holding_limit_refuses_one_claim_too_many(crm: Crm, actor) -> None:
    team = make_team(crm, actor)
    set_pool_policy(crm, actor, holding_limit=2)
    first, second, third = (_pool_customer(crm, actor, f"客户{i}") for i in range(3))
    claim_customer(crm, team.li, first.id)
    claim_customer(crm, team.li, second.id)
    with pytest.raises(HoldingLimitReached) as raised:
        claim_customer(crm, team.li, third.id)
    assert (raised.value.value, raised.value.maximum) == (2, 2)
    # A won customer is the rep's book, not a working one: it frees a place.
    move_customer_stage(crm, team.li, first.id, "win")
    assert claim_customer(crm, team.li, third.id).owner_id == team.li.user_id


def test_release_starts_the_cooldown_for_the_former_owner_only(crm: Crm, actor, clock) -> None:
    team = make_team(crm, actor)
    set_pool_policy(crm, actor, cooldown_days=7)
    pooled = _pool_customer(crm, actor)
    claim_customer(crm, team.li, pooled.id)
    released = release_customer(crm, team.li, pooled.id)
    assert (released.owner_id, released.pool_state) == (None, PoolState.IN_POOL)
    assert released.returned_from == team.li.user_id
    with pytest.raises(CooldownActive):
        claim_customer(crm, team.li, pooled.id)
    clock.advance(days=7)
    assert claim_customer(crm, team.li, pooled.id).owner_id == team.li.user_id


def test_the_cooldown_ends_at_the_exact_instant_of_the_release_plus_its_days(
    crm: Crm, actor, clock
) -> None:
    # Released at 09:00 on 2 March (clock fixture) with a 2-day cool-down: the former
    # owner waits until 09:00 on 4 March to the microsecond, not to a day boundary.
    team = make_team(crm, actor)
    set_pool_policy(crm, actor, cooldown_days=2)
    pooled = _pool_customer(crm, actor)
    claim_customer(crm, team.li, pooled.id)
    clock.advance(hours=5, minutes=17)
    released = release_customer(crm, team.li, pooled.id)
    assert released.returned_at == clock.now()
    ends = clock.now().add(days=2)
    for step in (
        {"days": 1, "hours": 23},
        {"minutes": 59},
        {"seconds": 59, "microseconds": 999999},
    ):
        clock.advance(**step)
        with pytest.raises(CooldownActive) as refused:
            claim_customer(crm, team.li, pooled.id)
        assert refused.value.fields["until"] == ends.isoformat()
    clock.advance(microseconds=1)
    assert clock.now() == ends
    assert claim_customer(crm, team.li, pooled.id).owner_id == team.li.user_id


def test_another_rep_may_claim_during_the_cooldown(crm: Crm, actor) -> None:
    team = make_team(crm, actor)
    pooled = _pool_customer(crm, actor)
    claim_customer(crm, team.li, pooled.id)
    release_customer(crm, team.li, pooled.id)
    assert claim_customer(crm, team.wang, pooled.id).owner_id == team.wang.user_id


def test_only_the_owner_releases_and_only_a_manager_recalls(crm: Crm, actor) -> None:
    team = make_team(crm, actor)
    pooled = _pool_customer(crm, actor)
    claim_customer(crm, team.li, pooled.id)
    with pytest.raises(PermissionDenied):
        release_customer(crm, team.wang, pooled.id)
    with pytest.raises(PermissionDenied):
        recall_customer(crm, team.li, pooled.id)
    recalled = recall_customer(crm, team.manager, pooled.id)
    assert (recalled.owner_id, recalled.pool_state) == (None, PoolState.IN_POOL)
    events = crm.run(actor.tenant_id, lambda uow: uow.outbox.pending())
    returned = [e for e in events if isinstance(e, CustomerReturnedToPool)]
    assert [(e.reason, e.former_owner) for e in returned] == [("recalled", team.li.user_id)]


def test_a_manager_assigns_from_the_pool_within_the_limit(crm: Crm, actor) -> None:
    team = make_team(crm, actor)
    set_pool_policy(crm, actor, holding_limit=1)
    one, two = _pool_customer(crm, actor, "甲"), _pool_customer(crm, actor, "乙")
    with pytest.raises(PermissionDenied):
        assign_customer(crm, team.li, one.id, team.wang.user_id)
    assigned = assign_customer(crm, team.manager, one.id, team.wang.user_id)
    assert (assigned.owner_id, assigned.pool_state) == (team.wang.user_id, PoolState.ASSIGNED)
    with pytest.raises(HoldingLimitReached):
        assign_customer(crm, team.manager, two.id, team.wang.user_id)


def test_transfer_moves_ownership_with_history(crm: Crm, actor) -> None:
    team = make_team(crm, actor)
    customer = register_customer(crm, team.li, name="Acme")
    moved = transfer_customer(crm, team.li, customer.id, team.wang.user_id, note="holiday")
    assert moved.owner_id == team.wang.user_id
    with pytest.raises(PermissionDenied):
        get_customer(crm, team.li, customer.id)
    transfers = ownership_history(crm, actor, "customer", customer.id)
    assert [(t.from_owner, t.to_owner, t.note) for t in transfers] == [
        (team.li.user_id, team.wang.user_id, "holiday")
    ]
    records = [r for r in customer_history(crm, actor, customer.id) if r.action == "transfer"]
    owner = next(r for r in records if r.field == "owner_id")
    assert (owner.old_value, owner.new_value) == (str(team.li.user_id), str(team.wang.user_id))
    assert owner.user_id == team.li.user_id


def test_the_funnel_moves_follow_the_machine(crm: Crm, actor) -> None:
    customer = register_customer(crm, actor, name="Acme")
    assert customer.pool_state is PoolState.CLAIMED
    for trigger, state in [
        ("qualify", PoolState.LEAD),
        ("develop", PoolState.PROSPECT),
        ("win", PoolState.WON),
        ("go_dormant", PoolState.DORMANT),
        ("revive", PoolState.WON),
        ("close", PoolState.CLOSED),
        ("reopen", PoolState.WON),
    ]:
        assert move_customer_stage(crm, actor, customer.id, trigger).pool_state is state
    with pytest.raises(InvalidTransition):
        move_customer_stage(crm, actor, customer.id, "develop")
    with pytest.raises(ValidationError):
        move_customer_stage(crm, actor, customer.id, "claim")


def test_pool_fields_cannot_be_set_by_an_update(crm: Crm, actor) -> None:
    customer = register_customer(crm, actor, name="Acme")
    with pytest.raises(ValidationError):
        update_customer(crm, actor, customer.id, pool_state="won")
    with pytest.raises(ValidationError):
        register_customer(crm, actor, name="Other", deleted_at=None)


def test_the_scan_returns_customers_without_follow_up_once(crm: Crm, actor, clock) -> None:
    team = make_team(crm, actor)
    set_pool_policy(crm, actor, protection_days=15, deal_days=60, cooldown_days=3)
    quiet, busy, won = (_pool_customer(crm, actor, n) for n in ("安静", "忙碌", "成交"))
    for customer in (quiet, busy, won):
        claim_customer(crm, team.li, customer.id)
    move_customer_stage(crm, team.li, won.id, "win")
    clock.advance(days=10)
    update_customer(crm, team.li, busy.id, last_activity_at=clock.now())
    clock.advance(days=5)
    assert return_expired_to_pool(crm, actor.tenant_id) == [quiet.id]
    assert return_expired_to_pool(crm, actor.tenant_id) == []  # idempotent
    back = get_customer(crm, actor, quiet.id)
    assert (back.owner_id, back.pool_state, back.returned_from) == (
        None,
        PoolState.IN_POOL,
        team.li.user_id,
    )
    with pytest.raises(CooldownActive):
        claim_customer(crm, team.li, quiet.id)
    history = customer_history(crm, actor, quiet.id)
    assert any(r.action == "expire:no_follow_up" and r.user_id is None for r in history)


def test_the_scan_returns_customers_without_a_deal(crm: Crm, actor, clock) -> None:
    team = make_team(crm, actor)
    set_pool_policy(crm, actor, protection_days=None, deal_days=30)
    pending = _pool_customer(crm, actor)
    claim_customer(crm, team.li, pending.id)
    clock.advance(days=29)
    assert return_expired_to_pool(crm, actor.tenant_id) == []
    clock.advance(days=1)
    assert return_expired_to_pool(crm, actor.tenant_id) == [pending.id]


def test_the_scan_works_through_batches(crm: Crm, actor, clock) -> None:
    team = make_team(crm, actor)
    set_pool_policy(crm, actor, protection_days=1, holding_limit=None)
    ids = {_pool_customer(crm, actor, f"客户{i}").id for i in range(5)}
    for customer_id in ids:
        claim_customer(crm, team.li, customer_id)
    clock.advance(days=1)
    assert set(return_expired_to_pool(crm, actor.tenant_id, batch=2)) == ids


def test_policy_is_administered_and_validated(crm: Crm, actor) -> None:
    team = make_team(crm, actor)
    assert get_pool_policy(crm, actor).holding_limit == 50
    with pytest.raises(PermissionDenied):
        set_pool_policy(crm, team.manager, holding_limit=3)
    with pytest.raises(ValidationError):
        set_pool_policy(crm, actor, protection_days=-1)
    set_pool_policy(crm, actor, holding_limit=3)
    assert set_pool_policy(crm, actor, cooldown_days=None).holding_limit == 3
    assert (
        get_pool_policy(crm, actor).holding_limit,
        get_pool_policy(crm, actor).cooldown_days,
    ) == (3, None)


def test_round_robin_assignment_rotates_and_skips_full_reps(crm: Crm, actor) -> None:
    team = make_team(crm, actor)
    set_pool_policy(crm, actor, holding_limit=2)
    define_assignment_rule(
        crm, actor, name="华北", members=[team.li.user_id, team.wang.user_id], region="华北"
    )
    owners = [
        auto_assign_customer(
            crm, team.manager, _pool_customer(crm, actor, f"客户{i}", region="华北").id
        ).owner_id
        for i in range(5)
    ]
    li, wang = team.li.user_id, team.wang.user_id
    assert owners == [li, wang, li, wang, None]  # both full at the fifth
    elsewhere = _pool_customer(crm, actor, "上海客户", region="华东")
    assert auto_assign_customer(crm, team.manager, elsewhere.id).owner_id is None


def test_least_loaded_assignment_prefers_the_emptier_rep(crm: Crm, actor) -> None:
    team = make_team(crm, actor)
    claim_customer(crm, team.li, _pool_customer(crm, actor, "甲").id)
    define_assignment_rule(
        crm,
        actor,
        name="all",
        members=[team.li.user_id, team.wang.user_id],
        strategy="least_loaded",
    )
    assigned = auto_assign_customer(crm, team.manager, _pool_customer(crm, actor, "乙").id)
    assert assigned.owner_id == team.wang.user_id


def test_the_machine_draws_itself() -> None:
    diagram = POOL.to_mermaid()
    assert "IN_POOL --> CLAIMED: claim" in diagram
    assert "CLOSED --> WON: reopen" in diagram
