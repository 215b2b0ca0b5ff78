"""Tax ids and emails are checked by python-stdnum and email-validator, on every backend."""

from __future__ import annotations

import pytest

from crmkit import Crm
from crmkit.adapters.tabular import read_table
from crmkit.customers import add_contact, get_customer, register_customer, update_customer
from crmkit.customers.model.identifiers import check_email, check_tax_id, compact_tax_id
from crmkit.customers.services.importing import import_customers
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import ValidationError
from crmkit.kernel.query import F, Query

HUAWEI_USCC = "91110000802100433B"
PING_AN_USCC = "91440300100012316L"


def _field(error: pytest.ExceptionInfo[ValidationError]) -> object:
    return error.value.fields["field"]


@pytest.mark.parametrize("value", [HUAWEI_USCC, "9111 0000 8021 0043 3b", "91110000-802100433B"])
def test_a_unified_social_credit_code_is_checked_and_stored_compact(value: str) -> None:
    check_tax_id(compact_tax_id(value), None, entity="customer")
    assert compact_tax_id(value) == HUAWEI_USCC


@pytest.mark.parametrize(
    ("value", "country"),
    [
        ("91110000802100433C", None),  # wrong check character
        ("9144030019220382", "CN"),  # too short
        ("DE136695977", "DE"),  # wrong check digit
    ],
)
def test_a_wrong_tax_id_is_refused_naming_the_field(value: str, country: str | None) -> None:
    with pytest.raises(ValidationError) as raised:
        check_tax_id(value, country, entity="customer")
    assert _field(raised) == "tax_id"


def test_other_countries_use_their_own_rules_and_unknown_ones_pass() -> None:
    check_tax_id("DE136695976", "DE", entity="customer")
    check_tax_id("12345678", "HK", entity="customer")  # no rules known: kept as typed
    with pytest.raises(ValidationError) as raised:
        check_tax_id(HUAWEI_USCC, "China", entity="customer")
    assert _field(raised) == "tax_country"


@pytest.mark.parametrize("value", ["zhang.wei@example.com", "李雷@例子.中国", "a+b@sub.example.cn"])
def test_email_addresses_are_accepted(value: str) -> None:
    check_email(value, entity="contact")


@pytest.mark.parametrize("value", ["zhang@", "@example.com", "zhang wei@example.com", "a@b"])
def test_malformed_email_addresses_are_refused(value: str) -> None:
    with pytest.raises(ValidationError) as raised:
        check_email(value, entity="contact")
    assert _field(raised) == "email"


def test_customers_keep_a_checked_tax_id_found_by_equality(crm: Crm, actor: Actor) -> None:
    huawei = register_customer(crm, actor, name="华为技术有限公司", tax_id="9111 0000 8021 0043 3b")
    assert huawei.tax_id == HUAWEI_USCC
    with pytest.raises(ValidationError) as raised:
        register_customer(crm, actor, name="平安", tax_id="91440300100012316Z")
    assert _field(raised) == "tax_id"
    with pytest.raises(ValidationError):
        update_customer(crm, actor, huawei.id, expected_version=huawei.version, email="no-at-sign")
    assert get_customer(crm, actor, huawei.id).email is None
    found = crm.run(
        actor.tenant_id,
        lambda uow: uow.repository(type(huawei)).query(Query(F("tax_id").eq(HUAWEI_USCC))),
    )
    assert [c.id for c in found] == [huawei.id]
    with pytest.raises(ValidationError):
        add_contact(crm, actor, huawei.id, name="张伟", email="zhang@")


def test_an_import_reports_a_bad_tax_id_by_row_and_column(crm: Crm, actor: Actor) -> None:
    data = (
        "客户名称,统一社会信用代码,邮箱\n"
        f"华为技术,{HUAWEI_USCC},hr@huawei.com\n"
        "平安科技,91440300100012316Z,\n"
        f"平安银行,{PING_AN_USCC},pa@\n"
    ).encode()
    report = import_customers(crm, actor, read_table(data), dry_run=True)
    assert [(p.fields["row"], p.fields["column"]) for p in report.problems] == [
        (3, "统一社会信用代码"),
        (4, "邮箱"),
    ]


def test_blocking_duplicates_refuses_a_second_customer_with_the_same_tax_id(
    crm: Crm, actor: Actor
) -> None:
    from crmkit.customers import DuplicatePolicy

    first = register_customer(crm, actor, name="北京某某科技", tax_id=HUAWEI_USCC)
    with pytest.raises(ValidationError) as raised:
        register_customer(
            crm,
            actor,
            name="某某科技（北京）分部",
            tax_id=HUAWEI_USCC.lower(),
            duplicates=DuplicatePolicy.BLOCK,
        )
    assert _field(raised) == "tax_id"
    assert str(first.id) in raised.value.message("en")
    # Warning (the default) leaves the decision to the user, as for names.
    register_customer(crm, actor, name="某某科技分部", tax_id=HUAWEI_USCC)
