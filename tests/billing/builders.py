"""Builders for billing tests: documents, the 30/60/10 terms, a plan for a customer."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from typing import Any

from crmkit import Crm
from crmkit.billing import DocumentRef, PlanView, TermLine, create_plan
from crmkit.customers import register_customer
from crmkit.customers.model import Customer, CustomerId
from crmkit.kernel.actor import Actor
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.money import Money
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import AdminLevel, set_member

TERMS_30_60_10 = (
    TermLine("on signing", percent="30"),
    TermLine("on delivery", percent="60", milestone="delivery"),
    TermLine("after acceptance", percent="10", milestone="acceptance", days=90),
)


def make_document(total: str = "100000.00", currency: str = "CNY", **fields: Any) -> DocumentRef:
    """A contract reference for a fresh customer unless ``customer_id`` is given."""
    values: dict[str, Any] = {
        "document_type": "contract",
        "document_id": uuid.uuid4(),
        "customer_id": uuid.uuid4(),
        "owner_id": uuid.uuid4(),
        "total": Money(total, currency),
        "number": "HT-001",
    }
    values.update(fields)
    return DocumentRef(**values)


def make_customer(crm: Crm, actor: Actor, **fields: Any) -> Customer:
    """A customer registered by ``actor`` (and so theirs)."""
    return register_customer(crm, actor, name=f"客户 {uuid.uuid4().hex[:8]}", **fields)


def seed_customers(crm: Crm, tenant_id: TenantId, ids: Iterable[uuid.UUID]) -> None:
    """Store customers with the given (fixed) ids, for tests that name customers by id."""

    def work(uow: UnitOfWork) -> None:
        for customer_id in ids:
            uow.repository(Customer).add_if_absent(
                Customer(
                    id=CustomerId(customer_id),
                    tenant_id=tenant_id,
                    name=f"客户 {customer_id.int}",
                    created_at=crm.now(),
                )
            )

    crm.run(tenant_id, work)


def second_admin(crm: Crm, actor: Actor) -> Actor:
    """Another administrator of ``actor``'s tenant: nobody approves their own refund or
    expense claim, so a test that asks as ``actor`` approves as this one."""
    user = UserId(uuid.uuid5(actor.tenant_id, "second admin"))
    set_member(crm, actor, user, name="财务 复核", admin=AdminLevel.TENANT)
    return Actor(actor.tenant_id, user, "财务 复核")


def make_plan(
    crm: Crm,
    actor: Actor,
    *,
    signed: date = date(2026, 1, 5),
    delivered: date | None = date(2026, 2, 5),
    accepted: date | None = date(2026, 2, 20),
    **document: Any,
) -> PlanView:
    """A 30/60/10 plan; milestones left as ``None`` stay undated.

    Without ``customer_id`` the plan is for a customer registered here: money commands
    name customers that exist and that the actor may view.
    """
    if "customer_id" not in document:
        document["customer_id"] = make_customer(crm, actor).id
    milestones = {"signing": signed, "delivery": delivered, "acceptance": accepted}
    return create_plan(
        crm,
        actor,
        make_document(**document),
        terms=TERMS_30_60_10,
        milestones={k: v for k, v in milestones.items() if v is not None},
    )
