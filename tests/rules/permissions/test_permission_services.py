"""Permissions end to end through the services, on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest

from crmkit import Crm, ImportRejected, PermissionDenied, ValidationError
from crmkit.customers import get_customer, list_customers, register_customer, update_customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Order, Query
from crmkit.rules.permissions import (
    AdminLevel,
    FieldAccess,
    FieldRule,
    Grant,
    MatrixRow,
    Scope,
    bootstrap_super_admin,
    bootstrap_tenant,
    check_access,
    check_matrix,
    define_department,
    define_role,
    define_sharing_rule,
    explain_access,
    export_matrix,
    from_csv,
    import_matrix,
    list_denials,
    move_department,
    ownership_history,
    policy_overview,
    set_member,
    share_record,
    to_csv,
    to_grid,
    transfer_ownership,
)


def _user(tenant: TenantId, name: str) -> Actor:
    return Actor(tenant_id=tenant, user_id=UserId(uuid.uuid4()), name=name)


@pytest.fixture
def org(crm: Crm, tenant: TenantId) -> dict[str, Actor]:
    """Sales: a manager and two reps; Finance: a clerk who sees amounts but not phones."""
    admin = _user(tenant, "admin")
    bootstrap_tenant(crm, tenant, admin.user_id, "admin")
    sales = define_department(crm, admin, "Sales")
    finance = define_department(crm, admin, "Finance")
    view_edit = [Grant("customer", op, Scope.OWN) for op in ("create", "edit", "share")]
    define_role(crm, admin, "rep", grants=[Grant("customer", "view", Scope.OWN), *view_edit])
    define_role(
        crm,
        admin,
        "sales_manager",
        grants=[
            Grant("customer", "view", Scope.SUBORDINATES),
            Grant("customer", "edit", Scope.SUBORDINATES),
            Grant("customer", "transfer", Scope.SUBORDINATES),
        ],
    )
    define_role(
        crm,
        admin,
        "finance_clerk",
        grants=[Grant("customer", "view", Scope.TENANT)],
        field_rules=[
            FieldRule("customer", "phone", FieldAccess.HIDDEN),
            FieldRule("customer", "credit_limit", FieldAccess.READ_ONLY),
        ],
    )
    people = {
        "admin": admin,
        "manager": _user(tenant, "Wang"),
        "li": _user(tenant, "Li"),
        "chen": _user(tenant, "Chen"),
        "clerk": _user(tenant, "Zhao"),
    }
    set_member(
        crm,
        admin,
        people["manager"].user_id,
        name="Wang",
        department_id=sales.id,
        roles=["sales_manager", "rep"],
    )
    for rep in ("li", "chen"):
        set_member(
            crm,
            admin,
            people[rep].user_id,
            name=rep,
            department_id=sales.id,
            manager_id=people["manager"].user_id,
            roles=["rep"],
        )
    set_member(
        crm,
        admin,
        people["clerk"].user_id,
        name="Zhao",
        department_id=finance.id,
        roles=["finance_clerk"],
    )
    return people


def test_an_unconfigured_tenant_denies_everything(crm: Crm) -> None:
    stranger = Actor(TenantId(uuid.uuid4()), UserId(uuid.uuid4()), "nobody set me up")
    with pytest.raises(PermissionDenied):
        register_customer(crm, stranger, name="Acme")
    assert list_customers(crm, stranger) == []


def test_reps_see_their_own_and_the_manager_sees_the_team(crm: Crm, org) -> None:
    a = register_customer(crm, org["li"], name="Li's", phone="13800000001")
    b = register_customer(crm, org["chen"], name="Chen's")
    assert [c.id for c in list_customers(crm, org["li"])] == [a.id]
    team = list_customers(crm, org["manager"], Query(order_by=(Order("name"),)))
    assert [c.id for c in team] == [b.id, a.id]
    with pytest.raises(PermissionDenied) as raised:
        get_customer(crm, org["chen"], a.id)
    assert raised.value.operation == "view"
    assert a.department_id is not None  # the owner's department at write time


def test_the_finance_clerk_sees_amounts_but_not_phone_numbers(crm: Crm, org) -> None:
    a = register_customer(
        crm, org["li"], name="Acme", phone="13800000001", credit_limit=Money("5000", "CNY")
    )
    seen = get_customer(crm, org["clerk"], a.id)
    assert (seen.phone, seen.credit_limit) == (None, Money("5000", "CNY"))
    assert [c.phone for c in list_customers(crm, org["clerk"])] == [None]
    with pytest.raises(PermissionDenied) as raised:
        list_customers(crm, org["clerk"], Query(where=F("phone").startswith("138")))
    assert raised.value.field == "phone"
    assert get_customer(crm, org["li"], a.id).phone == "13800000001"


def test_writing_a_read_only_or_hidden_field_names_the_field(crm: Crm, org, tenant) -> None:
    define_role(
        crm,
        org["admin"],
        "finance_clerk",
        grants=[Grant("customer", "view", Scope.TENANT), Grant("customer", "edit", Scope.TENANT)],
        field_rules=[
            FieldRule("customer", "phone", FieldAccess.HIDDEN),
            FieldRule("customer", "credit_limit", FieldAccess.READ_ONLY),
        ],
    )
    a = register_customer(crm, org["li"], name="Acme")
    for field, value in (("credit_limit", Money("1", "CNY")), ("phone", "1")):
        with pytest.raises(PermissionDenied) as raised:
            update_customer(crm, org["clerk"], a.id, **{field: value})
        assert raised.value.field == field
    assert update_customer(crm, org["clerk"], a.id, level="A").level == "A"


def test_denials_are_audited_with_their_reasons(crm: Crm, org) -> None:
    a = register_customer(crm, org["li"], name="Acme")
    with pytest.raises(PermissionDenied):
        update_customer(crm, org["chen"], a.id, level="A")
    entries = list_denials(crm, org["admin"], F("user_id").eq(org["chen"].user_id))
    assert [(d.operation, d.resource, d.record_id) for d in entries] == [("edit", "customer", a.id)]
    assert any("own" in r for r in entries[0].reasons)
    with pytest.raises(PermissionDenied):
        list_denials(crm, org["li"])


def test_explain_says_why_not_and_why(crm: Crm, org) -> None:
    a = register_customer(crm, org["li"], name="Acme")
    why_not = explain_access(crm, org["chen"], "view", "customer", a.id)
    assert not why_not.allowed
    assert why_not.reasons[0].kind == "out_of_scope"
    why = explain_access(crm, org["manager"], "view", "customer", a.id)
    assert why.allowed
    assert {r.role for r in why.reasons} == {"sales_manager"}
    nothing = explain_access(crm, org["clerk"], "edit", "customer", a.id)
    assert [r.kind for r in nothing.reasons] == ["no_grant"]


def test_sharing_a_record_and_sharing_rules_widen_the_scope(crm: Crm, org) -> None:
    a = register_customer(crm, org["li"], name="Acme", region="East")
    b = register_customer(crm, org["li"], name="Beta", region="West")
    assert not check_access(crm, org["chen"], "view", "customer", a.id)
    share_record(
        crm,
        org["li"],
        "customer",
        a.id,
        grantee_kind="user",
        grantee=org["chen"].user_id,
        access="read",
    )
    assert check_access(crm, org["chen"], "view", "customer", a.id)
    assert not check_access(crm, org["chen"], "edit", "customer", a.id)
    with pytest.raises(PermissionDenied):  # chen may not share what is not his
        share_record(crm, org["chen"], "customer", b.id, grantee_kind="role", grantee="rep")
    define_sharing_rule(
        crm,
        org["admin"],
        "West to reps",
        resource="customer",
        condition=F("region").eq("West"),
        grantee_kind="role",
        grantee="rep",
        access="edit",
    )
    assert {c.name for c in list_customers(crm, org["chen"])} == {"Acme", "Beta"}
    assert update_customer(crm, org["chen"], b.id, level="B").level == "B"


def test_transfer_of_ownership_keeps_history(crm: Crm, org) -> None:
    a = register_customer(crm, org["li"], name="Acme")
    transfer_ownership(crm, org["manager"], "customer", a.id, org["chen"].user_id, note="leave")
    assert get_customer(crm, org["chen"], a.id).owner_id == org["chen"].user_id
    history = ownership_history(crm, org["manager"], "customer", a.id)
    assert [(h.from_owner, h.to_owner) for h in history] == [
        (org["li"].user_id, org["chen"].user_id)
    ]
    with pytest.raises(PermissionDenied):
        transfer_ownership(crm, org["li"], "customer", a.id, org["li"].user_id)


def test_grant_changes_take_effect_at_once(crm: Crm, org) -> None:
    a = register_customer(crm, org["li"], name="Acme")
    assert list_customers(crm, org["chen"]) == []  # compiled and cached
    define_role(crm, org["admin"], "rep", grants=[Grant("customer", "view", Scope.DEPARTMENT)])
    assert [c.id for c in list_customers(crm, org["chen"])] == [a.id]
    set_member(crm, org["admin"], org["chen"].user_id, active=False)
    assert list_customers(crm, org["chen"]) == []


def test_unknown_names_in_grants_fail_when_defined(crm: Crm, org) -> None:
    admin = org["admin"]
    for grant in (
        Grant("custmer", "view"),
        Grant("customer", "fly"),
        Grant("customer", "view", Scope.CUSTOM, F("colour").eq("red")),
    ):
        with pytest.raises(ValidationError):
            define_role(crm, admin, "bad", grants=[grant])
    with pytest.raises(ValidationError):
        define_role(crm, admin, "bad", field_rules=[FieldRule("customer", "colour", 0)])
    with pytest.raises(ValidationError):
        set_member(crm, admin, org["li"].user_id, roles=["nope"])


def test_tenant_administrators_stay_in_their_tenant(crm: Crm, org, tenant) -> None:
    other = TenantId(uuid.uuid4())
    intruder = Actor(tenant_id=other, user_id=org["admin"].user_id, name="admin")
    with pytest.raises(PermissionDenied):
        define_role(crm, intruder, "x", grants=[Grant("customer", "view", Scope.TENANT)])
    with pytest.raises(PermissionDenied):
        set_member(crm, org["admin"], org["li"].user_id, admin=AdminLevel.SUPER)
    with pytest.raises(PermissionDenied):
        bootstrap_tenant(crm, tenant, org["li"].user_id)  # already has an administrator


def test_a_super_admin_administers_any_tenant_but_sees_no_data(crm: Crm, org, tenant) -> None:
    root = UserId(uuid.uuid4())
    bootstrap_super_admin(crm, root, "root")
    as_root = Actor(tenant_id=tenant, user_id=root, name="root")
    define_department(crm, as_root, "Service")
    register_customer(crm, org["li"], name="Acme")
    assert list_customers(crm, as_root) == []
    assert len(policy_overview(crm, org["admin"])[0]) == 3


def test_departments_cannot_be_moved_under_themselves(crm: Crm, org) -> None:
    admin = org["admin"]
    top = define_department(crm, admin, "Top")
    child = define_department(crm, admin, "Child", parent_id=top.id)
    with pytest.raises(ValidationError):
        move_department(crm, admin, top.id, child.id)
    with pytest.raises(ValidationError):
        set_member(crm, admin, org["manager"].user_id, manager_id=org["li"].user_id)


def test_the_matrix_round_trips_and_reports_conflicts(crm: Crm, org) -> None:
    admin = org["admin"]
    rows = export_matrix(crm, admin)
    assert from_csv(to_csv(rows)) == rows
    grid = to_grid(rows)
    assert grid[0] == ["", "finance_clerk", "rep", "sales_manager"]
    edited = [*rows, MatrixRow("auditor", "customer", "export", "tenant")]
    import_matrix(crm, admin, edited)
    assert MatrixRow("auditor", "customer", "export", "tenant") in export_matrix(crm, admin)
    with pytest.raises(ImportRejected) as raised:
        import_matrix(
            crm,
            admin,
            [
                MatrixRow("rep", "customer", "view", "galaxy"),
                MatrixRow("rep", "customer", "fly", "own"),
                MatrixRow("rep", "customer", "edit", "own"),
                MatrixRow("rep", "customer", "edit", "tenant"),
            ],
        )
    assert [p.fields["row"] for p in raised.value.problems] == [1, 2, 4]
    _, members, roles, _ = policy_overview(crm, admin)
    report = check_matrix(roles, members)
    assert report.unused_roles == ("auditor",)
    assert {i.kind for i in report.conflicts} >= {"without_view"}
