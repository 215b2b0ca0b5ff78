"""Field rules reach everything derived from a hidden field, on every read path.

A finance clerk whose role hides customer ``phone``/``email`` and contact ``phones``,
and an analyst whose role hides deal ``amount``, installment ``amount`` and customer
``credit_limit`` (see ``field_team.py``), read through every customers-area service,
the global search, caller ID and the pipeline and aging reports.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import attrs
import pendulum
import pytest

from crmkit import Crm, PermissionDenied
from crmkit.billing import aging_report, create_plan
from crmkit.customers import (
    add_contact,
    customer_360,
    customer_history,
    export_customers,
    get_customer,
    global_search,
    list_contacts,
    list_customers,
    match_caller,
    register_customer,
    search_customers,
    update_contact,
    update_customer,
    user_history,
)
from crmkit.customers.model.phones import phone_key
from crmkit.kernel.actor import Actor
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Order, Query
from crmkit.kernel.report import ReportTable
from crmkit.pipeline import define_sales_process, open_opportunity, pipeline_report
from crmkit.pipeline.model.opportunities import default_process
from crmkit.pipeline.queries import DEAL_COLUMN_SOURCES, FUNNEL_COLUMNS
from crmkit.rules.permissions import (
    FieldAccess,
    FieldRule,
    Grant,
    Member,
    Policy,
    Registry,
    ResourceSpec,
    Role,
    Scope,
    compile_grants,
    register_resource,
    registry,
)
from crmkit.rules.permissions.reader import aggregate
from tests.billing.builders import TERMS_30_60_10, make_customer, make_document
from tests.rules.permissions.field_team import FieldTeam, make_field_team

PHONE = "13800138000"
MOBILE = "13912345678"
DIGITS = phone_key(PHONE)
assert DIGITS is not None


@pytest.fixture
def team(crm: Crm, actor: Actor) -> FieldTeam:
    return make_field_team(crm, actor)


@pytest.fixture
def acme(crm: Crm, team: FieldTeam):  # type: ignore[no-untyped-def]
    customer = register_customer(
        crm, team.rep, name="北京华为科技", phone=PHONE, email="sales@acme.cn"
    )
    add_contact(crm, team.rep, customer.id, name="张伟", phones=[MOBILE], email="zw@acme.cn")
    return customer


def test_every_field_derived_from_a_hidden_field_is_declared() -> None:
    spec = registry.get("customer")
    assert spec.derived_of({"phone"}) == {"phone_key"}
    assert spec.derived_of({"name"}) >= {"name_key", "pinyin_full", "letter"}
    assert registry.get("contact").derived_of({"phones"}) == {
        "phone_key",
        "phone_key_2",
        "phone_key_3",
        "phone_key_4",
        "phone_key_5",
    }
    assert registry.get("lead").derived_of({"email"}) == {"email_key"}


def test_returned_records_carry_no_key_of_a_hidden_field(crm: Crm, team: FieldTeam, acme) -> None:  # type: ignore[no-untyped-def]
    assert get_customer(crm, team.rep, acme.id).phone_key == DIGITS
    shown = get_customer(crm, team.clerk, acme.id)
    assert (shown.phone, shown.email, shown.phone_key) == (None, None, None)
    assert shown.pinyin_full == "beijinghuaweikeji"  # the name is not hidden
    assert [c.phone_key for c in list_customers(crm, team.clerk)] == [None]
    contacts = list_contacts(crm, team.clerk, acme.id)
    assert [(c.phones, c.phone_key) for c in contacts] == [(None, None)]
    view = customer_360(crm, team.clerk, acme.id)
    assert view.customer.phone_key is None
    assert [c.phone_key for c in view.contacts] == [None]


def test_filtering_or_sorting_on_a_key_of_a_hidden_field_is_refused(  # type: ignore[no-untyped-def]
    crm: Crm, team: FieldTeam, acme
) -> None:
    by_key = Query(where=F("phone_key").startswith(DIGITS[:7]))
    assert len(list_customers(crm, team.rep, by_key)) == 1
    for query in (by_key, Query(order_by=(Order("phone_key"),))):
        with pytest.raises(PermissionDenied) as refused:
            list_customers(crm, team.clerk, query)
        assert refused.value.field == "phone_key"
    with pytest.raises(PermissionDenied):
        export_customers(crm, team.clerk, by_key)
    sheet = export_customers(crm, team.clerk)
    assert PHONE not in {cell for row in sheet.rows for cell in row}


def test_search_and_caller_id_find_nothing_through_a_hidden_phone(  # type: ignore[no-untyped-def]
    crm: Crm, team: FieldTeam, acme
) -> None:
    assert [c.id for c in search_customers(crm, team.rep, PHONE)] == [acme.id]
    assert search_customers(crm, team.clerk, PHONE) == []
    assert [c.id for c in search_customers(crm, team.clerk, "bjhw")] == [acme.id]

    assert [m.customer.id for m in match_caller(crm, team.rep, "+86 138 0013 8000")] == [acme.id]
    assert match_caller(crm, team.clerk, "+86 138 0013 8000") == []
    assert match_caller(crm, team.clerk, MOBILE) == []

    assert [h.id for h in global_search(crm, team.rep, PHONE).of("customer")] == [acme.id]
    for text in (PHONE, MOBILE):
        found = global_search(crm, team.clerk, text)
        assert found.of("customer") == (), text
        assert found.of("contact") == (), text
    assert [h.id for h in global_search(crm, team.clerk, "bjhw").of("customer")] == [acme.id]
    assert [h.title for h in global_search(crm, team.clerk, "张伟").of("contact")] == ["张伟"]


def test_a_call_from_a_contacts_phone_opens_the_contact_and_their_customer(  # type: ignore[no-untyped-def]
    crm: Crm, team: FieldTeam, acme
) -> None:
    other = register_customer(crm, team.rep, name="深圳腾达电子")
    add_contact(crm, team.rep, other.id, name="王芳", phones=["0755-8888 6666", MOBILE])
    matches = match_caller(crm, team.rep, "+86 139-1234-5678")
    # Any phone of a contact rings it: 张伟's main phone is 王芳's second one.
    assert [(m.customer.id, m.contact and m.contact.name) for m in matches] == [
        (acme.id, "张伟"),
        (other.id, "王芳"),
    ]
    assert [m.customer.name for m in match_caller(crm, team.rep, "075588886666")] == [
        "深圳腾达电子"
    ]
    # A customer found by its own phone and a contact's is listed once, with the contact.
    update_customer(crm, team.rep, acme.id, phone=MOBILE)
    both = match_caller(crm, team.rep, MOBILE)
    assert [(m.customer.id, m.contact and m.contact.name) for m in both] == [
        (acme.id, "张伟"),
        (other.id, "王芳"),
    ]


def test_history_shows_no_value_of_a_hidden_field(crm: Crm, team: FieldTeam, acme) -> None:  # type: ignore[no-untyped-def]
    contact = list_contacts(crm, team.rep, acme.id)[0]
    update_contact(crm, team.rep, contact.id, phones=["13700000000"], title="CTO")
    update_customer(crm, team.rep, acme.id, phone="13600000000", level="A")

    def values(records) -> set[str | None]:  # type: ignore[no-untyped-def]
        return {v for r in records for v in (r.old_value, r.new_value)}

    secrets = {PHONE, MOBILE, "13700000000", "13600000000", "sales@acme.cn"}
    full = customer_history(crm, team.rep, acme.id)
    assert {"13700000000", "13600000000", "CTO"} <= values(full)
    for records in (
        customer_history(crm, team.clerk, acme.id),
        user_history(crm, team.clerk, team.rep.user_id),
        customer_360(crm, team.clerk, acme.id).history,
    ):
        shown = values(records)
        assert not shown & secrets, shown & secrets
        assert {"CTO", "A"} <= shown  # what the clerk may see stays
        assert not any((r.field or "").endswith(".phones") for r in records)


def _deals(crm: Crm, team: FieldTeam):  # type: ignore[no-untyped-def]
    process = define_sales_process(
        crm, team.admin, "standard", default_process(team.admin.tenant_id, uuid.uuid4()).stages
    )
    customer = register_customer(crm, team.rep, name="深圳腾达电子")
    for amount in ("480000", "20000"):
        open_opportunity(
            crm,
            team.rep,
            customer_id=customer.id,
            name=f"deal {amount}",
            amount=Money(amount, "CNY"),
            process_id=process.id,
            expected_close=date(2026, 4, 10),
        )


def _pipeline(crm: Crm, who: Actor, **kwargs):  # type: ignore[no-untyped-def]
    return pipeline_report(
        crm,
        who,
        since=pendulum.datetime(2026, 1, 1, tz="UTC"),
        until=pendulum.datetime(2026, 12, 31, tz="UTC"),
        forecast_from=date(2026, 1, 1),
        forecast_to=date(2026, 12, 31),
        **kwargs,
    )


def test_the_pipeline_report_omits_a_hidden_amount_and_keeps_the_counts(  # type: ignore[no-untyped-def]
    crm: Crm, team: FieldTeam
) -> None:
    _deals(crm, team)
    full = _pipeline(crm, team.rep)
    assert full.funnel.column("amount") == [Decimal("500000")]
    seen = _pipeline(crm, team.analyst)
    for table in (seen.funnel, seen.forecast):
        assert table.column("deals") == [2]
        assert table.column("amount") == [None]
        assert table.column("weighted") == [None]
    with pytest.raises(PermissionDenied) as refused:
        _pipeline(crm, team.analyst, scope=F("amount.amount").ge(100000))
    assert refused.value.field == "amount"


def test_the_aging_report_omits_hidden_installment_amounts(crm: Crm, team: FieldTeam) -> None:
    create_plan(
        crm,
        team.admin,
        make_document(owner_id=team.rep.user_id, customer_id=make_customer(crm, team.admin).id),
        terms=TERMS_30_60_10,
        milestones={"signing": date(2026, 1, 5)},
    )
    full = aging_report(crm, team.admin, date(2026, 3, 2))
    assert full.column("total") == [Decimal("100000.00")]
    seen = aging_report(crm, team.analyst, date(2026, 3, 2))
    assert len(seen) == 1
    assert seen.column("total") == [None]
    assert seen.column("not_due") == [None]
    with pytest.raises(PermissionDenied):
        aging_report(crm, team.analyst, date(2026, 3, 2), scope=F("amount.amount").gt(0))


def test_a_report_merges_the_rows_a_hidden_field_told_apart() -> None:
    tenant, user = TenantId(uuid.uuid4()), UserId(uuid.uuid4())
    analyst = Role(
        id=uuid.uuid4(),
        tenant_id=tenant,
        code="analyst",
        grants=[Grant("opportunity", "view", Scope.TENANT)],
        field_rules=[FieldRule("opportunity", "amount", FieldAccess.HIDDEN)],
    )
    member = Member(id=user, tenant_id=tenant, roles=["analyst"])
    grants = compile_grants(Policy(tenant, members=[member], roles=[analyst]), user)
    d = Decimal
    table = ReportTable.of(
        FUNNEL_COLUMNS,
        [
            ("initial", "CNY", 2, d("100"), d("10")),
            ("initial", "USD", 1, d("7"), d("1")),
            ("won", "CNY", 1, d("50"), d("50")),
        ],
    )
    shown = aggregate(grants, "opportunity", table, DEAL_COLUMN_SOURCES, counts=("deals",))
    assert shown.rows == (("initial", None, 3, None, None), ("won", None, 1, None, None))
    everyone = compile_grants(
        Policy(tenant, members=[member], roles=[attrs.evolve(analyst, field_rules=())]), user
    )
    assert aggregate(everyone, "opportunity", table, DEAL_COLUMN_SOURCES) == table


def test_a_computed_field_must_say_what_it_is_derived_from() -> None:
    @attrs.define
    class Ticket:
        id: uuid.UUID
        tenant_id: uuid.UUID
        reporter_phone: str
        phone_key: str = attrs.field(init=False, default="")

    with pytest.raises(TypeError, match="phone_key"):
        register_resource("ticket_without_sources", entity=Ticket)
    assert "ticket_without_sources" not in registry.names()


def test_a_key_derived_from_a_derived_key_follows_the_original_field() -> None:
    reg = Registry()
    reg.register(
        ResourceSpec(
            "ticket",
            frozenset({"phone", "phone_key", "phone_bucket", "custom"}),
            derived=(("phone_key", ("phone",)), ("phone_bucket", ("phone_key",))),
            open_fields=frozenset({"custom"}),
        )
    )
    tenant, user = TenantId(uuid.uuid4()), UserId(uuid.uuid4())
    role = Role(
        id=uuid.uuid4(),
        tenant_id=tenant,
        code="desk",
        grants=[Grant("ticket", "view", Scope.TENANT)],
        field_rules=[
            FieldRule("ticket", "phone", FieldAccess.HIDDEN),
            FieldRule("ticket", "custom.budget", FieldAccess.HIDDEN),
        ],
    )
    member = Member(id=user, tenant_id=tenant, roles=["desk"])
    grants = compile_grants(Policy(tenant, members=[member], roles=[role]), user, reg=reg)
    assert grants.hidden_fields("ticket") == {"phone", "phone_key", "phone_bucket", "custom.budget"}
    assert grants.is_hidden("ticket", "custom.budget.amount")
    assert not grants.is_hidden("ticket", "custom.tier")
    assert grants.first_hidden("ticket", ["custom.tier", "custom.budget.amount"]) == "custom.budget"
    row = {"phone_bucket": "1", "custom.budget.amount": "9", "custom.tier": "gold", "id": "x"}
    assert grants.visible_row(row, "ticket") == {"custom.tier": "gold", "id": "x"}


def test_a_field_copied_from_another_resource_follows_its_rule() -> None:
    tenant, user = TenantId(uuid.uuid4()), UserId(uuid.uuid4())
    analyst = Role(
        id=uuid.uuid4(),
        tenant_id=tenant,
        code="analyst",
        grants=[Grant("sales_order", "view", Scope.TENANT)],
        field_rules=[
            FieldRule("customer", "credit_limit", FieldAccess.HIDDEN),
            FieldRule("contract", "amount", FieldAccess.HIDDEN),
        ],
    )
    member = Member(id=user, tenant_id=tenant, roles=["analyst"])
    grants = compile_grants(Policy(tenant, members=[member], roles=[analyst]), user)
    # An order keeps the credit limit it was checked against; a contract's lines add up
    # to its amount.
    assert grants.is_hidden("sales_order", "credit_limit")
    assert not grants.is_hidden("sales_order", "total")
    assert grants.is_hidden("contract", "lines")
    assert not grants.is_hidden("contract", "renewal_notice_on")
