"""Roles: defining and deleting them, and replacing their grants from the matrix."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import attrs

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import NotFound
from crmkit.kernel.query import F, Query
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions.guard import administer
from crmkit.rules.permissions.model import (
    FieldRule,
    Grant,
    Grants,
    MatrixRow,
    Member,
    Role,
    registry,
)
from crmkit.rules.permissions.model.matrix import _grants_from_rows

__all__ = ["define_role", "delete_role", "import_matrix"]


def define_role(
    crm: Crm,
    actor: Actor,
    code: str,
    *,
    name: str = "",
    grants: Sequence[Grant] = (),
    field_rules: Sequence[FieldRule] = (),
) -> Role:
    """Create a role, or replace the grants and field rules of the role with this code.

    Everything is checked against the resource registry here, at definition time.

    Raises:
        ValidationError: an unknown resource, operation or field, a bad filter, or a
            (resource, operation) granted twice with different scopes.
        PermissionDenied: the actor does not administer the tenant.
    """
    candidate = Role(
        id=UUID(int=0),
        tenant_id=actor.tenant_id,
        code=code,
        name=name,
        grants=tuple(grants),
        field_rules=tuple(field_rules),
    )
    candidate.validate(registry)

    def work(uow: UnitOfWork, _grants: Grants) -> Role:
        repo = uow.repository(Role)
        found = repo.query(Query(where=F("code").eq(code)))
        if found:
            role = found[0]
            role.name, role.grants, role.field_rules = name, candidate.grants, candidate.field_rules
            return repo.save(role)
        return repo.add(attrs.evolve(candidate, id=crm.new_id()))

    return administer(crm, actor, work, target="role")


def delete_role(crm: Crm, actor: Actor, code: str) -> None:
    """Delete a role and take it away from every member holding it.

    Raises:
        NotFound: no role with that code.
    """

    def work(uow: UnitOfWork, _grants: Grants) -> None:
        repo = uow.repository(Role)
        found = repo.query(Query(where=F("code").eq(code)))
        if not found:
            raise NotFound(entity="role", id=code)
        members = uow.repository(Member)
        for member in members.query():
            if code in member.roles:
                member.roles = tuple(r for r in member.roles if r != code)
                members.save(member)
        repo.delete(found[0])

    administer(crm, actor, work, target="role")


def import_matrix(crm: Crm, actor: Actor, rows: Sequence[MatrixRow]) -> list[Role]:
    """Replace the grants of every role named in ``rows`` (field rules are kept).

    Raises:
        ImportRejected: listing every bad row; nothing was changed.
        PermissionDenied: the actor does not administer the tenant.
    """
    by_role = _grants_from_rows(rows)

    def work(uow: UnitOfWork, _grants: Grants) -> list[Role]:
        repo = uow.repository(Role)
        existing = {r.code: r for r in repo.query(Query())}
        changed: list[Role] = []
        for code, grants in sorted(by_role.items()):
            role = existing.get(code)
            if role is None:
                changed.append(
                    repo.add(
                        Role(id=crm.new_id(), tenant_id=actor.tenant_id, code=code, grants=grants)
                    )
                )
            else:
                role.grants = tuple(grants)
                changed.append(repo.save(role))
        return changed

    return administer(crm, actor, work, target="role")
