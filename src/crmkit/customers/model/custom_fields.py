"""Custom fields: typed fields a tenant adds to its records (自定义字段).

A tenant's administrator defines a field once — a stable key, a label users see, a
type and its constraints — and from then on the field behaves like a built-in one:
its values are validated on every write, kept in the change history, filtered on
in SQL, governed by field-level permission rules (``custom.<key>``) and written to
exports and read from imports.

This module is the pure part, shared by every area that offers custom fields (the
customer master today; contacts, leads and opportunities can register themselves
with :func:`register_custom_entity` later):

* :class:`CustomFieldDefinition` — one field of one entity of one tenant;
* :class:`CustomValues` — the immutable ``{key: value}`` mapping a record carries;
* :func:`apply_custom` — validate and merge user input into a record's values;
* :func:`custom_query` — check filters on custom fields and bring their values to the
  field's type, so the memory and SQL interpreters compare like with like.

Values by type: ``text`` -> ``str`` (whitespace-trimmed), ``number`` -> ``Decimal``,
``money`` -> :class:`~crmkit.kernel.money.Money` in the field's currency, ``date`` ->
``datetime.date``, ``choice`` -> one option value (``str``), ``multi_choice`` -> a
tuple of option values in the definition's option order. A missing value and ``None``
are the same thing: a record never stores ``None`` for a key.

Stored form (the SQL adapter's JSON column, through the shared converter): text and
choices as JSON strings, multi-choices as arrays, numbers as JSON numbers, money as
``{"amount": <number>, "currency": "CNY"}`` and dates as ISO strings listed under the
reserved key ``"$types"`` so they read back as dates. Numbers and money amounts are
limited to 15 significant digits, the precision a JSON number (and SQLite's ``REAL``)
holds exactly, so what is stored, compared in SQL and read back is the value given.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

import attrs

from crmkit.kernel.entity import Entity
from crmkit.kernel.errors import LazyText, ValidationError, reason
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId
from crmkit.kernel.invalid import invalid
from crmkit.kernel.money import Money, is_known_currency

__all__ = [
    "CUSTOM",
    "ChoiceOption",
    "CustomFieldChanged",
    "CustomFieldDefined",
    "CustomFieldDefinition",
    "CustomFieldEvent",
    "FieldType",
    "register_custom_entity",
]

CUSTOM = "custom"
"""The attribute holding a record's custom values, and the prefix of their field names."""

KEY_MAX = 40
LABEL_MAX = 100
TEXT_MAX = 10_000
DEFAULT_TEXT_MAX = 255
OPTIONS_MAX = 200
DIGITS_MAX = 15
_KEY = re.compile(r"[a-z][a-z0-9_]*")

LABELS = (
    N_("custom_field"),
    N_("key"),
    N_("label"),
    N_("type"),
    N_("required"),
    N_("options"),
    N_("max_length"),
    N_("minimum"),
    N_("maximum"),
    N_("currency"),
    N_("position"),
    N_("active"),
    N_("text"),
    N_("number"),
    N_("money"),
    N_("date"),
    N_("choice"),
    N_("multi_choice"),
)


class FieldType(enum.Enum):
    """What a custom field holds."""

    TEXT = "text"
    NUMBER = "number"
    MONEY = "money"
    DATE = "date"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"

    @property
    def has_options(self) -> bool:
        """Whether values are picked from the definition's options."""
        return self in (FieldType.CHOICE, FieldType.MULTI_CHOICE)


# -- entities that offer custom fields ------------------------------------------------------

_BUILT_IN: dict[str, frozenset[str]] = {}


def register_custom_entity(entity: str, built_in: Iterable[str]) -> None:
    """Let ``entity`` carry custom fields; keys may not repeat its ``built_in`` field names."""
    _BUILT_IN[entity] = frozenset(built_in) | {CUSTOM}


# -- definitions ----------------------------------------------------------------------------


def _clean_text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, not {type(value).__name__}")
    return " ".join(value.split())


def _check_option_text(_instance: Any, attribute: Any, value: str) -> None:
    if not value or len(value) > LABEL_MAX:
        raise invalid(
            "custom_field",
            "options",
            N_("an option {part} must be 1..{maximum} characters"),
            part=attribute.name,
            maximum=LABEL_MAX,
        )


@attrs.frozen
class ChoiceOption:
    """One option of a choice field.

    Attributes:
        value: what records store and filters compare (stable; renaming means a new option).
        label: what users see (may be Chinese).
        active: inactive options stay valid on records that have them but cannot be
            chosen again.
    """

    value: str = attrs.field(converter=_clean_text, validator=_check_option_text)
    label: str = attrs.field(converter=_clean_text, validator=_check_option_text)
    active: bool = True


def _options(values: Iterable[Any]) -> tuple[ChoiceOption, ...]:
    return tuple(
        o
        if isinstance(o, ChoiceOption)
        else ChoiceOption(**o)
        if isinstance(o, Mapping)
        else ChoiceOption(str(o), str(o))
        for o in values
    )


def _optional_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, int | str) and not isinstance(value, bool):
        try:
            return Decimal(value)
        except InvalidOperation:
            raise invalid(
                "custom_field", "minimum", N_("{value} is not a number"), value=value
            ) from None
    raise TypeError(f"expected a Decimal, not {type(value).__name__}")


def _check_key(_instance: Any, _attribute: Any, value: str) -> None:
    if not isinstance(value, str) or not _KEY.fullmatch(value) or len(value) > KEY_MAX:
        raise invalid(
            "custom_field",
            "key",
            N_("must be 1..{maximum} lower-case letters, digits or _, starting with a letter"),
            maximum=KEY_MAX,
        )


def _check_label(_instance: Any, _attribute: Any, value: str) -> None:
    if not value or len(value) > LABEL_MAX:
        raise invalid(
            "custom_field", "label", N_("must be 1..{maximum} characters"), maximum=LABEL_MAX
        )


def _check_bound(_instance: Any, attribute: Any, value: Decimal | None) -> None:
    if value is None:
        return
    if not value.is_finite() or _too_precise(value):
        raise invalid(
            "custom_field",
            attribute.name,
            N_("must be a finite number of at most {digits} digits and 6 decimals"),
            digits=DIGITS_MAX,
        )


def _too_precise(value: Decimal) -> bool:
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and (
        exponent < -6 or len(value.normalize().as_tuple().digits) > DIGITS_MAX
    )


@attrs.define(eq=False)
class CustomFieldDefinition(Entity):
    """A custom field of one entity (``customer``) of one tenant.

    Attributes:
        id: the definition's id.
        tenant_id: the owning tenant.
        entity: the kind of record it extends (``customer``).
        key: the stable field code (``budget``), ascii snake_case, unique per tenant and
            entity, never one of the entity's built-in field names. Records, filters
            (``F("custom.budget.amount")``) and field rules (``custom.budget``) use it.
        label: the name users see (``预算``); also an export and import column header.
        type: what it holds (:class:`FieldType`); fixed once defined.
        required: a record must have a value (checked on create, and no edit may clear it).
        options: the options of a choice or multi-choice field.
        max_length: the longest text a text field takes (default 255).
        minimum, maximum: bounds of a number field.
        currency: the currency of a money field.
        position: where it shows among the entity's custom fields (then by key).
        active: a deactivated field keeps its stored values but takes no new ones and
            leaves exports and import templates.
        created_at: when it was defined.
        version: optimistic-locking counter.
    """

    entity_name = N_("custom_field")

    id: UUID
    tenant_id: TenantId
    entity: str
    key: str = attrs.field(validator=_check_key)
    label: str = attrs.field(converter=_clean_text, validator=_check_label)
    type: FieldType = attrs.field(converter=FieldType)
    created_at: dt.datetime
    required: bool = False
    options: tuple[ChoiceOption, ...] = attrs.field(default=(), converter=_options)
    max_length: int | None = None
    minimum: Decimal | None = attrs.field(
        default=None, converter=_optional_decimal, validator=_check_bound
    )
    maximum: Decimal | None = attrs.field(
        default=None, converter=_optional_decimal, validator=_check_bound
    )
    currency: str | None = None
    position: int = 0
    active: bool = True
    version: int = 0

    def __attrs_post_init__(self) -> None:
        self.check()

    @property
    def path(self) -> str:
        """The field name filters, history and field rules use: ``custom.<key>``."""
        return f"{CUSTOM}.{self.key}"

    def check(self) -> None:
        """Check the rules that tie the attributes together.

        Raises:
            ValidationError: the key clashes with a built-in field, constraints do not
                fit the type, or the options are missing, repeated or too many.
        """
        built_in = _BUILT_IN.get(self.entity)
        if built_in is None:
            raise invalid(
                "custom_field", "entity", N_("{name} has no custom fields"), name=self.entity
            )
        if self.key in built_in:
            raise invalid("custom_field", "key", N_("{key} is a built-in field"), key=self.key)
        kind = self.type
        if kind.has_options:
            values = [o.value for o in self.options]
            if not values:
                raise invalid("custom_field", "options", N_("a choice field needs options"))
            if len(values) > OPTIONS_MAX:
                raise invalid(
                    "custom_field", "options", N_("at most {maximum} options"), maximum=OPTIONS_MAX
                )
            if len(set(values)) != len(values):
                raise invalid("custom_field", "options", N_("option values repeat"))
        elif self.options:
            raise invalid("custom_field", "options", N_("only choice fields have options"))
        if self.max_length is not None:
            if kind is not FieldType.TEXT:
                raise invalid("custom_field", "max_length", N_("only text fields have it"))
            if isinstance(self.max_length, bool) or not 1 <= self.max_length <= TEXT_MAX:
                raise invalid(
                    "custom_field", "max_length", N_("must be 1..{maximum}"), maximum=TEXT_MAX
                )
        for bound in ("minimum", "maximum"):
            if getattr(self, bound) is not None and kind is not FieldType.NUMBER:
                raise invalid("custom_field", bound, N_("only number fields have it"))
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise invalid("custom_field", "maximum", N_("is below the minimum"))
        if kind is FieldType.MONEY:
            if self.currency is None or not is_known_currency(self.currency):
                raise invalid(
                    "custom_field",
                    "currency",
                    N_("a money field needs an upper-case ISO 4217 currency code"),
                )
        elif self.currency is not None:
            raise invalid("custom_field", "currency", N_("only money fields have it"))

    def option(self, value: str) -> ChoiceOption | None:
        """The option whose value is ``value``, if any."""
        return next((o for o in self.options if o.value == value), None)

    def option_for(self, text: str) -> ChoiceOption | None:
        """The option a user means by ``text``: its value, or its label (case-insensitive)."""
        found = self.option(text)
        if found is not None:
            return found
        folded = text.casefold()
        return next((o for o in self.options if o.label.casefold() == folded), None)

    def text_limit(self) -> int:
        """The longest text this (text) field takes."""
        return self.max_length if self.max_length is not None else DEFAULT_TEXT_MAX

    def coerce(self, raw: Any, *, for_filter: bool = False) -> Any:
        """Turn user input into this field's value type.

        Text input is accepted for every type (``"1,234.50"``, ``"2024-03-05"``, an
        option label, options separated by commas), so forms and imports need no
        conversion of their own. Empty input (``None``, ``""``, an empty list) gives
        ``None``: no value.

        Args:
            raw: the input.
            for_filter: a filter value: inactive options are accepted (old records keep
                them) and bounds are not checked.

        Returns:
            The typed value, or ``None``.

        Raises:
            ValidationError: naming ``custom.<key>`` with the reason.
        """
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        kind = self.type
        if kind is FieldType.TEXT:
            return self._text(raw)
        if kind is FieldType.NUMBER:
            return self._number(raw, check_bounds=not for_filter)
        if kind is FieldType.MONEY:
            return self._money(raw)
        if kind is FieldType.DATE:
            return self._date(raw)
        if kind is FieldType.CHOICE:
            return self._choice(raw, allow_inactive=for_filter)
        return self._choices(raw, allow_inactive=for_filter)

    def _error(self, text: str, **params: Any) -> ValidationError:
        return invalid(self.entity, self.path, text, **params)

    def _text(self, raw: Any) -> str:
        if not isinstance(raw, str):
            raise self._error(N_("must be text"))
        text = raw.strip()
        if len(text) > self.text_limit():
            raise self._error(N_("is longer than {maximum} characters"), maximum=self.text_limit())
        return text

    def _decimal(self, raw: Any) -> Decimal:
        if isinstance(raw, bool | float):
            raise self._error(N_("must be a number written as text or a Decimal, not a float"))
        if isinstance(raw, Decimal | int):
            value = Decimal(raw)
        elif isinstance(raw, str):
            cleaned = raw.strip().replace(",", "").replace("，", "").replace(" ", "")
            try:
                value = Decimal(cleaned)
            except InvalidOperation:
                raise self._error(N_("{value} is not a number"), value=raw) from None
        else:
            raise self._error(N_("{value} is not a number"), value=str(raw))
        if not value.is_finite():
            raise self._error(N_("{value} is not a number"), value=str(raw))
        if len(value.normalize().as_tuple().digits) > DIGITS_MAX:
            raise self._error(N_("has more than {digits} significant digits"), digits=DIGITS_MAX)
        exponent = value.as_tuple().exponent
        # "1E+3" is a thousand; keep it written as one.
        return value.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else value

    def _number(self, raw: Any, *, check_bounds: bool) -> Decimal:
        value = self._decimal(raw)
        if check_bounds and self.minimum is not None and value < self.minimum:
            raise self._error(N_("must be at least {minimum}"), minimum=str(self.minimum))
        if check_bounds and self.maximum is not None and value > self.maximum:
            raise self._error(N_("must be at most {maximum}"), maximum=str(self.maximum))
        return value

    def _money(self, raw: Any) -> Money:
        currency = self.currency or ""
        if isinstance(raw, Money):
            if raw.currency != currency:
                raise self._error(N_("must be in {currency}"), currency=currency)
            amount = self._decimal(raw.amount)
        else:
            amount = self._decimal(raw)
        money = Money(amount, currency)
        if not money.is_rounded:
            raise self._error(
                N_("{value} has more decimals than {currency} allows"),
                value=str(amount),
                currency=currency,
            )
        # Written at the currency's minor unit ("50000.00"), as the stored form reads back.
        return money.round()

    def _date(self, raw: Any) -> dt.date:
        if isinstance(raw, dt.datetime):
            raise self._error(N_("must be a date, not an instant"))
        if isinstance(raw, dt.date):
            return dt.date(raw.year, raw.month, raw.day)
        if isinstance(raw, str):
            day = parse_day(raw)
            if day is not None:
                return day
            raise self._error(N_("{value} is not a date (use 2024-03-05)"), value=raw)
        raise self._error(N_("{value} is not a date (use 2024-03-05)"), value=str(raw))

    def _choice(self, raw: Any, *, allow_inactive: bool) -> str:
        if not isinstance(raw, str):
            raise self._error(N_("must be one of the options"))
        option = self.option_for(raw.strip())
        if option is None:
            raise self._error(N_("{value} is not one of the options"), value=raw)
        if not option.active and not allow_inactive:
            raise self._error(N_("option {value} is no longer offered"), value=option.value)
        return option.value

    def _choices(self, raw: Any, *, allow_inactive: bool) -> tuple[str, ...] | None:
        parts: Iterable[Any]
        if isinstance(raw, str):
            parts = [p for p in _LIST_SPLIT.split(raw) if p.strip()]
        elif isinstance(raw, Iterable) and not isinstance(raw, Mapping):
            parts = list(raw)
        else:
            raise self._error(N_("must be a list of options"))
        chosen = {self._choice(p, allow_inactive=allow_inactive) for p in parts}
        # Definition order, so the same selection is always stored (and compared) the same.
        ordered = tuple(o.value for o in self.options if o.value in chosen)
        return ordered or None


_LIST_SPLIT = re.compile(r"[,，;；、]")
_DAY = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def parse_day(text: str) -> dt.date | None:
    """A date written ``2024-03-05``, ``2024/3/5``, ``2024.3.5`` or ``2024年3月5日``."""
    match = _DAY.fullmatch(text.strip())
    if match is None:
        return None
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


# -- events ---------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CustomFieldEvent(DomainEvent):
    """Base of the events of a :class:`CustomFieldDefinition` (its ``aggregate_id``)."""

    aggregate_type = "custom_field"


@attrs.frozen(kw_only=True)
class CustomFieldDefined(CustomFieldEvent):
    """A tenant defined a new custom field."""

    entity: str
    key: str
    label: str
    type: str


@attrs.frozen(kw_only=True)
class CustomFieldChanged(CustomFieldEvent):
    """A custom field definition changed: ``changes`` maps attribute -> (old, new) as text."""

    key: str
    changes: dict[str, tuple[str | None, str | None]]


def used_reason(value: str) -> LazyText:
    """The reason an option still in use cannot be removed."""
    return reason(N_("option {value} is in use; deactivate it instead"), value=value)
