"""A tenant with field rules, for the field-level permission tests.

- ``rep`` (Li) owns the customers and deals and sees every field of them;
- ``clerk`` (finance, Zhao) views and exports every customer and contact, but their
  role hides customer ``phone`` and ``email`` and contact ``phones``;
- ``analyst`` (Qian) views every customer, deal and installment, but their role hides
  deal ``amount``, installment ``amount`` and customer ``credit_limit``.
"""

from __future__ import annotations

import uuid

import attrs

from crmkit import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.ids import UserId
from crmkit.rules.permissions import (
    FieldAccess,
    FieldRule,
    Grant,
    Scope,
    define_role,
    set_member,
)

HIDDEN = FieldAccess.HIDDEN
REP_RESOURCES = ("customer", "contact", "opportunity", "lead", "installment", "billing_plan")


@attrs.frozen
class FieldTeam:
    admin: Actor
    rep: Actor
    clerk: Actor
    analyst: Actor


def make_field_team(crm: Crm, admin: Actor) -> FieldTeam:
    define_role(
        crm,
        admin,
        "rep",
        grants=[
            Grant(resource, op, Scope.OWN)
            for resource in REP_RESOURCES
            for op in ("view", "create", "edit", "export")
        ],
    )
    define_role(
        crm,
        admin,
        "finance_clerk",
        grants=[
            Grant(resource, op, Scope.TENANT)
            for resource in ("customer", "contact")
            for op in ("view", "export")
        ],
        field_rules=[
            FieldRule("customer", "phone", HIDDEN),
            FieldRule("customer", "email", HIDDEN),
            FieldRule("contact", "phones", HIDDEN),
        ],
    )
    define_role(
        crm,
        admin,
        "analyst",
        grants=[
            Grant(resource, "view", Scope.TENANT)
            for resource in ("customer", "contact", "opportunity", "installment")
        ],
        field_rules=[
            FieldRule("opportunity", "amount", HIDDEN),
            FieldRule("installment", "amount", HIDDEN),
            FieldRule("customer", "credit_limit", HIDDEN),
        ],
    )

    def person(name: str, role: str) -> Actor:
        who = Actor(tenant_id=admin.tenant_id, user_id=UserId(uuid.uuid4()), name=name)
        set_member(crm, admin, who.user_id, name=name, roles=[role])
        return who

    return FieldTeam(
        admin=admin,
        rep=person("Li", "rep"),
        clerk=person("Zhao", "finance_clerk"),
        analyst=person("Qian", "analyst"),
    )
