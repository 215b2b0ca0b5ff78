"""Duplicate control when a lead is entered: matched against leads and customers."""

from __future__ import annotations

import uuid

import pendulum
import pytest
import sqlalchemy as sa

from crmkit import Crm, PermissionDenied
from crmkit.customers import register_customer
from crmkit.customers.services import delete_customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import ValidationError
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.query import Query
from crmkit.pipeline import (
    DuplicatePolicy,
    Lead,
    LeadStatus,
    check_lead_duplicates,
    convert_lead,
    create_lead,
)
from crmkit.pipeline.model.leads import LeadCreated, lead_name_key

NOW = pendulum.datetime(2026, 3, 2, 9)


def test_a_lead_keys_on_its_company_else_its_name_and_keeps_them_current() -> None:
    lead = Lead(
        id=uuid.uuid4(),
        tenant_id=TenantId(uuid.uuid4()),
        name="王芳",
        created_at=NOW,
        company="北京華為科技股份有限公司",
        phone="010-6552 8888",
    )
    assert lead.name_key == "北京华为科技"
    assert lead.phone_key is not None
    lead.company = None
    assert lead.name_key == lead_name_key("王芳") == "王芳"
    lead.name = "Wang Fang"
    assert lead.name_key == "wangfang"
    lead.phone = "+86 10 65528888"  # same number, other format: same key
    assert (
        lead.phone_key
        == Lead(
            id=uuid.uuid4(), tenant_id=lead.tenant_id, name="x", created_at=NOW, phone="01065528888"
        ).phone_key
    )
    lead.phone = None
    assert lead.phone_key is None


def test_blank_company_counts_as_none() -> None:
    assert lead_name_key("李雷", "  ") == "李雷"


def test_a_new_lead_matches_customers_and_leads_by_name_phone_and_email(
    crm: Crm, actor: Actor
) -> None:
    customer = register_customer(crm, actor, name="北京华为科技有限公司", phone="010-65528888")
    by_phone = create_lead(crm, actor, name="赵敏", phone="+86 138 0013 8000")
    by_email = create_lead(crm, actor, name="钱伟", email="Qian.Wei@example.com")
    create_lead(crm, actor, name="孙丽", company="上海远景物流", duplicates=DuplicatePolicy.ALLOW)

    found = check_lead_duplicates(
        crm,
        actor,
        name="张三",
        company="華為科技（北京）",
        phone="13800138000",
        email="qian.wei@example.com",
    )
    assert found.is_duplicate
    assert not found.is_blocked
    assert found.customers == (customer.id,)
    assert set(found.leads) == {by_phone.id, by_email.id}
    reasons = {m.id: m.reasons for m in found.matches}
    assert reasons == {customer.id: ("name",), by_phone.id: ("phone",), by_email.id: ("email",)}

    assert not check_lead_duplicates(crm, actor, name="周杰", company="杭州新锐").is_duplicate


def test_a_customer_phone_in_another_format_is_a_duplicate(crm: Crm, actor: Actor) -> None:
    customer = register_customer(crm, actor, name="深圳腾达电子", phone="0755-8888 6666")
    found = check_lead_duplicates(crm, actor, name="陈晨", phone="+86 755 88886666")
    assert [(m.entity, m.id, m.reasons) for m in found.matches] == [
        ("customer", customer.id, ("phone",))
    ]


def test_block_refuses_a_duplicate_and_stores_nothing(crm: Crm, actor: Actor) -> None:
    first = create_lead(crm, actor, name="李雷", company="广州天河软件有限公司")
    with pytest.raises(ValidationError) as raised:
        create_lead(
            crm, actor, name="韩梅梅", company="廣州天河軟件", duplicates=DuplicatePolicy.BLOCK
        )
    assert (raised.value.entity, raised.value.field) == ("lead", "name")
    leads = crm.run(actor.tenant_id, lambda uow: uow.repository(Lead).query(Query()))
    assert [lead.id for lead in leads] == [first.id]


def test_block_lets_a_new_lead_through(crm: Crm, actor: Actor) -> None:
    create_lead(crm, actor, name="李雷", company="广州天河软件")
    lead = create_lead(
        crm, actor, name="韩梅梅", company="广州白云物流", duplicates=DuplicatePolicy.BLOCK
    )
    assert lead.name_key == "广州白云物流"


def test_warn_stores_the_lead_and_its_event_names_the_duplicates(crm: Crm, actor: Actor) -> None:
    first = create_lead(crm, actor, name="李雷", email="li.lei@example.com")
    second = create_lead(crm, actor, name="Li Lei", email="li.lei@example.com")
    third = create_lead(
        crm, actor, name="Li Lei", email="li.lei@example.com", duplicates=DuplicatePolicy.ALLOW
    )
    events = crm.run(actor.tenant_id, lambda uow: uow.outbox.pending(limit=100))
    created = {e.aggregate_id: e for e in events if isinstance(e, LeadCreated)}
    assert created[first.id].possible_duplicates == ()
    assert created[second.id].possible_duplicates == (first.id,)
    assert created[third.id].possible_duplicates == ()  # ALLOW does not look


def test_converted_leads_deleted_customers_and_other_tenants_do_not_match(
    crm: Crm, actor: Actor
) -> None:
    lead = create_lead(crm, actor, name="吴刚", company="成都蓉城医药")
    conversion = convert_lead(crm, actor, lead.id)
    assert conversion.lead.status is LeadStatus.CONVERTED
    # The converted lead is represented by its customer only.
    found = check_lead_duplicates(crm, actor, name="x", company="成都蓉城医药有限公司")
    assert found.customers == (conversion.customer.id,)
    assert not found.leads
    delete_customer(crm, actor, conversion.customer.id)
    assert not check_lead_duplicates(crm, actor, name="x", company="成都蓉城医药").is_duplicate

    other = Actor(tenant_id=TenantId(uuid.uuid4()), user_id=UserId(uuid.uuid4()), name="外人")
    from crmkit.rules.permissions import bootstrap_tenant

    bootstrap_tenant(crm, other.tenant_id, other.user_id, other.name)
    create_lead(crm, other, name="吴刚", company="西安秦川机械")
    assert not check_lead_duplicates(crm, actor, name="y", company="西安秦川机械").is_duplicate


def test_checking_needs_the_right_to_create_leads(crm: Crm, actor: Actor) -> None:
    stranger = Actor(tenant_id=actor.tenant_id, user_id=UserId(uuid.uuid4()), name="访客")
    with pytest.raises(PermissionDenied):
        check_lead_duplicates(crm, stranger, name="王五")


def test_migration_0013_backfills_the_keys_of_existing_leads(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from crmkit.adapters.sql.engine import create_engine
    from crmkit.adapters.sql.migrate import upgrade

    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine, "0011")
    tenant, lead_id = uuid.uuid4(), uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO leads (tenant_id, id, name, created_at, company, phone, email, status,"
                " score, version) VALUES (:t, :i, '王芳', :at, '北京華為科技有限公司',"
                " '010-6552 8888', ' Wang.Fang@Example.com', 'new', 0, 1)"
            ),
            {"t": tenant.hex, "i": lead_id.hex, "at": "2026-03-02 09:00:00.000000"},
        )
    upgrade(engine)
    with engine.connect() as connection:
        row = connection.execute(sa.text("SELECT name_key, phone_key, email_key FROM leads")).one()
    assert row.name_key == "北京华为科技"
    assert row.email_key == "wang.fang@example.com"
    assert (
        row.phone_key
        == Lead(
            id=lead_id, tenant_id=TenantId(tenant), name="x", created_at=NOW, phone="01065528888"
        ).phone_key
    )
