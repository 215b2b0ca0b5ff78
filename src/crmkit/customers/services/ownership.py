"""Who holds a customer: the public pool and ownership use cases.

The pool policy, listing the pool, claims, assignments, releases, recalls,
transfers, lifecycle stage moves, the clock-driven return of expired customers
and the automatic assignment rules. The domain rules they apply live in
:mod:`crmkit.customers.model.pool`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar
from uuid import UUID

from crmkit.crm import Crm
from crmkit.customers.errors import HoldingLimitReached, NotInPool
from crmkit.customers.model.customer import Customer, CustomerId, PoolState
from crmkit.customers.model.history import snapshot
from crmkit.customers.model.pool import (
    HELD_STATES,
    POLICY_ID,
    POOL,
    AssignmentRule,
    AssignmentStrategy,
    CustomerTransferred,
    Holding,
    PoolPolicy,
    ReturnReason,
    assign,
    choose_assignee,
    claim,
    move_stage,
    release,
    return_due,
)
from crmkit.customers.queries._readers import _LIVE
from crmkit.customers.services._common import (
    RESOURCE,
    _live_for,
    _save,
    customer_reader,
    readable_where,
)
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import (
    ConcurrencyConflict,
    NotFound,
    PermissionDenied,
)
from crmkit.kernel.event_origin import origin
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.invalid import invalid
from crmkit.kernel.limits import to_member
from crmkit.kernel.machine import state_label
from crmkit.kernel.query import F, Order, Query, and_
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import Member, OwnershipTransfer, grants_for, guarded
from crmkit.rules.permissions.access import require_reach
from crmkit.rules.permissions.model import Grants

__all__ = [
    "assign_customer",
    "auto_assign_customer",
    "claim_customer",
    "define_assignment_rule",
    "get_pool_policy",
    "list_pool",
    "move_customer_stage",
    "recall_customer",
    "release_customer",
    "return_expired_to_pool",
    "set_pool_policy",
    "transfer_customer",
]

R = TypeVar("R")

# Claims race by design (two reps, one pool customer); the loser's transaction fails
# its version check and is run again, so it ends with the clear reason
# (``NotInPool``, ``HoldingLimitReached``) rather than a bare conflict. N claims racing
# for one rep can make one of them lose N - 1 times, hence the generous bound.
_CONFLICT_RETRIES = 10


def _retrying(call: Callable[[], R]) -> R:
    for attempt in range(_CONFLICT_RETRIES):
        try:
            return call()
        except ConcurrencyConflict:
            if attempt == _CONFLICT_RETRIES - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _member(uow: UnitOfWork, user: UUID, field: str = "owner_id") -> Member:
    member = uow.repository(Member).find(user)
    if member is None:
        raise NotFound(entity="member", id=user)
    if not member.active:
        raise invalid("customer", field, N_("the new owner is deactivated"))
    return member


def _policy(uow: UnitOfWork) -> PoolPolicy:
    return uow.repository(PoolPolicy).find(POLICY_ID) or PoolPolicy.default(uow.tenant_id)


def _lock_holding(uow: UnitOfWork, user: UserId) -> None:
    """Bump the rep's holding row: concurrent acquisitions for one rep serialise here."""
    repo = uow.repository(Holding)
    holding = repo.find(user)
    if holding is None:
        holding = Holding(id=user, tenant_id=uow.tenant_id)
        if repo.add_if_absent(holding):
            return
        holding = repo.get(user)
    holding.acquisitions += 1
    repo.save(holding)


def _held(uow: UnitOfWork, user: UUID) -> int:
    states = sorted(s.value for s in HELD_STATES)
    return uow.repository(Customer).count(
        F("owner_id").eq(user) & F("pool_state").is_in(states) & _LIVE
    )


def _require_admin(grants: Grants, what: str) -> None:
    if not grants.may_administer:
        raise PermissionDenied(actor=grants.label, operation="administer", resource=what)


def get_pool_policy(crm: Crm, actor: Actor) -> PoolPolicy:
    """The tenant's pool policy (the defaults until an administrator sets one)."""
    return crm.run(actor.tenant_id, _policy)


def set_pool_policy(crm: Crm, actor: Actor, **fields: Any) -> PoolPolicy:
    """Change the tenant's pool policy (``protection_days``, ``deal_days``,
    ``cooldown_days``, ``holding_limit``; ``None`` switches a rule off).

    Raises:
        PermissionDenied: the actor does not administer the tenant.
        ValidationError: a value breaks a rule; nothing changes.
    """

    def work(uow: UnitOfWork) -> PoolPolicy:
        _require_admin(grants_for(uow, actor), "pool_policy")
        repo = uow.repository(PoolPolicy)
        current = repo.find(POLICY_ID)
        if current is None:
            policy = PoolPolicy(id=POLICY_ID, tenant_id=uow.tenant_id, **fields)
            return repo.add(policy)
        for name in fields:
            if name in ("id", "tenant_id", "version"):
                raise invalid("pool_policy", name, N_("cannot be changed"))
        changed = PoolPolicy(
            id=POLICY_ID,
            tenant_id=uow.tenant_id,
            **{
                "protection_days": current.protection_days,
                "deal_days": current.deal_days,
                "cooldown_days": current.cooldown_days,
                "holding_limit": current.holding_limit,
                **fields,
            },
        )
        changed.version = current.version
        return repo.save(changed)

    return guarded(crm, actor, work)


def list_pool(crm: Crm, actor: Actor, query: Query | None = None) -> list[Customer]:
    """Customers in the public pool matching ``query`` (needs ``claim`` on customers).

    Raises:
        PermissionDenied: the actor holds no ``claim`` grant, or filters on a hidden field.
    """
    query = query or Query()

    def work(uow: UnitOfWork) -> list[Customer]:
        grants = grants_for(uow, actor)
        grants.require_operation("claim", RESOURCE)
        where = readable_where(uow, grants, query)
        pool = and_(
            F("owner_id").is_null(),
            F("pool_state").eq(PoolState.IN_POOL.value),
            _LIVE,
            grants.unowned_scope("claim", RESOURCE),
        )
        found = uow.repository(Customer).query(
            Query(
                where=and_(pool, where),
                order_by=query.order_by or (Order("pinyin_full"),),
                limit=query.limit,
                offset=query.offset,
            )
        )
        reader = customer_reader(uow, grants)
        return [reader.redact(c) for c in found]

    return guarded(crm, actor, work)


def _pool_customer(uow: UnitOfWork, grants: Grants, customer_id: UUID, operation: str) -> Customer:
    """The live customer a pool operation acts on, once the actor may reach it.

    Permission comes before the pool's state: a customer in the pool is reached through
    the part of the pool the actor's ``operation`` grants open
    (:meth:`~crmkit.rules.permissions.model.Grants.unowned_scope`). A customer with
    an owner is out of the pool, which the domain then says (``NotInPool``) only to an
    actor who may ``view`` it and so sees its owner anyway; anyone else is refused
    rather than told that a colleague's customer is not in the pool.
    """
    customer = uow.repository(Customer).get(customer_id)
    if customer.owner_id is None:
        require_reach(grants, operation, customer, RESOURCE, unowned=True)
    else:
        grants.require_operation(operation, RESOURCE)
        grants.require("view", customer, RESOURCE)
    if customer.deleted_at is not None:
        raise NotFound(entity="customer", id=customer_id)
    return customer


def claim_customer(crm: Crm, actor: Actor, customer_id: UUID) -> Customer:
    """The actor takes a customer from the public pool.

    Of two reps claiming the same customer at once exactly one wins; the other is
    refused: ``PermissionDenied`` when the customer now belongs to someone beyond their
    reach (permission comes before the pool's state, so a stranger's customer is never
    described to them), ``NotInPool`` when they may still reach it. Claims by one rep
    are serialised, so the holding limit holds.

    Raises:
        NotFound: no such customer (or it is in the recycle bin).
        PermissionDenied: the actor holds no ``claim`` grant reaching the customer: a
            pool customer outside the part of the pool they may claim, or another
            owner's customer.
        NotInPool: it has an owner, and the actor may view it (their own, a
            subordinate's).
        CooldownActive: the actor lost or released it less than the cool-down ago.
        HoldingLimitReached: the actor holds as many working customers as allowed.
    """

    def work(uow: UnitOfWork) -> Customer:
        grants = grants_for(uow, actor)
        customer = _pool_customer(uow, grants, customer_id, "claim")
        me = _member(uow, actor.user_id)
        policy = _policy(uow)
        _lock_holding(uow, actor.user_id)
        before = snapshot(customer)
        now = crm.now()
        event = claim(
            customer,
            actor.user_id,
            now=now,
            policy=policy,
            held=_held(uow, actor.user_id),
            department=me.department_id,
        )
        _save(uow, crm, customer, before, "claim", actor.user_id, now, event)
        return customer_reader(uow, grants).redact(customer)

    return _retrying(lambda: guarded(crm, actor, work))


def assign_customer(crm: Crm, actor: Actor, customer_id: UUID, to_user: UserId) -> Customer:
    """A manager gives a pool customer to a rep (within the rep's holding limit).

    Raises:
        NotFound: no such customer, or ``to_user`` is not a member.
        PermissionDenied: the actor holds no ``assign`` grant reaching the customer
            (checked before its pool state).
        NotInPool: it has an owner already (use :func:`transfer_customer`).
        HoldingLimitReached: the rep holds as many working customers as allowed.
        ValidationError: the rep is deactivated.
    """

    def work(uow: UnitOfWork) -> Customer:
        grants = grants_for(uow, actor)
        customer = _pool_customer(uow, grants, customer_id, "assign")
        rep = _member(uow, to_user)
        now = crm.now()
        before = snapshot(customer)
        _lock_holding(uow, to_user)
        event = assign(
            customer,
            to_user,
            now=now,
            policy=_policy(uow),
            held=_held(uow, to_user),
            by=actor.user_id,
            department=rep.department_id,
        )
        _save(uow, crm, customer, before, "assign", actor.user_id, now, event)
        return customer_reader(uow, grants).redact(customer)

    return _retrying(lambda: guarded(crm, actor, work))


def _give_back(
    crm: Crm, actor: Actor, customer_id: UUID, operation: str, why: ReturnReason
) -> Customer:
    def work(uow: UnitOfWork) -> Customer:
        grants = grants_for(uow, actor)
        customer = _live_for(uow, grants, operation, customer_id)
        now = crm.now()
        before = snapshot(customer)
        event = release(customer, now=now, why=why)
        _save(uow, crm, customer, before, operation, actor.user_id, now, event)
        return customer_reader(uow, grants).redact(customer)

    return guarded(crm, actor, work)


def release_customer(crm: Crm, actor: Actor, customer_id: UUID) -> Customer:
    """The owner puts a customer back in the public pool (the cool-down starts).

    Raises:
        NotFound: no such customer.
        PermissionDenied: the actor may not ``release`` it (reps reach their own).
        InvalidTransition: it is in the pool or closed.
    """
    return _give_back(crm, actor, customer_id, "release", ReturnReason.RELEASED)


def recall_customer(crm: Crm, actor: Actor, customer_id: UUID) -> Customer:
    """A manager takes a customer from its owner back to the public pool.

    Raises:
        NotFound: no such customer.
        PermissionDenied: the actor may not ``recall`` it.
        InvalidTransition: it is in the pool or closed.
    """
    return _give_back(crm, actor, customer_id, "recall", ReturnReason.RECALLED)


def transfer_customer(
    crm: Crm, actor: Actor, customer_id: UUID, to_user: UserId, *, note: str = ""
) -> Customer:
    """Hand an owned customer to another rep, with its contacts, keeping the history.

    The hand-over is kept in the permissions' ownership history too, and the new owner's
    protection period starts now. A working customer counts against the new owner's
    holding limit.

    Raises:
        NotFound: no such customer, or ``to_user`` is not a member.
        PermissionDenied: the actor may not ``transfer`` it.
        ValidationError: it has no owner (assign it instead), or the rep is deactivated.
        HoldingLimitReached: the new owner holds as many working customers as allowed.
    """

    def work(uow: UnitOfWork) -> Customer:
        grants = grants_for(uow, actor)
        customer = _live_for(uow, grants, "transfer", customer_id)
        if customer.owner_id is None:
            raise invalid(
                "customer", "owner_id", N_("a pool customer is assigned, not transferred")
            )
        rep = _member(uow, to_user)
        if customer.owner_id == to_user:
            return customer_reader(uow, grants).redact(customer)
        now = crm.now()
        _lock_holding(uow, to_user)
        if customer.pool_state in HELD_STATES:
            policy = _policy(uow)
            held = _held(uow, to_user)
            if policy.holding_limit is not None and held >= policy.holding_limit:
                raise HoldingLimitReached(
                    limit="holding_limit", value=held, maximum=policy.holding_limit
                )
        before = snapshot(customer)
        previous = customer.owner_id
        customer.owner_id = to_user
        customer.department_id = rep.department_id
        customer.owned_since = now
        uow.repository(OwnershipTransfer).add(
            OwnershipTransfer(
                id=crm.ids.new(now),
                tenant_id=uow.tenant_id,
                resource=RESOURCE,
                record_id=customer.id,
                from_owner=previous,
                to_owner=to_user,
                transferred_by=actor.user_id,
                transferred_at=now,
                note=note,
            )
        )
        event = CustomerTransferred(
            **origin(customer, now),
            from_owner=previous,
            to_owner=to_user,
        )
        _save(uow, crm, customer, before, "transfer", actor.user_id, now, event)
        return customer_reader(uow, grants).redact(customer)

    return _retrying(lambda: guarded(crm, actor, work))


def move_customer_stage(crm: Crm, actor: Actor, customer_id: UUID, trigger: str) -> Customer:
    """Move a customer along its lifecycle: ``qualify``, ``develop``, ``win``,
    ``go_dormant``, ``revive``, ``close`` or ``reopen`` (see ``crmkit.customers.model.pool.POOL``).

    Raises:
        NotFound: no such customer.
        PermissionDenied: the actor may not edit it.
        InvalidTransition: the move does not leave its current state.
    """

    def work(uow: UnitOfWork) -> Customer:
        grants = grants_for(uow, actor)
        customer = _live_for(uow, grants, "edit", customer_id)
        now = crm.now()
        before = snapshot(customer)
        event = move_stage(customer, trigger, now=now)
        _save(uow, crm, customer, before, trigger, actor.user_id, now, event)
        return customer_reader(uow, grants).redact(customer)

    return guarded(crm, actor, work)


def return_expired_to_pool(crm: Crm, tenant_id: TenantId, *, batch: int = 500) -> list[CustomerId]:
    """Return every customer whose protection or deal period ran out (a clock-driven job).

    Idempotent: a customer is returned once; running the scan again, or from two
    workers at once, returns nothing more. Each batch is one transaction.

    Args:
        tenant_id: the tenant to scan.
        batch: customers examined per transaction.

    Returns:
        The ids of the customers returned to the pool.
    """
    now = crm.now()
    returned: list[CustomerId] = []

    def one_batch(uow: UnitOfWork) -> tuple[list[CustomerId], bool]:
        policy = _policy(uow)
        periods = [d for d in (policy.protection_days, policy.deal_days) if d is not None]
        if not periods:
            return [], False
        # The earliest a customer can be due: owned for at least the shorter period.
        cutoff = now - timedelta(days=min(periods))
        states = sorted(s.value for s in HELD_STATES)
        candidates = uow.repository(Customer).query(
            Query(
                where=F("owner_id").not_null()
                & F("pool_state").is_in(states)
                & _LIVE
                & F("owned_since").le(cutoff),
                order_by=(Order("owned_since"), Order("id")),
                limit=batch,
            )
        )
        done: list[CustomerId] = []
        for customer in candidates:
            why = return_due(customer, policy, now)
            if why is None:
                continue
            before = snapshot(customer)
            event = release(customer, now=now, why=why)
            _save(uow, crm, customer, before, f"expire:{why.value}", None, now, event)
            done.append(customer.id)
        # Undue candidates stay candidates, so a full batch with none due would loop:
        # only continue while this batch returned something.
        return done, len(candidates) == batch and bool(done)

    more = True
    while more:
        done, more = _retrying(lambda: crm.run(tenant_id, one_batch))
        returned.extend(done)
    return returned


def define_assignment_rule(
    crm: Crm,
    actor: Actor,
    *,
    name: str,
    members: list[UserId] | tuple[UserId, ...],
    strategy: AssignmentStrategy | str = AssignmentStrategy.ROUND_ROBIN,
    region: str | None = None,
    industry: str | None = None,
    priority: int = 100,
) -> AssignmentRule:
    """Add a rule that gives new or pool customers to reps automatically.

    Raises:
        PermissionDenied: the actor does not administer the tenant.
        NotFound: a member is not a member of the tenant.
        ValidationError: no members, or a member twice.
    """
    now = crm.now()
    rule = AssignmentRule(
        id=crm.ids.new(now),
        tenant_id=actor.tenant_id,
        name=name,
        members=tuple(members),
        strategy=to_member(
            AssignmentStrategy, strategy, entity="assignment_rule", field="strategy"
        ),
        region=region,
        industry=industry,
        priority=priority,
    )

    def work(uow: UnitOfWork) -> AssignmentRule:
        _require_admin(grants_for(uow, actor), "assignment_rule")
        for user in rule.members:
            _member(uow, user, "members")
        return uow.repository(AssignmentRule).add(rule)

    return guarded(crm, actor, work)


def auto_assign_customer(crm: Crm, actor: Actor, customer_id: UUID) -> Customer:
    """Give a pool customer to a rep by the first matching assignment rule.

    Rules are tried by ``priority``; a rule whose reps are all at their holding limit
    is passed over. When no rule can place it the customer stays in the pool.

    Raises:
        NotFound: no such customer.
        PermissionDenied: the actor holds no ``assign`` grant reaching the customer
            (checked before its pool state).
        NotInPool: it has an owner already.
    """

    def work(uow: UnitOfWork) -> Customer:
        grants = grants_for(uow, actor)
        customer = _pool_customer(uow, grants, customer_id, "assign")
        if customer.owner_id is not None or customer.pool_state is not PoolState.IN_POOL:
            raise NotInPool(
                machine=POOL.name, state=state_label(customer.pool_state), trigger="assign"
            )
        policy = _policy(uow)
        rules = uow.repository(AssignmentRule).query(
            Query(where=F("active").eq(True), order_by=(Order("priority"), Order("id")))
        )
        for rule in rules:
            if not rule.matches(customer):
                continue
            loads = {user: _held(uow, user) for user in rule.members}
            chosen = choose_assignee(rule, loads, policy.holding_limit)
            if chosen is None:
                continue
            rep = _member(uow, chosen)
            uow.repository(AssignmentRule).save(rule)  # the round-robin cursor moved
            _lock_holding(uow, chosen)
            now = crm.now()
            before = snapshot(customer)
            event = assign(
                customer,
                chosen,
                now=now,
                policy=policy,
                held=_held(uow, chosen),
                by=actor.user_id,
                department=rep.department_id,
            )
            _save(uow, crm, customer, before, "auto_assign", actor.user_id, now, event)
            break
        return customer_reader(uow, grants).redact(customer)

    return _retrying(lambda: guarded(crm, actor, work))
