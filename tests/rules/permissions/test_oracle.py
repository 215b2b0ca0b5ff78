"""Compiled grants held against an independent reference evaluator (``oracle.py``).

``test_scope_matches_can`` compares two answers of one compiled ``Grants``, so a mistake in
compiling the policy shows in both and goes unseen. Here ``can()``, ``explain()`` and the
scope (run as a predicate) must each agree with the reference evaluator written from
docs/permissions.md, on org charts several levels deep (manager chains and department
trees) with members holding several roles with field rules. A few worked cases pin the
rules the issue names, so a failure reads as the rule that broke.
"""

from __future__ import annotations

import uuid

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.query import F, to_predicate
from crmkit.rules.permissions import (
    Access,
    Department,
    FieldAccess,
    FieldRule,
    Grant,
    GranteeKind,
    Member,
    Policy,
    RecordShare,
    Role,
    Scope,
    SharingRule,
    compile_grants,
)
from tests.rules.permissions.oracle import reference_can, reference_field_access
from tests.rules.permissions.strategies import OPERATIONS, World, make_customer, worlds

TENANT = TenantId(uuid.UUID(int=1))
RULED_FIELDS = ("region", "level", "credit_limit")


@st.composite
def org_charts(draw: st.DrawFn) -> World:
    """A random world whose members form a manager tree several levels deep (the chain
    above a member is usually the member just before) and hold one to three roles that
    carry field rules."""
    world = draw(worlds(TENANT))
    policy = world.policy
    codes = list(policy.roles)
    roles = [
        attrs.evolve(
            role,
            field_rules=[
                FieldRule("customer", field, draw(st.sampled_from(list(FieldAccess))))
                for field in draw(st.lists(st.sampled_from(RULED_FIELDS), unique=True))
            ],
        )
        for role in policy.roles.values()
    ]
    users = list(policy.members)
    members = [
        attrs.evolve(
            member,
            manager_id=(
                draw(st.sampled_from([users[i - 1], users[i - 1], None, *users[:i]])) if i else None
            ),
            roles=draw(st.lists(st.sampled_from(codes), min_size=1, max_size=3, unique=True)),
        )
        for i, member in enumerate(policy.members.values())
    ]
    chart = Policy(
        TENANT,
        departments=policy.departments.values(),
        members=members,
        roles=roles,
        shares=policy.shares,
        sharing_rules=policy.sharing_rules,
    )
    return World(chart, world.customers, world.users)


def _hold_against_the_oracle(world: World) -> None:
    for user in world.users:
        grants = compile_grants(world.policy, user)
        for op in OPERATIONS:
            in_scope = to_predicate(grants.scope(op, "customer"))
            for customer in world.customers:
                expected = reference_can(world.policy, user, op, customer)
                assert grants.can(op, customer) == expected, (op, user, customer)
                assert grants.explain(op, customer).allowed == expected
                assert in_scope(customer) == expected, (op, user, customer)
        for field in RULED_FIELDS:
            assert grants.field_access("customer", field).name == reference_field_access(
                world.policy, user, field
            ), (user, field)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(org_charts())
def test_compiled_grants_agree_with_the_reference_on_deep_org_charts(world: World) -> None:
    _hold_against_the_oracle(world)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds(TENANT))
def test_compiled_grants_agree_with_the_reference_on_any_org_chart(world: World) -> None:
    # Manager loops, members without roles, inactive members and tenant admins too.
    _hold_against_the_oracle(world)


# -- worked cases ------------------------------------------------------------------------

BOSS, MID, REP, OTHER = (UserId(uuid.UUID(int=n)) for n in (31, 32, 33, 34))
HQ, EAST, SHANGHAI = (uuid.UUID(int=n) for n in (41, 42, 43))
DEPARTMENTS = [
    Department(id=HQ, tenant_id=TENANT, name="HQ"),
    Department(id=EAST, tenant_id=TENANT, name="East", parent_id=HQ),
    Department(id=SHANGHAI, tenant_id=TENANT, name="Shanghai", parent_id=EAST),
]


def _member(user: UserId, roles: list[str], **fields: object) -> Member:
    return Member(id=user, tenant_id=TENANT, name=str(user.int), roles=roles, **fields)  # type: ignore[arg-type]


def _role(code: str, *grants: Grant, rules: tuple[FieldRule, ...] = ()) -> Role:
    return Role(
        id=uuid.uuid5(uuid.NAMESPACE_URL, code),
        tenant_id=TENANT,
        code=code,
        grants=grants,
        field_rules=rules,
    )


def test_my_team_is_the_whole_manager_chain_below_me() -> None:
    policy = Policy(
        TENANT,
        members=[
            _member(BOSS, ["manager"]),
            _member(MID, ["manager"], manager_id=BOSS),
            _member(REP, ["manager"], manager_id=MID),
            _member(OTHER, ["manager"]),
        ],
        roles=[_role("manager", Grant("customer", "view", Scope.SUBORDINATES))],
    )
    records = {
        who: make_customer(TENANT, n, owner_id=who) for n, who in enumerate((BOSS, MID, REP, OTHER))
    }
    grants = compile_grants(policy, BOSS)
    assert {who for who, c in records.items() if grants.can("view", c)} == {BOSS, MID, REP}
    middle = compile_grants(policy, MID)
    assert {who for who, c in records.items() if middle.can("view", c)} == {MID, REP}


def test_several_roles_get_the_most_permissive_field_rule() -> None:
    view = Grant("customer", "view", Scope.TENANT)
    policy = Policy(
        TENANT,
        members=[
            _member(REP, ["clerk", "auditor"]),
            _member(MID, ["clerk", "viewer"]),
            _member(BOSS, ["clerk", "plain"]),
        ],
        roles=[
            _role(
                "clerk", view, rules=(FieldRule("customer", "credit_limit", FieldAccess.HIDDEN),)
            ),
            _role(
                "auditor",
                view,
                rules=(FieldRule("customer", "credit_limit", FieldAccess.READ_ONLY),),
            ),
            _role(
                "viewer", view, rules=(FieldRule("customer", "credit_limit", FieldAccess.HIDDEN),)
            ),
            _role("plain", view),  # no rule: the field shows editable
        ],
    )
    assert (
        compile_grants(policy, REP).field_access("customer", "credit_limit")
        is FieldAccess.READ_ONLY
    )
    assert (
        compile_grants(policy, MID).field_access("customer", "credit_limit") is FieldAccess.HIDDEN
    )
    assert (
        compile_grants(policy, BOSS).field_access("customer", "credit_limit")
        is FieldAccess.EDITABLE
    )


def test_department_shares_and_sharing_rules_reach_sub_departments() -> None:
    east_record = make_customer(TENANT, 1, region="East")
    shared_record = make_customer(TENANT, 2)
    policy = Policy(
        TENANT,
        departments=DEPARTMENTS,
        members=[
            _member(REP, ["rep"], department_id=SHANGHAI),
            _member(OTHER, ["rep"], department_id=HQ),
        ],
        roles=[
            _role("rep", Grant("customer", "view", Scope.OWN), Grant("customer", "edit", Scope.OWN))
        ],
        shares=[
            RecordShare(
                id=uuid.UUID(int=51),
                tenant_id=TENANT,
                resource="customer",
                record_id=shared_record.id,
                grantee_kind=GranteeKind.DEPARTMENT,
                grantee=str(EAST),
                access=Access.EDIT,
            )
        ],
        sharing_rules=[
            SharingRule(
                id=uuid.UUID(int=52),
                tenant_id=TENANT,
                name="East customers to the East team",
                resource="customer",
                condition=F("region").eq("East"),
                grantee_kind=GranteeKind.DEPARTMENT,
                grantee=str(EAST),
                access=Access.READ,
            )
        ],
    )
    shanghai_rep = compile_grants(policy, REP)
    assert shanghai_rep.can("edit", shared_record)
    assert shanghai_rep.can("view", east_record)
    assert not shanghai_rep.can("edit", east_record)  # the rule shares for reading only
    head_office = compile_grants(policy, OTHER)  # above East, not in it
    assert not head_office.can("view", shared_record)
    assert not head_office.can("view", east_record)
