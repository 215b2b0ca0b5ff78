"""A small sales team for customer tests: an administrator, a manager and two reps."""

from __future__ import annotations

import uuid

import attrs

from crmkit import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.ids import UserId
from crmkit.rules.permissions import Grant, Scope, define_role, set_member

REP_OPERATIONS = ("view", "create", "edit", "claim", "release", "transfer", "delete")
MANAGER_OPERATIONS = (*REP_OPERATIONS, "assign", "recall", "restore", "purge")


@attrs.frozen
class Team:
    admin: Actor
    manager: Actor
    li: Actor
    wang: Actor


def make_team(crm: Crm, admin: Actor) -> Team:
    """Reps ``li`` and ``wang`` (own scope, may claim) report to ``manager`` (subordinates)."""
    define_role(
        crm,
        admin,
        "rep",
        grants=[Grant("customer", op, Scope.OWN) for op in REP_OPERATIONS],
    )
    define_role(
        crm,
        admin,
        "manager",
        grants=[Grant("customer", op, Scope.SUBORDINATES) for op in MANAGER_OPERATIONS],
    )

    def person(name: str) -> Actor:
        return Actor(tenant_id=admin.tenant_id, user_id=UserId(uuid.uuid4()), name=name)

    manager, li, wang = person("Manager Zhao"), person("Li Na"), person("Wang Fang")
    set_member(crm, admin, manager.user_id, name=manager.name, roles=["manager"])
    for rep in (li, wang):
        set_member(
            crm, admin, rep.user_id, name=rep.name, roles=["rep"], manager_id=manager.user_id
        )
    return Team(admin=admin, manager=manager, li=li, wang=wang)
