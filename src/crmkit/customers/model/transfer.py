"""The customer file format: columns, header mapping, per-row validation, export cells.

Everything here is pure — text cells in, checked values (or problems) out — so the
import and export use cases (:mod:`crmkit.customers.services.importing`,
:mod:`crmkit.customers.queries.exports`) only add storage and permissions, and the byte-level
readers and writers live in :mod:`crmkit.adapters.tabular`.

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

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import attrs
import pendulum

from crmkit.customers.model.custom_fields import CustomFieldDefinition, FieldType
from crmkit.customers.model.customer import Customer, CustomerKind
from crmkit.customers.model.identifiers import check_email
from crmkit.customers.model.phones import normalize_phone
from crmkit.kernel.errors import CrmError, LazyText, ValidationError, reason
from crmkit.kernel.i18n import N_, current_locale, use_locale
from crmkit.kernel.money import Money

__all__ = [
    "COLUMNS",
    "DEFAULT_TIMEZONE",
    "CellProblem",
    "Column",
    "ParsedRow",
    "TabularData",
    "custom_columns",
    "export_cells",
    "export_columns",
    "is_builtin_header",
    "map_headers",
    "parse_date",
    "parse_instant",
    "parse_row",
    "template_headers",
    "unmapped_columns",
    "zone_of",
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

_KINDS = {
    "company": CustomerKind.COMPANY,
    "企业": CustomerKind.COMPANY,
    "企業": CustomerKind.COMPANY,
    "公司": CustomerKind.COMPANY,
    "单位": CustomerKind.COMPANY,
    "individual": CustomerKind.INDIVIDUAL,
    "person": CustomerKind.INDIVIDUAL,
    "个人": CustomerKind.INDIVIDUAL,
    "個人": CustomerKind.INDIVIDUAL,
}
# What a kind is called in a file, by locale: the export writes these, and _KINDS
# reads every one of them back (case-insensitively).
_KIND_LABELS: dict[CustomerKind, Mapping[str, str]] = {
    CustomerKind.COMPANY: {"en": "Company", "zh_CN": "企业", "zh_TW": "企業"},
    CustomerKind.INDIVIDUAL: {"en": "Individual", "zh_CN": "个人", "zh_TW": "個人"},
}
# Columns holding a day rather than a moment: written as the local date.
_DAY_COLUMNS = frozenset({"created_at"})
for _kind, _labels in _KIND_LABELS.items():
    for _label in _labels.values():
        _KINDS.setdefault(_label.casefold(), _kind)
_TAG_SPLIT = re.compile(r"[,，;；、]")
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_TIME = re.compile(
    r"(?:T|\s+)(\d{1,2})[:：](\d{2})(?:[:：](\d{2})(?:[.,](\d{1,6}))?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?",
    re.IGNORECASE,
)


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


@attrs.frozen
class ParsedRow:
    """One valid data row: the customer fields it sets and the owner it names.

    Attributes:
        row: the file's row number.
        fields: keyword arguments for :class:`~crmkit.customers.model.customer.Customer`.
        owner: the owner column's text (a user id or a member name), or ``None``.
    """

    row: int
    fields: dict[str, Any]
    owner: str | None = None


def parse_row(
    row_number: int,
    cells: Sequence[str],
    columns: Mapping[int, Column],
    headers: Sequence[str],
    *,
    default_currency: str = DEFAULT_CURRENCY,
    timezone: str = DEFAULT_TIMEZONE,
) -> tuple[ParsedRow | None, list[CellProblem]]:
    """Check one data row and convert its cells to customer field values.

    Every bad cell of the row is reported, not just the first.

    Args:
        row_number: the file's row number of ``cells``.
        cells: the row's text cells.
        columns: the recognised columns by position (from :func:`map_headers`).
        headers: the file's header row, so problems name the column as the user wrote it.
        default_currency: the currency of a credit limit when no currency column says.
        timezone: the zone the file's dates and times are in (a date is the start of
            that day there; see :func:`parse_instant`).

    Returns:
        The parsed row (``None`` when a problem was found) and the problems.
    """
    fields: dict[str, Any] = {}
    problems: list[CellProblem] = []
    owner: str | None = None
    amount: Decimal | None = None
    currency = default_currency
    written: dict[str, str] = {}
    custom: dict[str, Any] = {}

    def bad(column: Column, header: str, text: LazyText) -> None:
        problems.append(CellProblem(row=row_number, column=header, field=column.field, reason=text))

    for position, column in columns.items():
        header = headers[position] if position < len(headers) else column.key
        text = cells[position].strip() if position < len(cells) else ""
        written[column.key] = header
        if not text:
            if column.required:
                bad(column, header, reason(N_("is required")))
            continue
        key = column.key
        if column.definition is not None:
            try:
                custom[column.definition.key] = column.definition.coerce(text)
            except ValidationError as error:
                bad(column, header, error.fields["reason"])
        elif key == "kind":
            kind = _KINDS.get(text.casefold())
            if kind is None:
                bad(column, header, reason(N_("{value} is not a customer kind"), value=text))
            else:
                fields["kind"] = kind
        elif key == "phone":
            if normalize_phone(text) is None:
                bad(column, header, reason(N_("{value} is not a phone number"), value=text))
            else:
                fields["phone"] = text
        elif key == "email":
            try:
                check_email(text, entity="customer")
            except ValidationError:
                bad(column, header, reason(N_("{value} is not an email address"), value=text))
            else:
                fields["email"] = text
        elif key == "credit_limit":
            amount = _decimal(text)
            if amount is None:
                bad(column, header, reason(N_("{value} is not an amount"), value=text))
            elif amount < 0:
                bad(column, header, reason(N_("must not be negative")))
                amount = None
        elif key == "credit_currency":
            currency = text.upper()
        elif key == "tags":
            fields["tags"] = tuple(t.strip() for t in _TAG_SPLIT.split(text) if t.strip())
        elif key == "owner":
            owner = text
        elif key in ("created_at", "last_activity_at"):
            instant = parse_instant(text, timezone)
            if instant is None:
                bad(
                    column, header, reason(N_("{value} is not a date (use 2024-03-05)"), value=text)
                )
            else:
                fields[key] = instant
        else:
            fields[column.field] = text
    if amount is not None:
        money_column = _BY_KEY[
            "credit_currency" if "credit_currency" in written else "credit_limit"
        ]
        try:
            money = Money(amount, currency)
        except (ValueError, TypeError, CrmError):
            why = reason(N_("{value} is not a currency"), value=currency)
            bad(money_column, written.get(money_column.key, money_column.key), why)
        else:
            if money.is_rounded:
                fields["credit_limit"] = money
            else:
                limit = _BY_KEY["credit_limit"]
                why = reason(
                    N_("{value} has more decimals than {currency} allows"),
                    value=str(amount),
                    currency=currency,
                )
                bad(limit, written["credit_limit"], why)
    if custom:
        fields["custom"] = custom
    return (None if problems else ParsedRow(row_number, fields, owner)), problems


def zone_of(timezone: str) -> dt.tzinfo:
    """The time zone named ``timezone`` (an IANA name such as ``Asia/Shanghai``).

    Raises:
        ValidationError: on ``timezone`` when no such zone exists.
    """
    try:
        return _zone(timezone)
    except Exception:  # pendulum raises its own error types for unknown names
        raise ValidationError(
            entity="customer",
            field="timezone",
            reason=reason(N_("unknown timezone {tz}"), tz=timezone),
        ) from None


@functools.lru_cache(maxsize=64)
def _zone(timezone: str) -> dt.tzinfo:
    zone: dt.tzinfo = pendulum.timezone(timezone)
    return zone


def parse_instant(text: str, timezone: str = DEFAULT_TIMEZONE) -> dt.datetime | None:
    """A date or a date and time from a file, as an aware UTC instant.

    A date alone (any spelling :func:`parse_date` reads) is the start of that day in
    ``timezone``; a time after it (``2024-03-05 14:30``, ``2024-03-05T14:30:15``) is read
    in ``timezone`` too unless it carries its own offset (``Z``, ``+08:00``), as the ISO
    timestamps of older exports do.

    Returns:
        The instant, or ``None`` when ``text`` is no date or time.

    Raises:
        ValidationError: ``timezone`` is unknown.
    """
    zone = zone_of(timezone)
    text = text.strip()
    match = _DATE.match(text)
    if match is None:
        return None
    day_text = match.group(0).rstrip()
    rest = text[len(day_text) :]
    try:
        day = dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None
    if not rest:
        return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    clock = _TIME.fullmatch(rest)
    if clock is None:
        return None
    hour, minute, second, fraction, offset = clock.groups()
    tzinfo: dt.tzinfo = zone
    if offset is not None and offset.upper() == "Z":
        tzinfo = dt.UTC
    elif offset is not None:
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        if int(digits[:2]) > 23 or int(digits[2:]) > 59:
            return None
        shift = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        tzinfo = dt.timezone(sign * shift)
    try:
        moment = dt.time(
            int(hour), int(minute), int(second or 0), int((fraction or "0").ljust(6, "0"))
        )
    except ValueError:
        return None
    return dt.datetime.combine(day, moment, tzinfo=tzinfo).astimezone(dt.UTC)


def parse_date(text: str) -> dt.date | None:
    """A date written ``2024-03-05``, ``2024/3/5``, ``2024.3.5`` or ``2024年3月5日``.

    An ISO date-time (as an XLSX reader gives for a date cell with a time) keeps its date.
    """
    match = _DATE.fullmatch(text.strip()) or _DATE.match(text.strip())
    if match is None:
        return None
    rest = text.strip()[match.end() :]
    if rest and not rest.startswith(("T", " ")):
        return None
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _decimal(text: str) -> Decimal | None:
    cleaned = unicodedata.normalize("NFKC", text).replace(",", "").replace(" ", "")
    cleaned = cleaned.lstrip("¥$€£")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


# -- export -----------------------------------------------------------------------------


def export_columns(
    hidden: frozenset[str], locale: str, extra: Sequence[Column] = ()
) -> tuple[list[Column], list[str]]:
    """The columns an actor may export (hidden fields dropped) and their headers.

    Args:
        extra: custom field columns; dropped when hidden one by one (``custom.budget``)
            or all together (``custom``).
    """
    chosen = [c for c in COLUMNS if c.field not in hidden]
    chosen += [c for c in extra if c.field not in hidden and "custom" not in hidden]
    return chosen, [c.label(locale) for c in chosen]


def export_cells(
    customer: Customer,
    columns: Sequence[Column],
    owner_names: Mapping[Any, str],
    *,
    locale: str = "en",
    timezone: str = DEFAULT_TIMEZONE,
) -> list[str]:
    """One export row: text cells in the shared conventions, which the import reads back.

    Money is ``1234.50``; the kind is its name in ``locale`` (企业 / 企業 / Company);
    a day (``created_at``) is the ISO date in ``timezone`` and a moment
    (``last_activity_at``) the local date and minute, ``2024-03-05 14:30``.

    Args:
        customer: the record (already checked against the actor's scope).
        columns: the columns to fill, in order.
        owner_names: member names by user id, so the owner column shows a name that
            imports back; unknown owners show their id.
        locale: the language of the headers, which the values follow.
        timezone: the zone dates and times are written in.

    Raises:
        ValidationError: ``timezone`` is unknown.
    """
    zone = zone_of(timezone)
    return [_cell(customer, c, owner_names, locale, zone) for c in columns]


def _cell(
    customer: Customer,
    column: Column,
    owner_names: Mapping[Any, str],
    locale: str,
    zone: dt.tzinfo,
) -> str:
    if column.definition is not None:
        # ``custom`` is None on a copy redacted of every custom field.
        values: Mapping[str, Any] = customer.custom or {}
        return _custom_cell(column.definition, values.get(column.definition.key))
    key = column.key
    if key == "credit_currency":
        return "" if customer.credit_limit is None else customer.credit_limit.currency
    if key == "owner":
        owner = customer.owner_id
        return "" if owner is None else owner_names.get(owner, str(owner))
    value = getattr(customer, column.field)
    if value is None:
        return ""
    if isinstance(value, Money):
        return _money_text(value)
    if isinstance(value, CustomerKind):
        labels = _KIND_LABELS[value]
        return labels.get(locale, labels["en"])
    if isinstance(value, tuple):
        return ",".join(value)
    if isinstance(value, dt.datetime):
        local = value.astimezone(zone)
        if key in _DAY_COLUMNS:
            return local.date().isoformat()
        return local.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _money_text(money: Money) -> str:
    # At least the currency's decimals (1234.50), never fewer digits than stored.
    places = money.minor_unit
    exponent = money.amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent < places:
        return str(money.amount.quantize(Decimal(1).scaleb(-places)))
    return str(money.amount)


def _custom_cell(definition: CustomFieldDefinition, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Money):
        return _money_text(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if definition.type.has_options:
        chosen = value if isinstance(value, tuple) else (value,)
        labels = []
        for item in chosen:
            option = definition.option(item)
            labels.append(item if option is None else option.label)
        # The label reads better; a label with a separator in it would not import back.
        if (
            any(_TAG_SPLIT.search(label) for label in labels)
            and definition.type is FieldType.MULTI_CHOICE
        ):
            labels = list(chosen)
        return ",".join(labels)
    return str(value)
