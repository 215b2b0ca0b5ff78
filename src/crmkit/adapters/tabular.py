"""CSV and XLSX files in and out: the byte-level half of import and export.

Readers turn an uploaded file into a :class:`Table` of text cells and refuse, before
anything is stored, files that are too big, badly encoded or hostile:

- the size limit is checked before a single byte is parsed;
- CSV text is decoded as UTF-8 (with or without a BOM) or GB18030 — the encoding Excel
  writes on a Chinese Windows — and nothing else, so a mojibake import cannot happen;
- an XLSX file is a zip archive: its members are inspected with :mod:`zipfile` (total
  uncompressed size, compression ratio, member count) *before* openpyxl opens it, so a
  zip bomb is refused without being inflated;
- row and column counts are capped while reading, not after, by one rule for both
  formats: a value past the column limit refuses the file (never dropped silently),
  and an XLSX is read row by row as its sheet holds them, so blank rows between two
  far-apart cells cost nothing.

Writers turn header + rows into CSV (UTF-8 with a BOM, so Excel shows Chinese correctly)
or XLSX bytes. Every text cell that a spreadsheet would read as a formula (it starts
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is prefixed with ``'`` so it
shows as text (the OWASP "CSV injection" defence); :func:`read_table` removes that prefix
again, so an exported file imports back unchanged.

openpyxl is the optional extra ``crmkit[xlsx]``; it is imported only when an XLSX file is
read or written, and its absence is reported as a clear error.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any, Literal

import attrs

from crmkit.kernel.errors import ValidationError, reason
from crmkit.kernel.i18n import N_

__all__ = [
    "FORMULA_TRIGGERS",
    "FileRejected",
    "Format",
    "Limits",
    "Table",
    "XlsxUnavailable",
    "neutralise",
    "read_table",
    "restore",
    "write_csv",
    "write_table",
    "write_xlsx",
]

Format = Literal["csv", "xlsx"]

# First characters that make Excel, LibreOffice or Google Sheets evaluate a cell.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

_ENCODINGS = ("utf-8-sig", "gb18030")  # utf-8-sig also reads plain UTF-8
_XLSX_MAGIC = b"PK\x03\x04"


class FileRejected(ValidationError):
    """An uploaded file cannot be read safely; nothing was imported.

    ``field`` says what is wrong (``size``, ``encoding``, ``format``, ``rows``,
    ``columns``, ``archive``) and ``reason`` explains it.
    """

    code = "file_rejected"

    def __init__(self, *, field: str, reason: Any) -> None:
        super().__init__(entity="file", field=field, reason=reason)


_NOT_XLSX = N_("the file is not a valid XLSX workbook")


def _rejected(field: str, msgid: str, **params: Any) -> FileRejected:
    return FileRejected(field=field, reason=reason(msgid, **params))


class XlsxUnavailable(FileRejected):
    """XLSX support needs the optional extra: ``pip install 'crmkit[xlsx]'``."""

    code = "xlsx_unavailable"

    def __init__(self) -> None:
        super().__init__(
            field="format",
            reason=reason(N_("XLSX support is not installed: pip install 'crmkit[xlsx]'")),
        )


@attrs.frozen
class Limits:
    """What an uploaded file may weigh before it is refused.

    Attributes:
        max_bytes: size of the uploaded file itself.
        max_rows: data rows (the header row not counted).
        max_columns: columns per row.
        max_uncompressed: total uncompressed size of an XLSX archive's members.
        max_ratio: uncompressed / compressed size of any XLSX member; spreadsheets
            compress about 5-20x, zip bombs thousands of times.
        max_members: files inside an XLSX archive.
    """

    max_bytes: int = 20 * 1024 * 1024
    max_rows: int = 200_000
    max_columns: int = 100
    max_uncompressed: int = 200 * 1024 * 1024
    max_ratio: int = 100
    max_members: int = 1_000


@attrs.frozen
class Table:
    """Text cells read from a file, or to be written to one.

    Attributes:
        headers: the header row, stripped.
        rows: data rows, each padded or cut to ``len(headers)`` cells; blank rows are
            dropped.
        row_numbers: the spreadsheet row number of each data row (the header is row 1),
            so problems can point at the row the user sees.
    """

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    row_numbers: tuple[int, ...]


# -- formula injection ---------------------------------------------------------------


def neutralise(value: str) -> str:
    """``value`` made safe to open in a spreadsheet: formula-like text gets a ``'`` prefix."""
    if value and (value[0] in FORMULA_TRIGGERS or value[0] == "'"):
        # A value already starting with ' is prefixed too, so restore() stays exact.
        return "'" + value
    return value


def restore(value: str) -> str:
    """Undo :func:`neutralise` (for re-importing a file crmkit exported)."""
    if len(value) >= 2 and value[0] == "'" and (value[1] in FORMULA_TRIGGERS or value[1] == "'"):
        return value[1:]
    return value


# -- reading ----------------------------------------------------------------------------


def read_table(
    data: bytes,
    *,
    filename: str | None = None,
    format: Format | None = None,
    limits: Limits | None = None,
) -> Table:
    """Read an uploaded CSV or XLSX file into text cells.

    Args:
        data: the file's bytes.
        filename: used to tell CSV from XLSX when ``format`` is not given (the content
            is checked too: an XLSX is a zip archive).
        format: ``"csv"`` or ``"xlsx"``, overriding the guess.
        limits: size, row and archive limits (defaults: :class:`Limits`).

    Returns:
        The header row and the non-blank data rows with their row numbers.

    Raises:
        FileRejected: the file is empty, too big, not UTF-8/GB18030, not a valid XLSX,
            a zip bomb, or has too many rows or columns.
        XlsxUnavailable: an XLSX file was given and openpyxl is not installed.
    """
    limits = limits or Limits()
    if len(data) > limits.max_bytes:
        raise _rejected(
            "size",
            N_("the file is {size} bytes; at most {maximum} are accepted"),
            size=len(data),
            maximum=limits.max_bytes,
        )
    if not data.strip():
        raise _rejected("format", N_("the file is empty"))
    kind = format or _guess_format(data, filename)
    if kind == "xlsx":
        return _to_table(_xlsx_rows(data, limits), limits)
    return _to_table(enumerate(_read_csv(data, limits), start=1), limits)


def _guess_format(data: bytes, filename: str | None) -> Format:
    if data.startswith(_XLSX_MAGIC):
        return "xlsx"
    if filename is not None and filename.lower().endswith((".xlsx", ".xlsm")):
        return "xlsx"
    return "csv"


def _decode(data: bytes) -> str:
    for encoding in _ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _rejected(
        "encoding", N_("the file is not text in UTF-8 or GB18030; save it as CSV UTF-8")
    )


def _read_csv(data: bytes, limits: Limits) -> Iterator[Sequence[Any]]:
    text = _decode(data)
    if "\x00" in text:
        # Binary files (an .xls, a PDF) can decode as GB18030 by accident; NULs give them away.
        raise _rejected("format", N_("the file is not a CSV file"))
    # The delimiter is whichever of , ; or tab the header line uses most (Excel writes ;
    # in locales with a decimal comma). csv.Sniffer also guesses quoting, and guesses it
    # wrong on cells holding quotes, so it is not used.
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), csv.excel, delimiter=delimiter)
    try:
        yield from reader
    except csv.Error as error:
        raise _rejected(
            "format", N_("the CSV is malformed near line {line}"), line=reader.line_num
        ) from error


def _check_archive(data: bytes, limits: Limits) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise _rejected("format", _NOT_XLSX) from error
    with archive:
        members = archive.infolist()
        if len(members) > limits.max_members:
            raise _rejected(
                "archive",
                N_("the workbook holds {count} parts; at most {maximum} are accepted"),
                count=len(members),
                maximum=limits.max_members,
            )
        total = 0
        for member in members:
            total += member.file_size
            ratio = member.file_size / max(member.compress_size, 1)
            if ratio > limits.max_ratio and member.file_size > 1024 * 1024:
                raise _rejected(
                    "archive",
                    N_("the workbook part {name} expands {ratio}x; it looks like a zip bomb"),
                    name=member.filename,
                    ratio=int(ratio),
                )
        if total > limits.max_uncompressed:
            raise _rejected(
                "archive",
                N_("the workbook expands to {size} bytes; at most {maximum} are accepted"),
                size=total,
                maximum=limits.max_uncompressed,
            )
        if "xl/workbook.xml" not in archive.namelist():
            raise _rejected("format", _NOT_XLSX)


def _openpyxl() -> Any:
    try:
        import openpyxl  # type: ignore[import-untyped, unused-ignore]
    except ImportError as error:  # pragma: no cover - the dev extra installs it
        raise XlsxUnavailable() from error
    return openpyxl


def _xlsx_rows(data: bytes, limits: Limits) -> Iterator[tuple[int, Sequence[Any]]]:
    """``(row number, values)`` for each row the first sheet really holds.

    openpyxl's own row iterator pads: it yields an empty row for every row number
    missing between two present ones (so a 1 KB file with cells on rows 1 and
    1,048,576 becomes a million rows), trusts the sheet's declared dimension (so a
    sheet declaring ``A1:A2`` loses every row below) and cuts rows at ``max_col``
    (so cells past it vanish without a word). Its worksheet parser yields just the
    ``<row>`` elements present, with their numbers and their cells' columns, so
    crmkit reads through it: the work is bounded by the size of the sheet's XML,
    which the archive checks bound, and a row with a value past the column limit is
    padded only to one column past it, which is enough for :func:`_to_table` to
    refuse it as it refuses a CSV line.
    """
    _check_archive(data, limits)
    openpyxl = _openpyxl()
    from openpyxl.worksheet._reader import (  # type: ignore[import-untyped, unused-ignore]
        WorkSheetParser,
    )

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged workbook
        raise _rejected("format", _NOT_XLSX) from error
    try:
        sheet = book.worksheets[0]
        source = sheet._get_source()
        parser = WorkSheetParser(
            source,
            sheet._shared_strings,
            data_only=True,
            epoch=book.epoch,
            date_formats=book._date_formats,
            timedelta_formats=book._timedelta_formats,
        )
        edge = limits.max_columns + 1
        try:
            for number, cells in parser.parse():
                values: list[Any] = []
                for cell in cells:
                    column, value = cell["column"], cell["value"]
                    if value is None or value == "":
                        continue
                    position = min(column, edge)
                    if position > len(values):
                        values.extend([None] * (position - len(values)))
                    values[position - 1] = value
                yield number, values
        except FileRejected:
            raise
        except Exception as error:  # a damaged sheet part
            raise _rejected("format", _NOT_XLSX) from error
        finally:
            source.close()
    finally:
        book.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return restore(value.strip())
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        # Through repr, so 1234.5 stays "1234.5" and never becomes 1234.4999...
        if value.is_integer():
            return str(int(value))
        return str(Decimal(repr(value)))
    return str(value)


def _to_table(cells: Iterable[tuple[int, Sequence[Any]]], limits: Limits) -> Table:
    # One rule for every format: a value past ``max_columns`` refuses the file (it
    # would otherwise be dropped without a word), and so do more than ``max_rows``
    # non-blank data rows.
    headers: tuple[str, ...] | None = None
    rows: list[tuple[str, ...]] = []
    numbers: list[int] = []
    for number, raw in cells:
        if len(raw) > limits.max_columns and any(
            v not in (None, "") for v in raw[limits.max_columns :]
        ):
            raise _rejected(
                "columns",
                N_("row {row} has more than {maximum} columns"),
                row=number,
                maximum=limits.max_columns,
            )
        row = tuple(_cell_text(v) for v in raw[: limits.max_columns])
        if not any(row):
            continue
        if headers is None:
            headers = _trim(row)
            continue
        if len(rows) >= limits.max_rows:
            raise _rejected(
                "rows", N_("the file has more than {maximum} data rows"), maximum=limits.max_rows
            )
        width = len(headers)
        rows.append(row[:width] + ("",) * (width - len(row)))
        numbers.append(number)
    if headers is None:
        raise _rejected("format", N_("the file is empty"))
    return Table(headers=headers, rows=tuple(rows), row_numbers=tuple(numbers))


def _trim(row: tuple[str, ...]) -> tuple[str, ...]:
    end = len(row)
    while end and not row[end - 1]:
        end -= 1
    return row[:end]


# -- writing ----------------------------------------------------------------------------


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[str | None]]) -> bytes:
    """CSV bytes (UTF-8 with a BOM, CRLF) with every cell neutralised against formulas."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in headers])
    writer.writerows([neutralise(v or "") for v in row] for row in rows)
    return out.getvalue().encode("utf-8-sig")


def write_xlsx(
    headers: Sequence[str], rows: Iterable[Sequence[str | None]], *, sheet: str = "Sheet1"
) -> bytes:
    """XLSX bytes, all cells as text, neutralised against formulas.

    Raises:
        XlsxUnavailable: openpyxl is not installed.
    """
    openpyxl = _openpyxl()
    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet(title=sheet[:31])
    ws.append([neutralise(h) for h in headers])
    for row in rows:
        ws.append([neutralise(v or "") or None for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write_table(
    headers: Sequence[str], rows: Iterable[Sequence[str | None]], format: Format = "csv"
) -> bytes:
    """:func:`write_csv` or :func:`write_xlsx`, chosen by ``format``."""
    if format == "xlsx":
        return write_xlsx(headers, rows)
    return write_csv(headers, rows)
