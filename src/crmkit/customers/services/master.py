"""Customer master use cases: register, change, read, list and search customers."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import attrs

from crmkit.crm import Crm
from crmkit.customers.model.contacts import PHONE_KEY_FIELDS, Contact
from crmkit.customers.model.custom_fields import CUSTOM
from crmkit.customers.model.custom_values import apply_custom, custom_paths
from crmkit.customers.model.customer import SYSTEM_FIELDS, Customer, CustomerId
from crmkit.customers.model.dedup import DuplicateCheck, DuplicatePolicy, check_duplicate_name
from crmkit.customers.model.history import snapshot
from crmkit.customers.model.identifiers import DEFAULT_TAX_COUNTRY
from crmkit.customers.model.names import normalize_name
from crmkit.customers.model.phones import caller_id_query
from crmkit.customers.queries._readers import _LIVE, definitions_of
from crmkit.customers.queries.search_ranking import find_by_routes
from crmkit.customers.queries.search_routes import search_routes
from crmkit.customers.services._common import (
    RESOURCE,
    _history,
    _live_for,
    _registered,
    _save,
    contact_reader,
    customer_reader,
    readable_where,
)
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import ConcurrencyConflict
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.query import TRUE, F, Order, Query, and_, or_
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import Department, Member, grants_for, guarded

__all__ = [
    "CallerMatch",
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
    :mod:`crmkit.customers.model.custom_fields`), and required fields must be given.

    Raises:
        ValidationError: a field breaks a rule, or the name is a blocked duplicate;
            nothing is stored.
        PermissionDenied: the actor may not create this customer or set one of the fields.
    """
    now = crm.now()
    custom = fields.pop(CUSTOM, None)
    given = {"name", *fields}
    for field in sorted(given & SYSTEM_FIELDS):
        raise invalid("customer", field, N_("cannot be set"))
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
        reader = customer_reader(uow, grants)
        if duplicates is DuplicatePolicy.BLOCK:
            _name_check(uow, name, duplicates).require()
            _tax_id_check(uow, customer)
        uow.repository(Customer).add(customer)
        _history(uow, crm, customer.id, actor.user_id, "create", {}, snapshot(customer), now=now)
        uow.outbox.add(_registered(customer, now))
        return reader.redact(customer)

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
        customer = _live_for(uow, grants, "edit", customer_id)
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
        return customer_reader(uow, grants).redact(customer)

    return guarded(crm, actor, work)


def get_customer(crm: Crm, actor: Actor, customer_id: UUID) -> Customer:
    """Load one customer of the actor's tenant, without the fields hidden from the actor.

    Raises:
        NotFound: no such customer in this tenant.
        PermissionDenied: the customer is outside the actor's view scope.
    """

    def work(uow: UnitOfWork) -> Customer:
        return customer_reader(uow, grants_for(uow, actor)).get(customer_id)

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
        where = readable_where(uow, grants, query)
        return customer_reader(uow, grants).query(attrs.evolve(query, where=where))

    return guarded(crm, actor, work, read_only=True)


def _check_references(uow: UnitOfWork, fields: dict[str, Any]) -> None:
    """Refuse an owner or a department that is not one of the tenant's (a typo'd id)."""
    for field, kind in (("owner_id", Member), ("department_id", Department)):
        value = fields.get(field)
        if value is None:
            continue
        if not isinstance(value, UUID):
            raise invalid("customer", field, N_("is not an id"))
        if uow.repository(kind).find(value) is None:
            raise invalid("customer", field, N_("{id} is not known in this tenant"), id=str(value))


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
        raise invalid(
            "customer", "tax_id", N_("is already the tax id of customer {id}"), id=same[0].id
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
    are in pinyin order and limited to what the actor may view. A way of matching that
    reads a field hidden from the actor (phone digits, when ``phone`` is hidden) is not
    tried: nothing is found through what the actor cannot see, and the other ways still
    answer.

    Raises:
        PermissionDenied: the name is hidden from the actor (results sort by it).
        ValidationError: ``text`` is longer than
            :data:`~crmkit.customers.queries.search_text.MAX_SEARCH_TEXT` characters.
    """
    routes = search_routes(text)

    def work(uow: UnitOfWork) -> list[Customer]:
        reader = customer_reader(uow, grants_for(uow, actor))
        reader.check(TRUE, ["pinyin_full"])
        allowed = reader.routes(routes, lambda r: and_(r.where, r.walk or TRUE))
        if not allowed:
            return []
        found = find_by_routes(uow.repository(Customer), reader.scope(), allowed, limit=limit)
        return [reader.redact(c) for c in found]

    return guarded(crm, actor, work, read_only=True)


@attrs.frozen
class CallerMatch:
    """Who an incoming call is from: a customer, and the contact whose phone rang.

    Attributes:
        customer: the customer to open (fields hidden from the actor removed).
        contact: the customer's contact whose main phone matched, or ``None`` when the
            customer's own phone did.
    """

    customer: Customer
    contact: Contact | None = None


#: The most contacts one incoming number is matched against.
_SWITCHBOARD = 200


def match_caller(crm: Crm, actor: Actor, number: str, *, limit: int = 10) -> list[CallerMatch]:
    """Who is calling: customers and contacts whose phone matches an incoming number.

    The number may come in any format (+86, 0, spaces, extension). Customers whose own
    phone matches come first, then contacts any of whose phones matches, each with their
    customer; a customer appears once (with the contact, when a contact matched).
    Only customers the actor may view are matched (a contact through its customer, as
    contacts are shown everywhere), and only through phones the actor may see: for an
    actor whose role hides customer phones (or contact phones), those are not searched
    at all.

    Args:
        limit: the most matches returned.
    """
    where = caller_id_query(number)
    # One indexed key column per contact phone: the OR is answered by their indexes.
    contact_where = or_(*(caller_id_query(number, field=f) for f in PHONE_KEY_FIELDS))

    def work(uow: UnitOfWork) -> list[CallerMatch]:
        grants = grants_for(uow, actor)
        customers = customer_reader(uow, grants)
        contacts = contact_reader(uow, grants)
        found: dict[UUID, CallerMatch] = {}
        if grants.can_filter(RESOURCE, where):
            for customer in customers.query(Query(where=where, limit=limit)):
                found[customer.id] = CallerMatch(customer)
        if grants.can_filter(contacts.resource, contact_where):
            # Contacts show under their customer's view grant, as in list_contacts and the
            # 360 view, so the candidates are checked against their customers; a number
            # shared by more contacts than this is a switchboard, not a caller.
            candidates = uow.repository(Contact).query(
                Query(where=and_(_LIVE, contact_where), order_by=(Order("id"),), limit=_SWITCHBOARD)
            )
            owners: dict[UUID, Customer] = {
                c.id: c
                for c in uow.repository(Customer).get_many({m.customer_id for m in candidates})
            }
            for contact in candidates:
                owner = owners.get(contact.customer_id)
                if owner is None or owner.deleted_at is not None:
                    continue
                if not grants.can("view", owner, RESOURCE):
                    continue
                found[owner.id] = CallerMatch(customers.redact(owner), contacts.redact(contact))
        return list(found.values())[:limit]

    return guarded(crm, actor, work, read_only=True)
