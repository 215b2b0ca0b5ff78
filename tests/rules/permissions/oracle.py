"""A slow, obviously-correct reference evaluator of docs/permissions.md, for tests only.

It answers "may this user do this operation to this customer?" and "how does this field
show to them?" straight from the policy's plain data, one rule of the docs at a time:
no compiled sets, no expressions, no code shared with ``compile_grants``. The team is
found by walking each member's manager chain upwards, sub-departments by walking each
department's parents upwards, and the custom filters of ``strategies.CUSTOM_FILTERS`` are
written again below as plain Python. Where the two disagree, one of them is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from crmkit.customers import Customer
from crmkit.rules.permissions import AdminLevel, GranteeKind, Policy, Scope
from tests.rules.permissions.strategies import CUSTOM_FILTERS

# What each share access level lets the grantee do (docs: "read (view, print, export) or edit").
READ = {"view", "print", "export"}
SHARE_OPERATIONS = {"read": READ, "edit": READ | {"edit"}}
# The most permissive field rule wins; a role without a rule shows the field editable.
PERMISSIVENESS = {"HIDDEN": 0, "READ_ONLY": 1, "EDITABLE": 2}


class Me:
    """The acting user's facts the docs' placeholders stand for."""

    def __init__(self, policy: Policy, user: UUID) -> None:
        self.user = user
        self.member = policy.members.get(user)
        self.department = None if self.member is None else self.member.department_id
        self.team = {user} | {
            m.id for m in policy.members.values() if _reports_to(policy, m.id, user)
        }
        self.departments = (
            set()
            if self.department is None
            else {d for d in policy.departments if _is_within(policy, d, self.department)}
        )


def _reports_to(policy: Policy, user: UUID, manager: UUID) -> bool:
    """Whether ``manager`` is somewhere up ``user``'s manager chain (loops end the walk)."""
    seen: set[UUID] = set()
    current = policy.members.get(user)
    while current is not None and current.manager_id is not None and current.id not in seen:
        seen.add(current.id)
        if current.manager_id == manager:
            return True
        current = policy.members.get(current.manager_id)
    return False


def _is_within(policy: Policy, department: UUID | None, top: UUID) -> bool:
    """Whether ``department`` is ``top`` or below it (walking parents upwards)."""
    seen: set[UUID] = set()
    current = department
    while current is not None and current not in seen:
        if current == top:
            return True
        seen.add(current)
        dept = policy.departments.get(current)
        current = None if dept is None else dept.parent_id
    return False


def _filters(me: Me) -> list[Callable[[Customer], bool]]:
    """CUSTOM_FILTERS, in the same order, as plain Python (a missing value never matches)."""
    return [
        lambda c: c.region == "East",
        lambda c: c.level in ("A", "B") and c.region != "West",
        lambda c: c.department_id is not None and c.department_id == me.department,
        lambda c: c.department_id is not None and c.department_id in me.departments,
        lambda c: c.owner_id is not None and c.owner_id in me.team,
        lambda c: c.owner_id is not None and c.owner_id != me.user,
        lambda c: c.name.startswith("c1"),
    ]


def _matches(expr: Any, me: Me, customer: Customer) -> bool:
    return _filters(me)[CUSTOM_FILTERS.index(expr)](customer)


def _receives(policy: Policy, me: Me, kind: GranteeKind, grantee: str) -> bool:
    assert me.member is not None
    if kind is GranteeKind.USER:
        return grantee == str(me.user)
    if kind is GranteeKind.ROLE:
        return grantee in me.member.roles and grantee in policy.roles
    # A department share reaches its members and the members of its sub-departments.
    return me.department is not None and _is_within(policy, me.department, UUID(grantee))


def _grant_reaches(scope: Scope, custom: Any, me: Me, customer: Customer) -> bool:
    owned = customer.owner_id is not None and customer.owner_id == me.user
    if scope is Scope.TENANT:
        return True
    if scope is Scope.OWN:
        return owned
    if scope is Scope.SUBORDINATES:
        return customer.owner_id is not None and customer.owner_id in me.team
    if scope is Scope.DEPARTMENT:
        return owned or (
            customer.department_id is not None and customer.department_id == me.department
        )
    if scope is Scope.DEPARTMENT_TREE:
        return owned or (
            customer.department_id is not None and customer.department_id in me.departments
        )
    assert scope is Scope.CUSTOM
    return owned or (custom is not None and _matches(custom, me, customer))


def reference_can(policy: Policy, user: UUID, operation: str, customer: Customer) -> bool:
    """The docs' verdict for ``user`` doing ``operation`` to ``customer``."""
    me = Me(policy, user)
    if me.member is None or not me.member.active:
        return False
    if me.member.admin is AdminLevel.TENANT:
        return True
    roles = [policy.roles[code] for code in me.member.roles if code in policy.roles]
    grants = [
        g for r in roles for g in r.grants if (g.resource, g.operation) == ("customer", operation)
    ]
    if not grants:  # shares never grant an operation no role holds
        return False
    if any(_grant_reaches(g.scope, g.filter_expr, me, customer) for g in grants):
        return True
    for share in policy.shares:
        if (
            share.resource == "customer"
            and share.record_id == customer.id
            and operation in SHARE_OPERATIONS[share.access.value]
            and _receives(policy, me, share.grantee_kind, share.grantee)
        ):
            return True
    return any(
        rule.resource == "customer"
        and operation in SHARE_OPERATIONS[rule.access.value]
        and _receives(policy, me, rule.grantee_kind, rule.grantee)
        and _matches(rule.condition_expr, me, customer)
        for rule in policy.sharing_rules
    )


def reference_field_access(policy: Policy, user: UUID, field: str) -> str:
    """``HIDDEN``, ``READ_ONLY`` or ``EDITABLE``: how a customer field shows to ``user``."""
    member = policy.members.get(user)
    if member is None or not member.active or member.admin is AdminLevel.TENANT:
        return "EDITABLE"
    roles = [policy.roles[code] for code in member.roles if code in policy.roles]
    best = None
    for role in roles:
        rules = [r for r in role.field_rules if (r.resource, r.field) == ("customer", field)]
        access = rules[0].access.name if rules else "EDITABLE"
        best = access if best is None or PERMISSIVENESS[access] > PERMISSIVENESS[best] else best
    return best or "EDITABLE"
