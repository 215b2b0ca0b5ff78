"""Import hardening: odd spreadsheets, unmapped columns, duplicate tax ids, re-imports."""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import pytest

from crmkit import Crm, ImportRejected
from crmkit.adapters import tabular
from crmkit.adapters.tabular import FileRejected, Limits, read_table
from crmkit.customers import DuplicatePolicy, list_customers, register_customer
from crmkit.customers.importing import import_customers
from crmkit.kernel.actor import Actor

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
    data = "Name,,Phone\nAcme,,13800138000\n".encode()
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
    data = "Name,Tax ID,Tax country\nACME GmbH,DE136695976,DE\n".encode()
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
