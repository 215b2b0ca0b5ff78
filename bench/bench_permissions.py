"""Permission checks vs pycasbin, and scoped vs unscoped first-page listing.

``can()``: an RBAC-with-domains model of 1,000 users, 50 roles and 10,000 policies
(50 roles x 20 resources x 10 operations) in both libraries; each timed call makes
the same 1,000 allowed checks. crmkit's grants are compiled once per actor (as the
services cache them) and ``can`` answers for a record owned by the actor;
casbin's ``FastEnforcer`` and ``Enforcer`` answer ``enforce(user, tenant, obj, act)``.

Listing: 100,000 customers owned by 200 users in a 3-level department tree
(company -> 4 regions -> 4 teams each); a region manager whose role reaches the
region's sub-departments lists the first page of 100 through the scoped reader (row
scope, filter checks, redaction: what the services do), against the same first page
read straight from the repository with no scope.
"""

from __future__ import annotations

import uuid
from typing import Any

import casbin
import pendulum
import sqlalchemy as sa

from bench.databases import pg_engine, scratch_folder, sqlite_engine
from bench.harness import Case
from crmkit import connect
from crmkit.adapters.sql import tables as _tables  # noqa: F401  (import order: see report)
from crmkit.customers import Customer
from crmkit.kernel.ids import RandomIdGenerator, TenantId, UserId
from crmkit.kernel.query import Query
from crmkit.rules.permissions import (
    Department,
    Grant,
    Member,
    Policy,
    Role,
    Scope,
    compile_grants,
    register_resource,
)
from crmkit.rules.permissions.reader import ScopedReader

N_CUSTOMERS = 100_000
CHECKS = 1_000
# Enough customers that a region manager still sees a full first page of 100.
SMOKE = {"N_CUSTOMERS": 1_000, "CHECKS": 50}
NOTES = (
    "**Permissions (bench_permissions).** `can()` of compiled grants against pycasbin "
    "`enforce()` for the same RBAC-with-domains model (1,000 users, 50 roles, 10,000 "
    "policies; 1,000 allowed checks per timed call). Listing: the first page of 100 of "
    "100,000 customers (200 owners, 3-level department tree) for a region manager with a "
    "department-tree scope, against the same page unscoped, through the repository on "
    "SQLite and PostgreSQL."
)

_MODEL = """
[request_definition]
r = sub, dom, obj, act
[policy_definition]
p = sub, dom, obj, act
[role_definition]
g = _, _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && r.obj == p.obj && r.act == p.act
"""
_RESOURCES = [f"res{i}" for i in range(20)]
_OPERATIONS = [f"op{i}" for i in range(10)]


class _Record:
    """A minimal record of a benchmark resource."""

    __slots__ = ("department_id", "id", "owner_id", "tenant_id")

    def __init__(self, tenant: TenantId, owner: UserId) -> None:
        self.id = uuid.uuid4()
        self.tenant_id = tenant
        self.owner_id = owner
        self.department_id = None


def _can_cases() -> list[Case]:
    for name in _RESOURCES:
        register_resource(
            name, entity=None, fields=("id", "owner_id", "department_id"), operations=_OPERATIONS
        )
    tenant = TenantId(uuid.uuid4())
    roles = [
        Role(
            id=uuid.uuid4(),
            tenant_id=tenant,
            code=f"role{r}",
            grants=[Grant(res, op, Scope.OWN) for res in _RESOURCES for op in _OPERATIONS],
        )
        for r in range(50)
    ]
    users = [UserId(uuid.uuid4()) for _ in range(1000)]
    members = [
        Member(id=u, tenant_id=tenant, roles=(f"role{i % 50}",)) for i, u in enumerate(users)
    ]
    policy = Policy(tenant, members=members, roles=roles)
    actor = users[7]
    grants = compile_grants(policy, actor)
    record = _Record(tenant, actor)
    checks = [(_RESOURCES[i % 20], _OPERATIONS[i % 10]) for i in range(CHECKS)]

    folder = scratch_folder("crmkit-casbin-")
    (folder / "model.conf").write_text(_MODEL)
    lines = [
        f"p, role{r}, {tenant}, {res}, {op}"
        for r in range(50)
        for res in _RESOURCES
        for op in _OPERATIONS
    ]
    lines += [f"g, {u}, role{i % 50}, {tenant}" for i, u in enumerate(users)]
    (folder / "policy.csv").write_text("\n".join(lines) + "\n")
    fast = casbin.FastEnforcer(str(folder / "model.conf"), str(folder / "policy.csv"))
    plain = casbin.Enforcer(str(folder / "model.conf"), str(folder / "policy.csv"))
    sub, dom = str(actor), str(tenant)
    assert all(fast.enforce(sub, dom, res, op) for res, op in checks[:50])
    assert all(grants.can(op, record, res) for res, op in checks)

    def subject() -> None:
        can = grants.can
        for res, op in checks:
            can(op, record, res)

    def anchor(enforcer: Any, count: int) -> Any:
        def run() -> None:
            for res, op in checks[:count]:
                enforcer.enforce(sub, dom, res, op)

        return run

    def subject_n(count: int) -> Any:
        def run() -> None:
            can = grants.can
            for res, op in checks[:count]:
                can(op, record, res)

        return run

    return [
        Case(
            name="can() per allowed check",
            anchor_name="pycasbin FastEnforcer.enforce",
            ops=CHECKS,
            subject=subject,
            anchor=anchor(fast, CHECKS),
            goal="≤ 0.01 (100x faster), < 5 µs",
            goal_ratio=0.01,
            repeat=5,
        ),
        Case(
            name="can() per allowed check",
            anchor_name="pycasbin Enforcer.enforce",
            ops=5,
            subject=subject_n(5),
            anchor=anchor(plain, 5),
            goal="≤ 0.01",
            goal_ratio=0.01,
            repeat=3,
        ),
    ]


def _org(tenant: TenantId) -> tuple[Policy, UserId, list[tuple[UserId, uuid.UUID]]]:
    root = Department(id=uuid.uuid4(), tenant_id=tenant, name="company")
    departments = [root]
    owners: list[tuple[UserId, uuid.UUID]] = []
    members: list[Member] = []
    region_manager: UserId | None = None
    for r in range(4):
        region = Department(id=uuid.uuid4(), tenant_id=tenant, name=f"r{r}", parent_id=root.id)
        departments.append(region)
        head = UserId(uuid.uuid4())
        members.append(Member(id=head, tenant_id=tenant, department_id=region.id, roles=("mgr",)))
        region_manager = region_manager or head
        for t in range(4):
            team = Department(id=uuid.uuid4(), tenant_id=tenant, name=f"t{t}", parent_id=region.id)
            departments.append(team)
            for _ in range(13 if t == 0 else 12):
                rep = UserId(uuid.uuid4())
                members.append(
                    Member(id=rep, tenant_id=tenant, department_id=team.id, manager_id=head)
                )
                owners.append((rep, team.id))
        owners.append((head, region.id))
    role = Role(
        id=uuid.uuid4(),
        tenant_id=tenant,
        code="mgr",
        grants=[Grant("customer", "view", Scope.DEPARTMENT_TREE)],
    )
    assert region_manager is not None
    assert len(owners) == 200
    return (
        Policy(tenant, departments=departments, members=members, roles=[role]),
        region_manager,
        owners,
    )


def _listing_case(engine: sa.Engine, label: str, teardown: Any = None) -> Case:
    crm = connect(engine)
    tenant = TenantId(uuid.uuid4())
    policy, manager, owners = _org(tenant)
    ids = RandomIdGenerator()
    now = pendulum.datetime(2026, 3, 2, 9, tz="UTC")
    customers = [
        Customer(
            id=ids.new(now),
            tenant_id=tenant,
            name=f"客户{i:06d}",
            created_at=now,
            owner_id=owners[i % 200][0],
            department_id=owners[i % 200][1],
            region="华东",
        )
        for i in range(N_CUSTOMERS)
    ]
    crm.run(tenant, lambda uow: uow.repository(Customer).add_many(customers))
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE customers")
    grants = compile_grants(policy, manager)
    page = Query(limit=100)

    def subject() -> None:
        # Through the scoped reader, as the services read: scope, checks and redaction.
        found = crm.run(
            tenant, lambda uow: ScopedReader(uow, grants, Customer, "customer").query(page)
        )
        assert len(found) == 100

    def anchor() -> None:
        crm.run(tenant, lambda uow: uow.repository(Customer).query(page))

    return Case(
        name=f"first page of {N_CUSTOMERS:,} customers, manager scope, {label}",
        anchor_name="same page, no scope",
        ops=1,
        subject=subject,
        anchor=anchor,
        goal="≤ 1.3",
        goal_ratio=1.3,
        repeat=30,
        teardown=teardown,
    )


def cases() -> list[Case]:
    """The cases of this module."""
    import crmkit.customers  # noqa: F401  (registers the customer resource)

    result = _can_cases()
    result.append(_listing_case(sqlite_engine("permissions"), "SQLite"))
    engine, drop = pg_engine()
    result.append(_listing_case(engine, "PostgreSQL", drop))
    return result
