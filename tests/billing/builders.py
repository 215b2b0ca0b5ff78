"""Builders for billing tests: documents, the 30/60/10 terms, a plan for a customer."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from crmkit import Crm
from crmkit.billing import DocumentRef, PlanView, TermLine, create_plan
from crmkit.kernel.actor import Actor
from crmkit.kernel.money import Money

TERMS_30_60_10 = (
    TermLine("on signing", percent="30"),
    TermLine("on delivery", percent="60", milestone="delivery"),
    TermLine("after acceptance", percent="10", milestone="acceptance", days=90),
)


def stored_customer(crm: Crm, actor: Actor, name: str = "开票客户") -> uuid.UUID:
    """A customer of ``actor``'s, stored: invoices follow their customer's permissions."""
    from crmkit.customers import register_customer

    return register_customer(crm, actor, name=name).id


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


def make_plan(
    crm: Crm,
    actor: Actor,
    *,
    signed: date = date(2026, 1, 5),
    delivered: date | None = date(2026, 2, 5),
    accepted: date | None = date(2026, 2, 20),
    **document: Any,
) -> PlanView:
    """A 30/60/10 plan; milestones left as ``None`` stay undated."""
    milestones = {"signing": signed, "delivery": delivered, "acceptance": accepted}
    return create_plan(
        crm,
        actor,
        make_document(**document),
        terms=TERMS_30_60_10,
        milestones={k: v for k, v in milestones.items() if v is not None},
    )
