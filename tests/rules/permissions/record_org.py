"""A tenant to probe record checks with: reps in two departments, a manager, finance, an
analyst, a stranger and a second tenant (shared by the record-check tests of issue 14).

- ``li`` (East) and ``chen`` (North) are reps: their own customers, deals, documents
  and receipts.
- ``wang`` manages ``li`` (East): the same resources over his team, and ``approve``.
- ``zhao`` (Finance) records, confirms and allocates every receipt and views every
  customer and installment.
- ``qian`` (Analytics) views everything, but her role hides opportunity ``amount``,
  installment ``amount`` and customer ``credit_limit``.
- ``stranger`` carries the tenant's id but is no member of it; ``outsider`` is the
  administrator of another tenant.
"""

from __future__ import annotations

import uuid
from datetime import date

import attrs

from crmkit import Crm
from crmkit.customers import register_customer
from crmkit.customers.model import Customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.money import Money
from crmkit.pipeline import define_sales_process, open_opportunity
from crmkit.pipeline.model.opportunities import Opportunity, default_process
from crmkit.pipeline.model.pricing import PriceListItem
from crmkit.pipeline.services import define_price_list
from crmkit.rules.permissions import (
    FieldAccess,
    FieldRule,
    Grant,
    Scope,
    bootstrap_tenant,
    define_department,
    define_role,
    set_member,
)

SALES = ("customer", "opportunity", "quote", "contract", "sales_order")
SALES_OPS = ("view", "create", "edit")
MONEY = ("receipt", "installment", "billing_plan")


@attrs.frozen
class Org:
    admin: Actor
    li: Actor
    wang: Actor
    chen: Actor
    zhao: Actor
    qian: Actor
    stranger: Actor
    outsider: Actor
    process_id: uuid.UUID


def _grants(scope: Scope, *, approve: bool = False) -> list[Grant]:
    grants = [Grant(r, op, scope) for r in SALES for op in SALES_OPS]
    grants += [Grant(r, "view", scope) for r in MONEY]
    grants += [Grant("receipt", op, scope) for op in ("create", "allocate")]
    grants += [Grant("invoice", op, scope) for op in ("view", "create", "cancel")]
    grants += [Grant("refund", "create", scope), Grant("billing_plan", "create", scope)]
    if approve:
        grants += [Grant(r, "approve", scope) for r in ("quote", "contract", "sales_order")]
    return grants


def make_org(crm: Crm, admin: Actor) -> Org:
    """Build the org in ``admin``'s tenant (``admin`` administers it)."""
    define_role(crm, admin, "rep", grants=_grants(Scope.OWN))
    define_role(crm, admin, "manager", grants=_grants(Scope.SUBORDINATES, approve=True))
    define_role(
        crm,
        admin,
        "finance",
        grants=[
            Grant("customer", "view", Scope.TENANT),
            *(Grant("receipt", op, Scope.TENANT) for op in ("view", "create", "confirm")),
            Grant("receipt", "allocate", Scope.TENANT),
            Grant("installment", "view", Scope.TENANT),
            Grant("billing_plan", "view", Scope.TENANT),
        ],
        field_rules=[
            FieldRule("customer", "phone", FieldAccess.HIDDEN),
            FieldRule("customer", "email", FieldAccess.HIDDEN),
        ],
    )
    define_role(
        crm,
        admin,
        "analyst",
        grants=[Grant(r, "view", Scope.TENANT) for r in (*SALES, *MONEY)],
        field_rules=[
            FieldRule("opportunity", "amount", FieldAccess.HIDDEN),
            FieldRule("installment", "amount", FieldAccess.HIDDEN),
            FieldRule("customer", "credit_limit", FieldAccess.HIDDEN),
        ],
    )
    east = define_department(crm, admin, "East")
    north = define_department(crm, admin, "North")
    finance = define_department(crm, admin, "Finance")
    analytics = define_department(crm, admin, "Analytics")

    def person(name: str) -> Actor:
        return Actor(tenant_id=admin.tenant_id, user_id=UserId(uuid.uuid4()), name=name)

    li, wang, chen, zhao, qian = (person(n) for n in ("Li", "Wang", "Chen", "Zhao", "Qian"))
    set_member(crm, admin, wang.user_id, name=wang.name, department_id=east.id, roles=["manager"])
    set_member(
        crm,
        admin,
        li.user_id,
        name=li.name,
        department_id=east.id,
        manager_id=wang.user_id,
        roles=["rep"],
    )
    set_member(crm, admin, chen.user_id, name=chen.name, department_id=north.id, roles=["rep"])
    set_member(
        crm, admin, zhao.user_id, name=zhao.name, department_id=finance.id, roles=["finance"]
    )
    set_member(
        crm, admin, qian.user_id, name=qian.name, department_id=analytics.id, roles=["analyst"]
    )
    other = TenantId(uuid.uuid4())
    outsider = Actor(tenant_id=other, user_id=UserId(uuid.uuid4()), name="Outsider")
    bootstrap_tenant(crm, other, outsider.user_id, outsider.name)
    process = define_sales_process(
        crm, admin, "standard", default_process(admin.tenant_id, uuid.uuid4()).stages
    )
    define_price_list(
        crm,
        admin,
        name="2026",
        currency="CNY",
        valid_from=date(2026, 1, 1),
        items=[PriceListItem("GATEWAY", "Gateway", Money("5800.00", "CNY"))],
    )
    return Org(
        admin=admin,
        li=li,
        wang=wang,
        chen=chen,
        zhao=zhao,
        qian=qian,
        stranger=person("Stranger"),
        outsider=outsider,
        process_id=process.id,
    )


def customer_of(crm: Crm, owner: Actor, **fields: object) -> Customer:
    """A customer registered (and so owned) by ``owner``."""
    return register_customer(crm, owner, name=f"Customer {uuid.uuid4().hex[:8]}", **fields)  # type: ignore[arg-type]


def deal_of(
    crm: Crm, org: Org, owner: Actor, customer: Customer, amount: str = "200000"
) -> Opportunity:
    """An open deal of ``owner`` with ``customer``."""
    return open_opportunity(
        crm,
        owner,
        customer_id=customer.id,
        name="Retrofit",
        amount=Money(amount, "CNY"),
        process_id=org.process_id,
    )
