"""Customer master use cases: register, change, read, list and search customers."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from crmkit.crm import Crm
from crmkit.customers.custom_field_services import definitions_of
from crmkit.customers.custom_fields import CUSTOM, apply_custom, custom_paths
from crmkit.customers.dedup import (
    DuplicateCheck,
    DuplicatePolicy,
    check_duplicate_name,
    normalize_name,
)
from crmkit.customers.history import snapshot
from crmkit.customers.identifiers import DEFAULT_TAX_COUNTRY
from crmkit.customers.model import SYSTEM_FIELDS, Customer, CustomerId, CustomerRegistered
from crmkit.customers.phones import caller_id_query
from crmkit.customers.search import find_by_routes, search_routes
from crmkit.customers.services._common import (
    _LIVE,
    RESOURCE,
    _history,
    _live,
    _save,
    readable_where,
)
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import ConcurrencyConflict, ValidationError, reason
from crmkit.kernel.i18n import N_
from crmkit.kernel.query import F, Query, and_, or_
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import Department, Member, grants_for, guarded

__all__ = [
    "check_customer_name",
    "get_customer",
    "list_customers",
    "match_caller",
    "register_customer",
    "search_customers",
    "update_customer",
]


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
    customer's (full-width, spaces, 有限公司 / Co., Ltd. ...), or a tax id another
    customer has, is refused inside the same transaction; to warn instead, show
    :func:`check_customer_name` first.

    Custom field values go in ``custom={"budget": "50000", "tier": "gold"}``: they are
    checked against the tenant's definitions (see
    :mod:`crmkit.customers.custom_fields`), and required fields must be given.

    Raises:
        ValidationError: a field breaks a rule, or the name is a blocked duplicate;
            nothing is stored.
        PermissionDenied: the actor may not create this customer or set one of the fields.
    """
    now = crm.now()
    custom = fields.pop(CUSTOM, None)
    given = {"name", *fields}
    for field in sorted(given & SYSTEM_FIELDS):
        raise ValidationError(entity="customer", field=field, reason=reason(N_("cannot be set")))
    explicit = set(fields)
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
        grants.check_writable(RESOURCE, [*sorted(given), *custom_paths(custom)])
        _check_references(uow, fields if "owner_id" in explicit else {**fields, "owner_id": None})
        customer.custom = apply_custom(
            definitions_of(uow, RESOURCE), None, custom, entity=RESOURCE, creating=True
        )
        if "department_id" not in fields and customer.owner_id is not None:
            owner = uow.repository(Member).find(customer.owner_id)
            customer.department_id = None if owner is None else owner.department_id
        grants.require("create", customer, RESOURCE)
        if duplicates is DuplicatePolicy.BLOCK:
            _name_check(uow, name, duplicates).require()
            _tax_id_check(uow, customer)
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
        changes: field values; ``custom={"tier": "gold", "budget": None}`` sets and
            clears custom fields and leaves the others as they are.

    Raises:
        NotFound: no such customer in this tenant.
        ValidationError: a change breaks a rule; the customer is left unchanged.
        ConcurrencyConflict: it changed since ``expected_version`` (or during this call).
        PermissionDenied: the actor may not edit this customer, or one of the fields.
    """
    custom = changes.pop(CUSTOM, None)

    def work(uow: UnitOfWork) -> Customer:
        grants = grants_for(uow, actor)
        customer = _live(uow, customer_id)
        grants.require("edit", customer, RESOURCE)
        grants.check_writable(RESOURCE, [*sorted(changes), *custom_paths(custom)])
        if expected_version is not None and customer.version != expected_version:
            raise ConcurrencyConflict(entity="customer", id=customer_id, version=expected_version)
        _check_references(uow, changes)
        fields = dict(changes)
        if custom is not None:
            fields[CUSTOM] = apply_custom(
                definitions_of(uow, RESOURCE), customer.custom, custom, entity=RESOURCE
            )
        before = snapshot(customer)
        now = crm.now()
        event = customer.change(now, **fields)
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

    return guarded(crm, actor, work, read_only=True)


def list_customers(crm: Crm, actor: Actor, query: Query | None = None) -> list[Customer]:
    """Customers of the actor's tenant matching ``query`` within the actor's view scope.

    Customers in the recycle bin are left out (see :func:`list_recycle_bin`).

    Raises:
        PermissionDenied: the query filters or sorts on a field hidden from the actor.
    """
    query = query or Query()

    def work(uow: UnitOfWork) -> list[Customer]:
        grants = grants_for(uow, actor)
        live = Query(
            where=and_(_LIVE, readable_where(uow, grants, query)),
            order_by=query.order_by,
            limit=query.limit,
            offset=query.offset,
        )
        found = uow.repository(Customer).query(grants.restrict(live, "view", RESOURCE))
        return [grants.redact(c, RESOURCE) for c in found]

    return guarded(crm, actor, work, read_only=True)


def _check_references(uow: UnitOfWork, fields: dict[str, Any]) -> None:
    """Refuse an owner or a department that is not one of the tenant's (a typo'd id)."""
    for field, kind in (("owner_id", Member), ("department_id", Department)):
        value = fields.get(field)
        if value is None:
            continue
        if not isinstance(value, UUID):
            raise ValidationError(entity="customer", field=field, reason=reason(N_("is not an id")))
        if uow.repository(kind).find(value) is None:
            raise ValidationError(
                entity="customer",
                field=field,
                reason=reason(N_("{id} is not known in this tenant"), id=str(value)),
            )


def _tax_id_check(uow: UnitOfWork, customer: Customer) -> None:
    # One tax id, one company: whatever its name was typed as, a second customer with
    # the same unified social credit code is the same company. Like the name check it
    # looks at the whole tenant.
    if customer.tax_id is None:
        return
    same = uow.repository(Customer).query(
        Query(where=F("tax_id").eq(customer.tax_id) & _LIVE, limit=1)
    )
    country = customer.tax_country or DEFAULT_TAX_COUNTRY
    if same and (same[0].tax_country or DEFAULT_TAX_COUNTRY) == country:
        raise ValidationError(
            entity="customer",
            field="tax_id",
            reason=reason(N_("is already the tax id of customer {id}"), id=same[0].id),
        )


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

    return guarded(crm, actor, work, read_only=True)


def search_customers(crm: Crm, actor: Actor, text: str, *, limit: int = 20) -> list[Customer]:
    """Customers whose name matches ``text`` by pinyin, initials, characters or phone digits.

    ``bjhw``, ``beijing``, ``huawei``, ``北京`` and ``華為`` all find 北京华为科技; results
    are in pinyin order and limited to what the actor may view.
    """
    routes = search_routes(text)

    def work(uow: UnitOfWork) -> list[Customer]:
        grants = grants_for(uow, actor)
        grants.check_readable(RESOURCE, or_(*(r.where for r in routes)), ["pinyin_full"])
        scope = grants.restrict(Query(where=_LIVE), "view", RESOURCE).where
        found = find_by_routes(uow.repository(Customer), scope, routes, limit=limit)
        return [grants.redact(c, RESOURCE) for c in found]

    return guarded(crm, actor, work, read_only=True)


def match_caller(crm: Crm, actor: Actor, number: str, *, limit: int = 10) -> list[Customer]:
    """Customers whose phone matches an incoming number (any format: +86, 0, spaces, ext)."""
    return list_customers(crm, actor, Query(where=caller_id_query(number), limit=limit))
