"""Customer use cases: each function is one transaction, checked by the permission evaluator.

Every call compiles (or reuses) the actor's grants: reads need ``view`` on the
record and come back with the fields hidden from the actor set to ``None``;
lists are narrowed to the actor's ``view`` scope inside the query itself (so
counts and pages are right) and refuse filters or sort keys on hidden fields;
writes need ``create``/``edit`` on the record and refuse read-only or hidden
fields by name. Refusals raise ``PermissionDenied`` and land in the audit log.

Beyond the default operations the ``customer`` resource offers ``release``,
``recall``, ``restore`` and ``purge``. The public pool is reached through the
*operation*, not a data scope: pool customers have no owner, so an ``own`` or
``department`` scope could never reach them. Whoever holds ``claim`` on customers
sees the pool (:func:`list_pool`) and may claim from it; ``assign`` lets a manager
give pool customers to reps; ``release``/``recall``/``transfer``/``delete``/
``restore``/``purge`` are checked against the record like ``edit``.

Contacts follow their customer: reading them needs ``view`` on the customer, writing
them ``edit`` on it; field rules on the ``contact`` resource hide or protect single
contact fields. Every write records its field changes in the change history
(:mod:`crmkit.customers.history`) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from crmkit.crm import Crm
from crmkit.customers.contacts import Contact
from crmkit.customers.dedup import (
    DuplicateCheck,
    DuplicatePolicy,
    check_duplicate_name,
    normalize_name,
)
from crmkit.customers.errors import HierarchyCycle, HoldingLimitReached, NotInPool
from crmkit.customers.history import ChangeRecord, record_changes, snapshot
from crmkit.customers.model import (
    SYSTEM_FIELDS,
    Customer,
    CustomerId,
    CustomerRegistered,
    CustomerRelation,
    PoolState,
    RelationKind,
    would_make_cycle,
)
from crmkit.customers.phones import caller_id_query
from crmkit.customers.pool import (
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
from crmkit.customers.search import search_customers_query
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import (
    ConcurrencyConflict,
    NotFound,
    PermissionDenied,
    ValidationError,
    reason,
)
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.machine import state_label
from crmkit.kernel.query import F, Order, Query, and_
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import (
    Member,
    OwnershipTransfer,
    grants_for,
    guarded,
    register_resource,
)
from crmkit.rules.permissions.evaluator import Grants
from crmkit.rules.permissions.model import DEFAULT_OPERATIONS

__all__ = [
    "add_contact",
    "assign_customer",
    "auto_assign_customer",
    "check_customer_name",
    "claim_customer",
    "customer_history",
    "define_assignment_rule",
    "delete_customer",
    "get_customer",
    "get_pool_policy",
    "list_contacts",
    "list_customers",
    "list_pool",
    "list_recycle_bin",
    "list_relations",
    "match_caller",
    "move_customer_stage",
    "purge_customer",
    "recall_customer",
    "register_customer",
    "relate_customers",
    "release_customer",
    "remove_contact",
    "restore_customer",
    "return_expired_to_pool",
    "search_customers",
    "set_pool_policy",
    "set_primary_contact",
    "transfer_customer",
    "unrelate_customers",
    "update_contact",
    "update_customer",
    "user_history",
]

R = TypeVar("R")

RESOURCE = "customer"
CONTACT = "contact"
CUSTOMER_OPERATIONS = DEFAULT_OPERATIONS | {"release", "recall", "restore", "purge"}
register_resource(RESOURCE, entity=Customer, operations=CUSTOMER_OPERATIONS)
register_resource(CONTACT, entity=Contact)

LABELS = (N_("release"), N_("recall"), N_("restore"), N_("purge"))

# Claims race by design (two reps, one pool customer); the loser's transaction fails
# its version check and is run again, so it ends with the clear reason
# (``NotInPool``, ``HoldingLimitReached``) rather than a bare conflict. N claims racing
# for one rep can make one of them lose N - 1 times, hence the generous bound.
_CONFLICT_RETRIES = 10

_LIVE = F("deleted_at").is_null()


# -- shared write helpers -------------------------------------------------------------------


def _retrying(call: Callable[[], R]) -> R:
    for attempt in range(_CONFLICT_RETRIES):
        try:
            return call()
        except ConcurrencyConflict:
            if attempt == _CONFLICT_RETRIES - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _history(
    uow: UnitOfWork,
    crm: Crm,
    customer_id: UUID,
    user: UserId | None,
    action: str,
    before: dict[str, Any],
    after: dict[str, Any],
    *,
    now: datetime,
    always: bool = False,
) -> list[ChangeRecord]:
    # The one place customer writes reach the change history.
    return record_changes(
        uow,
        lambda: crm.ids.new(now),
        customer_id=customer_id,
        tenant_id=uow.tenant_id,
        user_id=user,
        at=now,
        action=action,
        before=before,
        after=after,
        always=always,
    )


def _save(
    uow: UnitOfWork,
    crm: Crm,
    customer: Customer,
    before: dict[str, Any],
    action: str,
    user: UserId | None,
    now: datetime,
    *events: Any,
) -> None:
    """Save a changed customer, its history and its events; keep its contacts' owner."""
    uow.repository(Customer).save(customer)
    after = snapshot(customer)
    _history(uow, crm, customer.id, user, action, before, after, now=now)
    if before.get("owner_id") != after.get("owner_id") or before.get("department_id") != after.get(
        "department_id"
    ):
        _sync_contacts(uow, customer)
    uow.outbox.add(*[e for e in events if e is not None])


def _sync_contacts(uow: UnitOfWork, customer: Customer) -> None:
    repo = uow.repository(Contact)
    for contact in repo.query(Query(where=F("customer_id").eq(customer.id))):
        contact.owner_id = customer.owner_id
        contact.department_id = customer.department_id
        repo.save(contact)


def _live(uow: UnitOfWork, customer_id: UUID) -> Customer:
    customer = uow.repository(Customer).get(customer_id)
    if customer.deleted_at is not None:
        raise NotFound(entity="customer", id=customer_id)
    return customer


def _member(uow: UnitOfWork, user: UUID, field: str = "owner_id") -> Member:
    member = uow.repository(Member).find(user)
    if member is None:
        raise NotFound(entity="member", id=user)
    if not member.active:
        raise ValidationError(
            entity="customer", field=field, reason=reason(N_("the new owner is deactivated"))
        )
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


# -- customer master ------------------------------------------------------------------------


def register_customer(
    crm: Crm,
    actor: Actor,
    *,
    name: str,
    duplicates: DuplicatePolicy = DuplicatePolicy.WARN,
    **fields: Any,
) -> Customer:
    """Enter a new customer owned by ``fields['owner_id']`` (default: the actor).

    The customer's department defaults to its owner's department. With
    ``duplicates=DuplicatePolicy.BLOCK`` a name that normalises to an existing
    customer's (full-width, spaces, 有限公司 / Co., Ltd. ...) is refused inside the
    same transaction; to warn instead, show :func:`check_customer_name` first.

    Raises:
        ValidationError: a field breaks a rule, or the name is a blocked duplicate;
            nothing is stored.
        PermissionDenied: the actor may not create this customer or set one of the fields.
    """
    now = crm.now()
    given = {"name", *fields}
    for field in sorted(given & SYSTEM_FIELDS):
        raise ValidationError(entity="customer", field=field, reason=reason(N_("cannot be set")))
    fields.setdefault("owner_id", actor.user_id)
    customer = Customer(
        id=CustomerId(crm.ids.new(now)),
        tenant_id=actor.tenant_id,
        name=name,
        created_at=now,
        **fields,
    )
    if customer.owner_id is not None:
        customer.owned_since = now

    def work(uow: UnitOfWork) -> Customer:
        grants = grants_for(uow, actor)
        grants.require_operation("create", RESOURCE)
        grants.check_writable(RESOURCE, sorted(given))
        if "department_id" not in fields and customer.owner_id is not None:
            owner = uow.repository(Member).find(customer.owner_id)
            customer.department_id = None if owner is None else owner.department_id
        grants.require("create", customer, RESOURCE)
        if duplicates is DuplicatePolicy.BLOCK:
            _name_check(uow, name, duplicates).require()
        uow.repository(Customer).add(customer)
        _history(uow, crm, customer.id, actor.user_id, "create", {}, snapshot(customer), now=now)
        uow.outbox.add(
            CustomerRegistered(
                tenant_id=customer.tenant_id,
                aggregate_id=customer.id,
                occurred_at=now,
                name=customer.name,
                owner_id=customer.owner_id,
            )
        )
        return grants.redact(customer, RESOURCE)  # type: ignore[no-any-return]

    return guarded(crm, actor, work)


def update_customer(
    crm: Crm,
    actor: Actor,
    customer_id: UUID,
    *,
    expected_version: int | None = None,
    **changes: Any,
) -> Customer:
    """Change fields of a customer.

    Args:
        expected_version: the version the caller's form was loaded at; a mismatch
            raises ``ConcurrencyConflict`` instead of overwriting someone else's edit.

    Raises:
        NotFound: no such customer in this tenant.
        ValidationError: a change breaks a rule; the customer is left unchanged.
        ConcurrencyConflict: it changed since ``expected_version`` (or during this call).
        PermissionDenied: the actor may not edit this customer, or one of the fields.
    """

    def work(uow: UnitOfWork) -> Customer:
        grants = grants_for(uow, actor)
        customer = _live(uow, customer_id)
        grants.require("edit", customer, RESOURCE)
        grants.check_writable(RESOURCE, sorted(changes))
        if expected_version is not None and customer.version != expected_version:
            raise ConcurrencyConflict(entity="customer", id=customer_id, version=expected_version)
        before = snapshot(customer)
        now = crm.now()
        event = customer.change(now, **changes)
        if event is not None:
            _save(uow, crm, customer, before, "update", actor.user_id, now, event)
        return grants.redact(customer, RESOURCE)  # type: ignore[no-any-return]

    return guarded(crm, actor, work)


def get_customer(crm: Crm, actor: Actor, customer_id: UUID) -> Customer:
    """Load one customer of the actor's tenant, without the fields hidden from the actor.

    Raises:
        NotFound: no such customer in this tenant.
        PermissionDenied: the customer is outside the actor's view scope.
    """

    def work(uow: UnitOfWork) -> Customer:
        grants = grants_for(uow, actor)
        customer = _live(uow, customer_id)
        grants.require("view", customer, RESOURCE)
        return grants.redact(customer, RESOURCE)  # type: ignore[no-any-return]

    return guarded(crm, actor, work)


def list_customers(crm: Crm, actor: Actor, query: Query | None = None) -> list[Customer]:
    """Customers of the actor's tenant matching ``query`` within the actor's view scope.

    Customers in the recycle bin are left out (see :func:`list_recycle_bin`).

    Raises:
        PermissionDenied: the query filters or sorts on a field hidden from the actor.
    """
    query = query or Query()

    def work(uow: UnitOfWork) -> list[Customer]:
        grants = grants_for(uow, actor)
        grants.check_readable(RESOURCE, query.where, [o.field for o in query.order_by])
        live = Query(
            where=and_(_LIVE, query.where),
            order_by=query.order_by,
            limit=query.limit,
            offset=query.offset,
        )
        found = uow.repository(Customer).query(grants.restrict(live, "view", RESOURCE))
        return [grants.redact(c, RESOURCE) for c in found]

    return guarded(crm, actor, work)


def _name_check(uow: UnitOfWork, name: str, policy: DuplicatePolicy) -> DuplicateCheck:
    # Duplicate control looks at the whole tenant, not the actor's scope: a rep must not
    # enter a customer a colleague already owns just because she cannot see it.
    same = uow.repository(Customer).query(
        Query(where=F("name_key").eq(normalize_name(name)) & _LIVE, limit=20)
    )
    return check_duplicate_name(name, [(c.id, c.name_key) for c in same], policy)


def check_customer_name(
    crm: Crm, actor: Actor, name: str, policy: DuplicatePolicy = DuplicatePolicy.WARN
) -> DuplicateCheck:
    """Would ``name`` duplicate an existing customer? (for a warning before entry)."""

    def work(uow: UnitOfWork) -> DuplicateCheck:
        grants_for(uow, actor).require_operation("create", RESOURCE)
        return _name_check(uow, name, policy)

    return guarded(crm, actor, work)


def search_customers(crm: Crm, actor: Actor, text: str, *, limit: int = 20) -> list[Customer]:
    """Customers whose name matches ``text`` by pinyin, initials, characters or phone digits.

    ``bjhw``, ``beijing``, ``huawei``, ``北京`` and ``華為`` all find 北京华为科技; results
    are in pinyin order and limited to what the actor may view.
    """
    query = Query(where=search_customers_query(text), order_by=(Order("pinyin_full"),), limit=limit)
    return list_customers(crm, actor, query)


def match_caller(crm: Crm, actor: Actor, number: str, *, limit: int = 10) -> list[Customer]:
    """Customers whose phone matches an incoming number (any format: +86, 0, spaces, ext)."""
    return list_customers(crm, actor, Query(where=caller_id_query(number), limit=limit))


# -- contacts -------------------------------------------------------------------------------


def _contacts_of(uow: UnitOfWork, customer_id: UUID) -> list[Contact]:
    return uow.repository(Contact).query(
        Query(
            where=F("customer_id").eq(customer_id) & _LIVE_CONTACT,
            order_by=(Order("created_at"), Order("id")),
        )
    )


_LIVE_CONTACT = F("deleted_at").is_null()


def _contact_history(
    uow: UnitOfWork,
    crm: Crm,
    contact: Contact,
    user: UserId,
    action: str,
    changes: dict[str, tuple[Any, Any]],
    now: datetime,
) -> None:
    label = f"contact.{contact.name}"
    _history(
        uow,
        crm,
        contact.customer_id,
        user,
        action,
        {f"{label}.{k}": v[0] for k, v in changes.items()},
        {f"{label}.{k}": v[1] for k, v in changes.items()},
        now=now,
        always=True,
    )


def add_contact(
    crm: Crm, actor: Actor, customer_id: UUID, *, name: str, primary: bool = False, **fields: Any
) -> Contact:
    """Add a contact to a customer (the first contact becomes the primary one).

    Args:
        primary: make it the primary contact (the previous primary one stops being it).
        **fields: ``title``, ``phones``, ``email``, ``wechat``, ``qq``, ``im``,
            ``birthday``, ``notes``.

    Raises:
        NotFound: no such customer (or it is in the recycle bin).
        PermissionDenied: the actor may not edit the customer or set a contact field.
        ValidationError: a field breaks a rule; nothing is stored.
    """
    now = crm.now()
    contact = Contact(
        id=crm.ids.new(now),
        tenant_id=actor.tenant_id,
        customer_id=customer_id,
        name=name,
        created_at=now,
        **fields,
    )

    def work(uow: UnitOfWork) -> Contact:
        grants = grants_for(uow, actor)
        customer = _live(uow, customer_id)
        grants.require("edit", customer, RESOURCE)
        grants.check_writable(CONTACT, sorted({"name", *fields}))
        repo = uow.repository(Contact)
        others = _contacts_of(uow, customer_id)
        contact.primary = primary or not others
        if contact.primary:
            for other in others:
                if other.primary:
                    other.primary = False
                    repo.save(other)
        contact.owner_id = customer.owner_id
        contact.department_id = customer.department_id
        repo.add(contact)
        shown = {k: getattr(contact, k) for k in ("name", *sorted(fields)) if k != "im"}
        _contact_history(
            uow,
            crm,
            contact,
            actor.user_id,
            "contact_add",
            {k: (None, v) for k, v in shown.items()},
            now,
        )
        return grants.redact(contact, CONTACT)  # type: ignore[no-any-return]

    return guarded(crm, actor, work)


def _contact_and_customer(
    uow: UnitOfWork, grants: Grants, contact_id: UUID, operation: str
) -> tuple[Contact, Customer]:
    contact = uow.repository(Contact).get(contact_id)
    if contact.deleted_at is not None:
        raise NotFound(entity="contact", id=contact_id)
    customer = _live(uow, contact.customer_id)
    grants.require(operation, customer, RESOURCE)
    return contact, customer


def update_contact(crm: Crm, actor: Actor, contact_id: UUID, **changes: Any) -> Contact:
    """Change fields of a contact (use :func:`set_primary_contact` for the primary flag).

    Raises:
        NotFound: no such contact.
        PermissionDenied: the actor may not edit its customer, or one of the fields.
        ValidationError: a change breaks a rule; the contact is left unchanged.
    """

    def work(uow: UnitOfWork) -> Contact:
        grants = grants_for(uow, actor)
        contact, _ = _contact_and_customer(uow, grants, contact_id, "edit")
        grants.check_writable(CONTACT, sorted(changes))
        now = crm.now()
        diff = contact.change(**changes)
        if diff:
            uow.repository(Contact).save(contact)
            _contact_history(uow, crm, contact, actor.user_id, "contact_update", diff, now)
        return grants.redact(contact, CONTACT)  # type: ignore[no-any-return]

    return guarded(crm, actor, work)


def set_primary_contact(crm: Crm, actor: Actor, contact_id: UUID) -> Contact:
    """Make a contact its customer's primary contact (and the previous one not).

    Raises:
        NotFound: no such contact.
        PermissionDenied: the actor may not edit its customer.
    """

    def work(uow: UnitOfWork) -> Contact:
        grants = grants_for(uow, actor)
        contact, _ = _contact_and_customer(uow, grants, contact_id, "edit")
        repo = uow.repository(Contact)
        for other in _contacts_of(uow, contact.customer_id):
            if other.primary != (other.id == contact.id):
                other.primary = other.id == contact.id
                repo.save(other)
        now = crm.now()
        _contact_history(
            uow, crm, contact, actor.user_id, "contact_primary", {"primary": (False, True)}, now
        )
        return grants.redact(repo.get(contact_id), CONTACT)  # type: ignore[no-any-return]

    return guarded(crm, actor, work)


def remove_contact(crm: Crm, actor: Actor, contact_id: UUID) -> None:
    """Remove a contact for good (the next oldest becomes primary if it was).

    Raises:
        NotFound: no such contact.
        PermissionDenied: the actor may not edit its customer.
    """

    def work(uow: UnitOfWork) -> None:
        grants = grants_for(uow, actor)
        contact, _ = _contact_and_customer(uow, grants, contact_id, "edit")
        repo = uow.repository(Contact)
        repo.delete(contact)
        if contact.primary:
            rest = _contacts_of(uow, contact.customer_id)
            if rest:
                rest[0].primary = True
                repo.save(rest[0])
        _contact_history(
            uow,
            crm,
            contact,
            actor.user_id,
            "contact_remove",
            {"name": (contact.name, None)},
            crm.now(),
        )

    guarded(crm, actor, work)


def list_contacts(crm: Crm, actor: Actor, customer_id: UUID) -> list[Contact]:
    """The contacts of one customer, primary first, without fields hidden from the actor.

    Raises:
        NotFound: no such customer.
        PermissionDenied: the customer is outside the actor's view scope.
    """

    def work(uow: UnitOfWork) -> list[Contact]:
        grants = grants_for(uow, actor)
        grants.require("view", _live(uow, customer_id), RESOURCE)
        return _visible_contacts(uow, grants, customer_id)

    return guarded(crm, actor, work)


def _visible_contacts(uow: UnitOfWork, grants: Grants, customer_id: UUID) -> list[Contact]:
    found = sorted(_contacts_of(uow, customer_id), key=lambda c: not c.primary)
    return [grants.redact(c, CONTACT) for c in found]


# -- the public pool ------------------------------------------------------------------------


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
                raise ValidationError(
                    entity="pool_policy", field=name, reason=reason(N_("cannot be changed"))
                )
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
        grants.check_readable(RESOURCE, query.where, [o.field for o in query.order_by])
        pool = F("owner_id").is_null() & F("pool_state").eq(PoolState.IN_POOL.value) & _LIVE
        found = uow.repository(Customer).query(
            Query(
                where=and_(pool, query.where),
                order_by=query.order_by or (Order("pinyin_full"),),
                limit=query.limit,
                offset=query.offset,
            )
        )
        return [grants.redact(c, RESOURCE) for c in found]

    return guarded(crm, actor, work)


def claim_customer(crm: Crm, actor: Actor, customer_id: UUID) -> Customer:
    """The actor takes a customer from the public pool.

    Of two reps claiming the same customer at once exactly one wins; the other gets
    ``NotInPool``. Claims by one rep are serialised, so the holding limit holds.

    Raises:
        NotFound: no such customer.
        PermissionDenied: the actor holds no ``claim`` grant on customers.
        NotInPool: it has an owner (someone was first).
        CooldownActive: the actor lost or released it less than the cool-down ago.
        HoldingLimitReached: the actor holds as many working customers as allowed.
    """

    def work(uow: UnitOfWork) -> Customer:
        grants = grants_for(uow, actor)
        grants.require_operation("claim", RESOURCE)
        customer = _live(uow, customer_id)
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
        return grants.redact(customer, RESOURCE)  # type: ignore[no-any-return]

    return _retrying(lambda: guarded(crm, actor, work))


def assign_customer(crm: Crm, actor: Actor, customer_id: UUID, to_user: UserId) -> Customer:
    """A manager gives a pool customer to a rep (within the rep's holding limit).

    Raises:
        NotFound: no such customer, or ``to_user`` is not a member.
        PermissionDenied: the actor holds no ``assign`` grant on customers.
        NotInPool: it has an owner already (use :func:`transfer_customer`).
        HoldingLimitReached: the rep holds as many working customers as allowed.
        ValidationError: the rep is deactivated.
    """

    def work(uow: UnitOfWork) -> Customer:
        grants = grants_for(uow, actor)
        grants.require_operation("assign", RESOURCE)
        customer = _live(uow, customer_id)
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
        return grants.redact(customer, RESOURCE)  # type: ignore[no-any-return]

    return _retrying(lambda: guarded(crm, actor, work))


def _give_back(
    crm: Crm, actor: Actor, customer_id: UUID, operation: str, why: ReturnReason
) -> Customer:
    def work(uow: UnitOfWork) -> Customer:
        grants = grants_for(uow, actor)
        customer = _live(uow, customer_id)
        grants.require(operation, customer, RESOURCE)
        now = crm.now()
        before = snapshot(customer)
        event = release(customer, now=now, why=why)
        _save(uow, crm, customer, before, operation, actor.user_id, now, event)
        return grants.redact(customer, RESOURCE)  # type: ignore[no-any-return]

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
        customer = _live(uow, customer_id)
        grants.require("transfer", customer, RESOURCE)
        if customer.owner_id is None:
            raise ValidationError(
                entity="customer",
                field="owner_id",
                reason=reason(N_("a pool customer is assigned, not transferred")),
            )
        rep = _member(uow, to_user)
        if customer.owner_id == to_user:
            return grants.redact(customer, RESOURCE)  # type: ignore[no-any-return]
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
            tenant_id=uow.tenant_id,
            aggregate_id=customer.id,
            occurred_at=now,
            from_owner=previous,
            to_owner=to_user,
        )
        _save(uow, crm, customer, before, "transfer", actor.user_id, now, event)
        return grants.redact(customer, RESOURCE)  # type: ignore[no-any-return]

    return _retrying(lambda: guarded(crm, actor, work))


def move_customer_stage(crm: Crm, actor: Actor, customer_id: UUID, trigger: str) -> Customer:
    """Move a customer along its lifecycle: ``qualify``, ``develop``, ``win``,
    ``go_dormant``, ``revive``, ``close`` or ``reopen`` (see ``crmkit.customers.pool.POOL``).

    Raises:
        NotFound: no such customer.
        PermissionDenied: the actor may not edit it.
        InvalidTransition: the move does not leave its current state.
    """

    def work(uow: UnitOfWork) -> Customer:
        grants = grants_for(uow, actor)
        customer = _live(uow, customer_id)
        grants.require("edit", customer, RESOURCE)
        now = crm.now()
        before = snapshot(customer)
        event = move_stage(customer, trigger, now=now)
        _save(uow, crm, customer, before, trigger, actor.user_id, now, event)
        return grants.redact(customer, RESOURCE)  # type: ignore[no-any-return]

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
        strategy=AssignmentStrategy(strategy),
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
        PermissionDenied: the actor holds no ``assign`` grant on customers.
        NotInPool: it has an owner already.
    """

    def work(uow: UnitOfWork) -> Customer:
        grants = grants_for(uow, actor)
        grants.require_operation("assign", RESOURCE)
        customer = _live(uow, customer_id)
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
        return grants.redact(customer, RESOURCE)  # type: ignore[no-any-return]

    return _retrying(lambda: guarded(crm, actor, work))


# -- recycle bin ----------------------------------------------------------------------------


def delete_customer(crm: Crm, actor: Actor, customer_id: UUID) -> None:
    """Move a customer and its contacts to the recycle bin.

    Raises:
        NotFound: no such customer (or it is in the bin already).
        PermissionDenied: the actor may not ``delete`` it.
    """

    def work(uow: UnitOfWork) -> None:
        grants = grants_for(uow, actor)
        customer = _live(uow, customer_id)
        grants.require("delete", customer, RESOURCE)
        now = crm.now()
        before = snapshot(customer)
        customer.deleted_at = now
        customer.deleted_by = actor.user_id
        contacts = uow.repository(Contact)
        for contact in _contacts_of(uow, customer_id):
            contact.deleted_at = now
            contacts.save(contact)
        _save(uow, crm, customer, before, "delete", actor.user_id, now)

    guarded(crm, actor, work)


def list_recycle_bin(crm: Crm, actor: Actor, query: Query | None = None) -> list[Customer]:
    """Customers in the recycle bin that the actor may ``delete`` (newest deletion first)."""
    query = query or Query()

    def work(uow: UnitOfWork) -> list[Customer]:
        grants = grants_for(uow, actor)
        grants.check_readable(RESOURCE, query.where, [o.field for o in query.order_by])
        binned = Query(
            where=and_(F("deleted_at").not_null(), query.where),
            order_by=query.order_by or (Order("deleted_at", descending=True),),
            limit=query.limit,
            offset=query.offset,
        )
        found = uow.repository(Customer).query(grants.restrict(binned, "delete", RESOURCE))
        return [grants.redact(c, RESOURCE) for c in found]

    return guarded(crm, actor, work)


def _binned(uow: UnitOfWork, customer_id: UUID) -> Customer:
    customer = uow.repository(Customer).get(customer_id)
    if customer.deleted_at is None:
        raise ValidationError(
            entity="customer", field="deleted_at", reason=reason(N_("is not in the recycle bin"))
        )
    return customer


def _refuse_merged(uow: UnitOfWork, customer: Customer) -> None:
    """Refuse to restore a customer a merge binned: only ``undo_merge`` may bring it back.

    Restoring it alone would leave its contacts, relations and other areas' records
    with the survivor and the merge record claiming it is still merged.
    """
    # merge.py builds on this module, so its record type is imported here, not above.
    from crmkit.customers.merge import MergeRecord

    # Each merge writes a ``merge_id`` history row on every customer it touched; the
    # customer is still merged away while such a merge is not undone and its binning
    # is still the one the merge did.
    rows = uow.repository(ChangeRecord).query(
        Query(
            where=F("customer_id").eq(customer.id)
            & F("action").eq("merge")
            & F("field").eq("merge_id")
        )
    )
    records = uow.repository(MergeRecord)
    for row in rows:
        record = records.find(UUID(row.new_value)) if row.new_value else None
        if (
            record is not None
            and record.undone_at is None
            and customer.id in record.merged_ids
            and customer.deleted_at == record.merged_at
        ):
            raise ValidationError(
                entity="customer",
                field="deleted_at",
                reason=reason(
                    N_("was merged into customer {survivor_id}; undo merge {merge_id} instead"),
                    survivor_id=str(record.survivor_id),
                    merge_id=str(record.id),
                ),
            )


def restore_customer(crm: Crm, actor: Actor, customer_id: UUID) -> Customer:
    """Bring a customer and the contacts deleted with it back from the recycle bin.

    A customer binned by a merge cannot be restored on its own: undo the merge with
    :func:`crmkit.customers.merge.undo_merge`, which puts its records back too.

    Raises:
        NotFound: no such customer.
        ValidationError: it is not in the recycle bin, or a merge folded it into
            another customer (the reason names the merge to undo).
        PermissionDenied: the actor may not ``restore`` it.
    """

    def work(uow: UnitOfWork) -> Customer:
        grants = grants_for(uow, actor)
        customer = _binned(uow, customer_id)
        grants.require("restore", customer, RESOURCE)
        _refuse_merged(uow, customer)
        now = crm.now()
        before = snapshot(customer)
        customer.deleted_at = None
        customer.deleted_by = None
        contacts = uow.repository(Contact)
        # Single contacts are removed for good, so every binned contact went with it.
        for contact in contacts.query(Query(where=F("customer_id").eq(customer_id))):
            if contact.deleted_at is not None:
                contact.deleted_at = None
                contacts.save(contact)
        _save(uow, crm, customer, before, "restore", actor.user_id, now)
        return grants.redact(customer, RESOURCE)  # type: ignore[no-any-return]

    return guarded(crm, actor, work)


def purge_customer(crm: Crm, actor: Actor, customer_id: UUID) -> None:
    """Delete a binned customer, its contacts and relations for good (history stays).

    Raises:
        NotFound: no such customer.
        ValidationError: it is not in the recycle bin (delete it first).
        PermissionDenied: the actor may not ``purge`` it.
    """

    def work(uow: UnitOfWork) -> None:
        grants = grants_for(uow, actor)
        customer = _binned(uow, customer_id)
        grants.require("purge", customer, RESOURCE)
        contacts = uow.repository(Contact)
        for contact in contacts.query(Query(where=F("customer_id").eq(customer_id))):
            contacts.delete(contact)
        relations = uow.repository(CustomerRelation)
        for relation in _relations_of(uow, customer_id):
            relations.delete(relation)
        uow.repository(Customer).delete(customer)
        now = crm.now()
        _history(
            uow,
            crm,
            customer_id,
            actor.user_id,
            "purge",
            {"name": customer.name},
            {},
            now=now,
            always=True,
        )

    guarded(crm, actor, work)


# -- relations ------------------------------------------------------------------------------


def _relations_of(uow: UnitOfWork, customer_id: UUID) -> list[CustomerRelation]:
    repo = uow.repository(CustomerRelation)
    return repo.query(
        Query(
            where=F("from_id").eq(customer_id) | F("to_id").eq(customer_id),
            order_by=(Order("created_at"), Order("id")),
        )
    )


def _parent_of(uow: UnitOfWork) -> Callable[[UUID], UUID | None]:
    repo = uow.repository(CustomerRelation)

    def parent_of(child: UUID) -> UUID | None:
        found = repo.query(
            Query(where=F("to_id").eq(child) & F("kind").eq(RelationKind.PARENT.value), limit=1)
        )
        return found[0].from_id if found else None

    return parent_of


def relate_customers(
    crm: Crm,
    actor: Actor,
    from_id: UUID,
    to_id: UUID,
    kind: RelationKind | str,
    *,
    note: str | None = None,
) -> CustomerRelation:
    """Record that ``from_id`` is the ``kind`` of ``to_id``.

    ``kind="subsidiary"`` is stored as the parent relation the other way round. A
    company has at most one parent, and the group hierarchy never loops.

    Raises:
        NotFound: either customer does not exist.
        PermissionDenied: the actor may not edit ``from_id`` or view ``to_id``.
        HierarchyCycle: the parent relation would make a company its own ancestor.
        ValidationError: ``to_id`` has a parent already, the relation exists, or both
            ids are the same.
    """
    if kind == "subsidiary":
        from_id, to_id, kind = to_id, from_id, RelationKind.PARENT
    relation_kind = RelationKind(kind)
    now = crm.now()
    relation = CustomerRelation(
        id=crm.ids.new(now),
        tenant_id=actor.tenant_id,
        from_id=from_id,
        to_id=to_id,
        kind=relation_kind,
        created_at=now,
        created_by=actor.user_id,
        note=note,
    )

    def work(uow: UnitOfWork) -> CustomerRelation:
        grants = grants_for(uow, actor)
        source = _live(uow, from_id)
        grants.require("edit", source, RESOURCE)
        grants.require("view", _live(uow, to_id), RESOURCE)
        existing = _relations_of(uow, from_id)
        if any(r.to_id == to_id and r.kind is relation_kind for r in existing):
            raise ValidationError(
                entity="customer_relation", field="kind", reason=reason(N_("already recorded"))
            )
        if relation_kind is RelationKind.PARENT:
            parent_of = _parent_of(uow)
            if parent_of(to_id) is not None:
                raise ValidationError(
                    entity="customer_relation",
                    field="to_id",
                    reason=reason(N_("the company already has a parent")),
                )
            if would_make_cycle(from_id, to_id, parent_of):
                raise HierarchyCycle(
                    entity="customer_relation",
                    field="from_id",
                    reason=reason(N_("the group hierarchy would loop")),
                )
        uow.repository(CustomerRelation).add(relation)
        for side, other in ((from_id, to_id), (to_id, from_id)):
            _history(
                uow,
                crm,
                side,
                actor.user_id,
                "relate",
                {},
                {f"relation.{relation_kind.value}": str(other)},
                now=now,
            )
        return relation

    return guarded(crm, actor, work)


def unrelate_customers(crm: Crm, actor: Actor, relation_id: UUID) -> None:
    """Remove a relation between two customers.

    Raises:
        NotFound: no such relation.
        PermissionDenied: the actor may not edit the relation's ``from`` customer.
    """

    def work(uow: UnitOfWork) -> None:
        grants = grants_for(uow, actor)
        repo = uow.repository(CustomerRelation)
        relation = repo.get(relation_id)
        grants.require("edit", uow.repository(Customer).get(relation.from_id), RESOURCE)
        repo.delete(relation)
        now = crm.now()
        for side, other in ((relation.from_id, relation.to_id), (relation.to_id, relation.from_id)):
            _history(
                uow,
                crm,
                side,
                actor.user_id,
                "unrelate",
                {f"relation.{relation.kind.value}": str(other)},
                {},
                now=now,
            )

    guarded(crm, actor, work)


def _visible_relations(
    uow: UnitOfWork, grants: Grants, customer_id: UUID
) -> list[CustomerRelation]:
    relations = _relations_of(uow, customer_id)
    others = {r.to_id if r.from_id == customer_id else r.from_id for r in relations}
    visible = {
        c.id
        for c in uow.repository(Customer).get_many(others)
        if c.deleted_at is None and grants.can("view", c, RESOURCE)
    }
    return [r for r in relations if (r.to_id if r.from_id == customer_id else r.from_id) in visible]


def list_relations(crm: Crm, actor: Actor, customer_id: UUID) -> list[CustomerRelation]:
    """Relations of a customer, both directions, leaving out customers the actor cannot view.

    Raises:
        NotFound: no such customer.
        PermissionDenied: the customer is outside the actor's view scope.
    """

    def work(uow: UnitOfWork) -> list[CustomerRelation]:
        grants = grants_for(uow, actor)
        grants.require("view", _live(uow, customer_id), RESOURCE)
        return _visible_relations(uow, grants, customer_id)

    return guarded(crm, actor, work)


# -- history --------------------------------------------------------------------------------


def _history_query(where: Any, limit: int | None) -> Query:
    return Query(
        where=where,
        order_by=(Order("changed_at", descending=True), Order("id", descending=True)),
        limit=limit,
    )


def _customer_history(
    uow: UnitOfWork, grants: Grants, customer_id: UUID, limit: int | None
) -> list[ChangeRecord]:
    hidden = grants.hidden_fields(RESOURCE)
    records = uow.repository(ChangeRecord).query(
        _history_query(F("customer_id").eq(customer_id), limit)
    )
    # A field hidden from the actor stays hidden in its history.
    return [r for r in records if r.field not in hidden]


def customer_history(
    crm: Crm, actor: Actor, customer_id: UUID, *, limit: int | None = 200
) -> list[ChangeRecord]:
    """The change history of one customer, newest first (hidden fields left out).

    A customer in the recycle bin shows its history to those who may ``delete`` it;
    a purged customer's history is kept for tenant administrators.

    Raises:
        PermissionDenied: the actor may not view the customer.
    """

    def work(uow: UnitOfWork) -> list[ChangeRecord]:
        grants = grants_for(uow, actor)
        customer = uow.repository(Customer).find(customer_id)
        if customer is None:
            if not grants.is_tenant_admin:
                raise NotFound(entity="customer", id=customer_id)
        elif customer.deleted_at is not None:
            grants.require("delete", customer, RESOURCE)
        else:
            grants.require("view", customer, RESOURCE)
        return _customer_history(uow, grants, customer_id, limit)

    return guarded(crm, actor, work)


def user_history(
    crm: Crm, actor: Actor, user_id: UUID, *, limit: int | None = 200
) -> list[ChangeRecord]:
    """What one user changed, newest first, on customers the actor may view."""

    def work(uow: UnitOfWork) -> list[ChangeRecord]:
        grants = grants_for(uow, actor)
        hidden = grants.hidden_fields(RESOURCE)
        records = uow.repository(ChangeRecord).query(
            _history_query(F("user_id").eq(user_id), limit)
        )
        customers: dict[UUID, Customer] = {
            c.id: c for c in uow.repository(Customer).get_many({r.customer_id for r in records})
        }

        def shown(record: ChangeRecord) -> bool:
            customer = customers.get(record.customer_id)
            if customer is None:
                return grants.is_tenant_admin
            operation = "view" if customer.deleted_at is None else "delete"
            return record.field not in hidden and grants.can(operation, customer, RESOURCE)

        return [r for r in records if shown(r)]

    return guarded(crm, actor, work)
