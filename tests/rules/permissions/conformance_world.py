"""The world the conformance suite probes: one tenant, rep A's records, and the probe actors.

Rep A owns one record of every kind the service catalog names. The probes are
people who must not reach those records, or must not see some of their fields:

- ``peer``: another rep in A's department (every operation, own scope);
- ``other_dept``: a rep in another department;
- ``other_manager``: the manager of ``other_dept`` (subordinates scope);
- ``clerk``: finance, views everything but customer phone/email and contact phones;
- ``analyst``: views everything but deal amounts, installment amounts and credit limits;
- ``other_tenant``: the administrator of a second tenant;
- ``non_member``: a user the tenant never admitted.

Rep A's values are distinctive (phone ``13912345678``, deal amount ``987654.32``), so
a deep scan of any result finds them wherever they leak.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

from crmkit import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.money import Money
from crmkit.rules.permissions import (
    FieldAccess,
    FieldRule,
    Grant,
    Scope,
    bootstrap_tenant,
    define_department,
    define_role,
    registry,
    set_member,
)

TODAY = date(2026, 3, 2)
NOW = datetime.fromisoformat("2026-03-02T09:00:00+00:00")

PHONE = "13912345678"
CONTACT_PHONE = "13787654321"
# A second phone: its own caller-ID key column must be hidden with the phones too.
CONTACT_PHONE_2 = "13765432198"
EMAIL = "alpha.secret@example.com"
DEAL_AMOUNT = "987654.32"
CREDIT_LIMIT = "555444.33"
CONTRACT_AMOUNT = "246913.58"  # 30% / 70% installments below, distinct from any total
INSTALLMENTS = ("74074.07", "172839.51")
WON_AMOUNT = "424242.42"  # a won deal of rep A's: commission and targets count it
TARGET = "313131.31"  # rep A's target for the month
MARKER = "ALPHA7731"  # in every name and title rep A gives a record

PROBES = (
    "peer",
    "other_dept",
    "other_manager",
    "clerk",
    "analyst",
    "other_tenant",
    "non_member",
)
# Probes that must not reach rep A's records at all.
SCOPE_PROBES = ("peer", "other_dept", "other_manager", "other_tenant", "non_member")
# Probes that see rep A's records, but not some of their fields.
FIELD_PROBES = ("clerk", "analyst")


def _amount_forms(value: str) -> tuple[str, ...]:
    whole, _, cents = value.partition(".")
    grouped = f"{int(whole):,}.{cents}"
    return (value, grouped)


def _phone_forms(value: str) -> tuple[str, ...]:
    # The phone itself and its reversed-digit lookup key (phone_key).
    return (value, value[::-1])


HIDDEN = {
    "clerk": (
        *_phone_forms(PHONE),
        *_phone_forms(CONTACT_PHONE),
        *_phone_forms(CONTACT_PHONE_2),
        EMAIL,
    ),
    "analyst": (
        *_amount_forms(DEAL_AMOUNT),
        *_amount_forms(WON_AMOUNT),
        *_amount_forms(CREDIT_LIMIT),
        *(form for amount in INSTALLMENTS for form in _amount_forms(amount)),
    ),
}
# Everything distinctive of rep A's records: no scope probe may see any of it.
OWN_SECRETS = (
    MARKER,
    *HIDDEN["clerk"],
    *HIDDEN["analyst"],
    *_amount_forms(CONTRACT_AMOUNT),
    *_amount_forms(TARGET),
)


@attrs.define
class World:
    """One backend's world: the handle, the actors and rep A's records by kind."""

    crm: Crm
    tenant: TenantId
    admin: Actor
    rep_a: Actor
    probes: dict[str, Actor]
    records: dict[str, Any] = attrs.field(factory=dict)  # kind -> rep A's record (or value)
    config: dict[str, Any] = attrs.field(factory=dict)  # tenant configuration, owned by nobody
    process_id: uuid.UUID | None = None
    dirty: bool = False

    def record_id(self, kind: str) -> Any:
        """The id of rep A's record of ``kind`` (``member``: rep A's user id)."""
        if kind == "member":
            return self.rep_a.user_id
        found = self.records.get(kind)
        if found is None:
            return None
        return getattr(found, "id", found)

    def config_id(self, kind: str) -> Any:
        """The id of the tenant configuration object of ``kind`` the world defined."""
        found = self.config.get(kind)
        return None if found is None else found.id

    def own_ids(self) -> set[uuid.UUID]:
        """Every id of rep A's records."""
        ids = {self.rep_a.user_id}
        for value in self.records.values():
            found = getattr(value, "id", value)
            if isinstance(found, uuid.UUID):
                ids.add(found)
        return ids

    def stored(self) -> Iterator[tuple[type[Any], uuid.UUID]]:
        """(entity class, id) of every stored aggregate of rep A's."""
        for value in self.records.values():
            if attrs.has(type(value)) and isinstance(getattr(value, "id", None), uuid.UUID):
                yield type(value), value.id

    def snapshot(self) -> dict[str, str]:
        """Rep A's stored records as text, to tell whether a refused write changed one."""
        from crmkit.kernel.query import F, Query

        by_type: dict[type[Any], list[uuid.UUID]] = {}
        for entity, record_id in self.stored():
            by_type.setdefault(entity, []).append(record_id)

        def work(uow: Any) -> dict[str, str]:
            # One query per kind of record: this runs around every write probe.
            seen: dict[str, str] = {}
            for entity, ids in by_type.items():
                try:
                    repo = uow.repository(entity)
                except LookupError:  # a value type, not an aggregate with a repository
                    continue
                for found in repo.query(Query(where=F("id").is_in(ids))):
                    seen[f"{entity.__name__}:{found.id}"] = repr(found)
            return seen

        return self.crm.read(self.tenant, work)


def person(tenant: TenantId, name: str) -> Actor:
    return Actor(tenant_id=tenant, user_id=UserId(uuid.uuid4()), name=name)


def build_policy(crm: Crm, tenant: TenantId, admin: Actor) -> dict[str, Actor]:
    """Departments, roles and members: rep A, the probes and their org chart."""
    every = [
        (name, op) for name in registry.names() for op in sorted(registry.get(name).operations)
    ]
    define_role(crm, admin, "rep", grants=[Grant(r, op, Scope.OWN) for r, op in every])
    define_role(crm, admin, "manager", grants=[Grant(r, op, Scope.SUBORDINATES) for r, op in every])
    views = [Grant(name, "view", Scope.TENANT) for name in registry.names()]
    define_role(
        crm,
        admin,
        "finance_clerk",
        grants=views,
        field_rules=[
            FieldRule("customer", "phone", FieldAccess.HIDDEN),
            FieldRule("customer", "email", FieldAccess.HIDDEN),
            FieldRule("contact", "phones", FieldAccess.HIDDEN),
        ],
    )
    define_role(
        crm,
        admin,
        "analyst",
        grants=views,
        field_rules=[
            FieldRule("opportunity", "amount", FieldAccess.HIDDEN),
            FieldRule("installment", "amount", FieldAccess.HIDDEN),
            FieldRule("customer", "credit_limit", FieldAccess.HIDDEN),
        ],
    )
    east = define_department(crm, admin, "华东销售部")
    north = define_department(crm, admin, "华北销售部")
    finance = define_department(crm, admin, "财务部")
    actors = {
        "rep_a": person(tenant, "Rep A"),
        "peer": person(tenant, "Peer"),
        "other_dept": person(tenant, "Other Dept"),
        "other_manager": person(tenant, "Other Manager"),
        "clerk": person(tenant, "Clerk"),
        "analyst": person(tenant, "Analyst"),
    }
    set_member(
        crm,
        admin,
        actors["other_manager"].user_id,
        name="Other Manager",
        department_id=north.id,
        roles=["manager", "rep"],
    )
    set_member(
        crm,
        admin,
        actors["rep_a"].user_id,
        name="Rep A",
        department_id=east.id,
        manager_id=admin.user_id,
        roles=["rep"],
    )
    set_member(
        crm,
        admin,
        actors["peer"].user_id,
        name="Peer",
        department_id=east.id,
        manager_id=admin.user_id,
        roles=["rep"],
    )
    set_member(
        crm,
        admin,
        actors["other_dept"].user_id,
        name="Other Dept",
        department_id=north.id,
        manager_id=actors["other_manager"].user_id,
        roles=["rep"],
    )
    for key, role in (("clerk", "finance_clerk"), ("analyst", "analyst")):
        set_member(
            crm, admin, actors[key].user_id, name=key, department_id=finance.id, roles=[role]
        )
    return actors


Step = Callable[["World"], None]


def build_world(crm: Crm, steps: list[tuple[str, Step]]) -> tuple[World, dict[str, str]]:
    """A fresh world on ``crm``; returns it and the steps that failed (kind -> error)."""
    tenant = TenantId(uuid.uuid4())
    admin = person(tenant, "Admin")
    bootstrap_tenant(crm, tenant, admin.user_id, "Admin")
    actors = build_policy(crm, tenant, admin)
    other = TenantId(uuid.uuid4())
    other_admin = person(other, "Other Tenant Admin")
    bootstrap_tenant(crm, other, other_admin.user_id, "Other Tenant Admin")
    probes = {key: actors[key] for key in PROBES if key in actors}
    probes["other_tenant"] = other_admin
    probes["non_member"] = person(tenant, "Stranger")
    world = World(crm=crm, tenant=tenant, admin=admin, rep_a=actors["rep_a"], probes=probes)
    failed: dict[str, str] = {}
    for kind, step in steps:
        try:
            step(world)
        except Exception as error:  # the record stays missing; its services report why
            failed[kind] = f"{type(error).__name__}: {error}"
    return world, failed


def money(value: str) -> Money:
    return Money(Decimal(value), "CNY")


# -- rep A's records, one step per kind (a failing step leaves its kind missing) ---------


def _customers(w: World) -> None:
    from crmkit.customers import add_contact, register_customer, relate_customers

    a = w.rep_a
    w.records["customer"] = register_customer(
        w.crm,
        a,
        name=f"甲方 {MARKER} 精密机械",
        phone=PHONE,
        email=EMAIL,
        credit_limit=money(CREDIT_LIMIT),
    )
    w.records["other_customer"] = register_customer(w.crm, a, name=f"乙方 {MARKER} 电子")
    cid = w.records["customer"].id
    w.records["contact"] = add_contact(
        w.crm, a, cid, name=f"联系人 {MARKER}", phones=[CONTACT_PHONE, CONTACT_PHONE_2]
    )
    w.records["relation"] = relate_customers(
        w.crm, a, cid, w.records["other_customer"].id, "partner"
    )


def _leads(w: World) -> None:
    from crmkit.pipeline import create_lead

    w.records["lead"] = create_lead(w.crm, w.rep_a, name=f"线索 {MARKER}", company=f"{MARKER} 公司")


def _deals(w: World) -> None:
    from crmkit.pipeline import default_process, define_sales_process, open_opportunity

    stages = default_process(w.tenant, uuid.uuid4()).stages
    process = define_sales_process(w.crm, w.admin, "标准流程", stages)
    w.process_id = process.id
    w.records["opportunity"] = open_opportunity(
        w.crm,
        w.rep_a,
        customer_id=w.records["customer"].id,
        name=f"商机 {MARKER}",
        amount=money(DEAL_AMOUNT),
        process_id=process.id,
        expected_close=date(2026, 3, 20),
    )


def _activities(w: World) -> None:
    from crmkit.pipeline import ActivityKind, log_activity, plan_follow_up

    cid = w.records["customer"].id
    w.records["activity"] = log_activity(
        w.crm, w.rep_a, kind=ActivityKind.CALL, subject=f"拜访 {MARKER}", customer_id=cid
    )
    w.records["follow_up_plan"] = plan_follow_up(
        w.crm,
        w.rep_a,
        kind=ActivityKind.VISIT,
        subject=f"回访 {MARKER}",
        due_at=datetime.fromisoformat("2026-03-05T09:00:00+00:00"),
        customer_id=cid,
    )


def _documents(w: World) -> None:
    from crmkit.pipeline import (
        ContractKind,
        LineRequest,
        PriceListItem,
        create_contract,
        create_quote,
        define_price_list,
    )

    define_price_list(
        w.crm,
        w.admin,
        name="价目表",
        currency="CNY",
        valid_from=date(2026, 1, 1),
        items=[PriceListItem("SENSOR", "传感器", money("1200.00"))],
    )
    cid = w.records["customer"].id
    w.records["quote"] = create_quote(
        w.crm,
        w.rep_a,
        customer_id=cid,
        currency="CNY",
        lines=[LineRequest("SENSOR", Decimal(3))],
        notes=f"报价 {MARKER}",
    )
    w.records["contract"] = create_contract(
        w.crm,
        w.rep_a,
        kind=ContractKind.SALES,
        title=f"合同 {MARKER}",
        customer_id=cid,
        amount=money(CONTRACT_AMOUNT),
        start_date=date(2026, 3, 1),
        end_date=date(2027, 2, 28),
    )


def _approval(w: World) -> None:
    from crmkit.pipeline import DiscountRate, configure_sales_documents, revise_quote, submit_quote
    from crmkit.rules.approvals import Approvers, FlowStage, approval_of, define_flow

    # A discount over the threshold sends the quote to review: a pending request.
    define_flow(
        w.crm,
        w.admin,
        name="报价审批",
        document_type="quote",
        stages=[FlowStage("经理", [Approvers.named(w.admin.user_id)])],
    )
    configure_sales_documents(w.crm, w.admin, discount_threshold=DiscountRate("0.05"))
    quote = revise_quote(w.crm, w.rep_a, w.records["quote"].id, total_discount=DiscountRate("0.2"))
    w.records["quote"] = submit_quote(w.crm, w.rep_a, quote.id)
    found = w.crm.read(w.tenant, lambda uow: approval_of(uow, "quote", quote.id))
    if found is None:
        raise LookupError("submitting the quote opened no approval request")
    w.records["approval_request"] = found


def _orders(w: World) -> None:
    from crmkit.pipeline import (
        LineRequest,
        approve_contract,
        create_order_from_contract,
        sign_contract,
        submit_contract,
    )

    contract = w.records["contract"]
    submit_contract(w.crm, w.rep_a, contract.id)
    approved = approve_contract(w.crm, w.admin, contract.id)
    if approved.status.value != "active":
        sign_contract(w.crm, w.rep_a, contract.id, signed_on=date(2026, 3, 1))
    w.records["sales_order"] = create_order_from_contract(
        w.crm, w.rep_a, contract.id, lines=[LineRequest("SENSOR", Decimal(2))]
    )
    w.records["contract"] = w.crm.read(
        w.tenant, lambda uow: uow.repository(type(contract)).get(contract.id)
    )


def _plans(w: World) -> None:
    from crmkit.billing import DocumentRef, TermLine, create_plan

    contract = w.records["contract"]
    document = DocumentRef(
        document_type="contract",
        document_id=contract.id,
        customer_id=w.records["customer"].id,
        owner_id=w.rep_a.user_id,
        total=money(CONTRACT_AMOUNT),
        department_id=getattr(contract, "department_id", None),
        number=f"HT-{MARKER}",
    )
    w.records["document"] = document
    # The two installments fall due in different aging buckets (56 and 10 days overdue
    # on TODAY), so an aging report that did not omit hidden amounts would show each
    # one, not only their sum (the contract amount, which the analyst may see).
    view = create_plan(
        w.crm,
        w.rep_a,
        document,
        terms=(
            TermLine("deposit", percent="30"),
            TermLine("balance", percent="70", milestone="delivery"),
        ),
        milestones={"signing": date(2026, 1, 5), "delivery": date(2026, 2, 20)},
    )
    w.records["billing_plan"] = view.plan
    w.records["installment"] = view.installments[0]


def _receipts(w: World) -> None:
    from crmkit.billing import record_receipt, request_refund

    w.records["receipt"] = record_receipt(
        w.crm,
        w.rep_a,
        customer_id=w.records["customer"].id,
        amount=money("11111.11"),
        received_on=TODAY,
        idempotency_key=f"receipt-{MARKER}",
        reference=f"回款 {MARKER}",
    )
    w.records["refund"] = request_refund(
        w.crm,
        w.rep_a,
        w.records["receipt"].id,
        reason_text=f"退款 {MARKER}",
        idempotency_key=f"refund-{MARKER}",
        amount=money("11.11"),
    )


def _invoices(w: World) -> None:
    from crmkit.billing import InvoiceLine, request_invoice

    contract = w.records["contract"]
    w.records["invoice"] = request_invoice(
        w.crm,
        w.rep_a,
        customer_id=w.records["customer"].id,
        lines=[InvoiceLine(f"发票 {MARKER}", money("1000.00"), "0.13")],
        documents=[("contract", contract.id, money("1130.00"))],
    )


def _expenses(w: World) -> None:
    from crmkit.billing import ExpenseLine, draft_expense_claim

    w.records["expense_claim"] = draft_expense_claim(
        w.crm,
        w.rep_a,
        [ExpenseLine("travel", money("321.00"), TODAY, description=f"差旅 {MARKER}")],
    )


def _won_deal(w: World) -> None:
    from crmkit.pipeline import open_opportunity, win_opportunity

    deal = open_opportunity(
        w.crm,
        w.rep_a,
        customer_id=w.records["other_customer"].id,
        name=f"赢单 {MARKER}",
        amount=money(WON_AMOUNT),
        process_id=w.process_id,
        expected_close=date(2026, 3, 2),
    )
    w.records["won_deal"] = win_opportunity(w.crm, w.rep_a, deal.id)


def _targets(w: World) -> None:
    from crmkit.pipeline import define_commission_plan, set_target
    from crmkit.pipeline.model.targets import Metric, UnitKind

    w.config["target"] = set_target(
        w.crm,
        w.admin,
        unit_kind=UnitKind.USER,
        unit_id=w.rep_a.user_id,
        period="2026-03",
        metric=Metric.WON_AMOUNT,
        value=TARGET,
        currency="CNY",
    )
    w.config["commission_plan"] = define_commission_plan(
        w.crm, w.admin, name="提成方案", currency="CNY", tiers=[("0", "0.05")]
    )


def _sharing(w: World) -> None:
    from crmkit.kernel.query import F
    from crmkit.rules.permissions import define_sharing_rule, share_record

    w.records["share"] = share_record(
        w.crm,
        w.rep_a,
        "customer",
        w.records["customer"].id,
        grantee_kind="user",
        grantee=w.admin.user_id,
    )
    w.config["sharing_rule"] = define_sharing_rule(
        w.crm,
        w.admin,
        "Z 级客户给管理员",
        resource="customer",
        condition=F("level").eq("Z"),
        grantee_kind="user",
        grantee=w.admin.user_id,
    )


def _custom_fields(w: World) -> None:
    from crmkit.customers import FieldType, define_custom_field

    w.config["custom_field"] = define_custom_field(
        w.crm, w.admin, key="budget", label="预算", type=FieldType.TEXT
    )


def _engagement(w: World) -> None:
    from crmkit.pipeline import (
        create_campaign,
        define_sequence_template,
        start_sequence,
    )
    from crmkit.pipeline.model.sequences import StepAction, StepPlan

    w.config["campaign"] = create_campaign(
        w.crm, w.admin, name="春季展会", channel="exhibition", budget=money("5000.00")
    )
    template = define_sequence_template(
        w.crm, w.admin, "新客户培育", [StepPlan(StepAction.CALL, "欢迎电话", after_days=0)]
    )
    w.config["sequence_template"] = template
    steps = start_sequence(w.crm, w.rep_a, template.id, w.records["customer"].id)
    w.records["sequence_step"] = steps[0]


def _ledger(w: World) -> None:
    from crmkit.billing import allocate_receipt, ledger_entries, record_receipt

    # A receipt of its own, so rep A's first receipt stays unallocated for the probes.
    receipt = record_receipt(
        w.crm,
        w.rep_a,
        customer_id=w.records["customer"].id,
        amount=money("22.22"),
        received_on=TODAY,
        idempotency_key=f"receipt-2-{MARKER}",
    )
    w.records["allocated_receipt"] = receipt
    allocate_receipt(w.crm, w.rep_a, receipt.id, idempotency_key=f"allocate-{MARKER}")
    entries = list(ledger_entries(w.crm, w.rep_a, receipt_id=receipt.id))
    w.records["ledger_entry"] = next(e for e in entries if getattr(e, "installment_id", None))


def _merge(w: World) -> None:
    from crmkit.customers import merge_customers, register_customer

    merged = register_customer(w.crm, w.rep_a, name=f"丙方 {MARKER} 并入")
    survivor = register_customer(w.crm, w.rep_a, name=f"丁方 {MARKER} 存续")
    result = merge_customers(w.crm, w.rep_a, survivor.id, [merged.id])
    w.records["merge"] = result.merge_id if hasattr(result, "merge_id") else result.merge.id


def _reminders(w: World) -> None:
    from crmkit.rules.reminders import (
        Recipients,
        TriggerKind,
        define_reminder_rule,
        scan_due_reminders,
    )

    define_reminder_rule(
        w.crm,
        w.admin,
        name=f"提醒 {MARKER}",
        trigger=TriggerKind.ONE_OFF,
        subject=f"回电 {MARKER}",
        at=datetime.fromisoformat("2026-03-02T08:00:00+00:00"),
        recipients=(Recipients.named(w.rep_a.user_id),),
    )
    firings = scan_due_reminders(w.crm, w.tenant)
    w.records["reminder_firing"] = next(f for f in firings if f.recipient_id == w.rep_a.user_id)


def _inbox(w: World) -> None:
    from crmkit.rules.notifications import InboxItem

    # What the in-app notifier stores when a message for rep A is delivered.
    item = InboxItem(
        id=uuid.uuid4(),
        tenant_id=w.tenant,
        recipient_id=w.rep_a.user_id,
        subject=f"通知 {MARKER}",
        body=f"客户 {MARKER} 回款到账",
        received_at=NOW,
        event_type="ReceiptRecorded",
        data={},
    )
    w.records["inbox_item"] = w.crm.run(w.tenant, lambda uow: uow.repository(InboxItem).add(item))


STEPS: list[tuple[str, Step]] = [
    ("customer", _customers),
    ("lead", _leads),
    ("opportunity", _deals),
    ("activity", _activities),
    ("quote", _documents),
    ("approval_request", _approval),
    ("sales_order", _orders),
    ("billing_plan", _plans),
    ("receipt", _receipts),
    ("invoice", _invoices),
    ("expense_claim", _expenses),
    ("won_deal", _won_deal),
    ("target", _targets),
    ("share", _sharing),
    ("custom_field", _custom_fields),
    ("sequence_step", _engagement),
    ("ledger_entry", _ledger),
    ("merge", _merge),
    ("reminder_firing", _reminders),
    ("inbox_item", _inbox),
]
