"""The demo tenant: a small, realistic data set and a few flows run end to end.

``crmkit demo`` (and ``make demo``) runs :func:`run_demo` on a SQLite file. The
tenant id is fixed, so running it again reuses the data already there instead
of duplicating it. Each area adds its own part here as it lands.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

from crmkit.billing import (
    DocumentRef,
    Plan,
    TermLine,
    aging_report,
    allocate_receipt,
    create_plan,
    get_plan,
    record_receipt,
    verify_ledger,
)
from crmkit.crm import Crm
from crmkit.customers import (
    Customer,
    CustomerKind,
    add_contact,
    check_customer_name,
    claim_customer,
    list_customers,
    list_pool,
    merge_customers,
    register_customer,
    release_customer,
    search_customers,
)
from crmkit.customers.services import update_customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import ConcurrencyConflict, ValidationError
from crmkit.kernel.i18n import use_locale
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Order, Query
from crmkit.kernel.report import ReportTable, pad
from crmkit.pipeline import (
    Opportunity,
    SalesProcess,
    attach_document,
    convert_lead,
    create_lead,
    default_process,
    define_sales_process,
    lose_opportunity,
    move_opportunity,
    open_opportunity,
    pipeline_report,
    qualify_lead,
    win_opportunity,
)
from crmkit.rules.approvals import (
    Approvers,
    Facts,
    FlowStage,
    approval_inbox,
    approve_request,
    define_flow,
    submit_for_approval,
)
from crmkit.rules.permissions import (
    Grant,
    Scope,
    bootstrap_tenant,
    define_department,
    define_role,
    explain_access,
    set_member,
)
from crmkit.rules.reminders import (
    Recipients,
    TriggerKind,
    define_reminder_rule,
    my_reminders,
    scan_due_reminders,
)

__all__ = ["DEMO_TENANT", "run_demo"]

_NAMESPACE = uuid.UUID("6f1c1f2e-7b1a-4d0e-9a57-2c9e3f6b8d10")
DEMO_TENANT = TenantId(uuid.uuid5(_NAMESPACE, "tenant:demo"))


def _user(name: str) -> Actor:
    return Actor(DEMO_TENANT, UserId(uuid.uuid5(_NAMESPACE, f"user:{name}")), name)


ADMIN = _user("系统管理员 Admin")
FINANCE = _user("财务 Zhao (finance clerk)")
MANAGER = _user("王经理 Wang (sales manager)")
REP_LI = _user("李娜 Li Na (sales rep)")
REP_CHEN = _user("Chen Jie (sales rep)")

# (name, kind, level, region, industry, credit limit, owner)
_CUSTOMERS: list[tuple[str, CustomerKind, str, str, str, Money | None, Actor]] = [
    (
        "北京华为科技有限公司",
        CustomerKind.COMPANY,
        "A",
        "华北",
        "电子",
        Money("500000", "CNY"),
        REP_LI,
    ),
    (
        "上海浦东发展贸易有限公司",
        CustomerKind.COMPANY,
        "A",
        "华东",
        "贸易",
        Money("300000", "CNY"),
        REP_LI,
    ),
    (
        "深圳腾达电子股份有限公司",
        CustomerKind.COMPANY,
        "B",
        "华南",
        "电子",
        Money("150000", "CNY"),
        REP_CHEN,
    ),
    ("杭州西湖茶业", CustomerKind.COMPANY, "C", "华东", "食品", None, REP_CHEN),
    ("成都天府软件园", CustomerKind.COMPANY, "B", "西南", "软件", Money("80000", "CNY"), REP_LI),
    (
        "Acme Trading Co., Ltd.",
        CustomerKind.COMPANY,
        "A",
        "海外",
        "贸易",
        Money("120000", "USD"),
        REP_CHEN,
    ),
    (
        "Globex Logistics GmbH",
        CustomerKind.COMPANY,
        "B",
        "海外",
        "物流",
        Money("50000", "EUR"),
        REP_CHEN,
    ),
    ("台北大同機械", CustomerKind.COMPANY, "B", "华东", "机械", Money("200000", "TWD"), REP_LI),
    ("张伟", CustomerKind.INDIVIDUAL, "C", "华北", "个人", None, REP_LI),
    ("Emily Zhao", CustomerKind.INDIVIDUAL, "C", "华东", "个人", None, REP_CHEN),
]


# A second record of the first customer, as a rep might type it again.
DUPLICATE_NAME = "北京华为科技（有限公司）"


def _with_names(table: ReportTable, names: dict[str, str]) -> ReportTable:
    """Show people's and customers' names instead of their ids in a report."""
    named = [i for i, c in enumerate(table.columns) if c in ("owner_id", "customer_id")]
    rows = [
        tuple(names.get(str(v), v) if i in named else v for i, v in enumerate(row))
        for row in table.rows
    ]
    return ReportTable.of(table.columns, rows)


def _seed(crm: Crm, say: Callable[[str], None]) -> bool:
    # Customers merged away wait in the recycle bin; they are not counted.
    existing = crm.run(
        DEMO_TENANT, lambda uow: uow.repository(Customer).count(F("deleted_at").is_null())
    )
    if existing:
        say(f"Reusing the demo tenant: {existing} customers already stored.")
        return False
    _seed_org(crm)
    now = crm.now()
    for index, (name, kind, level, region, industry, limit, owner) in enumerate(_CUSTOMERS):
        # Every third customer was last followed up a month ago; the rest this week.
        quiet_days = 30 if index % 3 == 0 else 2
        register_customer(
            crm,
            owner,
            name=name,
            kind=kind,
            level=level,
            region=region,
            industry=industry,
            credit_limit=limit,
            last_activity_at=now.subtract(days=quiet_days),
        )
    define_reminder_rule(
        crm,
        ADMIN,
        name="14 days without follow-up",
        trigger=TriggerKind.INACTIVITY,
        resource="customer",
        field="last_activity_at",
        inactive_days=14,
        subject="No follow-up on {title} for two weeks",
        recipients=(Recipients.owner(), Recipients.owner_manager()),
    )
    _seed_pipeline(crm)
    _seed_billing(crm)
    # Li entered 北京华为 a second time, with another contact; the demo merges it below.
    duplicate = register_customer(
        crm, REP_LI, name=DUPLICATE_NAME, region="华北", phone="010-62345678"
    )
    add_contact(crm, REP_LI, duplicate.id, name="刘洋", title="IT 经理", phones=["13900139000"])
    say(
        f"Created the demo tenant with {len(_CUSTOMERS)} customers (Chinese and English names),"
        " leads and a pipeline of deals."
    )
    return True


# (customer index, deal, amount in CNY, stage reached, outcome, months to close)
_DEALS: list[tuple[int, str, str, str, str, int]] = [
    (0, "华为 ERP 二期", "880000", "negotiation", "open", 1),
    (1, "浦东 CRM 上线", "360000", "proposal", "open", 2),
    (2, "腾达 MES 集成", "520000", "needs", "open", 2),
    (4, "天府 云迁移", "150000", "initial", "open", 3),
    (5, "Acme distribution deal", "240000", "negotiation", "won", 0),
    (6, "Globex logistics pilot", "95000", "proposal", "lost", 0),
    (7, "大同 设备联网", "410000", "needs", "open", 4),
]


def _seed_org(crm: Crm) -> None:
    """The sales department: the manager runs it, the reps work their own customers."""
    bootstrap_tenant(crm, DEMO_TENANT, ADMIN.user_id, ADMIN.name)
    sales = define_department(crm, ADMIN, "销售部 Sales")
    records = ("customer", "lead", "opportunity")
    work = ("view", "create", "edit")
    define_role(
        crm,
        ADMIN,
        "sales_rep",
        grants=[
            *(Grant(r, op, Scope.OWN) for r in records for op in work),
            Grant("customer", "release", Scope.OWN),
            Grant("customer", "claim", Scope.TENANT),
        ],
    )
    define_role(
        crm,
        ADMIN,
        "sales_manager",
        grants=[
            *(Grant(r, op, Scope.DEPARTMENT_TREE) for r in records for op in work),
            Grant("pipeline_settings", "edit", Scope.TENANT),
        ],
    )
    define_flow(
        crm,
        ADMIN,
        name="折扣审批 Discount approval",
        document_type="discount",
        stages=[
            FlowStage(
                "部门经理 Manager", [Approvers.manager()], when=F("discount").gt(Decimal("0.15"))
            )
        ],
    )
    set_member(
        crm,
        ADMIN,
        MANAGER.user_id,
        name=MANAGER.name,
        department_id=sales.id,
        roles=["sales_manager"],
    )
    for rep in (REP_LI, REP_CHEN):
        set_member(
            crm,
            ADMIN,
            rep.user_id,
            name=rep.name,
            department_id=sales.id,
            manager_id=MANAGER.user_id,
            roles=["sales_rep"],
        )


def list_opportunities_of(crm: Crm, actor: Actor) -> list[Opportunity]:
    """The actor's deals (the demo reads them straight from storage)."""
    where = F("owner_id").eq(actor.user_id)
    return crm.run(DEMO_TENANT, lambda uow: uow.repository(Opportunity).query(Query(where=where)))


def _seed_billing(crm: Crm) -> None:
    """A won contract billed 30/60/10; the customer paid part of it; finance is told."""
    define_role(
        crm,
        ADMIN,
        "finance_clerk",
        grants=[
            *(
                Grant(r, op, Scope.TENANT)
                for r in ("billing_plan", "installment")
                for op in ("view", "create", "edit")
            ),
            *(
                Grant("receipt", op, Scope.TENANT)
                for op in ("view", "create", "edit", "confirm", "allocate")
            ),
            Grant("customer", "view", Scope.TENANT),
        ],
    )
    set_member(crm, ADMIN, FINANCE.user_id, name=FINANCE.name, roles=["finance_clerk"])
    customer = search_customers(crm, MANAGER, "huawei")[0]
    today = crm.now().date()
    contract = DocumentRef(
        document_type="contract",
        document_id=crm.new_id(),
        customer_id=customer.id,
        owner_id=customer.owner_id,
        total=Money("880000.00", "CNY"),
        number="HT-2026-0001",
    )
    create_plan(
        crm,
        FINANCE,
        contract,
        terms=[
            TermLine("签约 on signing", percent="30"),
            TermLine("到货 on delivery", percent="60", milestone="delivery"),
            TermLine(
                "验收后90天 90 days after acceptance", percent="10", milestone="acceptance", days=90
            ),
        ],
        milestones={
            "signing": today.subtract(days=60),
            "delivery": today.subtract(days=20),
            "acceptance": today.subtract(days=5),
        },
    )
    receipt = record_receipt(
        crm,
        FINANCE,
        customer_id=customer.id,
        amount=Money("500000.00", "CNY"),
        received_on=today.subtract(days=10),
        idempotency_key="demo-bank-1",
    )
    allocate_receipt(crm, FINANCE, receipt.id, idempotency_key="demo-alloc-1")
    define_reminder_rule(
        crm,
        ADMIN,
        name="receivable overdue",
        trigger=TriggerKind.DATE_FIELD,
        resource="installment",
        field="due_date",
        offsets_days=(1, 7, 30),
        only_when=(("status", "partial"),),
        subject="{title}: overdue since {date}",
        recipients=(Recipients.owner(), Recipients.named(FINANCE.user_id)),
        lookback_days=30,
    )


def _seed_pipeline(crm: Crm) -> None:
    process = define_sales_process(
        crm, MANAGER, "standard", default_process(DEMO_TENANT, crm.new_id()).stages
    )
    customers = list_customers(crm, MANAGER, Query(order_by=(Order("created_at"),)))
    today = crm.now().date()
    for index, name, amount, stage, outcome, months in _DEALS:
        customer = customers[index]
        owner = REP_LI if customer.owner_id == REP_LI.user_id else REP_CHEN
        deal = open_opportunity(
            crm,
            owner,
            customer_id=customer.id,
            name=name,
            amount=Money(amount, "CNY"),
            process_id=process.id,
            expected_close=today.add(months=months),
        )
        if stage in ("proposal", "negotiation"):
            attach_document(crm, owner, deal.id, "quote")
        if stage != "initial":
            move_opportunity(crm, owner, deal.id, stage)
        if outcome == "won":
            win_opportunity(crm, owner, deal.id)
        elif outcome == "lost":
            lose_opportunity(crm, owner, deal.id, "price")
    for name, company, source in [
        ("周杰", "南京新街口百货", "trade_show"),
        ("Laura Chen", "Pacific Foods Ltd.", "website"),
        ("孙丽", "青岛海景酒店", "referral"),
    ]:
        lead = create_lead(crm, REP_LI, name=name, company=company, source=source)
        if source == "referral":
            qualify_lead(crm, REP_LI, lead.id)
            convert_lead(
                crm,
                REP_LI,
                lead.id,
                process_id=process.id,
                amount=Money("120000", "CNY"),
                expected_close=today.add(months=2),
            )


def run_demo(crm: Crm, say: Callable[[str], None] = print) -> None:
    """Load the demo tenant into ``crm`` (or reuse it) and walk through a few flows."""
    say("== crmkit demo ==")
    _seed(crm, say)

    say("\n-- Customers by region and level --")
    everyone = list_customers(crm, MANAGER, Query(order_by=(Order("region"), Order("name"))))
    by_region = Counter((c.region or "-", c.level or "-") for c in everyone)
    for (region, level), count in sorted(by_region.items()):
        say(f"  {pad(region, 6)} level {level}: {count}")

    say("\n-- A-level customers and their credit limits --")
    for customer in list_customers(
        crm, MANAGER, Query(where=F("level").eq("A"), order_by=(Order("name"),))
    ):
        limit = customer.credit_limit
        say(
            f"  {pad(customer.name, 28)} {limit.format('zh_CN') if limit else '-':>14}"
            f"  {limit.format('en_US') if limit else '-':>14}"
        )

    say("\n-- Money adds up to the fen --")
    cny = [c.credit_limit for c in everyone if c.credit_limit and c.credit_limit.currency == "CNY"]
    total = sum(cny, Money.zero("CNY"))
    say(f"  CNY credit extended in total: {total.format('zh_CN')}")
    contract = Money("128888.88", "CNY")
    plan = contract.allocate([30, 60, 10])
    say(
        f"  a {contract.format('zh_CN')} contract paid 30% / 60% / 10%: "
        + " + ".join(p.format("zh_CN") for p in plan)
        + f" = {sum(plan, Money.zero('CNY')).format('zh_CN')}"
    )

    say("\n-- Who sees what (one permission evaluator, enforced inside the query) --")
    for person in (MANAGER, REP_LI, REP_CHEN):
        say(f"  {person.name}: {len(list_customers(crm, person))} customers")
    hers = next(c for c in everyone if c.owner_id == REP_LI.user_id)
    say(
        f"  why can't Chen see {hers.name}? "
        f"{explain_access(crm, REP_CHEN, 'view', 'customer', hers.id)}"
    )

    say("\n-- Finding customers: pinyin, initials, traditional characters --")
    for text in ("bjhw", "huawei", "華為", "shanghai", "acme"):
        found = [c.name for c in search_customers(crm, MANAGER, text)]
        say(f"  {pad(repr(text), 12)} -> {', '.join(found) or '(nothing)'}")
    check = check_customer_name(crm, REP_LI, "北京华为科技（有限公司）")
    say(
        f"  entering '北京华为科技（有限公司）' again: duplicate of {len(check.matches)} customer(s)"
    )
    # Only while the seeded duplicate is still live: a rerun finds it merged already.
    twins = [c for c in search_customers(crm, REP_LI, "北京华为") if c.id in check.matches]
    if len(twins) > 1:
        survivor, *rest = sorted(twins, key=lambda c: (c.created_at, c.id))
        merged = merge_customers(crm, REP_LI, survivor.id, [c.id for c in rest])
        moved = ", ".join(f"{count} {part}" for part, count in sorted(merged.moved.items()))
        say(
            f"  merged {', '.join(c.name for c in rest)} into {survivor.name} ({moved});"
            f" undo_merge(crm, actor, {str(merged.merge_id)[:8]}...) would bring it back"
        )
    else:
        say("  its seeded duplicate was merged into it on an earlier run (see the recycle bin)")

    say("\n-- The public pool: one rep releases a customer, the other claims it --")
    zhang = next(c for c in list_customers(crm, MANAGER) if c.name == "张伟")
    giver, taker = (REP_LI, REP_CHEN) if zhang.owner_id == REP_LI.user_id else (REP_CHEN, REP_LI)
    release_customer(crm, giver, zhang.id)
    pool = [c.name for c in list_pool(crm, taker)]
    claimed = claim_customer(crm, taker, zhang.id)
    say(
        f"  {giver.name} released 张伟; pool seen by {taker.name}: {pool}; "
        f"claimed -> owner now {taker.name} ({claimed.pool_state.value})"
    )

    say("\n-- A rep and her manager edit the same customer at once --")
    target = hers
    update_customer(
        crm, REP_LI, target.id, expected_version=target.version, tags=(*target.tags, "重点客户")
    )
    try:
        update_customer(crm, MANAGER, target.id, expected_version=target.version, level="B")
    except ConcurrencyConflict as conflict:
        say(f"  second save refused: {conflict.message('en')}")
        say(f"  中文: {conflict.message('zh_CN')}")

    say("\n-- Bad input is refused with a translatable error --")
    try:
        register_customer(crm, REP_LI, name="   ")
    except ValidationError as error:
        with use_locale("zh_TW"):
            say(f"  {error.message('en')}  |  {error.message()}")

    say("\n-- Exact money, never floats --")
    price = Money("19.99", "CNY")
    say(
        f"  3 x {price} = {price * 3}; 100 / 3 split: "
        + ", ".join(str(p) for p in Money("100.00", "CNY").split(3))
    )
    say(f"  {Decimal('0.1') + Decimal('0.2')} (Decimal) vs {0.1 + 0.2} (float)")

    say("\n-- Pipeline report (computed in SQL, per currency) --")
    now = crm.now()
    (process,) = crm.run(DEMO_TENANT, lambda uow: uow.repository(SalesProcess).query())
    report = pipeline_report(
        crm,
        MANAGER,
        since=now.subtract(years=1),
        until=now.add(days=1),
        forecast_from=now.date(),
        forecast_to=now.date().add(months=6),
        process_id=process.id,
    )
    names = {str(a.user_id): a.name.split(" (")[0] for a in (MANAGER, REP_LI, REP_CHEN)}
    for title, table in [
        ("Funnel", report.funnel),
        ("Forecast by month and owner", report.forecast),
        ("Win rate", report.win_rate),
        ("Lost reasons", report.lost_reasons),
    ]:
        say(f"  {title}:")
        for line in _with_names(table, names).format().splitlines():
            say(f"    {line}")

    say("\n-- Approval: a 20% discount goes to the rep's manager (routed by the org chart) --")
    deal = next(d for d in list_opportunities_of(crm, REP_LI) if d.status.value == "open")
    request = submit_for_approval(
        crm,
        REP_LI,
        document_type="discount",
        document_id=crm.new_id(),
        title=f"{deal.name} 折扣 20%",
        facts=Facts({"amount": deal.amount, "discount": Decimal("0.20")}),
    )
    inbox = approval_inbox(crm, MANAGER)
    say(
        f"  submitted '{request.title}': route {[s.name for s in request.route]}; "
        f"{MANAGER.name} has {inbox.total} waiting"
    )
    request = approve_request(crm, MANAGER, request.id, comment="同意，本季度冲量")
    say(
        f"  approved: status {request.status.value}; trail "
        + " → ".join(f"{e.action.value}" for e in request.trail)
    )

    say("\n-- Billing: an 880,000 CNY contract paid 30/60/10; 500,000 received so far --")
    (stored,) = crm.run(DEMO_TENANT, lambda uow: uow.repository(Plan).query())
    receivable = get_plan(crm, FINANCE, stored.id)
    for installment in receivable.installments:
        say(
            f"  {pad(installment.label, 44)} due {installment.due_date}  "
            f"{installment.amount.format('zh_CN'):>14}  paid {installment.paid.format('zh_CN'):>14}"
        )
    aging = aging_report(crm, FINANCE, crm.now().date())
    customer_names = {str(c.id): c.name for c in everyone}
    say("  Aging (days overdue):")
    for line in _with_names(aging, {**names, **customer_names}).format().splitlines():
        say(f"    {line}")
    say(f"  ledger hash chain intact: {verify_ledger(crm, FINANCE).ok}")

    say("\n-- Reminders: due receivables and customers nobody followed up for 14 days --")
    fired = scan_due_reminders(crm, DEMO_TENANT)
    again = scan_due_reminders(crm, DEMO_TENANT)
    say(f"  scan fired {len(fired)} reminders; an immediate second scan fired {len(again)}")
    for person in (REP_LI, REP_CHEN, MANAGER, FINANCE):
        waiting = my_reminders(crm, person)
        say(f"  {person.name}: {len(waiting)} open")
        for reminder in waiting[:3]:
            say(f"    - {reminder.subject}")

    events = crm.run(DEMO_TENANT, lambda uow: uow.outbox.pending(limit=1000))
    say(f"\nOutbox: {len(events)} domain events recorded in the same transactions as the changes.")
