"""Import hardening: odd spreadsheets, unmapped columns, duplicate tax ids, re-imports."""

from __future__ import annotations

import datetime as dt
import io
import re
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from crmkit import Crm, ImportRejected
from crmkit.adapters import tabular
from crmkit.adapters.tabular import FileRejected, Limits, read_table, write_table
from crmkit.customers import (
    CustomerKind,
    DuplicatePolicy,
    list_customers,
    register_customer,
    update_customer,
)
from crmkit.customers.model.cells import parse_instant
from crmkit.customers.model.transfer import map_headers, template_headers
from crmkit.customers.queries.exports import export_customers
from crmkit.customers.services import delete_customer
from crmkit.customers.services.importing import import_customers
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import ValidationError
from crmkit.kernel.money import Money
from crmkit.kernel.query import Order, Query

HUAWEI_USCC = "91110000802100433B"


def _xlsx(cells: dict[tuple[int, int], str]) -> bytes:
    """A workbook holding exactly ``{(row, column): value}``."""
    book = openpyxl.Workbook()
    sheet = book.active
    for (row, column), value in cells.items():
        sheet.cell(row=row, column=column, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rewrite_sheet(data: bytes, change: object) -> bytes:
    """The workbook with its first sheet's XML passed through ``change``."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            body = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = change(body.decode()).encode()  # type: ignore[operator]
            target.writestr(item, body)
    return out.getvalue()


# -- width: the same rule for CSV and XLSX ----------------------------------------------------


@pytest.mark.parametrize("last", [101, 102, 150, 16384])
def test_a_sheet_wider_than_the_column_limit_is_refused_as_xlsx_and_as_csv(last: int) -> None:
    cells = {(1, c): f"c{c}" for c in range(1, 4)}
    cells[(2, 1)] = "Acme"
    cells[(2, last)] = "far away"
    csv = ("c1,c2,c3\n" + "Acme" + "," * (last - 1) + "far away\n").encode()
    for data in (_xlsx(cells), csv):
        with pytest.raises(FileRejected) as raised:
            read_table(data)
        assert raised.value.fields["field"] == "columns"
        assert "row 2" in str(raised.value)
        assert "100" in str(raised.value)  # the message names the limit


def test_a_sheet_exactly_at_the_column_limit_reads_whole() -> None:
    cells = {(1, c): f"h{c}" for c in range(1, 101)}
    cells[(2, 100)] = "last"
    table = read_table(_xlsx(cells))
    assert len(table.headers) == 100
    assert table.rows == (("",) * 99 + ("last",),)


# -- height: only the rows the sheet holds ----------------------------------------------------


def test_an_xlsx_with_a_cell_on_the_last_row_is_read_row_by_row_not_gap_by_gap() -> None:
    data = _xlsx({(1, 1): "Name", (2, 1): "Acme", (1_048_576, 1): "Last Co"})
    assert len(data) < 10_000
    # The sheet holds three rows: the reader visits three, not the million in between.
    visited = list(tabular._xlsx_rows(data, Limits()))
    assert [number for number, _ in visited] == [1, 2, 1_048_576]
    table = read_table(data)
    assert table.rows == (("Acme",), ("Last Co",))
    assert table.row_numbers == (2, 1_048_576)


def test_an_xlsx_whose_dimension_understates_the_sheet_still_reads_every_row() -> None:
    data = _xlsx({(1, 1): "Name", (2, 1): "Acme", (40, 1): "Hidden Co"})
    lying = _rewrite_sheet(
        data, lambda xml: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:A2"', xml)
    )
    table = read_table(lying)
    assert table.rows == (("Acme",), ("Hidden Co",))
    assert table.row_numbers == (2, 40)


def test_the_row_limit_counts_the_rows_an_xlsx_holds() -> None:
    cells = {(1, 1): "Name"} | {(n, 1): f"Co {n}" for n in range(2, 14)}
    with pytest.raises(FileRejected) as raised:
        read_table(_xlsx(cells), limits=Limits(max_rows=10))
    assert raised.value.fields["field"] == "rows"
    assert "10" in str(raised.value)


# -- columns nobody maps ---------------------------------------------------------------------


def test_unmapped_columns_are_reported_in_the_dry_run_and_the_real_run(
    crm: Crm, actor: Actor
) -> None:
    data = "客户名称,成立日期,电话,,备注\n北京华为科技,2001-01-01,13800138000,x,老客户\n".encode()
    preview = import_customers(crm, actor, read_table(data), dry_run=True)
    assert preview.ok
    assert preview.unmapped == ("成立日期", "D", "备注")
    report = import_customers(crm, actor, read_table(data))
    assert report.unmapped == ("成立日期", "D", "备注")
    assert len(report.created) == 1
    # A column mapped to "" on purpose is skipped, not reported.
    again = import_customers(
        crm,
        actor,
        read_table(data),
        mapping={"成立日期": "", "备注": ""},
        dry_run=True,
        duplicates=DuplicatePolicy.ALLOW,
    )
    assert again.unmapped == ("D",)


def test_a_blank_header_over_an_empty_column_is_not_reported(crm: Crm, actor: Actor) -> None:
    data = b"Name,,Phone\nAcme,,13800138000\n"
    assert import_customers(crm, actor, read_table(data), dry_run=True).unmapped == ()


# -- tax ids ---------------------------------------------------------------------------------


def test_two_rows_with_one_tax_id_are_refused_naming_the_rows(crm: Crm, actor: Actor) -> None:
    data = (
        "客户名称,统一社会信用代码\n"
        f"华为技术有限公司,{HUAWEI_USCC}\n"
        "平安银行,91440300192185379H\n"
        f"华为北京分部,{HUAWEI_USCC.lower()}\n"
    ).encode()
    for dry_run in (True, False):
        try:
            problems = import_customers(crm, actor, read_table(data), dry_run=dry_run).problems
        except ImportRejected as rejected:
            problems = tuple(rejected.problems)  # type: ignore[arg-type]
        assert [(p.fields["row"], p.fields["column"]) for p in problems] == [
            (4, "统一社会信用代码")
        ]
        assert "row 2" in str(problems[0])
    assert list_customers(crm, actor) == []


def test_a_tax_id_already_stored_is_refused_naming_the_customer(crm: Crm, actor: Actor) -> None:
    huawei = register_customer(crm, actor, name="华为技术有限公司", tax_id=HUAWEI_USCC)
    data = f"Name,Tax ID\nHuawei Beijing,{HUAWEI_USCC}\n".encode()
    with pytest.raises(ImportRejected) as raised:
        import_customers(crm, actor, read_table(data), duplicates=DuplicatePolicy.WARN)
    (problem,) = raised.value.problems
    assert (problem.fields["row"], problem.fields["field"]) == (2, "tax_id")
    assert str(huawei.id) in str(problem)
    # ALLOW looks at nothing, as register_customer does.
    report = import_customers(crm, actor, read_table(data), duplicates=DuplicatePolicy.ALLOW)
    assert len(report.created) == 1


def test_a_tax_id_of_another_country_is_another_company(crm: Crm, actor: Actor) -> None:
    register_customer(crm, actor, name="华为技术有限公司", tax_id=HUAWEI_USCC)
    data = b"Name,Tax ID,Tax country\nACME GmbH,DE136695976,DE\n"
    assert import_customers(crm, actor, read_table(data)).ok


# -- importing the same file twice ----------------------------------------------------------


def test_importing_the_same_file_twice_creates_nothing_the_second_time(
    crm: Crm, actor: Actor
) -> None:
    data = "客户名称,电话\n北京华为科技,13800138000\n上海电气,021-5555 1234\n".encode()
    first = import_customers(crm, actor, read_table(data))
    assert len(first.created) == 2
    preview = import_customers(crm, actor, read_table(data), dry_run=True)
    assert [(d.row, d.existing) for d in preview.duplicates] == [
        (2, (first.created[0],)),
        (3, (first.created[1],)),
    ]
    assert [p.fields["row"] for p in preview.problems] == [2, 3]
    with pytest.raises(ImportRejected) as raised:
        import_customers(crm, actor, read_table(data))
    assert [p.fields["row"] for p in raised.value.problems] == [2, 3]
    assert "already exists" in str(raised.value.problems[0])
    assert len(list_customers(crm, actor)) == 2
    # Asking for it explicitly still imports known duplicates, and lists them.
    warned = import_customers(crm, actor, read_table(data), duplicates=DuplicatePolicy.WARN)
    assert (len(warned.created), len(warned.duplicates)) == (2, 2)


# -- exports in the reader's language and time zone -------------------------------------------


def _rows(sheet: object) -> list[dict[str, str]]:
    headers, rows = sheet.headers, sheet.rows  # type: ignore[attr-defined]
    return [dict(zip(headers, row, strict=True)) for row in rows]


@pytest.mark.parametrize(
    ("locale", "kind", "created", "last", "company", "person"),
    [
        ("zh_CN", "客户类型", "创建日期", "最后跟进", "企业", "个人"),
        ("zh_TW", "客戶類型", "建立日期", "最後追蹤", "企業", "個人"),
        ("en", "Kind", "Created on", "Last follow-up", "Company", "Individual"),
    ],
)
def test_an_export_is_translated_and_dated_in_the_tenants_time_zone(
    crm: Crm,
    actor: Actor,
    locale: str,
    kind: str,
    created: str,
    last: str,
    company: str,
    person: str,
) -> None:
    # The test clock stands at 2026-03-02 09:00 UTC: 17:00 in Shanghai.
    register_customer(crm, actor, name="北京华为科技")
    register_customer(crm, actor, name="张伟", kind=CustomerKind.INDIVIDUAL)
    late = dt.datetime(2026, 3, 1, 20, 5, 59, 123456, tzinfo=dt.UTC)  # 3-2 04:05 in Shanghai
    (huawei,) = [c for c in list_customers(crm, actor) if c.name == "北京华为科技"]
    update_customer(crm, actor, huawei.id, last_activity_at=late)
    sheet = export_customers(crm, actor, Query(order_by=(Order("name"),)), locale=locale)
    rows = {row[sheet.headers[0]]: row for row in _rows(sheet)}
    assert rows["北京华为科技"][kind] == company
    assert rows["张伟"][kind] == person
    assert rows["北京华为科技"][created] == "2026-03-02"
    assert rows["北京华为科技"][last] == "2026-03-02 04:05"
    assert rows["张伟"][last] == ""
    ny = export_customers(crm, actor, locale=locale, timezone="America/New_York")
    ny_rows = {row[ny.headers[0]]: row for row in _rows(ny)}
    assert ny_rows["北京华为科技"][last] == "2026-03-01 15:05"


def test_an_export_in_an_unknown_time_zone_is_refused(crm: Crm, actor: Actor) -> None:
    with pytest.raises(ValidationError) as raised:
        export_customers(crm, actor, timezone="Mars/Olympus")
    assert raised.value.fields["field"] == "timezone"


@pytest.mark.parametrize("locale", ["zh_CN", "zh_TW", "en"])
@pytest.mark.parametrize("format", ["csv", "xlsx"])
def test_an_exported_file_imports_back_as_it_was(
    crm: Crm, actor: Actor, locale: str, format: str
) -> None:
    huawei = register_customer(
        crm,
        actor,
        name="北京华为科技",
        level="A",
        kind=CustomerKind.COMPANY,
        credit_limit=Money("10", "CNY"),
        tags=("重点", "华北"),
        tax_id=HUAWEI_USCC,
    )
    register_customer(crm, actor, name="张伟", kind=CustomerKind.INDIVIDUAL)
    late = dt.datetime(2026, 3, 1, 20, 5, tzinfo=dt.UTC)
    update_customer(crm, actor, huawei.id, last_activity_at=late)
    sheet = export_customers(crm, actor, Query(order_by=(Order("name"),)), locale=locale)
    data = write_table(sheet.headers, sheet.rows, format)  # type: ignore[arg-type]
    for customer in list_customers(crm, actor):
        delete_customer(crm, actor, customer.id)
    report = import_customers(crm, actor, read_table(data))
    assert report.ok
    assert report.unmapped == ()
    copies = {c.name: c for c in list_customers(crm, actor)}
    copy = copies["北京华为科技"]
    assert (copy.kind, copy.level, copy.credit_limit, copy.tags, copy.tax_id) == (
        CustomerKind.COMPANY,
        "A",
        Money("10", "CNY"),
        ("重点", "华北"),
        HUAWEI_USCC,
    )
    assert copy.last_activity_at == late
    assert copies["张伟"].kind is CustomerKind.INDIVIDUAL
    again = export_customers(crm, actor, Query(order_by=(Order("name"),)), locale=locale)
    assert again.rows == sheet.rows  # the day of creation comes back as the same day


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-05", dt.datetime(2024, 3, 4, 16, 0, tzinfo=dt.UTC)),
        ("2024/3/5 14:30", dt.datetime(2024, 3, 5, 6, 30, tzinfo=dt.UTC)),
        ("2024-03-05T14:30:00+00:00", dt.datetime(2024, 3, 5, 14, 30, tzinfo=dt.UTC)),
        ("2024-03-05 14:30:15.5Z", dt.datetime(2024, 3, 5, 14, 30, 15, 500000, tzinfo=dt.UTC)),
    ],
)
def test_imported_times_are_read_in_the_tenants_time_zone_unless_they_say_otherwise(
    text: str, expected: dt.datetime
) -> None:
    assert parse_instant(text, "Asia/Shanghai") == expected


def test_the_traditional_chinese_headers_use_taiwan_terms_and_old_ones_still_import() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
    from catalogs import glossary  # the zh_TW glossary the catalogs are checked against

    terms = glossary("zh_TW")
    labels = template_headers("zh_TW")
    assert [(label, t) for label in labels for t in terms if t in label] == []
    columns, problems = map_headers(["客戶名稱", "郵箱", "幣種", "最後跟進"])
    assert problems == []
    assert [c.key for c in columns.values()] == [
        "name",
        "email",
        "credit_currency",
        "last_activity_at",
    ]
