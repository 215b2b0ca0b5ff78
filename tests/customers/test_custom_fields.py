"""Custom fields on customers: definitions, validation, storage, filters, history, permissions."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit import Crm, PermissionDenied
from crmkit.customers import (
    ChoiceOption,
    CustomFieldChanged,
    CustomFieldDefined,
    CustomFieldDefinition,
    CustomValues,
    FieldType,
    change_custom_field,
    customer_history,
    deactivate_custom_field,
    define_custom_field,
    get_customer,
    list_custom_fields,
    list_customers,
    register_customer,
    update_customer,
)
from crmkit.customers.model.custom_query import custom_query
from crmkit.customers.model.custom_values import apply_custom, decode_values, encode_values
from crmkit.customers.services.batch import batch_update_customers
from crmkit.kernel.actor import Actor
from crmkit.kernel.converter import structure, unstructure
from crmkit.kernel.errors import NotFound, ValidationError
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Order, Query, to_predicate
from crmkit.rules.permissions import FieldAccess, FieldRule, Grant, Scope, define_role, set_member

NOW = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
TENANT = TenantId(uuid.uuid4())


def _definition(key: str, type_: str, **kw: object) -> CustomFieldDefinition:
    return CustomFieldDefinition(
        id=uuid.uuid4(),
        tenant_id=TENANT,
        entity="customer",
        key=key,
        label=kw.pop("label", key),  # type: ignore[arg-type]
        type=FieldType(type_),
        created_at=NOW,
        **kw,  # type: ignore[arg-type]
    )


TIER = _definition(
    "tier",
    "choice",
    label="客户等级",
    options=[
        ChoiceOption("gold", "金牌"),
        ChoiceOption("silver", "银牌"),
        ChoiceOption("bronze", "铜牌", active=False),
    ],
)
BUDGET = _definition("budget", "money", label="预算", currency="CNY")
SCORE = _definition("score", "number", minimum=0, maximum=100)
SIGNED = _definition("signed_on", "date", label="签约日期")
NOTE = _definition("note", "text", max_length=10)
TAGS = _definition(
    "channels",
    "multi_choice",
    options=[ChoiceOption("web", "官网"), ChoiceOption("fair", "展会"), ChoiceOption("ad", "广告")],
)
ALL = [TIER, BUDGET, SCORE, SIGNED, NOTE, TAGS]


# -- definitions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"key": "Budget"}, "key"),
        ({"key": "1st"}, "key"),
        ({"key": "name"}, "key"),  # a built-in customer field
        ({"key": "custom"}, "key"),
        ({"type": "choice"}, "options"),
        ({"options": ["a"]}, "options"),
        ({"type": "money"}, "currency"),
        ({"type": "money", "currency": "cny"}, "currency"),
        ({"max_length": 0}, "max_length"),
        ({"type": "number", "minimum": 5, "maximum": 1}, "maximum"),
        ({"type": "number", "minimum": "0.0000001"}, "minimum"),
        ({"label": " "}, "label"),
    ],
)
def test_a_definition_that_breaks_a_rule_cannot_exist(kw: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"key": "extra", "type": "text", "label": "额外"} | kw
    key, type_ = args.pop("key"), args.pop("type")
    with pytest.raises(ValidationError) as caught:
        _definition(key, type_, **args)  # type: ignore[arg-type]
    assert caught.value.fields["field"] == field


def test_repeated_option_values_are_refused() -> None:
    with pytest.raises(ValidationError):
        _definition("x", "choice", options=[ChoiceOption("a", "A"), ChoiceOption("a", "B")])


# -- coercion -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("definition", "raw", "expected"),
    [
        (NOTE, "  hello ", "hello"),
        (SCORE, "42.50", Decimal("42.50")),
        (SCORE, 7, Decimal(7)),
        (SCORE, "1E+1", Decimal(10)),
        (BUDGET, "1,234.5", Money("1234.5", "CNY")),
        (BUDGET, Money("10.00", "CNY"), Money("10", "CNY")),
        (SIGNED, "2024年3月5日", dt.date(2024, 3, 5)),
        (SIGNED, dt.date(2024, 3, 5), dt.date(2024, 3, 5)),
        (TIER, "gold", "gold"),
        (TIER, "金牌", "gold"),  # the label picks the option too
        (TAGS, ["ad", "web"], ("web", "ad")),  # stored in the definition's option order
        (TAGS, "展会、官网", ("web", "fair")),
        (TAGS, [], None),
        (NOTE, "", None),
        (SCORE, None, None),
    ],
)
def test_input_is_coerced_to_the_field_type(
    definition: CustomFieldDefinition, raw: object, expected: object
) -> None:
    assert definition.coerce(raw) == expected


@pytest.mark.parametrize(
    ("definition", "raw", "why"),
    [
        (NOTE, "x" * 11, "longer than 10"),
        (NOTE, 5, "must be text"),
        (SCORE, "abc", "not a number"),
        (SCORE, 1.5, "not a float"),
        (SCORE, "101", "at most 100"),
        (SCORE, "-1", "at least 0"),
        (SCORE, "1234567890123456", "significant digits"),
        (BUDGET, Money("1", "USD"), "must be in CNY"),
        (BUDGET, "1.001", "more decimals"),
        (SIGNED, "2024-02-30", "not a date"),
        (SIGNED, dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "not an instant"),
        (TIER, "platinum", "not one of the options"),
        (TIER, "bronze", "no longer offered"),
        (TAGS, {"web": 1}, "list of options"),
    ],
)
def test_bad_input_is_refused_naming_the_field(
    definition: CustomFieldDefinition, raw: object, why: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        definition.coerce(raw)
    assert caught.value.fields["field"] == definition.path
    assert why in str(caught.value)


def test_apply_rejects_unknown_and_deactivated_fields_and_enforces_required() -> None:
    required = _definition("region_code", "text", required=True)
    retired = _definition("legacy", "text", active=False)
    with pytest.raises(ValidationError, match="is not a custom field"):
        apply_custom(ALL, None, {"nope": "x"}, entity="customer")
    with pytest.raises(ValidationError, match="deactivated"):
        apply_custom([retired], None, {"legacy": "x"}, entity="customer")
    with pytest.raises(ValidationError) as caught:
        apply_custom([required], None, {}, entity="customer", creating=True)
    assert caught.value.fields["field"] == "custom.region_code"
    current = CustomValues({"region_code": "BJ"})
    with pytest.raises(ValidationError, match="is required"):
        apply_custom([required], current, {"region_code": ""}, entity="customer")
    # Keys not given keep their value; None clears one.
    merged = apply_custom(
        ALL, CustomValues({"tier": "gold", "note": "a"}), {"custom.note": None}, entity="customer"
    )
    assert merged == {"tier": "gold"}


# -- stored form ----------------------------------------------------------------------------

_keys = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
_decimals = st.decimals(
    min_value=Decimal("-999999999"), max_value=Decimal("999999999"), places=4, allow_nan=False
)
_values = st.one_of(
    st.text(max_size=20),
    _decimals,
    _decimals.map(lambda d: Money(d.quantize(Decimal("0.01")), "CNY")),
    st.dates(),
    st.lists(st.text(min_size=1, max_size=5), max_size=3).map(tuple),
)


@given(st.dictionaries(_keys, _values, max_size=6))
def test_custom_values_survive_the_stored_form(data: dict[str, object]) -> None:
    values = CustomValues(data)
    assert decode_values(encode_values(values)) == values
    assert structure(unstructure(values), CustomValues) == values
    for key, value in decode_values(encode_values(values)).items():
        assert type(value) is type(values[key])


def test_custom_values_are_immutable_and_never_hold_none() -> None:
    values = CustomValues({"tier": "gold", "budget": None})
    assert dict(values) == {"tier": "gold"}
    with pytest.raises(AttributeError):
        values._data = {}  # type: ignore[misc]
    with pytest.raises(ValidationError):
        CustomValues({"Bad Key": "x"})
    with pytest.raises(ValidationError):
        CustomValues({"when": dt.datetime(2024, 1, 1, tzinfo=dt.UTC)})


# -- filters --------------------------------------------------------------------------------


def test_filter_values_take_the_field_type() -> None:
    typed = custom_query(
        F("custom.budget.amount").ge("1000") & F("custom.signed_on").lt("2024-01-01")
        | F("custom.tier").eq("金牌"),
        ALL,
        entity="customer",
    )
    record = {
        "custom": CustomValues({"budget": Money("1500", "CNY"), "signed_on": dt.date(2023, 5, 1)})
    }
    assert to_predicate(typed)(record)
    assert to_predicate(custom_query(F("custom.tier").eq("金牌"), ALL, entity="customer"))(
        {"custom": CustomValues({"tier": "gold"})}
    )


@pytest.mark.parametrize(
    "expr",
    [
        F("custom.unknown").eq("x"),
        F("custom.tier").startswith("g"),
        F("custom.channels").eq("web"),
        F("custom.budget").eq("10"),
        F("custom.budget.cents").eq("10"),
        F("custom.score").eq("many"),
        F("custom.tier.value").eq("gold"),
    ],
)
def test_filters_that_do_not_fit_the_field_are_refused(expr: object) -> None:
    with pytest.raises(ValidationError):
        custom_query(expr, ALL, entity="customer")  # type: ignore[arg-type]


# -- services on every backend --------------------------------------------------------------


def _define_all(crm: Crm, actor: Actor) -> None:
    define_custom_field(
        crm,
        actor,
        key="tier",
        label="客户等级",
        type="choice",
        options=[{"value": "gold", "label": "金牌"}, {"value": "silver", "label": "银牌"}],
    )
    define_custom_field(crm, actor, key="budget", label="预算", type="money", currency="CNY")
    define_custom_field(crm, actor, key="score", label="评分", type="number", maximum=100)
    define_custom_field(crm, actor, key="signed_on", label="签约日期", type="date")
    define_custom_field(crm, actor, key="note", label="备注", type="text")
    define_custom_field(
        crm, actor, key="channels", label="渠道", type="multi_choice", options=["web", "fair", "ad"]
    )


def test_values_are_stored_read_back_and_changed_on_every_backend(crm: Crm, actor: Actor) -> None:
    _define_all(crm, actor)
    customer = register_customer(
        crm,
        actor,
        name="北京华为科技",
        custom={
            "tier": "金牌",
            "budget": "50000",
            "score": "87.5",
            "signed_on": "2024-03-05",
            "channels": ["ad", "web"],
        },
    )
    loaded = get_customer(crm, actor, customer.id)
    assert loaded.custom == {
        "tier": "gold",
        "budget": Money("50000.00", "CNY"),
        "score": Decimal("87.5"),
        "signed_on": dt.date(2024, 3, 5),
        "channels": ("web", "ad"),
    }
    assert str(loaded.custom["budget"].amount) == "50000.00"
    changed = update_customer(
        crm, actor, customer.id, custom={"tier": "silver", "score": None, "note": " 重点 "}
    )
    assert changed.custom["tier"] == "silver"
    assert "score" not in changed.custom
    assert get_customer(crm, actor, customer.id).custom == changed.custom
    history = {
        (r.field, r.old_value, r.new_value)
        for r in customer_history(crm, actor, customer.id)
        if r.field and r.field.startswith("custom.")
    }
    assert ("custom.tier", "gold", "silver") in history
    assert ("custom.score", "87.5", None) in history
    assert ("custom.note", None, "重点") in history
    assert ("custom.budget", None, "50000.00 CNY") in history


def test_bad_values_change_nothing(crm: Crm, actor: Actor) -> None:
    _define_all(crm, actor)
    customer = register_customer(crm, actor, name="上海贝尔", custom={"tier": "gold"})
    with pytest.raises(ValidationError) as caught:
        update_customer(crm, actor, customer.id, level="A", custom={"score": "101"})
    assert caught.value.fields["field"] == "custom.score"
    again = get_customer(crm, actor, customer.id)
    assert (again.level, again.custom, again.version) == (None, {"tier": "gold"}, customer.version)
    with pytest.raises(ValidationError):
        register_customer(crm, actor, name="杭州", custom={"unknown": "x"})
    assert [c.name for c in list_customers(crm, actor)] == ["上海贝尔"]


def test_required_fields_must_be_given_when_a_customer_is_entered(crm: Crm, actor: Actor) -> None:
    define_custom_field(
        crm, actor, key="bank_account", label="开户账号", type="text", required=True
    )
    with pytest.raises(ValidationError) as caught:
        register_customer(crm, actor, name="深圳腾讯")
    assert caught.value.fields["field"] == "custom.bank_account"
    customer = register_customer(crm, actor, name="深圳腾讯", custom={"bank_account": "9144"})
    with pytest.raises(ValidationError):
        update_customer(crm, actor, customer.id, custom={"bank_account": ""})


def test_lists_filter_on_custom_fields_in_the_database(crm: Crm, actor: Actor) -> None:
    _define_all(crm, actor)
    rows = {
        "甲": {
            "tier": "gold",
            "budget": "1000",
            "score": "9",
            "signed_on": "2024-01-05",
            "channels": ["web"],
        },
        "乙": {
            "tier": "silver",
            "budget": "999.99",
            "score": "10",
            "signed_on": "2023-12-31",
            "channels": ["web", "ad"],
        },
        "丙": {"note": "gold medal", "score": "-0.5"},
        "丁": {},
    }
    for name, custom in rows.items():
        register_customer(crm, actor, name=name, custom=custom)

    def names(expr: object) -> set[str]:
        return {c.name for c in list_customers(crm, actor, Query(where=expr))}  # type: ignore[arg-type]

    assert names(F("custom.tier").eq("gold")) == {"甲"}
    assert names(F("custom.tier").eq("银牌")) == {"乙"}
    assert names(~F("custom.tier").eq("gold")) == {"乙", "丙", "丁"}
    assert names(F("custom.budget.amount").ge(1000)) == {"甲"}
    assert names(F("custom.budget.amount").lt("1000")) == {"乙"}
    assert names(F("custom.budget.currency").eq("CNY")) == {"甲", "乙"}
    assert names(F("custom.score").gt("9.5")) == {"乙"}  # numeric, not text, order
    assert names(F("custom.score").is_in(["9", "-0.5"])) == {"甲", "丙"}
    assert names(F("custom.signed_on").ge("2024-01-01")) == {"甲"}
    assert names(F("custom.channels").contains("ad")) == {"乙"}
    assert names(F("custom.channels").contains("web")) == {"甲", "乙"}
    assert names(F("custom.note").contains("gold")) == {"丙"}
    assert names(F("custom.note").startswith("gold")) == {"丙"}
    assert names(F("custom.budget").is_null()) == {"丙", "丁"}
    assert names(F("custom.tier").not_null() & F("custom.score").le(9)) == {"甲"}
    with pytest.raises(ValidationError):
        list_customers(crm, actor, Query(order_by=(Order("custom.score"),)))
    with pytest.raises(ValidationError):
        list_customers(crm, actor, Query(where=F("custom.nope").eq("x")))


def test_batch_updates_validate_custom_values(crm: Crm, actor: Actor) -> None:
    _define_all(crm, actor)
    one = register_customer(crm, actor, name="一号")
    two = register_customer(crm, actor, name="二号", custom={"note": "keep"})
    result = batch_update_customers(crm, actor, [one.id, two.id], custom={"tier": "gold"})
    assert set(result.updated) == {one.id, two.id}
    assert get_customer(crm, actor, two.id).custom == {"note": "keep", "tier": "gold"}
    with pytest.raises(ValidationError):
        batch_update_customers(crm, actor, [one.id], custom={"tier": "platinum"})


# -- definitions as a service ---------------------------------------------------------------


def test_definitions_are_administered_with_events(crm: Crm, actor: Actor) -> None:
    tier = define_custom_field(
        crm,
        actor,
        key="tier",
        label="合作级别",
        type="choice",
        options=["gold", "silver", "bronze"],
    )
    with pytest.raises(ValidationError, match="taken"):
        define_custom_field(crm, actor, key="tier", label="again", type="text")
    customer = register_customer(crm, actor, name="宁波", custom={"tier": "silver"})
    # An option in use cannot be removed, only deactivated.
    with pytest.raises(ValidationError, match="in use"):
        change_custom_field(crm, actor, tier.id, options=["gold", "bronze"])
    retired = change_custom_field(
        crm,
        actor,
        tier.id,
        expected_version=tier.version,
        label="客户等级",
        options=[ChoiceOption("gold", "金"), ChoiceOption("silver", "银", active=False)],
    )
    assert retired.label == "客户等级"
    with pytest.raises(ValidationError, match="no longer offered"):
        update_customer(crm, actor, customer.id, custom={"tier": "silver"})
    # The unused option "bronze" went away; "silver" stays on the record that has it.
    assert [o.value for o in retired.options] == ["gold", "silver"]
    with pytest.raises(ValidationError):
        change_custom_field(crm, actor, tier.id, type="text")
    deactivate_custom_field(crm, actor, tier.id)
    assert list_custom_fields(crm, actor) == []
    assert [d.key for d in list_custom_fields(crm, actor, include_inactive=True)] == ["tier"]
    assert get_customer(crm, actor, customer.id).custom == {"tier": "silver"}  # values stay
    with pytest.raises(ValidationError, match="deactivated"):
        update_customer(crm, actor, customer.id, custom={"tier": "gold"})
    events = crm.run(actor.tenant_id, lambda uow: uow.outbox.pending(100))
    kinds = [e.event_type for e in events]
    assert kinds.count("CustomFieldDefined") == 1
    assert kinds.count("CustomFieldChanged") == 2
    with pytest.raises(NotFound):
        change_custom_field(crm, actor, uuid.uuid4(), label="x")


def _rep(crm: Crm, admin: Actor, rules: list[FieldRule]) -> Actor:
    define_role(
        crm,
        admin,
        "rep",
        grants=[Grant("customer", op, Scope.TENANT) for op in ("view", "create", "edit", "export")],
        field_rules=rules,
    )
    rep = Actor(tenant_id=admin.tenant_id, user_id=UserId(uuid.uuid4()), name="Li")
    set_member(crm, admin, rep.user_id, name="Li", roles=["rep"])
    return rep


def test_hidden_custom_fields_are_absent_and_cannot_be_filtered_on(crm: Crm, actor: Actor) -> None:
    _define_all(crm, actor)
    rep = _rep(crm, actor, [FieldRule("customer", "custom.budget", FieldAccess.HIDDEN)])
    customer = register_customer(crm, actor, name="西安", custom={"budget": "10", "tier": "gold"})
    update_customer(crm, actor, customer.id, custom={"budget": "20"})
    assert get_customer(crm, rep, customer.id).custom == {"tier": "gold"}
    assert [c.custom for c in list_customers(crm, rep)] == [{"tier": "gold"}]
    assert "budget" in get_customer(crm, actor, customer.id).custom  # the stored value is intact
    with pytest.raises(PermissionDenied):
        list_customers(crm, rep, Query(where=F("custom.budget.amount").gt(5)))
    with pytest.raises(PermissionDenied):
        update_customer(crm, rep, customer.id, custom={"budget": "30"})
    fields = {r.field for r in customer_history(crm, rep, customer.id)}
    assert "custom.budget" not in fields
    assert "custom.tier" in fields
    assert "budget" not in {d.key for d in list_custom_fields(crm, rep)}


def test_read_only_custom_fields_refuse_edits(crm: Crm, actor: Actor) -> None:
    _define_all(crm, actor)
    rep = _rep(crm, actor, [FieldRule("customer", "custom.tier", FieldAccess.READ_ONLY)])
    customer = register_customer(crm, actor, name="成都", custom={"tier": "gold"})
    with pytest.raises(PermissionDenied) as caught:
        update_customer(crm, rep, customer.id, custom={"tier": "silver"})
    assert caught.value.fields["field"] == "custom.tier"
    assert update_customer(crm, rep, customer.id, custom={"note": "ok"}).custom["note"] == "ok"
    assert get_customer(crm, rep, customer.id).custom["tier"] == "gold"


def test_a_rule_on_custom_hides_every_custom_field(crm: Crm, actor: Actor) -> None:
    _define_all(crm, actor)
    rep = _rep(crm, actor, [FieldRule("customer", "custom", FieldAccess.READ_ONLY)])
    customer = register_customer(crm, actor, name="武汉", custom={"tier": "gold"})
    with pytest.raises(PermissionDenied):
        update_customer(crm, rep, customer.id, custom={"note": "x"})


def test_field_rules_name_custom_fields_only_by_a_key() -> None:
    from crmkit.rules.permissions.model import registry

    FieldRule("customer", "custom.budget", FieldAccess.HIDDEN).validate(registry)
    with pytest.raises(ValidationError):
        FieldRule("customer", "custom.Budget!", FieldAccess.HIDDEN).validate(registry)
    with pytest.raises(ValidationError):
        FieldRule("customer", "extra.budget", FieldAccess.HIDDEN).validate(registry)


def test_custom_field_events_round_trip() -> None:
    defined = CustomFieldDefined(
        tenant_id=TENANT,
        aggregate_id=uuid.uuid4(),
        occurred_at=NOW,
        entity="customer",
        key="k",
        label="标签",
        type="text",
    )
    changed = CustomFieldChanged(
        tenant_id=TENANT,
        aggregate_id=uuid.uuid4(),
        occurred_at=NOW,
        key="k",
        changes={"label": ("a", "b")},
    )
    assert structure(unstructure(defined), CustomFieldDefined) == defined
    assert structure(unstructure(changed), CustomFieldChanged) == changed


# -- export and import ----------------------------------------------------------------------


def test_exports_write_a_column_per_visible_active_custom_field(crm: Crm, actor: Actor) -> None:
    from crmkit.adapters.tabular import read_table, write_table
    from crmkit.customers import export_customers

    _define_all(crm, actor)
    define_custom_field(crm, actor, key="formula", label="公式", type="text")
    retired = define_custom_field(crm, actor, key="old", label="旧字段", type="text")
    register_customer(
        crm,
        actor,
        name="广州",
        custom={
            "tier": "gold",
            "budget": "1234.5",
            "signed_on": "2024-03-05",
            "channels": ["web", "ad"],
            "formula": "=HYPERLINK(1)",
            "old": "x",
        },
    )
    deactivate_custom_field(crm, actor, retired.id)
    sheet = export_customers(crm, actor, Query(where=F("custom.tier").eq("gold")), locale="en")
    row = dict(zip(sheet.headers, sheet.rows[0], strict=True))
    assert row["客户等级"] == "金牌"
    assert row["预算"] == "1234.50"
    assert row["签约日期"] == "2024-03-05"
    assert row["渠道"] == "web,ad"
    assert row["评分"] == ""
    assert "旧字段" not in row
    # Formula-like text is neutralised when the file is written, and restored when read.
    written = write_table(sheet.headers, sheet.rows, "csv")
    assert b"'=HYPERLINK" in written
    back = read_table(written, filename="x.csv")
    assert back.rows[0][list(back.headers).index("公式")] == "=HYPERLINK(1)"

    rep = _rep(crm, actor, [FieldRule("customer", "custom.budget", FieldAccess.HIDDEN)])
    hidden = export_customers(crm, rep, locale="en")
    assert "预算" not in hidden.headers
    assert "客户等级" in hidden.headers
    with pytest.raises(PermissionDenied):
        export_customers(crm, rep, Query(where=F("custom.budget.amount").gt(1)))


def test_imports_read_custom_columns_by_label_or_key_and_report_bad_cells(
    crm: Crm, actor: Actor
) -> None:
    from crmkit import ImportRejected
    from crmkit.adapters.tabular import read_table
    from crmkit.customers import import_customers, import_template

    _define_all(crm, actor)
    define_custom_field(
        crm, actor, key="bank_account", label="开户账号", type="text", required=True
    )
    headers = import_template("zh_CN", list_custom_fields(crm, actor)).headers
    assert headers[-7:] == ("客户等级", "预算", "评分", "签约日期", "备注", "渠道", "开户账号*")

    good = (
        "客户名称,客户等级,budget,签约日期,渠道,开户账号*\n甲公司,金牌,100,2024/3/5,ad、web,91A\n"
    )
    report = import_customers(crm, actor, read_table(good.encode(), filename="a.csv"))
    [created] = list_customers(crm, actor, Query(where=F("custom.bank_account").eq("91A")))
    assert report.created == (created.id,)
    assert created.custom == {
        "tier": "gold",
        "budget": Money("100.00", "CNY"),
        "signed_on": dt.date(2024, 3, 5),
        "channels": ("web", "ad"),
        "bank_account": "91A",
    }

    bad = (
        "客户名称,客户等级,预算,评分,签约日期,开户账号,Remark\n"
        "乙公司,钻石,abc,101,2024-02-30,,x\n"
        "丙公司,银牌,5,1,2024-01-01,92B,y\n"
    )
    dry = import_customers(
        crm,
        actor,
        read_table(bad.encode(), filename="b.csv"),
        mapping={"Remark": "note"},
        dry_run=True,
    )
    problems = {(p.fields["row"], p.fields["column"], p.fields["field"]) for p in dry.problems}
    assert problems == {
        (2, "客户等级", "custom.tier"),
        (2, "预算", "custom.budget"),
        (2, "评分", "custom.score"),
        (2, "签约日期", "custom.signed_on"),
        (2, "开户账号", "custom.bank_account"),
    }
    with pytest.raises(ImportRejected):
        import_customers(crm, actor, read_table(bad.encode(), filename="b.csv"))
    assert len(list_customers(crm, actor)) == 1  # nothing of the bad file was stored

    missing = import_customers(
        crm, actor, read_table("客户名称\n丁公司\n".encode(), filename="c.csv"), dry_run=True
    )
    assert [(p.fields["row"], p.fields["field"]) for p in missing.problems] == [
        (1, "custom.bank_account")
    ]


def test_a_custom_label_may_not_take_a_column_header(crm: Crm, actor: Actor) -> None:
    with pytest.raises(ValidationError, match="already names a column"):
        define_custom_field(crm, actor, key="grade", label="客户级别", type="text")
    define_custom_field(crm, actor, key="grade", label="合作等级", type="text")
    with pytest.raises(ValidationError, match="already names a column"):
        define_custom_field(crm, actor, key="grade2", label="合作等级", type="text")


def test_merges_keep_the_survivors_custom_values_and_fill_its_gaps(crm: Crm, actor: Actor) -> None:
    from crmkit.customers import merge_customers, undo_merge

    _define_all(crm, actor)
    survivor = register_customer(crm, actor, name="合并甲", custom={"tier": "gold"})
    other = register_customer(crm, actor, name="合并乙", custom={"tier": "silver", "note": "n"})
    result = merge_customers(crm, actor, survivor.id, [other.id])
    assert get_customer(crm, actor, survivor.id).custom == {"tier": "gold", "note": "n"}
    undo_merge(crm, actor, result.merge_id)
    assert get_customer(crm, actor, survivor.id).custom == {"tier": "gold"}
