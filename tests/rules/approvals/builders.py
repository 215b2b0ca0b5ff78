"""Builders for approval tests: a small org chart and the flows the issue describes."""

from __future__ import annotations

import uuid
from decimal import Decimal

import attrs

from crmkit import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.money import Money
from crmkit.kernel.query import F
from crmkit.rules.approvals import (
    ApprovalFlow,
    Approvers,
    Deadline,
    FlowStage,
    InMemoryDirectory,
    Rule,
    define_flow,
)


@attrs.frozen
class Org:
    """A sales rep, their manager, the manager's manager, a department head,
    finance people and a sales director — and the directory that knows them."""

    tenant: TenantId
    rep: Actor
    manager: Actor
    vp: Actor
    head: Actor
    finance: tuple[Actor, ...]
    director: Actor
    outsider: Actor
    directory: InMemoryDirectory


def manager_id(tenant: TenantId) -> UserId:
    """The manager of every test org of ``tenant``: also the tenant's administrator, who
    may define approval flows (see conftest.py)."""
    return UserId(uuid.uuid5(tenant, "manager"))


def make_org(tenant: TenantId) -> Org:
    def person(name: str) -> Actor:
        return Actor(tenant, UserId(uuid.uuid4()), name)

    rep, vp, head, director, outsider = (
        person(n) for n in ("李娜", "赵总", "钱主任", "孙总监", "路人")
    )
    manager = Actor(tenant, manager_id(tenant), "王经理")
    finance = (person("财务甲"), person("财务乙"), person("财务丙"))
    department = uuid.uuid4()
    directory = InMemoryDirectory(
        managers={rep.user_id: manager.user_id, manager.user_id: vp.user_id},
        roles={
            "finance": [f.user_id for f in finance],
            "sales_director": [director.user_id],
            "empty": [],
        },
        departments={rep.user_id: department, manager.user_id: department},
        heads={department: head.user_id},
    )
    return Org(tenant, rep, manager, vp, head, finance, director, outsider, directory)


HOST_DOCUMENT = "purchase_request"
"""A document type the host keeps itself (no area stores it), so tests may submit any
id under it; an area's type (``contract``) takes only ids the area stores."""


def contract_flow(crm: Crm, org: Org, **options: object) -> ApprovalFlow:
    """Manager, then finance (2 of 3) for documents over CNY 100,000, then the
    sales director for discounts over 15 %: a contract-style flow over the host's
    own document type (:data:`HOST_DOCUMENT`)."""
    return define_flow(
        crm,
        org.manager,
        name="合同审批",
        document_type=HOST_DOCUMENT,
        stages=[
            FlowStage(
                "manager",
                [Approvers.manager()],
                remind_after=Deadline.business_hours(4),
                escalate_after=Deadline.business_hours(8),
            ),
            FlowStage(
                "finance",
                [Approvers.of_role("finance")],
                rule=Rule.N_OF_M,
                quorum=2,
                when=F("amount").gt(Money("100000", "CNY")),
            ),
            FlowStage(
                "director",
                [Approvers.of_role("sales_director")],
                when=F("discount").gt(Decimal("0.15")),
            ),
        ],
        **options,  # type: ignore[arg-type]
    )
