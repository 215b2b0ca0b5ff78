"""The evaluator on small worked policies: the policy's walks, compiling, every answer of
``Grants`` (decisions with their reasons, scopes as expressions, refusals as errors) and
the field rules. Plain, fast and exact, so a planted bug shows as the answer that moved.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import attrs
import pytest

from crmkit.kernel.errors import LazyText, PermissionDenied
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.query import FALSE, TRUE, And, Expr, F, Not, Or, Query, to_predicate
from crmkit.rules.permissions import (
    Access,
    AdminLevel,
    Decision,
    Department,
    FieldAccess,
    FieldRule,
    Grant,
    GranteeKind,
    Grants,
    Member,
    Policy,
    Reason,
    RecordShare,
    Registry,
    ResourceSpec,
    Role,
    Scope,
    SharingRule,
    compile_grants,
)

TENANT = TenantId(uuid.UUID(int=1))
BOSS, MID, REP, PEER, LOOSE = (UserId(uuid.UUID(int=n)) for n in (31, 32, 33, 34, 35))
HQ, EAST, SHANGHAI, WEST = (uuid.UUID(int=n) for n in (41, 42, 43, 44))
NOWHERE = uuid.UUID(int=49)


def _dept(id_: uuid.UUID, parent: uuid.UUID | None = None) -> Department:
    return Department(id=id_, tenant_id=TENANT, name=str(id_.int), parent_id=parent)


def _member(user: UserId, roles: tuple[str, ...] = (), **fields: object) -> Member:
    return Member(id=user, tenant_id=TENANT, name=f"u{user.int}", roles=roles, **fields)  # type: ignore[arg-type]


# -- the policy's walks ------------------------------------------------------------------


def _org() -> Policy:
    return Policy(
        TENANT,
        departments=[_dept(HQ), _dept(EAST, HQ), _dept(SHANGHAI, EAST), _dept(WEST, HQ)],
        members=[
            _member(BOSS),
            _member(MID, manager_id=BOSS),
            _member(REP, manager_id=MID),
            _member(PEER, manager_id=BOSS),
            _member(LOOSE, manager_id=UserId(NOWHERE)),
        ],
    )


def test_the_department_tree_is_walked_down_and_up() -> None:
    policy = _org()
    assert policy.subtree(HQ) == {HQ, EAST, SHANGHAI, WEST}
    assert policy.subtree(EAST) == {EAST, SHANGHAI}
    assert policy.subtree(SHANGHAI) == {SHANGHAI}
    assert policy.subtree(NOWHERE) == {NOWHERE}
    assert policy.ancestors(SHANGHAI) == [SHANGHAI, EAST, HQ]
    assert policy.ancestors(HQ) == [HQ]
    # A department whose parent is not in the snapshot still names that parent.
    assert Policy(TENANT, departments=[_dept(EAST, HQ)]).ancestors(EAST) == [EAST, HQ]


def test_the_manager_chain_is_walked_down_and_up() -> None:
    policy = _org()
    assert policy.team(BOSS) == {BOSS, MID, REP, PEER}
    assert policy.team(MID) == {MID, REP}
    assert policy.team(REP) == {REP}
    assert policy.managers(REP) == [MID, BOSS]
    assert policy.managers(BOSS) == []
    assert policy.managers(LOOSE) == [NOWHERE]  # a manager outside the tenant ends the chain
    assert policy.managers(UserId(NOWHERE)) == []


def test_loops_in_the_org_chart_end_the_walks() -> None:
    policy = Policy(
        TENANT,
        departments=[_dept(EAST, SHANGHAI), _dept(SHANGHAI, EAST)],
        members=[
            _member(BOSS, manager_id=REP),
            _member(MID, manager_id=BOSS),
            _member(REP, manager_id=MID),
            _member(PEER, manager_id=PEER),
            _member(LOOSE, manager_id=REP),
        ],
    )
    assert policy.ancestors(EAST) == [EAST, SHANGHAI]
    assert policy.subtree(EAST) == {EAST, SHANGHAI}
    assert policy.managers(REP) == [MID, BOSS]
    assert policy.managers(PEER) == []
    # The chain above LOOSE loops back on itself without LOOSE: each manager once.
    assert policy.managers(LOOSE) == [REP, MID, BOSS]
    assert policy.team(BOSS) == {BOSS, MID, REP, LOOSE}


# -- a resource of its own: owner and department under other names ----------------------


@attrs.define
class Ticket:
    id: uuid.UUID
    tenant_id: uuid.UUID
    rep_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    region: str | None = None
    phone: str | None = None
    phone_key: str | None = None
    phone_bucket: str | None = None
    followers: tuple[str, ...] = ()
    custom: Mapping[str, Any] = attrs.field(factory=lambda: MappingProxyType({}))


@attrs.define
class TicketSummary:
    id: uuid.UUID
    tenant_id: uuid.UUID
    phone: str | None = None
    phone_key: str | None = None
    phone_bucket: str | None = None


REG = Registry()
REG.register(
    ResourceSpec(
        "ticket",
        frozenset({"rep_id", "team_id", "region", "phone", "phone_key", "phone_bucket"}),
        owner_field="rep_id",
        department_field="team_id",
        entity=Ticket,
        open_fields=frozenset({"custom"}),
        # Declared last-first, so following the chain takes a second pass.
        derived=(("phone_bucket", ("phone_key",)), ("phone_key", ("phone",))),
    )
)
OTHER_TENANT = TenantId(uuid.UUID(int=2))
EPOCH = uuid.UUID(int=77)


def _ticket(n: int, **fields: Any) -> Ticket:
    return Ticket(id=uuid.UUID(int=1000 + n), tenant_id=TENANT, **fields)


def _role(code: str, *grants: Grant, rules: tuple[FieldRule, ...] = ()) -> Role:
    return Role(
        id=uuid.uuid5(uuid.NAMESPACE_URL, code),
        tenant_id=TENANT,
        code=code,
        grants=grants,
        field_rules=rules,
    )


def _grant_text(role: str, operation: str, scope: Scope) -> LazyText:
    return LazyText(
        "role {role} grants {operation} within scope {scope}",
        role=role,
        operation=operation,
        scope=scope.value,
    )


def _no_grant(operation: str, resource: str) -> Reason:
    text = LazyText(
        "no role grants {operation} on {resource}", operation=operation, resource=resource
    )
    return Reason("no_grant", text)


def _compile(policy: Policy, user: UserId, **kwargs: Any) -> Grants:
    return compile_grants(policy, user, reg=REG, **kwargs)


# -- who the actor is --------------------------------------------------------------------


def test_errors_name_the_actor_by_label_name_or_id() -> None:
    policy = Policy(TENANT, members=[_member(REP), Member(id=PEER, tenant_id=TENANT)])
    assert _compile(policy, REP).label == "u33"
    assert _compile(policy, REP, label="Li Lei").label == "Li Lei"
    assert _compile(policy, PEER).label == str(PEER)  # a member without a name
    assert _compile(policy, BOSS).label == str(BOSS)  # not a member
    assert _compile(policy, BOSS, label="Boss").label == "Boss"


def test_an_outsider_reaches_nothing_and_is_told_why() -> None:
    record = _ticket(1, rep_id=REP)
    policy = Policy(
        TENANT,
        members=[_member(REP, ("rep",), active=False), _member(MID, ("rep",), active=False)],
        roles=[_role("rep", Grant("ticket", "view", Scope.TENANT))],
        super_admins=[BOSS, MID],
        epoch=EPOCH,
    )
    outsiders = {
        BOSS: "not a member of this tenant",
        PEER: "not a member of this tenant",
        REP: "the member is deactivated",
        MID: "the member is deactivated",
    }
    for user, why in outsiders.items():
        grants = _compile(policy, user)
        assert (grants.tenant_id, grants.user_id, grants.roles, grants.epoch) == (
            TENANT,
            user,
            (),
            EPOCH,
        )
        assert not grants.can("view", record)
        assert not grants.holds("view", "ticket")
        assert grants.scope("view", "ticket") == FALSE
        assert grants.unowned_scope("view", "ticket") == FALSE
        assert grants.field_access("ticket", "phone") is FieldAccess.EDITABLE
        assert grants.hidden_fields("ticket") == frozenset()
        assert grants.explain("view", record) == Decision(
            False,
            user,
            "view",
            "ticket",
            record.id,
            None,
            (Reason("inactive", LazyText(why)), _no_grant("view", "ticket")),
        )
    boss = _compile(policy, BOSS)
    assert boss.admin is AdminLevel.SUPER
    assert boss.may_administer
    assert not boss.is_tenant_admin
    # A super-administrator stays one whatever their membership of this tenant.
    assert [_compile(policy, user).admin for user in (BOSS, MID, REP, PEER)] == [
        AdminLevel.SUPER,
        AdminLevel.SUPER,
        AdminLevel.NONE,
        AdminLevel.NONE,
    ]
    assert not _compile(policy, PEER).may_administer


def test_a_super_administrator_member_reaches_only_what_their_roles_grant() -> None:
    policy = Policy(
        TENANT,
        members=[_member(BOSS, ("rep",)), _member(REP, ("rep",))],
        roles=[_role("rep", Grant("ticket", "view", Scope.OWN))],
        super_admins=[BOSS],
        epoch=EPOCH,
    )
    boss = _compile(policy, BOSS)
    assert (boss.tenant_id, boss.user_id, boss.roles, boss.epoch) == (TENANT, BOSS, ("rep",), EPOCH)
    assert boss.admin is AdminLevel.SUPER
    assert boss.may_administer
    assert not boss.is_tenant_admin
    assert boss.can("view", _ticket(1, rep_id=BOSS))
    assert not boss.can("view", _ticket(2, rep_id=REP))
    assert boss.scope("view", "ticket") == F("rep_id").eq(BOSS)
    rep = _compile(policy, REP)
    assert rep.admin is AdminLevel.NONE
    assert not rep.may_administer


def test_a_tenant_administrator_reaches_every_record_and_field_of_the_tenant() -> None:
    policy = Policy(
        TENANT,
        members=[_member(BOSS, ("viewer", "ghost"), admin=AdminLevel.TENANT)],
        roles=[
            _role(
                "viewer",
                Grant("ticket", "view", Scope.OWN),
                rules=(FieldRule("ticket", "phone", FieldAccess.HIDDEN),),
            )
        ],
        epoch=EPOCH,
    )
    grants = _compile(policy, BOSS)
    assert (grants.admin, grants.roles, grants.epoch, grants.label) == (
        AdminLevel.TENANT,
        ("viewer", "ghost"),
        EPOCH,
        "u31",
    )
    assert grants.is_tenant_admin
    assert grants.may_administer
    record = _ticket(1, rep_id=REP, phone="13800138000")
    assert grants.can("delete", record)
    assert grants.can("delete", {"tenant_id": TENANT}, "memo")
    assert not grants.can("view", attrs.evolve(record, tenant_id=OTHER_TENANT))
    assert grants.holds("delete", "memo")
    assert grants.scope("edit", "ticket") == TRUE
    assert grants.unowned_scope("edit", "ticket") == TRUE
    assert grants.explain("edit", record) == Decision(
        True,
        BOSS,
        "edit",
        "ticket",
        record.id,
        None,
        (Reason("admin", LazyText("tenant administrator")),),
    )
    assert grants.field_access("ticket", "phone") is FieldAccess.EDITABLE
    assert grants.hidden_fields("ticket") == frozenset()
    assert grants.redact(record) is record
    grants.check_writable("ticket", ["phone", "phone_key"])
    grants.require("delete", record)
    grants.require_operation("delete", "ticket")


def test_a_member_without_a_role_is_told_so() -> None:
    policy = Policy(TENANT, members=[_member(REP, ("ghost",))], roles=[_role("rep")])
    grants = _compile(policy, REP)
    record = _ticket(1, rep_id=REP)
    assert grants.roles == ()
    assert grants.explain("view", record).reasons == (
        Reason("no_grant", LazyText("the member holds no role")),
        _no_grant("view", "ticket"),
    )
    with pytest.raises(PermissionDenied) as caught:
        grants.require_operation("view", "ticket")
    assert caught.value.to_dict() == {
        "code": "permission_denied",
        "message": "u33 may not view ticket.",
        "actor": "u33",
        "operation": "view",
        "resource": "ticket",
        "field": None,
        "decision": "denied: the member holds no role; no role grants view on ticket",
    }
    assert caught.value.decision == Decision(
        False,
        REP,
        "view",
        "ticket",
        None,
        None,
        (Reason("no_grant", LazyText("the member holds no role")), _no_grant("view", "ticket")),
    )


# -- what each scope reaches -------------------------------------------------------------


def _scoped(scope: Scope, user: UserId, custom: Expr | None = None, **member: Any) -> Grants:
    policy = Policy(
        TENANT,
        departments=[_dept(HQ), _dept(EAST, HQ), _dept(SHANGHAI, EAST), _dept(WEST, HQ)],
        members=[
            _member(BOSS, ("r",), department_id=HQ),
            _member(MID, ("r",), manager_id=BOSS, department_id=EAST),
            _member(REP, ("r",), manager_id=MID, department_id=SHANGHAI),
            _member(PEER, ("r",), manager_id=BOSS, department_id=WEST),
            _member(LOOSE, ("r",), **member),
        ],
        roles=[_role("r", Grant("ticket", "view", scope, custom))],
    )
    return _compile(policy, user)


def _reached(grants: Grants, records: list[Ticket]) -> list[int]:
    """The numbers of the records ``can`` reaches, checked against ``explain``, the
    scope run as a predicate, and the same records as mappings."""
    predicate = to_predicate(grants.scope("view", "ticket"))
    found = []
    for record in records:
        verdict = grants.can("view", record)
        row = attrs.asdict(record, recurse=False)
        assert grants.can("view", row, "ticket") is verdict
        assert predicate(record) is verdict
        assert grants.explain("view", record).allowed is verdict
        assert grants.explain("view", row, "ticket").allowed is verdict
        if verdict:
            found.append(record.id.int - 1000)
    return found


RECORDS = [
    _ticket(1, rep_id=BOSS, team_id=HQ),
    _ticket(2, rep_id=MID),
    _ticket(3, rep_id=REP, team_id=WEST),
    _ticket(4, team_id=EAST),
    _ticket(5, team_id=SHANGHAI),
    _ticket(6, rep_id=PEER, team_id=WEST, region="East"),
    _ticket(7),
]


def test_each_scope_reaches_its_records() -> None:
    assert _reached(_scoped(Scope.OWN, MID), RECORDS) == [2]
    assert _reached(_scoped(Scope.SUBORDINATES, MID), RECORDS) == [2, 3]
    assert _reached(_scoped(Scope.SUBORDINATES, BOSS), RECORDS) == [1, 2, 3, 6]
    assert _reached(_scoped(Scope.DEPARTMENT, MID), RECORDS) == [2, 4]
    assert _reached(_scoped(Scope.DEPARTMENT_TREE, MID), RECORDS) == [2, 4, 5]
    assert _reached(_scoped(Scope.DEPARTMENT_TREE, REP), RECORDS) == [3, 5]
    assert _reached(_scoped(Scope.TENANT, REP), RECORDS) == [1, 2, 3, 4, 5, 6, 7]
    east = F("region").eq("East")
    assert _reached(_scoped(Scope.CUSTOM, MID, east), RECORDS) == [2, 6]
    # Without a department, the department scopes reach only what the member owns.
    assert _reached(_scoped(Scope.DEPARTMENT, LOOSE), [*RECORDS, _ticket(8, rep_id=LOOSE)]) == [8]
    assert _reached(_scoped(Scope.DEPARTMENT_TREE, LOOSE), RECORDS) == []


def test_each_scope_is_one_filter_over_the_resource_fields() -> None:
    assert _scoped(Scope.OWN, MID).scope("view", "ticket") == F("rep_id").eq(MID)
    assert _scoped(Scope.SUBORDINATES, MID).scope("view", "ticket") == F("rep_id").is_in([MID, REP])
    assert _scoped(Scope.DEPARTMENT, MID).scope("view", "ticket") == Or(
        (F("rep_id").eq(MID), F("team_id").eq(EAST))
    )
    assert _scoped(Scope.DEPARTMENT_TREE, MID).scope("view", "ticket") == Or(
        (F("rep_id").eq(MID), F("team_id").is_in([EAST, SHANGHAI]))
    )
    assert _scoped(Scope.DEPARTMENT, LOOSE).scope("view", "ticket") == F("rep_id").eq(LOOSE)
    assert _scoped(Scope.TENANT, MID).scope("view", "ticket") == TRUE
    assert _scoped(Scope.TENANT, MID).scope("edit", "ticket") == FALSE
    east = F("region").eq("East")
    assert _scoped(Scope.CUSTOM, MID, east).scope("view", "ticket") == Or(
        (F("rep_id").eq(MID), east)
    )


def test_each_scope_explains_itself() -> None:
    for scope in Scope:
        custom = F("region").eq("East") if scope is Scope.CUSTOM else None
        grants = _scoped(scope, MID, custom)
        text = _grant_text("r", "view", scope)
        mine = _ticket(2, rep_id=MID)
        assert grants.explain("view", mine) == Decision(
            True, MID, "view", "ticket", mine.id, None, (Reason("grant", text, "r"),)
        )
        if scope is not Scope.TENANT:
            theirs = _ticket(9, rep_id=PEER, team_id=WEST)
            out = LazyText("outside the reach of: {source}", source=text)
            assert grants.explain("view", theirs).reasons == (Reason("out_of_scope", out, "r"),)
    denied = _scoped(Scope.OWN, MID).explain("edit", {"id": None, "tenant_id": TENANT}, "ticket")
    assert denied == Decision(
        False, MID, "edit", "ticket", None, None, (_no_grant("edit", "ticket"),)
    )


def test_placeholders_in_a_custom_scope_stand_for_the_actor() -> None:
    condition = (
        F("team_id").eq("$my_department")
        | F("team_id").is_in(["$my_departments", str(NOWHERE)])
        | (F("region").eq("East") & ~F("rep_id").ne("$my_team"))
        | F("followers").contains("$me")
        | F("followers").contains("$my_team")
        | F("rep_id").not_in(["$my_team"])
        | F("region").eq("West")
    )
    grants = _scoped(Scope.CUSTOM, MID, condition)
    assert grants.scope("view", "ticket") == Or(
        (
            F("rep_id").eq(MID),
            F("team_id").is_in([EAST]),
            F("team_id").is_in([EAST, SHANGHAI, str(NOWHERE)]),
            And((F("region").eq("East"), Not(F("rep_id").not_in([MID, REP])))),
            F("followers").contains(MID),
            # "contains" compares one value: a team of several matches nothing, so that
            # term drops out.
            F("rep_id").not_in([MID, REP]),
            F("region").eq("West"),
        )
    )
    alone = _scoped(Scope.CUSTOM, LOOSE, condition).scope("view", "ticket")
    assert alone == Or(
        (
            F("rep_id").eq(LOOSE),
            F("team_id").is_in([]),
            F("team_id").is_in([str(NOWHERE)]),
            And((F("region").eq("East"), Not(F("rep_id").not_in([LOOSE])))),
            F("followers").contains(LOOSE),
            F("followers").contains(LOOSE),
            F("rep_id").not_in([LOOSE]),
            F("region").eq("West"),
        )
    )


# -- shares and sharing rules ------------------------------------------------------------


def _share(
    n: int, record: Ticket, kind: GranteeKind, grantee: object, access: Access
) -> RecordShare:
    return RecordShare(
        id=uuid.UUID(int=600 + n),
        tenant_id=TENANT,
        resource="ticket",
        record_id=record.id,
        grantee_kind=kind,
        grantee=str(grantee),
        access=access,
    )


def _rule(
    name: str, condition: Expr, kind: GranteeKind, grantee: object, access: Access
) -> SharingRule:
    return SharingRule(
        id=uuid.uuid5(uuid.NAMESPACE_URL, name),
        tenant_id=TENANT,
        name=name,
        resource="ticket",
        condition=condition,
        grantee_kind=kind,
        grantee=str(grantee),
        access=access,
    )


SHARED = [_ticket(n, rep_id=PEER) for n in range(1, 9)]


def _sharing_policy(
    shares: Sequence[RecordShare] = (), rules: Sequence[SharingRule] = ()
) -> Policy:
    return Policy(
        TENANT,
        departments=[_dept(HQ), _dept(EAST, HQ), _dept(SHANGHAI, EAST), _dept(WEST, HQ)],
        members=[
            _member(REP, ("rep", "ghost"), department_id=SHANGHAI),
            _member(PEER, ("rep",), department_id=WEST),
        ],
        roles=[
            _role(
                "rep",
                Grant("ticket", "view", Scope.OWN),
                Grant("ticket", "edit", Scope.OWN),
                Grant("ticket", "export", Scope.OWN),
            ),
            _role("boss", Grant("ticket", "delete", Scope.OWN)),
        ],
        shares=shares,
        sharing_rules=rules,
    )


def test_shares_reach_the_user_their_roles_and_the_departments_above_them() -> None:
    one, two, three, four, five, six, seven, eight = SHARED
    shares = [
        _share(1, one, GranteeKind.USER, REP, Access.READ),
        _share(2, two, GranteeKind.ROLE, "rep", Access.EDIT),
        _share(3, three, GranteeKind.DEPARTMENT, EAST, Access.READ),
        _share(4, four, GranteeKind.DEPARTMENT, SHANGHAI, Access.READ),
        # Not REP's: another user, a role REP lacks or the policy does not know, a
        # department beside REP's.
        _share(5, five, GranteeKind.USER, PEER, Access.EDIT),
        _share(6, six, GranteeKind.ROLE, "boss", Access.EDIT),
        _share(7, seven, GranteeKind.ROLE, "ghost", Access.EDIT),
        _share(8, eight, GranteeKind.DEPARTMENT, WEST, Access.EDIT),
        # Shares never grant an operation no role holds.
        _share(9, one, GranteeKind.USER, REP, Access.EDIT),
    ]
    grants = _compile(_sharing_policy(shares), REP)
    assert _reached(grants, SHARED) == [1, 2, 3, 4]
    assert [t.id.int - 1000 for t in SHARED if grants.can("edit", t)] == [1, 2]
    assert [t.id.int - 1000 for t in SHARED if grants.can("export", t)] == [1, 2, 3, 4]
    assert not grants.can("delete", one)
    assert not grants.holds("delete", "ticket")
    assert grants.scope("edit", "ticket") == Or(
        (F("rep_id").eq(REP), F("id").is_in([one.id, two.id]))
    )
    assert grants.scope("view", "ticket") == Or(
        (F("rep_id").eq(REP), F("id").is_in([one.id, two.id, three.id, four.id]))
    )
    own = Reason("grant", _grant_text("rep", "edit", Scope.OWN), "rep")
    shared = Reason("share", LazyText("shared with the user ({count} record(s))", count=2), None)
    assert grants.explain("edit", two).reasons == (shared,)
    assert grants.explain("edit", _ticket(9, rep_id=REP)).reasons == (own,)
    assert grants.explain("edit", three).reasons == (
        Reason("out_of_scope", LazyText("outside the reach of: {source}", source=own.text), "rep"),
        Reason(
            "out_of_scope",
            LazyText("outside the reach of: {source}", source=shared.text),
            None,
        ),
    )
    # One record shared with the user: the set is a plain comparison.
    single = _compile(_sharing_policy(shares[:1]), REP)
    assert single.scope("view", "ticket") == Or((F("rep_id").eq(REP), F("id").eq(one.id)))


def test_sharing_rules_reach_the_records_matching_them() -> None:
    rules = [
        _rule("West to PEER", F("region").eq("West"), GranteeKind.USER, PEER, Access.EDIT),
        _rule(
            "East to the East team",
            F("region").eq("East"),
            GranteeKind.DEPARTMENT,
            EAST,
            Access.READ,
        ),
        _rule("South to reps", F("region").eq("South"), GranteeKind.ROLE, "rep", Access.EDIT),
        _rule("mine to me", F("team_id").eq("$my_department"), GranteeKind.USER, REP, Access.READ),
        _rule("North to bosses", F("region").eq("North"), GranteeKind.ROLE, "boss", Access.EDIT),
    ]
    records = [
        _ticket(1, rep_id=PEER, region="West"),
        _ticket(2, rep_id=PEER, region="East"),
        _ticket(3, rep_id=PEER, region="South"),
        _ticket(4, rep_id=PEER, team_id=SHANGHAI),
        _ticket(5, rep_id=PEER, region="North"),
    ]
    grants = _compile(_sharing_policy(rules=rules), REP)
    assert _reached(grants, records) == [2, 3, 4]
    assert [t.id.int - 1000 for t in records if grants.can("edit", t)] == [3]
    assert grants.scope("edit", "ticket") == Or((F("rep_id").eq(REP), F("region").eq("South")))
    assert grants.scope("view", "ticket") == Or(
        (
            F("rep_id").eq(REP),
            F("region").eq("East"),
            F("region").eq("South"),
            F("team_id").is_in([SHANGHAI]),
        )
    )
    assert grants.explain("view", records[1]).reasons == (
        Reason("sharing_rule", LazyText("sharing rule {name}", name="East to the East team")),
    )
    assert not grants.holds("delete", "ticket")


def test_records_nobody_owns_are_reached_by_owner_scopes_custom_conditions_and_shares() -> None:
    pooled = _ticket(1)
    policy = _sharing_policy(
        [_share(1, pooled, GranteeKind.USER, REP, Access.READ)],
        [_rule("East", F("region").eq("East"), GranteeKind.USER, REP, Access.READ)],
    )
    grants = _compile(policy, REP)
    # The owner scope places no unowned record, so it reaches them all.
    assert grants.unowned_scope("view", "ticket") == TRUE
    assert grants.unowned_scope("delete", "ticket") == FALSE
    custom = attrs.evolve(
        policy.roles["rep"],
        grants=[Grant("ticket", "view", Scope.CUSTOM, F("level").eq("A"))],
    )
    narrow = _compile(
        Policy(
            TENANT,
            members=policy.members.values(),
            roles=[custom],
            shares=policy.shares,
            sharing_rules=policy.sharing_rules,
        ),
        REP,
    )
    assert narrow.unowned_scope("view", "ticket") == Or(
        (F("level").eq("A"), F("id").eq(pooled.id), F("region").eq("East"))
    )
    assert narrow.unowned_scope("edit", "ticket") == FALSE
    tenant_wide = _scoped(Scope.TENANT, REP)
    assert tenant_wide.unowned_scope("view", "ticket") == TRUE


def test_restrict_narrows_a_query_to_the_scope() -> None:
    grants = _scoped(Scope.OWN, MID)
    assert grants.restrict(None, "view", "ticket") == Query(where=F("rep_id").eq(MID))
    query = Query(where=F("region").eq("East"), limit=5)
    assert grants.restrict(query, "view", "ticket") == Query(
        where=And((F("rep_id").eq(MID), F("region").eq("East"))), limit=5
    )
    assert grants.restrict(query, "edit", "ticket") == Query(where=FALSE, limit=5)


def test_a_denied_record_raises_with_the_decision() -> None:
    grants = _scoped(Scope.OWN, MID)
    theirs = _ticket(9, rep_id=PEER)
    grants.require("view", _ticket(2, rep_id=MID))
    grants.require_operation("view", "ticket")
    with pytest.raises(PermissionDenied) as caught:
        grants.require("view", theirs)
    assert caught.value.decision == grants.explain("view", theirs)
    assert caught.value.to_dict() == {
        "code": "permission_denied",
        "message": "u32 may not view ticket.",
        "actor": "u32",
        "operation": "view",
        "resource": "ticket",
        "field": None,
        "decision": "denied: outside the reach of: role r grants view within scope own",
    }
    with pytest.raises(PermissionDenied) as caught:
        grants.require("edit", {"id": theirs.id, "tenant_id": TENANT}, "ticket")
    assert caught.value.to_dict()["decision"] == "denied: no role grants edit on ticket"
    with pytest.raises(PermissionDenied) as caught:
        grants.require_operation("edit", "ticket")
    assert caught.value.to_dict() == {
        "code": "permission_denied",
        "message": "u32 may not edit ticket.",
        "actor": "u32",
        "operation": "edit",
        "resource": "ticket",
        "field": None,
        "decision": "denied: no role grants edit on ticket",
    }
    assert caught.value.decision == Decision(
        False, MID, "edit", "ticket", None, None, (_no_grant("edit", "ticket"),)
    )


def test_a_record_of_another_tenant_is_never_reached() -> None:
    grants = _scoped(Scope.TENANT, MID)
    foreign = Ticket(id=uuid.UUID(int=5), tenant_id=OTHER_TENANT, rep_id=MID)
    assert not grants.can("view", foreign)
    assert not grants.can("view", {"id": foreign.id, "tenant_id": OTHER_TENANT}, "ticket")
    assert grants.explain("view", foreign) == Decision(
        False,
        MID,
        "view",
        "ticket",
        foreign.id,
        None,
        (Reason("tenant", LazyText("the record belongs to another tenant")),),
    )
    with pytest.raises(PermissionDenied):
        grants.require("view", foreign)


def test_a_resource_no_registry_knows_is_owned_through_owner_id() -> None:
    policy = Policy(
        TENANT,
        members=[_member(MID, ("r",), department_id=EAST)],
        roles=[_role("r", Grant("memo", "view", Scope.DEPARTMENT))],
    )
    grants = _compile(policy, MID)
    mine = {"id": uuid.UUID(int=1), "tenant_id": TENANT, "owner_id": MID}
    east = {"id": uuid.UUID(int=2), "tenant_id": TENANT, "department_id": EAST}
    other = {"id": uuid.UUID(int=3), "tenant_id": TENANT, "rep_id": MID, "team_id": EAST}
    assert [grants.can("view", r, "memo") for r in (mine, east, other)] == [True, True, False]
    assert [grants.explain("view", r, "memo").allowed for r in (mine, east, other)] == [
        True,
        True,
        False,
    ]
    assert grants.scope("view", "memo") == Or((F("owner_id").eq(MID), F("department_id").eq(EAST)))


# -- field rules -------------------------------------------------------------------------

REG.register(
    ResourceSpec(
        "order",
        frozenset({"total", "total_key", "credit_limit", "limit_key", "limit_bucket", "digest"}),
        derived=(
            ("limit_bucket", ("order:limit_key",)),  # its own derived field, by resource
            ("digest", ()),  # declared without sources: only its own rules govern it
            ("limit_key", ("credit_limit",)),
            ("credit_limit", ("account:credit_limit",)),  # copied from the account
            ("total_key", ("order:total",)),  # its own field, named with the resource
        ),
    )
)
CLERK_RULES = (
    FieldRule("ticket", "phone", FieldAccess.HIDDEN),
    FieldRule("ticket", "custom.budget", FieldAccess.HIDDEN),
    FieldRule("ticket", "custom.margin", FieldAccess.HIDDEN),
    FieldRule("ticket", "region", FieldAccess.READ_ONLY),
    FieldRule("account", "credit_limit", FieldAccess.HIDDEN),
    FieldRule("order", "total", FieldAccess.READ_ONLY),
)


def _clerk(*extra: Role, roles: tuple[str, ...] = ("clerk", "ghost")) -> Grants:
    clerk = _role("clerk", Grant("ticket", "view", Scope.TENANT), rules=CLERK_RULES)
    policy = Policy(TENANT, members=[_member(REP, roles)], roles=[clerk, *extra])
    return _compile(policy, REP)


def test_fields_derived_from_a_restricted_field_follow_it() -> None:
    grants = _clerk()
    shown = {
        field: grants.field_access("ticket", field).name
        for field in (
            "phone",
            "phone_key",
            "phone_bucket",  # derived from phone_key, declared before it
            "region",
            "region.code",
            "custom",
            "custom.budget",
            "custom.budget.amount",
            "custom.tier",
            "team_id",
        )
    }
    assert shown == {
        "phone": "HIDDEN",
        "phone_key": "HIDDEN",
        "phone_bucket": "HIDDEN",
        "region": "READ_ONLY",
        "region.code": "READ_ONLY",
        "custom": "EDITABLE",
        "custom.budget": "HIDDEN",
        "custom.budget.amount": "HIDDEN",
        "custom.tier": "EDITABLE",
        "team_id": "EDITABLE",
    }
    assert grants.hidden_fields("ticket") == {
        "phone",
        "phone_key",
        "phone_bucket",
        "custom.budget",
        "custom.margin",
    }
    assert grants.field_access("order", "credit_limit") is FieldAccess.HIDDEN
    assert grants.field_access("order", "limit_key") is FieldAccess.HIDDEN
    assert grants.field_access("order", "total") is FieldAccess.READ_ONLY
    assert grants.field_access("order", "total_key") is FieldAccess.READ_ONLY
    assert grants.field_access("order", "limit_bucket") is FieldAccess.HIDDEN
    assert grants.field_access("order", "digest") is FieldAccess.EDITABLE
    assert grants.hidden_fields("order") == {"credit_limit", "limit_key", "limit_bucket"}
    assert grants.field_access("account", "credit_limit") is FieldAccess.HIDDEN
    assert grants.hidden_fields("memo") == frozenset()
    # Asked twice, the answers stay (the folded rules are kept per resource).
    assert grants.hidden_fields("ticket") == {
        "phone",
        "phone_key",
        "phone_bucket",
        "custom.budget",
        "custom.margin",
    }
    assert grants.field_access("ticket", "phone_bucket") is FieldAccess.HIDDEN


def test_another_role_without_the_rule_shows_the_field() -> None:
    plain = _role("plain", Grant("ticket", "view", Scope.OWN))
    grants = _clerk(plain, roles=("plain", "ghost", "clerk"))
    assert grants.roles == ("clerk", "plain")  # the roles the policy knows, sorted
    assert grants.hidden_fields("ticket") == frozenset()
    assert grants.field_access("ticket", "region") is FieldAccess.EDITABLE
    record = _ticket(1, phone="13800138000")
    assert grants.redact(record) is record
    assert grants.first_hidden("ticket", ["phone"]) is None


def test_a_field_copied_from_a_resource_without_rules_shows() -> None:
    role = _role(
        "r",
        Grant("order", "view", Scope.TENANT),
        rules=(FieldRule("ticket", "phone", FieldAccess.HIDDEN),),
    )
    grants = _compile(Policy(TENANT, members=[_member(REP, ("r",))], roles=[role]), REP)
    assert grants.field_access("order", "credit_limit") is FieldAccess.EDITABLE
    assert grants.hidden_fields("order") == frozenset()
    assert grants.hidden_fields("ticket") == {"phone", "phone_key", "phone_bucket"}


def test_a_resource_registered_anew_is_folded_anew() -> None:
    reg = Registry()
    reg.register(ResourceSpec("lead", frozenset({"phone", "phone_key"})))
    role = _role(
        "r",
        Grant("lead", "view", Scope.TENANT),
        rules=(FieldRule("lead", "phone", FieldAccess.HIDDEN),),
    )
    grants = compile_grants(
        Policy(TENANT, members=[_member(REP, ("r",))], roles=[role]), REP, reg=reg
    )
    assert grants.hidden_fields("lead") == {"phone"}
    reg.register(
        ResourceSpec(
            "lead", frozenset({"phone", "phone_key"}), derived=(("phone_key", ("phone",)),)
        )
    )
    assert grants.hidden_fields("lead") == {"phone", "phone_key"}
    assert grants.is_hidden("lead", "phone_key")


def test_a_write_to_a_restricted_field_is_refused_naming_it() -> None:
    grants = _clerk()
    grants.check_writable("ticket", ["team_id", "custom.tier"])
    grants.check_writable("ticket", [])
    for field, why in (
        ("region", "field {field} is read-only for this user"),
        ("phone_bucket", "field {field} is hidden from this user"),
        ("custom.budget.amount", "field {field} is hidden from this user"),
    ):
        with pytest.raises(PermissionDenied) as caught:
            grants.check_writable("ticket", ["team_id", field, "phone"])
        assert caught.value.to_dict() == {
            "code": "permission_denied",
            "message": f"u33 may not edit field {field} of ticket.",
            "actor": "u33",
            "operation": "edit",
            "resource": "ticket",
            "field": field,
            "decision": "denied: " + why.format(field=field),
        }
        assert caught.value.decision == Decision(
            False,
            REP,
            "edit",
            "ticket",
            None,
            field,
            (Reason("field", LazyText(why, field=field)),),
        )


def test_a_filter_or_sort_on_a_hidden_field_is_refused_naming_it() -> None:
    grants = _clerk()
    grants.check_readable("ticket", F("region").eq("East"), ["team_id", "custom.tier"])
    assert grants.can_filter("ticket", F("region").eq("East") & F("custom.tier").eq("A"))
    assert not grants.can_filter("ticket", F("region").eq("East"), ["phone_bucket"])
    assert not grants.can_filter("ticket", F("phone_key").eq("1"))
    assert grants.first_hidden("ticket", ["region", "custom.budget.amount", "phone"]) == (
        "custom.budget"
    )
    assert grants.first_hidden("ticket", ["region", "custom.tier"]) is None
    assert grants.first_hidden("memo", ["phone"]) is None
    for expr, order, field in (
        (F("phone_key").eq("1"), (), "phone_key"),
        (F("region").eq("East"), ("custom.margin.rate",), "custom.margin"),
    ):
        with pytest.raises(PermissionDenied) as caught:
            grants.check_readable("ticket", expr, order)
        assert caught.value.to_dict() == {
            "code": "permission_denied",
            "message": f"u33 may not view field {field} of ticket.",
            "actor": "u33",
            "operation": "view",
            "resource": "ticket",
            "field": field,
            "decision": f"denied: field {field} is hidden",
        }
        assert caught.value.decision == Decision(
            False,
            REP,
            "view",
            "ticket",
            None,
            field,
            (Reason("field", LazyText("field {field} is hidden", field=field)),),
        )


def test_redaction_blanks_hidden_fields_and_drops_hidden_entries() -> None:
    grants = _clerk()
    record = _ticket(
        1,
        rep_id=PEER,
        region="East",
        phone="13800138000",
        phone_key="8613800138000",
        phone_bucket="86138",
        custom=MappingProxyType({"budget": 5, "margin": 2, "tier": "gold"}),
    )
    shown = grants.redact(record)
    assert type(shown) is Ticket
    assert attrs.asdict(shown, recurse=False) == {
        **attrs.asdict(record, recurse=False),
        "phone": None,
        "phone_key": None,
        "phone_bucket": None,
        "custom": MappingProxyType({"tier": "gold"}),
    }
    assert type(shown.custom) is MappingProxyType
    assert record.phone == "13800138000"  # the record itself is left alone
    assert dict(record.custom) == {"budget": 5, "margin": 2, "tier": "gold"}
    # Entries a record lacks, or a mapping field it lacks, are simply not there.
    sparse = grants.redact(_ticket(2, custom=MappingProxyType({"tier": "gold"})))
    assert sparse.custom == {"tier": "gold"}
    assert grants.redact(_ticket(3, custom=None)).custom is None
    # A projection of a ticket without its custom fields, redacted as a ticket.
    summary = TicketSummary(id=uuid.UUID(int=4), tenant_id=TENANT, phone="13800138000")
    assert grants.redact(summary, "ticket") == TicketSummary(
        id=uuid.UUID(int=4), tenant_id=TENANT, phone=None
    )
    row = {"id": 1, "phone_bucket": "86138", "region": "East", "custom.budget.amount": 5}
    assert grants.redact(row, "ticket") == {"id": 1, "region": "East"}
    assert grants.visible_row(row, "ticket") == {"id": 1, "region": "East"}
    everyone = _clerk(roles=("ghost",))
    assert everyone.redact(record) is record
    assert everyone.visible_row(row, "ticket") == row
    assert everyone.visible_row(row, "ticket") is not row


@attrs.define
class Memo:
    """A record of an unregistered resource with none of the fields scopes read."""

    tenant_id: uuid.UUID
    region: str | None = None


def test_a_record_without_owner_department_or_id_is_reached_only_by_its_conditions() -> None:
    policy = Policy(
        TENANT,
        members=[_member(MID, ("r",), department_id=EAST)],
        roles=[
            _role(
                "r",
                Grant("memo", "view", Scope.DEPARTMENT),
                Grant("memo", "edit", Scope.CUSTOM, F("region").eq("East")),
            )
        ],
    )
    grants = _compile(policy, MID)
    east, west = Memo(TENANT, region="East"), Memo(TENANT, region="West")
    assert not grants.can("view", east, "memo")
    assert [grants.can("edit", m, "memo") for m in (east, west)] == [True, False]
    assert [grants.explain("edit", m, "memo").allowed for m in (east, west)] == [True, False]


def test_explain_reads_a_record_through_the_fields_can_reads() -> None:
    reg = Registry()
    reg.register(ResourceSpec("lead", frozenset({"rep_id"}), owner_field="rep_id"))
    role = _role("r", Grant("lead", "view", Scope.OWN))
    policy = Policy(TENANT, members=[_member(REP, ("r",))], roles=[role])
    grants = compile_grants(policy, REP, reg=reg)
    # The resource registered anew after compiling: the compiled grants answer alike.
    reg.register(ResourceSpec("lead", frozenset({"owner_id"})))
    lead = {"id": uuid.UUID(int=1), "tenant_id": TENANT, "rep_id": REP}
    assert grants.can("view", lead, "lead")
    assert grants.explain("view", lead, "lead").reasons == (
        Reason("grant", _grant_text("r", "view", Scope.OWN), "r"),
    )
