"""Cells of the customer file: a row's text cells checked into customer fields, and a
customer written back as text cells.

The columns and the cell conventions are those of :mod:`crmkit.customers.model.transfer`
(money as plain text with its currency in its own column, ISO dates, comma-separated tags,
instants in the file's time zone). Pure: problems come back as
:class:`~crmkit.customers.model.transfer.CellProblem` values, never half-parsed fields.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs
import pendulum

from crmkit.customers.model.custom_fields import CustomFieldDefinition, FieldType
from crmkit.customers.model.customer import Customer, CustomerKind
from crmkit.customers.model.identifiers import check_email
from crmkit.customers.model.phones import normalize_phone
from crmkit.customers.model.transfer import (
    _BY_KEY,
    COLUMNS,
    DEFAULT_CURRENCY,
    DEFAULT_TIMEZONE,
    CellProblem,
    Column,
)
from crmkit.kernel.errors import CrmError, LazyText, ValidationError, reason
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.money import Money

__all__ = [
    "ParsedRow",
    "export_cells",
    "export_columns",
    "parse_date",
    "parse_instant",
    "parse_row",
    "zone_of",
]

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
        raise invalid("customer", "timezone", N_("unknown timezone {tz}"), tz=timezone) from None


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
