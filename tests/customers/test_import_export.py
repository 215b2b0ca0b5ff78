"""Customer import and export: file safety, column mapping, dry run, all-or-nothing, scope."""

from __future__ import annotations

import io
import uuid
import zipfile
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit import Crm, ImportRejected, PermissionDenied
from crmkit.adapters.tabular import (
    FORMULA_TRIGGERS,
    FileRejected,
    Limits,
    neutralise,
    read_table,
    restore,
    write_csv,
    write_table,
    write_xlsx,
)
from crmkit.customers import (
    CustomerChanged,
    CustomerRegistered,
    DuplicatePolicy,
    list_customers,
    register_customer,
    search_customers,
)
from crmkit.customers.model.cells import parse_date, parse_row
from crmkit.customers.model.transfer import map_headers, template_headers
from crmkit.customers.queries.exports import export_customers, import_template
from crmkit.customers.services import customer_history, delete_customer
from crmkit.customers.services.batch import batch_update_customers
from crmkit.customers.services.importing import import_customers
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import NotFound, ValidationError
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Order, Query
from crmkit.rules.permissions import (
    FieldAccess,
    FieldRule,
    Grant,
    Scope,
    define_department,
    define_role,
    set_member,
)

CN_HEADERS = "客户名称,客户级别,电话,信用额度,币种,标签,创建日期\n"


def _csv(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


def _zip_bomb(expanded: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * expanded)
    return out.getvalue()


# -- reading files -------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_utf8_with_or_without_bom_and_gb18030_reads_the_same(encoding: str) -> None:
    data = _csv(
        CN_HEADERS + "北京华为科技,A,13800138000,1234.5,CNY,重点，华北,2024/3/5\n", encoding
    )
    table = read_table(data, filename="客户.csv")
    assert table.headers[0] == "客户名称"
    assert table.rows == (
        ("北京华为科技", "A", "13800138000", "1234.5", "CNY", "重点，华北", "2024/3/5"),
    )
    assert table.row_numbers == (2,)


def test_blank_rows_are_skipped_but_row_numbers_stay_those_the_user_sees() -> None:
    table = read_table(_csv("Name,Level\nAcme,A\n,\nBeta,B\n"))
    assert table.row_numbers == (2, 4)


def test_a_file_in_another_encoding_is_refused_with_a_clear_error() -> None:
    with pytest.raises(FileRejected) as raised:
        read_table(b"Name\n\x80\xff\xfe\n")
    assert raised.value.fields["field"] == "encoding"
    assert "UTF-8" in str(raised.value)


def test_an_oversized_file_is_refused_before_it_is_parsed() -> None:
    with pytest.raises(FileRejected) as raised:
        read_table(b"Name\n" + b"x\n" * 600, limits=Limits(max_bytes=1000))
    assert raised.value.fields["field"] == "size"


def test_too_many_rows_or_columns_are_refused() -> None:
    with pytest.raises(FileRejected) as rows:
        read_table(b"Name\n" + b"x\n" * 11, limits=Limits(max_rows=10))
    with pytest.raises(FileRejected) as columns:
        read_table(b",".join([b"c"] * 5) + b"\n", limits=Limits(max_columns=4))
    assert (rows.value.fields["field"], columns.value.fields["field"]) == ("rows", "columns")


def test_a_zip_bomb_posing_as_xlsx_is_refused_without_inflating_it() -> None:
    bomb = _zip_bomb(20 * 1024 * 1024)
    assert len(bomb) < 100_000
    with pytest.raises(FileRejected) as raised:
        read_table(bomb, filename="customers.xlsx")
    assert raised.value.fields["field"] == "archive"
    assert "zip bomb" in str(raised.value)


def test_an_xlsx_expanding_past_the_limit_is_refused() -> None:
    with pytest.raises(FileRejected) as raised:
        read_table(_zip_bomb(50_000), limits=Limits(max_uncompressed=10_000))
    assert raised.value.fields["field"] == "archive"


def test_a_damaged_xlsx_is_refused() -> None:
    with pytest.raises(FileRejected) as raised:
        read_table(b"PK\x03\x04 this is not really a zip", filename="x.xlsx")
    assert raised.value.fields["field"] == "format"
    with pytest.raises(FileRejected):
        read_table(_zip_bomb(10), filename="x.xlsx")  # a zip, but no worksheet openpyxl accepts


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(FileRejected):
        read_table(b"  \n")


def test_xlsx_written_by_crmkit_reads_back_cell_for_cell() -> None:
    rows = [("北京华为科技", "=HYPERLINK(1)", "+8613800138000", ""), ("Acme", "'quoted", "-", "x")]
    table = read_table(write_xlsx(["Name", "Note", "Phone", "Other"], rows))
    assert table.headers == ("Name", "Note", "Phone", "Other")
    assert table.rows == tuple(rows)


# -- formula injection ---------------------------------------------------------------------


@given(st.text())
def test_neutralised_values_never_start_a_formula_and_restore_exactly(value: str) -> None:
    safe = neutralise(value)
    assert not safe.startswith(FORMULA_TRIGGERS)
    assert restore(safe) == value


def test_csv_export_neutralises_formulas_and_reads_back_unchanged() -> None:
    data = write_csv(["Name", "Note"], [["=cmd|' /C calc'!A0", "@SUM(A1)"], ["\tx", "\ry"]])
    text = data.decode("utf-8-sig")
    assert "'=cmd" in text
    assert "'@SUM" in text
    assert all(not line.startswith(FORMULA_TRIGGERS) for line in text.splitlines())
    assert read_table(data).rows == (("=cmd|' /C calc'!A0", "@SUM(A1)"), ("\tx", "\ry"))


# -- column mapping and row checks -----------------------------------------------------------


def test_headers_are_recognised_in_chinese_english_and_aliases() -> None:
    columns, problems = map_headers(["名称", "ＬＥＶＥＬ", " phone ", "Ignored", "负责人"])
    assert problems == []
    assert {p: c.key for p, c in columns.items()} == {0: "name", 1: "level", 2: "phone", 4: "owner"}
    mapped, _ = map_headers(["公司", "备注"], mapping={"备注": "source", "公司": "name"})
    assert [c.key for c in mapped.values()] == ["name", "source"]


def test_a_file_without_the_name_column_is_reported_at_the_header_row() -> None:
    _, problems = map_headers(["Level", "Phone"])
    assert [(p.fields["row"], p.fields["field"]) for p in problems] == [(1, "name")]


def test_every_bad_cell_of_a_row_is_reported_with_its_column() -> None:
    headers = ["名称", "类型", "电话", "信用额度", "创建日期", "邮箱"]
    columns, _ = map_headers(headers)
    cells = ["", "alien", "12", "lots", "2024-02-30", "not-an-email"]
    parsed, problems = parse_row(7, cells, columns, headers)
    assert parsed is None
    assert {(p.fields["row"], p.fields["column"]) for p in problems} == {(7, h) for h in headers}
    assert "Row 7, column 信用额度" in next(str(p) for p in problems if p.field == "credit_limit")


def test_money_keeps_its_currency_and_refuses_extra_decimals() -> None:
    headers = ["Name", "Credit limit", "Currency"]
    columns, _ = map_headers(headers)
    parsed, _ = parse_row(2, ["A", "¥1,234.5", "usd"], columns, headers)
    assert parsed is not None
    assert parsed.fields["credit_limit"] == Money("1234.50", "USD")
    _, problems = parse_row(3, ["A", "1.234", "CNY"], columns, headers)
    assert [p.field for p in problems] == ["credit_limit"]


@pytest.mark.parametrize("text", ["2024-03-05", "2024/3/5", "2024.3.5", "2024年3月5日"])
def test_usual_date_spellings_are_understood(text: str) -> None:
    assert parse_date(text) is not None
    assert parse_date(text).isoformat() == "2024-03-05"


def test_the_template_is_headed_in_the_requested_locale_and_imports_as_is() -> None:
    assert template_headers("zh_CN")[0] == "客户名称*"
    assert template_headers("zh_TW")[0] == "客戶名稱*"
    assert import_template("en").headers[0] == "Name*"
    for locale in ("en", "zh_CN", "zh_TW"):
        columns, problems = map_headers(template_headers(locale))
        assert problems == []
        assert len(columns) == len(template_headers(locale))


# -- import use case -----------------------------------------------------------------------


def test_a_clean_file_is_imported_in_one_go_with_events(crm: Crm, actor: Actor) -> None:
    data = _csv(
        CN_HEADERS
        + "北京华为科技,A,138-0013-8000,1234.5,CNY,重点，华北,2024/3/5\n"
        + "上海电气,B,,,,,\n",
        "gb18030",
    )
    report = import_customers(crm, actor, read_table(data))
    assert (report.ok, report.dry_run, len(report.created)) == (True, False, 2)
    found = search_customers(crm, actor, "bjhw")
    assert [c.name for c in found] == ["北京华为科技"]
    huawei = found[0]
    assert huawei.credit_limit == Money("1234.50", "CNY")
    assert huawei.tags == ("重点", "华北")
    # A date in the file is a day in the tenant's zone (Asia/Shanghai by default).
    assert huawei.created_at.astimezone(ZoneInfo("Asia/Shanghai")).isoformat() == (
        "2024-03-05T00:00:00+08:00"
    )
    assert huawei.owner_id == actor.user_id
    assert huawei.owned_since == crm.now()  # the protection period starts at the import
    history = customer_history(crm, actor, huawei.id)
    assert [(h.action, h.user_id) for h in history] == [("import", actor.user_id)]
    events = crm.run(actor.tenant_id, lambda uow: uow.outbox.pending())
    assert sum(isinstance(e, CustomerRegistered) for e in events) == 2


def test_a_dry_run_reports_every_bad_row_and_stores_nothing(crm: Crm, actor: Actor) -> None:
    data = _csv(
        "Name,Level,Phone,Created on\n"
        "Good Co,A,13800138000,2024-01-01\n"
        ",A,,\n"
        "Bad Date,B,,2024-13-01\n"
        "Bad Phone,C,12,\n"
    )
    report = import_customers(crm, actor, read_table(data), dry_run=True)
    assert [(p.fields["row"], p.fields["column"]) for p in report.problems] == [
        (3, "Name"),
        (4, "Created on"),
        (5, "Phone"),
    ]
    assert not report.ok
    assert report.created == ()
    assert list_customers(crm, actor) == []


def test_a_file_with_one_bad_row_is_rejected_as_a_whole(crm: Crm, actor: Actor) -> None:
    data = _csv("Name,Level\nGood Co,A\nAlso Good,B\n" + "x" * 201 + ",C\n")
    with pytest.raises(ImportRejected) as raised:
        import_customers(crm, actor, read_table(data))
    problem = raised.value.problems[0]
    assert (problem.fields["row"], problem.fields["field"]) == (4, "name")
    assert list_customers(crm, actor) == []


def test_a_missing_name_column_rejects_the_file(crm: Crm, actor: Actor) -> None:
    with pytest.raises(ImportRejected) as raised:
        import_customers(crm, actor, read_table(_csv("Level,Phone\nA,13800138000\n")))
    assert [p.fields["row"] for p in raised.value.problems] == [1]


def test_duplicate_names_warn_or_block_by_policy(crm: Crm, actor: Actor) -> None:
    register_customer(crm, actor, name="北京华为科技有限公司")
    data = _csv("Name\n北京华为科技\nAcme\nACME Co., Ltd.\n")
    with pytest.raises(ImportRejected) as raised:
        import_customers(crm, actor, read_table(data), duplicates=DuplicatePolicy.BLOCK)
    assert [p.fields["row"] for p in raised.value.problems] == [2, 4]
    report = import_customers(crm, actor, read_table(data), duplicates=DuplicatePolicy.WARN)
    assert [(d.row, len(d.existing), d.earlier_row) for d in report.duplicates] == [
        (2, 1, None),
        (4, 0, 3),
    ]
    assert len(list_customers(crm, actor)) == 4


# -- with a configured organisation ----------------------------------------------------------


def _user(tenant: TenantId, name: str) -> Actor:
    return Actor(tenant_id=tenant, user_id=UserId(uuid.uuid4()), name=name)


@pytest.fixture
def org(crm: Crm, tenant: TenantId, actor: Actor) -> dict[str, Actor]:
    """Two reps who manage their own customers; a clerk who exports all without phones."""
    sales = define_department(crm, actor, "Sales")
    own = [Grant("customer", op, Scope.OWN) for op in ("view", "create", "edit", "export")]
    define_role(crm, actor, "rep", grants=[*own, Grant("customer", "import", Scope.OWN)])
    define_role(
        crm,
        actor,
        "clerk",
        grants=[Grant("customer", "export", Scope.TENANT), Grant("customer", "edit", Scope.OWN)],
        field_rules=[
            FieldRule("customer", "phone", FieldAccess.HIDDEN),
            FieldRule("customer", "level", FieldAccess.READ_ONLY),
        ],
    )
    people = {
        "li": _user(tenant, "Li"),
        "chen": _user(tenant, "Chen"),
        "clerk": _user(tenant, "Zhao"),
    }
    for key, role in (("li", "rep"), ("chen", "rep"), ("clerk", "clerk")):
        person = people[key]
        set_member(
            crm, actor, person.user_id, name=person.name, department_id=sales.id, roles=[role]
        )
    return people


def test_owners_are_named_in_the_file_and_checked_against_the_actor_scope(
    crm: Crm, actor: Actor, org: dict[str, Actor]
) -> None:
    report = import_customers(crm, actor, read_table(_csv("Name,负责人\nA Co,Li\nB Co,Chen\n")))
    owners = {c.name: c.owner_id for c in list_customers(crm, actor)}
    assert owners == {"A Co": org["li"].user_id, "B Co": org["chen"].user_id}
    assert len(report.created) == 2
    # A rep may only import customers she will own herself.
    rep_file = read_table(_csv("Name,Owner\nC Co,Li\nD Co,Chen\nE Co,Nobody\n"))
    report = import_customers(crm, org["li"], rep_file, dry_run=True)
    assert [(p.fields["row"], p.fields["field"]) for p in report.problems] == [
        (3, "owner_id"),
        (4, "owner_id"),
    ]


def test_importing_needs_the_import_grant(crm: Crm, org: dict[str, Actor]) -> None:
    with pytest.raises(PermissionDenied) as raised:
        import_customers(crm, org["clerk"], read_table(_csv("Name\nA Co\n")))
    assert raised.value.operation == "import"


def test_export_keeps_to_the_scope_drops_hidden_columns_and_defuses_formulas(
    crm: Crm, actor: Actor, org: dict[str, Actor]
) -> None:
    register_customer(
        crm, org["li"], name="=HYPERLINK(evil)", phone="+86 138 0013 8000", tags=("-vip",)
    )
    register_customer(crm, org["chen"], name="Chen's", credit_limit=Money("99.5", "CNY"))
    mine = export_customers(crm, org["li"], locale="zh_CN")
    assert "电话" in mine.headers
    assert len(mine.rows) == 1
    clerk = export_customers(crm, org["clerk"], Query(order_by=(Order("name"),)))
    assert "Phone" not in clerk.headers
    assert len(clerk.rows) == 2
    row = dict(zip(clerk.headers, clerk.rows[1], strict=True))  # "=" sorts before "C"
    assert row["Name"] == "Chen's"
    assert (row["Credit limit"], row["Currency"], row["Owner"]) == ("99.50", "CNY", "Chen")
    with pytest.raises(PermissionDenied):
        export_customers(crm, org["clerk"], Query(where=F("phone").eq("x")))
    for format in ("csv", "xlsx"):
        data = write_table(mine.headers, mine.rows, format)  # type: ignore[arg-type]
        if format == "csv":
            assert b"'=HYPERLINK" in data
            assert b"'+86" in data
            assert b"'-vip" in data
        assert read_table(data).rows == mine.rows  # and it imports back as it was


def test_an_exported_file_imports_back_into_another_tenant(crm: Crm, actor: Actor) -> None:
    register_customer(crm, actor, name="北京华为科技", level="A", credit_limit=Money("10", "CNY"))
    data = write_table(*_sheet(export_customers(crm, actor, locale="zh_CN")), "xlsx")
    other = _user(TenantId(uuid.uuid4()), "admin")
    from crmkit.rules.permissions import bootstrap_tenant

    bootstrap_tenant(crm, other.tenant_id, other.user_id, other.name)
    with pytest.raises(ImportRejected) as raised:  # the owner is no user of the other tenant
        import_customers(crm, other, read_table(data))
    assert [p.fields["column"] for p in raised.value.problems] == ["负责人"]
    report = import_customers(crm, other, read_table(data), mapping={"负责人": ""})
    assert report.ok, report.problems
    copy = list_customers(crm, other)[0]
    assert (copy.name, copy.level, copy.credit_limit) == ("北京华为科技", "A", Money("10", "CNY"))


def _sheet(sheet: object) -> tuple[object, object]:
    return sheet.headers, sheet.rows  # type: ignore[attr-defined]


# -- batch update --------------------------------------------------------------------------


def test_batch_update_changes_what_it_may_and_names_the_rest(
    crm: Crm, actor: Actor, org: dict[str, Actor]
) -> None:
    a = register_customer(crm, org["li"], name="A Co", level="B")
    b = register_customer(crm, org["li"], name="B Co", level="A")
    c = register_customer(crm, org["chen"], name="C Co", level="B")
    ghost = uuid.uuid4()
    result = batch_update_customers(crm, org["li"], [a.id, b.id, c.id, ghost], level="A")
    assert (result.updated, result.unchanged) == ((a.id,), (b.id,))
    assert isinstance(result.failed[c.id], PermissionDenied)
    assert isinstance(result.failed[ghost], NotFound)
    levels = {x.name: x.level for x in list_customers(crm, actor)}
    assert levels == {"A Co": "A", "B Co": "A", "C Co": "B"}
    events = crm.run(actor.tenant_id, lambda uow: uow.outbox.pending(limit=1000))
    changed = [e for e in events if isinstance(e, CustomerChanged)]
    assert [(e.aggregate_id, e.changes) for e in changed] == [(a.id, {"level": ("B", "A")})]
    history = customer_history(crm, actor, a.id)
    newest = history[0]  # newest first: the batch update, after the creation records
    assert (newest.action, newest.field, newest.old_value, newest.new_value) == (
        "update",
        "level",
        "B",
        "A",
    )
    assert newest.user_id == org["li"].user_id


def test_customers_in_the_recycle_bin_are_neither_exported_nor_batch_updated(
    crm: Crm, actor: Actor
) -> None:
    kept = register_customer(crm, actor, name="Kept Co")
    binned = register_customer(crm, actor, name="Binned Co")
    delete_customer(crm, actor, binned.id)
    assert [r[0] for r in export_customers(crm, actor).rows] == ["Kept Co"]
    result = batch_update_customers(crm, actor, [kept.id, binned.id], level="A")
    assert result.updated == (kept.id,)
    assert isinstance(result.failed[binned.id], NotFound)


def test_batch_update_of_a_read_only_field_changes_nothing(
    crm: Crm, actor: Actor, org: dict[str, Actor]
) -> None:
    mine = register_customer(crm, actor, name="A Co", owner_id=org["clerk"].user_id)
    with pytest.raises(PermissionDenied) as raised:
        batch_update_customers(crm, org["clerk"], [mine.id], level="A", source="web")
    assert raised.value.fields["field"] == "level"
    assert list_customers(crm, actor)[0].source is None


def test_batch_update_reports_invalid_values_per_record(crm: Crm, actor: Actor) -> None:
    a = register_customer(crm, actor, name="A Co")
    result = batch_update_customers(crm, actor, [a.id], name="")
    assert isinstance(result.failed[a.id], ValidationError)
    assert result.updated == ()
