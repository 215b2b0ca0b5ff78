"""Hypothesis strategies and builders for permission tests: random org trees, roles,
grants, shares, sharing rules and customers."""

from __future__ import annotations

import uuid
from typing import Any

import attrs
import pendulum
from hypothesis import strategies as st

from crmkit.customers import Customer
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.query import F
from crmkit.rules.permissions import (
    Access,
    AdminLevel,
    Department,
    Grant,
    GranteeKind,
    Member,
    Policy,
    RecordShare,
    Role,
    Scope,
    SharingRule,
)

NOW = pendulum.datetime(2026, 3, 2, 9, tz="UTC")
REGIONS = ("East", "West", None)
LEVELS = ("A", "B", "C", None)
OPERATIONS = ("view", "edit", "delete")

CUSTOM_FILTERS = (
    F("region").eq("East"),
    F("level").is_in(["A", "B"]) & ~F("region").eq("West"),
    F("department_id").eq("$my_department"),
    F("department_id").is_in(["$my_departments"]),
    F("owner_id").is_in(["$my_team"]),
    F("owner_id").ne("$me"),
    F("name").startswith("c1"),
)


def make_customer(tenant: TenantId, i: int, **fields: Any) -> Customer:
    return Customer(
        id=uuid.UUID(int=10_000 + i), tenant_id=tenant, name=f"c{i}", created_at=NOW, **fields
    )


@attrs.frozen
class World:
    """A random tenant: org chart, roles, shares, sharing rules and customers."""

    policy: Policy
    customers: tuple[Customer, ...]
    users: tuple[UserId, ...]


@st.composite
def worlds(draw: st.DrawFn, tenant: TenantId) -> World:
    n_depts = draw(st.integers(1, 6))
    dept_ids = [uuid.UUID(int=100 + i) for i in range(n_depts)]
    departments = [
        Department(
            id=d,
            tenant_id=tenant,
            name=f"d{i}",
            parent_id=draw(st.sampled_from([None, *dept_ids[:i]])) if i else None,
        )
        for i, d in enumerate(dept_ids)
    ]
    n_roles = draw(st.integers(1, 3))
    roles = []
    for r in range(n_roles):
        grants: dict[tuple[str, str], Grant] = {}
        for op in draw(st.lists(st.sampled_from(OPERATIONS), max_size=3, unique=True)):
            scope = draw(st.sampled_from(list(Scope)))
            filt = draw(st.sampled_from(CUSTOM_FILTERS)) if scope is Scope.CUSTOM else None
            grants[("customer", op)] = Grant("customer", op, scope, filt)
        roles.append(
            Role(id=uuid.UUID(int=200 + r), tenant_id=tenant, code=f"r{r}", grants=grants.values())
        )
    n_users = draw(st.integers(1, 6))
    users = [UserId(uuid.UUID(int=300 + i)) for i in range(n_users)]
    members = [
        Member(
            id=u,
            tenant_id=tenant,
            name=f"u{i}",
            department_id=draw(st.sampled_from([None, *dept_ids])),
            manager_id=draw(st.sampled_from([None, *users])),  # loops allowed: must not hang
            roles=draw(st.lists(st.sampled_from([r.code for r in roles]), unique=True)),
            admin=AdminLevel.TENANT if draw(st.integers(0, 9)) == 0 else AdminLevel.NONE,
            active=draw(st.integers(0, 9)) > 0,
        )
        for i, u in enumerate(users)
    ]
    n_customers = draw(st.integers(0, 14))
    customers = tuple(
        make_customer(
            tenant,
            i,
            owner_id=draw(st.sampled_from([None, *users])),
            department_id=draw(st.sampled_from([None, *dept_ids])),
            region=draw(st.sampled_from(REGIONS)),
            level=draw(st.sampled_from(LEVELS)),
        )
        for i in range(n_customers)
    )
    grantees = st.one_of(
        st.tuples(st.just(GranteeKind.USER), st.sampled_from([str(u) for u in users])),
        st.tuples(st.just(GranteeKind.ROLE), st.sampled_from([r.code for r in roles])),
        st.tuples(st.just(GranteeKind.DEPARTMENT), st.sampled_from([str(d) for d in dept_ids])),
    )
    shares = []
    if customers:
        for i in range(draw(st.integers(0, 5))):
            kind, grantee = draw(grantees)
            shares.append(
                RecordShare(
                    id=uuid.UUID(int=400 + i),
                    tenant_id=tenant,
                    resource="customer",
                    record_id=draw(st.sampled_from(customers)).id,
                    grantee_kind=kind,
                    grantee=grantee,
                    access=draw(st.sampled_from(list(Access))),
                )
            )
    rules = []
    for i in range(draw(st.integers(0, 2))):
        kind, grantee = draw(grantees)
        rules.append(
            SharingRule(
                id=uuid.UUID(int=500 + i),
                tenant_id=tenant,
                name=f"rule{i}",
                resource="customer",
                condition=draw(st.sampled_from(CUSTOM_FILTERS)),
                grantee_kind=kind,
                grantee=grantee,
                access=draw(st.sampled_from(list(Access))),
            )
        )
    policy = Policy(
        tenant,
        departments=departments,
        members=members,
        roles=roles,
        shares=shares,
        sharing_rules=rules,
    )
    return World(policy, customers, (*users, UserId(uuid.UUID(int=999))))
