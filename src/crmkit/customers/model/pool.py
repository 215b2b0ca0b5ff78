"""Ownership and the public pool (公海): the lifecycle, its policy and its rules.

A customer has at most one owner. Without one it sits in the tenant's public pool,
where any rep holding ``claim`` may take it (subject to a per-rep *holding limit*),
or a manager may *assign* it. From there it is worked up the funnel (lead ->
prospect -> won); won customers may go dormant and be revived; any state may be
closed and later reopened to the state it was closed from. The lifecycle is the
:data:`POOL` machine below, declared once and used by every path.

Claimed and assigned customers are protected for a while. The :class:`PoolPolicy`
of the tenant sets, in days:

* ``protection_days``: the owner must follow the customer up within this many days
  of getting it and of the last follow-up (``Customer.last_activity_at``);
* ``deal_days``: the customer must be won within this many days of the owner
  getting it;
* ``cooldown_days``: after a customer returns to the pool (released, recalled or
  expired), its former owner may not claim it again for this many days;
* ``holding_limit``: how many *working* customers (claimed, assigned, lead,
  prospect — won and dormant customers are the rep's book and do not count) one
  rep may hold; claims and assignments beyond it are refused.

A customer that breaks the first or second rule returns to the pool when the scan
(:func:`crmkit.customers.services.return_expired_to_pool`) runs: the scan is driven
by the clock and idempotent, so running it twice, or from two workers, returns each
customer once.

Everything here is pure: functions take ``now`` and the numbers they need and
return domain events; the services load, lock and save.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

import attrs

from crmkit.customers.errors import CooldownActive, HoldingLimitReached, NotInPool
from crmkit.customers.model.customer import Customer, CustomerEvent, PoolState
from crmkit.kernel.entity import Entity
from crmkit.kernel.errors import ValidationError, reason
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.machine import Guard, Machine, Transition, state_label

__all__ = [
    "HELD_STATES",
    "POOL",
    "AssignmentRule",
    "AssignmentStrategy",
    "CustomerAssigned",
    "CustomerClaimed",
    "CustomerReturnedToPool",
    "CustomerStageChanged",
    "CustomerTransferred",
    "Holding",
    "PoolPolicy",
    "ReturnReason",
    "assign",
    "choose_assignee",
    "claim",
    "cooldown_until",
    "move_stage",
    "release",
    "return_due",
]

# The working states: customers a rep is developing, counted against the holding
# limit and watched by the protection and deal periods.
HELD_STATES = frozenset({PoolState.CLAIMED, PoolState.ASSIGNED, PoolState.LEAD, PoolState.PROSPECT})
# States an owner may release (or a manager recall) a customer from.
_OWNED_STATES = (*sorted(HELD_STATES, key=lambda s: s.value), PoolState.WON, PoolState.DORMANT)

POLICY_ID = uuid5(UUID("6f1d2c1e-6a39-4c53-9a6c-3b0d3f8e2a10"), "pool-policy")


class ReturnReason(enum.Enum):
    """Why a customer went back to the pool."""

    RELEASED = "released"
    RECALLED = "recalled"
    NO_FOLLOW_UP = "no_follow_up"
    NO_DEAL = "no_deal"


# -- events --------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CustomerClaimed(CustomerEvent):
    """A rep took a customer from the pool."""

    owner_id: UUID


@attrs.frozen(kw_only=True)
class CustomerAssigned(CustomerEvent):
    """A manager (or an assignment rule) gave a pool customer to a rep."""

    owner_id: UUID
    assigned_by: UUID | None = None


@attrs.frozen(kw_only=True)
class CustomerReturnedToPool(CustomerEvent):
    """A customer went back to the public pool (released, recalled or expired)."""

    former_owner: UUID | None
    reason: str


@attrs.frozen(kw_only=True)
class CustomerStageChanged(CustomerEvent):
    """A customer moved along the funnel (qualify, develop, win, dormant, close, ...)."""

    trigger: str
    stage: str


@attrs.frozen(kw_only=True)
class CustomerTransferred(CustomerEvent):
    """An owner handed a customer to another rep."""

    from_owner: UUID | None
    to_owner: UUID


# -- the machine ---------------------------------------------------------------------------


def _closed_from(state: PoolState) -> Guard:
    def was(customer: Customer) -> bool:
        return customer.closed_from is state

    return Guard(f"closed_from_{state.value}", was)


_REOPEN_TARGETS = [s for s in PoolState if s is not PoolState.CLOSED]

POOL: Machine[PoolState] = Machine(
    name="customer_pool",
    states=PoolState,
    initial=PoolState.IN_POOL,
    transitions=[
        Transition("claim", PoolState.IN_POOL, PoolState.CLAIMED, event=CustomerClaimed),
        Transition("assign", PoolState.IN_POOL, PoolState.ASSIGNED, event=CustomerAssigned),
        Transition(
            "qualify",
            (PoolState.CLAIMED, PoolState.ASSIGNED),
            PoolState.LEAD,
            event=CustomerStageChanged,
        ),
        Transition("develop", PoolState.LEAD, PoolState.PROSPECT, event=CustomerStageChanged),
        Transition("win", tuple(HELD_STATES), PoolState.WON, event=CustomerStageChanged),
        Transition("go_dormant", PoolState.WON, PoolState.DORMANT, event=CustomerStageChanged),
        Transition("revive", PoolState.DORMANT, PoolState.WON, event=CustomerStageChanged),
        Transition("release", _OWNED_STATES, PoolState.IN_POOL, event=CustomerReturnedToPool),
        Transition("recall", _OWNED_STATES, PoolState.IN_POOL, event=CustomerReturnedToPool),
        Transition("expire", tuple(HELD_STATES), PoolState.IN_POOL, event=CustomerReturnedToPool),
        Transition(
            "close",
            tuple(s for s in PoolState if s is not PoolState.CLOSED),
            PoolState.CLOSED,
            event=CustomerStageChanged,
        ),
        *(
            Transition(
                "reopen",
                PoolState.CLOSED,
                target,
                guard=_closed_from(target),
                event=CustomerStageChanged,
            )
            for target in _REOPEN_TARGETS
        ),
        Transition("reopen", PoolState.CLOSED, PoolState.IN_POOL, event=CustomerStageChanged),
    ],
    state_attr="pool_state",
)
"""The ownership lifecycle of a customer, as data (``POOL.to_mermaid()`` draws it)."""

# Funnel moves that keep the owner (the services' ``move_customer_stage``).
STAGE_TRIGGERS = frozenset({"qualify", "develop", "win", "go_dormant", "revive", "close", "reopen"})


# -- policy --------------------------------------------------------------------------------


def _optional_days(_instance: Any, attribute: Any, value: int | None) -> None:
    if value is not None and (not isinstance(value, int) or value < 0):
        raise ValidationError(
            entity="pool_policy",
            field=attribute.name,
            reason=reason(N_("must be a whole number of days, zero or more")),
        )


def _optional_limit(_instance: Any, attribute: Any, value: int | None) -> None:
    if value is not None and (not isinstance(value, int) or value < 0):
        raise ValidationError(
            entity="pool_policy",
            field=attribute.name,
            reason=reason(N_("must be zero or more")),
        )


@attrs.define(eq=False)
class PoolPolicy(Entity):
    """A tenant's public-pool rules (one per tenant; ``None`` switches a rule off).

    Attributes:
        protection_days: days without a follow-up before a customer returns to the pool.
        deal_days: days from getting a customer to winning it before it returns.
        cooldown_days: days a former owner must wait before claiming it again.
        holding_limit: working customers (see :data:`HELD_STATES`) one rep may hold.
    """

    entity_name = N_("pool_policy")

    id: UUID
    tenant_id: TenantId
    protection_days: int | None = attrs.field(default=30, validator=_optional_days)
    deal_days: int | None = attrs.field(default=90, validator=_optional_days)
    cooldown_days: int | None = attrs.field(default=7, validator=_optional_days)
    holding_limit: int | None = attrs.field(default=50, validator=_optional_limit)
    version: int = 0

    @classmethod
    def default(cls, tenant_id: TenantId) -> PoolPolicy:
        """The policy a tenant has until it sets its own."""
        return cls(id=POLICY_ID, tenant_id=tenant_id)


@attrs.define(eq=False)
class Holding(Entity):
    """A rep's claim counter: the row that serialises claims and assignments to one rep.

    Counting a rep's customers and then claiming one is racy when two claims for
    the same rep run at once (each counts before the other commits). Every path
    that gives a rep a customer first bumps this row; its version check lets only
    one of two concurrent transactions through, so the count the survivor makes is
    the true one.
    """

    entity_name = N_("holding")

    id: UserId
    tenant_id: TenantId
    acquisitions: int = 0
    version: int = 0


# -- rules ---------------------------------------------------------------------------------


def _days(value: int) -> timedelta:
    return timedelta(days=value)


def cooldown_until(customer: Customer, policy: PoolPolicy) -> datetime | None:
    """Until when the customer's former owner may not claim it back (``None``: no wait)."""
    if policy.cooldown_days is None or customer.returned_at is None:
        return None
    return customer.returned_at + _days(policy.cooldown_days)


def return_due(customer: Customer, policy: PoolPolicy, now: datetime) -> ReturnReason | None:
    """Why the customer must go back to the pool at ``now``, or ``None`` if it may stay.

    Only working customers (:data:`HELD_STATES`) with an owner and not in the recycle
    bin return. The follow-up clock runs from the later of ``owned_since`` and the last
    follow-up; the deal clock from ``owned_since``.
    """
    if (
        customer.owner_id is None
        or customer.deleted_at is not None
        or customer.pool_state not in HELD_STATES
    ):
        return None
    since = customer.owned_since or customer.created_at
    if policy.protection_days is not None:
        last = since
        if customer.last_activity_at is not None and customer.last_activity_at > last:
            last = customer.last_activity_at
        if now >= last + _days(policy.protection_days):
            return ReturnReason.NO_FOLLOW_UP
    if policy.deal_days is not None and now >= since + _days(policy.deal_days):
        return ReturnReason.NO_DEAL
    return None


def _require_in_pool(customer: Customer, trigger: str) -> None:
    if customer.pool_state is not PoolState.IN_POOL or customer.owner_id is not None:
        raise NotInPool(machine=POOL.name, state=state_label(customer.pool_state), trigger=trigger)


def _require_room(policy: PoolPolicy, held: int) -> None:
    if policy.holding_limit is not None and held >= policy.holding_limit:
        raise HoldingLimitReached(limit="holding_limit", value=held, maximum=policy.holding_limit)


def _take(customer: Customer, user: UserId, department: UUID | None, now: datetime) -> None:
    customer.owner_id = user
    customer.department_id = department
    customer.owned_since = now


def claim(
    customer: Customer,
    user: UserId,
    *,
    now: datetime,
    policy: PoolPolicy,
    held: int,
    department: UUID | None = None,
) -> DomainEvent:
    """A rep takes a pool customer.

    Args:
        held: how many working customers the rep holds now.
        department: the rep's department (the customer's department follows its owner).

    Raises:
        NotInPool: it has an owner already (someone else was first).
        CooldownActive: the rep lost or released it less than ``cooldown_days`` ago.
        HoldingLimitReached: the rep already holds ``holding_limit`` customers.
    """
    _require_in_pool(customer, "claim")
    until = cooldown_until(customer, policy)
    if customer.returned_from == user and until is not None and now < until:
        raise CooldownActive(until=until.isoformat())
    _require_room(policy, held)
    event = POOL.fire(customer, "claim", now=now, payload={"owner_id": user})
    assert event is not None
    _take(customer, user, department, now)
    return event


def assign(
    customer: Customer,
    user: UserId,
    *,
    now: datetime,
    policy: PoolPolicy,
    held: int,
    by: UserId | None,
    department: UUID | None = None,
) -> DomainEvent:
    """A manager (or an assignment rule) gives a pool customer to a rep.

    The cool-down does not apply (a manager may decide to give it back); the holding
    limit does.

    Raises:
        NotInPool: it has an owner already.
        HoldingLimitReached: the rep already holds ``holding_limit`` customers.
    """
    _require_in_pool(customer, "assign")
    _require_room(policy, held)
    event = POOL.fire(customer, "assign", now=now, payload={"owner_id": user, "assigned_by": by})
    assert event is not None
    _take(customer, user, department, now)
    return event


def release(customer: Customer, *, now: datetime, why: ReturnReason) -> DomainEvent:
    """Put an owned customer back in the pool (release, recall or expiry).

    Raises:
        InvalidTransition: it is in the pool, closed, or (for expiry) already won.
    """
    trigger = {
        ReturnReason.RELEASED: "release",
        ReturnReason.RECALLED: "recall",
    }.get(why, "expire")
    former = customer.owner_id
    event = POOL.fire(
        customer, trigger, now=now, payload={"former_owner": former, "reason": why.value}
    )
    assert event is not None
    customer.owner_id = None
    customer.owned_since = None
    customer.returned_from = former
    customer.returned_at = now
    return event


def move_stage(customer: Customer, trigger: str, *, now: datetime) -> DomainEvent:
    """Move a customer along the funnel: qualify, develop, win, go_dormant, revive, close, reopen.

    Raises:
        ValidationError: ``trigger`` is not a funnel move.
        InvalidTransition: the move does not leave the current state.
    """
    if trigger not in STAGE_TRIGGERS:
        raise ValidationError(
            entity="customer",
            field="pool_state",
            reason=reason(N_("{trigger} is not a stage move"), trigger=trigger),
        )
    before = customer.pool_state
    if trigger == "reopen":
        # The guards pick the state it was closed from (the pool when unknown).
        target = customer.closed_from or PoolState.IN_POOL
        event = POOL.fire(
            customer, "reopen", now=now, payload={"trigger": trigger, "stage": target.value}
        )
        customer.closed_from = None
        if customer.pool_state is PoolState.IN_POOL:
            customer.owner_id = None
            customer.owned_since = None
        assert event is not None
        return event
    target_state = {
        "qualify": PoolState.LEAD,
        "develop": PoolState.PROSPECT,
        "win": PoolState.WON,
        "go_dormant": PoolState.DORMANT,
        "revive": PoolState.WON,
        "close": PoolState.CLOSED,
    }[trigger]
    event = POOL.fire(
        customer, trigger, now=now, payload={"trigger": trigger, "stage": target_state.value}
    )
    assert event is not None
    if trigger == "close":
        customer.closed_from = before
    if trigger == "win" and customer.won_at is None:
        customer.won_at = now
    return event


# -- auto-assignment -----------------------------------------------------------------------


class AssignmentStrategy(enum.Enum):
    """How an assignment rule picks among its reps."""

    ROUND_ROBIN = "round_robin"
    LEAST_LOADED = "least_loaded"


def _user_tuple(values: Iterable[Any]) -> tuple[UserId, ...]:
    return tuple(UserId(v if isinstance(v, UUID) else UUID(str(v))) for v in values)


def _check_members(_instance: Any, _attribute: Any, value: tuple[UserId, ...]) -> None:
    if not value:
        raise ValidationError(
            entity="assignment_rule", field="members", reason=reason(N_("is required"))
        )
    if len(set(value)) != len(value):
        raise ValidationError(
            entity="assignment_rule", field="members", reason=reason(N_("lists a rep twice"))
        )


@attrs.define(eq=False)
class AssignmentRule(Entity):
    """Gives new or pool customers to reps automatically.

    A rule applies to customers whose region and industry match (``None`` matches
    anything); among matching active rules the lowest ``priority`` wins. Reps at their
    holding limit are skipped.

    Attributes:
        name: what the rule is called.
        strategy: round-robin (in ``members`` order) or least-loaded.
        members: the reps it assigns to.
        region, industry: the customers it applies to (``None``: any).
        priority: lower numbers are tried first.
        cursor: where round-robin continues (managed by the services).
        active: whether it is used.
    """

    entity_name = N_("assignment_rule")

    id: UUID
    tenant_id: TenantId
    name: str
    members: tuple[UserId, ...] = attrs.field(converter=_user_tuple, validator=_check_members)
    strategy: AssignmentStrategy = attrs.field(
        default=AssignmentStrategy.ROUND_ROBIN, converter=AssignmentStrategy
    )
    region: str | None = None
    industry: str | None = None
    priority: int = 100
    cursor: int = 0
    active: bool = True
    version: int = 0

    def matches(self, customer: Customer) -> bool:
        """Whether this rule applies to ``customer``."""
        return (
            self.active
            and (self.region is None or self.region == customer.region)
            and (self.industry is None or self.industry == customer.industry)
        )


def choose_assignee(
    rule: AssignmentRule, loads: Mapping[UserId, int], limit: int | None
) -> UserId | None:
    """The rep ``rule`` gives the next customer to, or ``None`` when all are full.

    Round-robin starts at ``rule.cursor`` and advances it past the chosen rep;
    least-loaded takes the rep holding the fewest (ties: ``members`` order).

    Args:
        loads: working customers each member holds now (missing: 0).
        limit: the holding limit (``None``: no limit).
    """
    members: Sequence[UserId] = rule.members

    def has_room(user: UserId) -> bool:
        return limit is None or loads.get(user, 0) < limit

    if rule.strategy is AssignmentStrategy.LEAST_LOADED:
        open_ = [u for u in members if has_room(u)]
        return min(open_, key=lambda u: loads.get(u, 0)) if open_ else None
    count = len(members)
    for step in range(count):
        index = (rule.cursor + step) % count
        if has_room(members[index]):
            rule.cursor = (index + 1) % count
            return members[index]
    return None
