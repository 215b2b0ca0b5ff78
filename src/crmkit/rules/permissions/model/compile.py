"""Compiling a member's grants from the policy: roles, org chart, shares, sharing rules.

Cost is proportional to the member's grants, the tenant's org chart and the shares
the member receives — never to the number of records.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from crmkit.kernel.errors import LazyText
from crmkit.kernel.i18n import N_
from crmkit.kernel.query import Expr
from crmkit.rules.permissions.model.decisions import Reason
from crmkit.rules.permissions.model.grants import Grants
from crmkit.rules.permissions.model.org import AdminLevel
from crmkit.rules.permissions.model.policy import Policy
from crmkit.rules.permissions.model.reach import _Reach, _Source, _substitute
from crmkit.rules.permissions.model.resources import Registry, ResourceSpec, registry
from crmkit.rules.permissions.model.roles import FieldAccess, Scope
from crmkit.rules.permissions.model.sharing import GranteeKind

__all__ = ["compile_grants"]


def compile_grants(
    policy: Policy, user_id: UUID, *, reg: Registry | None = None, label: str | None = None
) -> Grants:
    """Compile what ``user_id`` may do in ``policy``'s tenant.

    Cost is proportional to the user's grants, the tenant's org chart and the shares
    the user receives — never to the number of records.

    Args:
        policy: the tenant's policy snapshot.
        user_id: the acting user.
        reg: the resource registry (default: the shared one).
        label: how errors name the actor (default: the member's name or the id).
    """
    reg = reg or registry
    member = policy.members.get(user_id)
    tenant = policy.tenant_id
    name = label or (member.name if member is not None and member.name else str(user_id))

    def uncompiled(
        admin: AdminLevel, roles: tuple[str, ...], why_not: tuple[Reason, ...]
    ) -> Grants:
        # Nothing to compile: an outsider reaches nothing, a tenant administrator everything.
        return Grants(
            tenant_id=tenant,
            user_id=user_id,
            label=name,
            admin=admin,
            roles=roles,
            epoch=policy.epoch,
            reach={},
            fields={},
            why_not=why_not,
            reg=reg,
        )

    super_admin = AdminLevel.SUPER if user_id in policy.super_admins else AdminLevel.NONE
    if member is None:
        why = Reason("inactive", LazyText(N_("not a member of this tenant")))
        return uncompiled(super_admin, (), (why,))
    if not member.active:
        why = Reason("inactive", LazyText(N_("the member is deactivated")))
        return uncompiled(super_admin, (), (why,))
    if member.admin is AdminLevel.TENANT:
        return uncompiled(AdminLevel.TENANT, member.roles, ())

    me = frozenset({user_id})
    own_dept = member.department_id
    dept_tree = policy.subtree(own_dept) if own_dept is not None else frozenset()
    team = policy.team(user_id)
    placeholders: dict[str, tuple[Any, ...]] = {
        "$me": (user_id,),
        "$my_department": () if own_dept is None else (own_dept,),
        "$my_departments": tuple(sorted(dept_tree)),
        "$my_team": tuple(sorted(team)),
    }
    roles = [policy.roles[code] for code in member.roles if code in policy.roles]
    role_codes = frozenset(r.code for r in roles)
    above = frozenset(policy.ancestors(own_dept)) if own_dept is not None else frozenset()

    sources: dict[tuple[str, str], list[_Source]] = defaultdict(list)
    for role in roles:
        for grant in role.grants:
            sources[(grant.resource, grant.operation)].append(
                _grant_source(
                    grant.scope,
                    grant.filter_expr,
                    role.code,
                    grant.operation,
                    me,
                    team,
                    own_dept,
                    dept_tree,
                    placeholders,
                )
            )

    def receives(kind: GranteeKind, grantee: str) -> bool:
        if kind is GranteeKind.USER:
            return grantee == str(user_id)
        if kind is GranteeKind.ROLE:
            return grantee in role_codes
        return any(grantee == str(d) for d in above)

    shared: dict[tuple[str, str], set[UUID]] = defaultdict(set)
    for share in policy.shares:
        if receives(share.grantee_kind, share.grantee):
            for operation in share.access.operations:
                shared[(share.resource, operation)].add(share.record_id)
    for key, ids in shared.items():
        if key in sources:
            sources[key].append(
                _Source(
                    "share",
                    LazyText(N_("shared with the user ({count} record(s))"), count=len(ids)),
                    None,
                    ids=frozenset(ids),
                )
            )
    for rule in policy.sharing_rules:
        if not receives(rule.grantee_kind, rule.grantee):
            continue
        condition = _substitute(rule.condition_expr, placeholders)
        for operation in rule.access.operations:
            key = (rule.resource, operation)
            if key in sources:
                sources[key].append(
                    _Source(
                        "sharing_rule",
                        LazyText(N_("sharing rule {name}"), name=rule.name),
                        None,
                        condition=condition,
                    )
                )

    reach: dict[tuple[str, str], _Reach] = {}
    for key, found in sources.items():
        spec = reg.find(key[0]) or ResourceSpec(key[0], frozenset())
        reach[key] = _Reach(spec, found)

    fields: dict[str, dict[str, FieldAccess]] = defaultdict(dict)
    ruled: dict[tuple[str, str], list[FieldAccess]] = defaultdict(list)
    for role in roles:
        for field_rule in role.field_rules:
            ruled[(field_rule.resource, field_rule.field)].append(field_rule.access)
    for (resource, field), accesses in ruled.items():
        # A role without a rule for a field shows it editable and roles only ever add, so
        # a field stays restricted only when every role of the member restricts it.
        best = FieldAccess.EDITABLE if len(accesses) < len(roles) else max(accesses)
        if best is not FieldAccess.EDITABLE:
            fields[resource][field] = best
    why_not: tuple[Reason, ...] = ()
    if not roles:
        why_not = (Reason("no_grant", LazyText(N_("the member holds no role"))),)
    return Grants(
        tenant_id=tenant,
        user_id=user_id,
        label=name,
        admin=super_admin,
        roles=tuple(sorted(role_codes)),
        epoch=policy.epoch,
        reach=reach,
        fields=dict(fields),
        why_not=why_not,
        reg=reg,
    )


def _grant_source(
    scope: Scope,
    custom: Expr | None,
    role: str,
    operation: str,
    me: frozenset[UUID],
    team: frozenset[UUID],
    own_dept: UUID | None,
    dept_tree: frozenset[UUID],
    placeholders: Mapping[str, tuple[Any, ...]],
) -> _Source:
    text = LazyText(
        N_("role {role} grants {operation} within scope {scope}"),
        role=role,
        operation=operation,
        scope=scope.value,
    )
    if scope is Scope.TENANT:
        return _Source("grant", text, role, everything=True)
    if scope is Scope.SUBORDINATES:
        return _Source("grant", text, role, owners=team)
    if scope is Scope.DEPARTMENT:
        depts = frozenset() if own_dept is None else frozenset({own_dept})
        return _Source("grant", text, role, owners=me, departments=depts)
    if scope is Scope.DEPARTMENT_TREE:
        return _Source("grant", text, role, owners=me, departments=dept_tree)
    if custom is not None:  # only a custom scope carries a filter (Grant checks it)
        return _Source("grant", text, role, owners=me, condition=_substitute(custom, placeholders))
    return _Source("grant", text, role, owners=me)
