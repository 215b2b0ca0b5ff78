"""The customer file format: its columns and how a file's headers map onto them.

Everything here is pure — text cells in, checked values (or problems) out — so the
import and export use cases (:mod:`crmkit.customers.services.importing`,
:mod:`crmkit.customers.queries.exports`) only add storage and permissions, and the byte-level
readers and writers live in :mod:`crmkit.adapters.tabular`. Cells themselves — a row
checked into customer fields, a customer written back as text — are in
:mod:`crmkit.customers.model.cells`.

Header labels are part of the file format, not only of the user interface: a file
saved from a Chinese template must import on a server whose catalogs are English, and
the other way round. So each column carries its English, simplified and traditional
Chinese labels plus common aliases (客户名称 / 名称 / 公司名称 / Name / Company ...)
as data; the template picks the labels of the requested locale and the importer
recognises all of them. Header matching ignores case, spaces, ``_``, ``*`` (required
markers) and full-width forms.

Cell conventions, shared by import and export: money is plain text with the currency's
decimals (``1234.50``) and the currency in its own column; dates are ISO
(``2024-03-05``; imports also take ``2024/3/5``, ``2024.3.5`` and ``2024年3月5日``);
tags are separated by commas (``,``, ``，``, ``;``, ``、``).

Custom fields (:mod:`crmkit.customers.model.custom_fields`) get a column each, headed by the
field's label (its key is recognised too): numbers and money amounts as plain text,
dates ISO, choices by option label (the option value is recognised too), several
choices separated by commas. A built-in column's header wins over a custom label.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import attrs

from crmkit.customers.model.custom_fields import CustomFieldDefinition
from crmkit.kernel.errors import CrmError, LazyText, ValidationError, reason
from crmkit.kernel.i18n import N_, current_locale, use_locale

__all__ = [
    "COLUMNS",
    "DEFAULT_TIMEZONE",
    "CellProblem",
    "Column",
    "TabularData",
    "custom_columns",
    "is_builtin_header",
    "map_headers",
    "template_headers",
    "unmapped_columns",
]

DEFAULT_CURRENCY = "CNY"
DEFAULT_TIMEZONE = "Asia/Shanghai"
"""The zone dates and times of a file are read and written in unless the host says."""


class TabularData(Protocol):
    """What the importer reads: header, text rows and their row numbers.

    :class:`crmkit.adapters.tabular.Table` is one; any object with these attributes will do.
    """

    @property
    def headers(self) -> Sequence[str]:
        """The header row."""
        ...

    @property
    def rows(self) -> Sequence[Sequence[str]]:
        """Data rows of text cells, aligned with ``headers``."""
        ...

    @property
    def row_numbers(self) -> Sequence[int]:
        """The file's row number of each data row (the header is row 1)."""
        ...


class CellProblem(ValidationError):
    """One bad cell (or missing column) of an import: row, column, field and reason.

    Attributes:
        row: the file's row number (1 is the header row).
        column: the column's header as written in the file (or the template label of a
            missing column).
        field: the customer field the column maps to.
        reason: why the value was refused.
    """

    code = "import_cell_invalid"
    template = N_("Row {row}, column {column}: {reason}")

    def __init__(self, *, row: int, column: str, field: str, reason: LazyText | str) -> None:
        CrmError.__init__(
            self, entity="customer", field=field, reason=reason, row=row, column=column
        )

    def message(self, locale: str | None = None) -> str:
        """The message naming row and column, in ``locale``."""
        return CrmError.message(self, locale)


@attrs.frozen
class Column:
    """One column of the customer file.

    Attributes:
        key: the column's code (also an accepted header).
        field: the customer field it fills (``credit_currency`` fills ``credit_limit``).
        labels: header label per locale (``en``, ``zh_CN``, ``zh_TW``).
        aliases: other headers recognised on import.
        required: the import refuses a file without this column, and rows leaving it empty.
        definition: the custom field a custom column fills (``None`` for built-in ones).
    """

    key: str
    field: str
    labels: Mapping[str, str]
    aliases: tuple[str, ...] = ()
    required: bool = False
    definition: CustomFieldDefinition | None = None

    def label(self, locale: str) -> str:
        """The header in ``locale`` (English when the locale has none)."""
        return self.labels.get(locale, self.labels["en"])


def _col(key: str, field: str, en: str, cn: str, tw: str, *aliases: str, **kw: Any) -> Column:
    return Column(key, field, {"en": en, "zh_CN": cn, "zh_TW": tw}, aliases, **kw)


COLUMNS: tuple[Column, ...] = (
    _col(
        "name",
        "name",
        "Name",
        "客户名称",
        "客戶名稱",
        "名称",
        "公司名称",
        "客户",
        "Company",
        "Customer",
        "Customer name",
        required=True,
    ),
    _col("kind", "kind", "Kind", "客户类型", "客戶類型", "类型", "Type", "Customer type"),
    _col("level", "level", "Level", "客户级别", "客戶級別", "级别", "等级", "Grade"),
    _col("industry", "industry", "Industry", "行业", "行業", "所属行业"),
    _col("region", "region", "Region", "地区", "地區", "区域", "省份", "Area"),
    _col("source", "source", "Source", "客户来源", "客戶來源", "来源", "Lead source"),
    _col("phone", "phone", "Phone", "电话", "電話", "手机", "联系电话", "Mobile", "Tel"),
    _col("email", "email", "Email", "邮箱", "電子郵件", "电子邮件", "郵箱", "E-mail", "Mail"),
    _col(
        "tax_id",
        "tax_id",
        "Tax ID",
        "统一社会信用代码",
        "統一社會信用代碼",
        "税号",
        "纳税人识别号",
        "信用代码",
        "USCC",
        "VAT number",
    ),
    _col("tax_country", "tax_country", "Tax country", "税号国家", "稅號國家", "Tax ID country"),
    _col("credit_limit", "credit_limit", "Credit limit", "信用额度", "信用額度", "授信额度"),
    _col(
        "credit_currency",
        "credit_limit",
        "Currency",
        "币种",
        "幣別",
        "货币",
        "幣種",
        "Credit currency",
    ),
    _col("tags", "tags", "Tags", "标签", "標籤", "Tag"),
    _col("owner", "owner_id", "Owner", "负责人", "負責人", "所有人", "销售", "Owner id"),
    _col(
        "created_at",
        "created_at",
        "Created on",
        "创建日期",
        "建立日期",
        "建档日期",
        "Created",
        "Created at",
    ),
    _col(
        "last_activity_at",
        "last_activity_at",
        "Last follow-up",
        "最后跟进",
        "最後追蹤",
        "最近跟进时间",
        "最後跟進",
        "Last activity",
    ),
)
_BY_KEY = {c.key: c for c in COLUMNS}


def _header_key(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s_*\-:：()（）]", "", folded)


_HEADERS: dict[str, Column] = {}
for _column in COLUMNS:
    for _name in (_column.key, *_column.labels.values(), *_column.aliases):
        _HEADERS.setdefault(_header_key(_name), _column)


def is_builtin_header(text: str) -> bool:
    """Whether ``text`` is recognised as a built-in column's header (in any language)."""
    return _header_key(text) in _HEADERS


def custom_columns(definitions: Iterable[CustomFieldDefinition]) -> list[Column]:
    """A column per active custom field, headed by its label, recognised by label or key."""
    return [
        Column(
            key=d.path,
            field=d.path,
            labels={"en": d.label},
            aliases=(d.key,),
            required=d.required,
            definition=d,
        )
        for d in definitions
        if d.active
    ]


def template_headers(locale: str | None = None, extra: Sequence[Column] = ()) -> list[str]:
    """The header row of the import template in ``locale`` (default: the current one).

    Required columns are marked with ``*`` (the importer ignores the mark).

    Args:
        extra: custom field columns (:func:`custom_columns`), after the built-in ones.
    """
    with use_locale(locale or current_locale()) as chosen:
        return [c.label(chosen) + ("*" if c.required else "") for c in (*COLUMNS, *extra)]


def map_headers(
    headers: Sequence[str],
    mapping: Mapping[str, str] | None = None,
    extra: Sequence[Column] = (),
) -> tuple[dict[int, Column], list[CellProblem]]:
    """Match a file's header row to columns.

    Args:
        headers: the header row as written.
        mapping: explicit ``{header: column key}`` choices (from a mapping screen), taking
            precedence over recognition; map a header to ``""`` to ignore it. A custom
            field is named by its key (``budget``) or ``custom.<key>``.
        extra: custom field columns (:func:`custom_columns`), recognised by label or key
            where no built-in column claims the header.

    Returns:
        ``{position: column}`` for the recognised headers (unknown ones are ignored) and
        the problems: a required column missing, or two headers for the same column.
    """
    chosen: dict[int, Column] = {}
    problems: list[CellProblem] = []
    explicit = {_header_key(k): v for k, v in (mapping or {}).items()}
    by_key = dict(_BY_KEY)
    recognised = dict(_HEADERS)
    for custom in extra:
        for name in (custom.key, *custom.aliases):
            by_key.setdefault(name, custom)
        for name in (custom.key, *custom.labels.values(), *custom.aliases):
            recognised.setdefault(_header_key(name), custom)
    seen: dict[str, str] = {}
    for position, header in enumerate(headers):
        key = _header_key(header)
        if key in explicit:
            target = explicit[key]
            if not target:
                continue
            if target not in by_key:
                problems.append(
                    CellProblem(
                        row=1,
                        column=header,
                        field=target,
                        reason=reason(N_("is mapped to an unknown column {key}"), key=target),
                    )
                )
                continue
            column: Column | None = by_key[target]
        else:
            column = recognised.get(key)
        if column is None:
            continue
        if column.key in seen:
            problems.append(
                CellProblem(
                    row=1,
                    column=header,
                    field=column.field,
                    reason=reason(N_("repeats column {other}"), other=seen[column.key]),
                )
            )
            continue
        seen[column.key] = header
        chosen[position] = column
    for column in (*COLUMNS, *extra):
        if column.required and column.key not in seen:
            problems.append(
                CellProblem(
                    row=1,
                    column=column.label("en"),
                    field=column.field,
                    reason=reason(N_("the column is missing")),
                )
            )
    return chosen, problems


def unmapped_columns(
    headers: Sequence[str],
    columns: Mapping[int, Column],
    rows: Sequence[Sequence[str]],
    mapping: Mapping[str, str] | None = None,
) -> list[str]:
    """The columns of a file that the import will not read, so the user can be told.

    A column the importer does not recognise (``成立日期`` with no such field) would
    otherwise vanish without a word. Columns mapped to ``""`` on purpose are not
    listed, nor are headers mapped to an unknown key (a problem already), nor blank-headed columns without data (Excel leaves those around).

    Args:
        headers: the file's header row.
        columns: the recognised columns by position (from :func:`map_headers`).
        rows: the data rows, to tell a blank-headed column holding data from an empty one.
        mapping: the explicit choices given to :func:`map_headers`.

    Returns:
        Each unread column's header as written, or its spreadsheet letter (``D``) when
        its header is blank but it holds data, in file order.
    """
    # A header mapped explicitly and still unread was skipped on purpose (``""``) or
    # named an unknown column, which map_headers reports as a problem already.
    skipped = {_header_key(k) for k in (mapping or {})}
    found: list[str] = []
    for position, header in enumerate(headers):
        if position in columns:
            continue
        if header.strip():
            if _header_key(header) not in skipped:
                found.append(header)
        elif any(position < len(row) and row[position].strip() for row in rows):
            found.append(_column_letter(position))
    return found


def _column_letter(position: int) -> str:
    # 0 -> A, 25 -> Z, 26 -> AA: the name a spreadsheet shows above the column.
    letters = ""
    number = position + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
