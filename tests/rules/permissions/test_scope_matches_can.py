"""The differential tests that keep crmkit from leaking.

For random org trees, roles, grants, shares, sharing rules and customers, the
records the storage selects with ``scope(actor, op)`` — compiled to SQL on SQLite
and PostgreSQL, run as a predicate in memory — are exactly the records for which
``can(actor, op, record)`` is true, and ``explain`` reaches the same verdict.

With random field rules on top, no value a reader's role hides — nor a key derived
from it (``phone_key``) — appears anywhere in the result of any customers-area read
service (records, lists, contacts, the 360 view, history, search, caller ID, global
search), and no record is found through a hidden phone.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmkit import Crm, NotFound, PermissionDenied
from crmkit.customers import (
    ChangeRecord,
    Contact,
    Customer,
    SearchResults,
    customer_360,
    customer_history,
    get_customer,
    global_search,
    list_contacts,
    list_customers,
    match_caller,
    search_customers,
    user_history,
)
from crmkit.customers.model.phones import phone_key
from crmkit.kernel.actor import Actor
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.money import Money
from crmkit.kernel.query import Query
from crmkit.rules.permissions import (
    AdminLevel,
    Department,
    FieldAccess,
    FieldRule,
    Grant,
    Member,
    RecordShare,
    Role,
    Scope,
    SharingRule,
    compile_grants,
)
from tests.rules.permissions.strategies import NOW, OPERATIONS, World, make_customer, worlds


def test_scope_selects_exactly_the_records_can_allows(crm: Crm) -> None:
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.data())
    def check(data: st.DataObject) -> None:
        tenant = TenantId(uuid.uuid4())
        world: World = data.draw(worlds(tenant))

        def store(uow):  # type: ignore[no-untyped-def]
            uow.repository(Customer).add_many(list(world.customers))

        crm.run(tenant, store)
        for user in world.users:
            grants = compile_grants(world.policy, user)
            for op in OPERATIONS:
                expected = {c.id for c in world.customers if grants.can(op, c)}
                query = Query(where=grants.scope(op, "customer"))
                selected = crm.run(
                    tenant, lambda uow, q=query: [c.id for c in uow.repository(Customer).query(q)]
                )
                assert set(selected) == expected, (op, user, grants.scope(op, "customer"))
                counted = crm.run(
                    tenant, lambda uow, q=query: uow.repository(Customer).count(q.where)
                )
                assert counted == len(expected)
                for customer in world.customers:
                    assert grants.explain(op, customer).allowed == (customer.id in expected)

    check()


# -- field rules: nothing hidden shows in any result ------------------------------------------

#: The customer and contact fields a random role may hide, and how their values show.
CUSTOMER_SECRETS = ("phone", "email", "credit_limit")
CONTACT_SECRETS = ("phones",)


def _phone(i: int, base: str) -> str:
    return f"{base}{i:04d}"


def _secret_values(customer: Customer, contact: Contact, hidden: frozenset[str]) -> set[str]:
    """Every text form of what ``hidden`` hides, derived keys included (stated here, not
    read from the declarations under test)."""
    values: set[str] = set()
    if "phone" in hidden and customer.phone:
        values |= {customer.phone, str(phone_key(customer.phone))}
    if "email" in hidden and customer.email:
        values.add(customer.email)
    if "credit_limit" in hidden and customer.credit_limit is not None:
        values |= {str(customer.credit_limit.amount), str(customer.credit_limit)}
    if "contact.phones" in hidden:
        keys = {str(phone_key(p)) for p in contact.phones}
        values |= {*contact.phones, ",".join(contact.phones), *keys}
    return values


def _leaves(value: Any, into: set[str]) -> set[str]:
    """Every scalar a result holds, as text (walking attrs objects, mappings, sequences)."""
    if value is None or isinstance(value, bool | int | uuid.UUID):
        return into
    if isinstance(value, str):
        into.add(value)
    elif isinstance(value, Money):
        into |= {str(value.amount), str(value)}
    elif isinstance(value, SearchResults):
        _leaves(value.hits, into)  # ``text`` is the caller's own input
    elif attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            _leaves(getattr(value, field.name), into)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _leaves(key, into)
            _leaves(item, into)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _leaves(item, into)
    else:
        into.add(str(value))
    return into


def _expected_hidden(
    world: World, user: UserId, rules: dict[str, frozenset[str]]
) -> frozenset[str]:
    # Independent of the evaluator: a field stays hidden when every role of the member
    # hides it; an administrator sees all; a non-member or deactivated member nothing.
    everything = frozenset(CUSTOMER_SECRETS) | {f"contact.{f}" for f in CONTACT_SECRETS}
    member = world.policy.members.get(user)
    if member is None or not member.active:
        return everything
    if member.admin is AdminLevel.TENANT:
        return frozenset()
    roles = [r for r in member.roles if r in world.policy.roles]
    if not roles:
        return everything
    return frozenset.intersection(*(rules[r] for r in roles))


def test_no_read_service_shows_what_a_field_rule_hides(crm: Crm) -> None:
    @settings(
        max_examples=12,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.data())
    def check(data: st.DataObject) -> None:
        tenant = TenantId(uuid.uuid4())
        world: World = data.draw(worlds(tenant))
        secrets = [*CUSTOMER_SECRETS, *(f"contact.{f}" for f in CONTACT_SECRETS)]
        rules = {
            code: frozenset(data.draw(st.lists(st.sampled_from(secrets), unique=True)))
            for code in world.policy.roles
        }
        roles = [
            attrs.evolve(
                role,
                grants=(*role.grants, *(_contact_grant(g) for g in role.grants)),
                field_rules=[
                    FieldRule(*(f.split(".") if "." in f else ("customer", f)), FieldAccess.HIDDEN)
                    for f in sorted(rules[role.code])
                ],
            )
            for role in world.policy.roles.values()
        ]
        customers = [
            make_customer(
                tenant,
                i,
                owner_id=c.owner_id,
                department_id=c.department_id,
                region=c.region,
                level=c.level,
                phone=_phone(i, "1380013"),
                email=f"c{i}@example.cn",
                credit_limit=Money(f"7{i:04d}.25", "CNY"),
            )
            for i, c in enumerate(world.customers)
        ]
        contacts = [
            Contact(
                id=uuid.UUID(int=20_000 + i),
                tenant_id=tenant,
                customer_id=c.id,
                name=f"联系人{i}",
                created_at=NOW,
                phones=[_phone(i, "1391234")],
                owner_id=c.owner_id,
                department_id=c.department_id,
            )
            for i, c in enumerate(customers)
        ]
        history = [
            ChangeRecord(
                id=uuid.UUID(int=30_000 + 10 * i + k),
                tenant_id=tenant,
                customer_id=c.id,
                action="update",
                field=field,
                old_value=None,
                new_value=value,
                user_id=c.owner_id,
                changed_at=NOW,
            )
            for i, (c, contact) in enumerate(zip(customers, contacts, strict=True))
            for k, (field, value) in enumerate(
                [
                    ("phone", c.phone),
                    ("email", c.email),
                    ("credit_limit", str(c.credit_limit)),
                    (f"contact.{contact.name}.phones", contact.phones[0]),
                ]
            )
        ]

        def store(uow):  # type: ignore[no-untyped-def]
            uow.repository(Department).add_many(list(world.policy.departments.values()))
            uow.repository(Member).add_many(list(world.policy.members.values()))
            uow.repository(Role).add_many(roles)
            uow.repository(RecordShare).add_many(list(world.policy.shares))
            uow.repository(SharingRule).add_many(list(world.policy.sharing_rules))
            uow.repository(Customer).add_many(customers)
            uow.repository(Contact).add_many(contacts)
            uow.repository(ChangeRecord).add_many(history)

        crm.run(tenant, store)
        for user in world.users:
            actor = Actor(tenant_id=tenant, user_id=user, name=str(user))
            hidden = _expected_hidden(world, user, rules)
            results: list[Any] = [_quietly(list_customers, crm, actor)]
            for customer, contact in zip(customers, contacts, strict=True):
                texts = (customer.phone, contact.phones[0])
                results += [
                    _quietly(get_customer, crm, actor, customer.id),
                    _quietly(list_contacts, crm, actor, customer.id),
                    _quietly(customer_360, crm, actor, customer.id),
                    _quietly(customer_history, crm, actor, customer.id),
                ]
                for text, field in zip(texts, ("phone", "contact.phones"), strict=True):
                    assert text is not None
                    found = [
                        _quietly(search_customers, crm, actor, text),
                        _quietly(match_caller, crm, actor, text),
                        _quietly(global_search, crm, actor, text),
                    ]
                    results += found
                    if field in hidden:  # no record is found through a hidden phone
                        assert not any(found), (field, found)
            for owner in {c.owner_id for c in customers if c.owner_id is not None}:
                results.append(_quietly(user_history, crm, actor, owner))
            shown = _leaves(results, set())
            for customer, contact in zip(customers, contacts, strict=True):
                leaked = shown & _secret_values(customer, contact, hidden)
                assert not leaked, (user, sorted(hidden), leaked)

    check()


def _contact_grant(grant: Grant) -> Grant:
    # The same reach on contacts (which carry their customer's owner and department); a
    # custom filter names customer fields, so it becomes the owner's own scope.
    if grant.scope is Scope.CUSTOM:
        return Grant("contact", grant.operation, Scope.OWN)
    return Grant("contact", grant.operation, grant.scope)


def _quietly(service: Any, *args: Any) -> Any:
    """The service's result, or ``None`` when it refuses (a refusal shows nothing)."""
    try:
        return service(*args)
    except (PermissionDenied, NotFound):
        return None
