"""The limits of every value crmkit stores, defined once so every backend agrees.

A host puts crmkit behind web forms and file uploads, so any value a person can type
reaches the storage sooner or later. Each backend has limits of its own: PostgreSQL
refuses a NUL character in text, SQLite keeps amounts as a 64-bit count of
millionths, neither can encode a lone surrogate as UTF-8, a naive datetime is
ambiguous to both, and the memory adapter would keep any of them. Left to the
backends, one value would be stored by one and refused by another with a driver
error. So the domain owns the limits, and they are checked before anything is
written, the same way on every backend:

* **Amounts** (``Money`` and ``Decimal`` fields): finite, at most :data:`AMOUNT_PLACES`
  decimals and below :data:`AMOUNT_LIMIT` in size: ``NUMERIC(24, 6)`` on PostgreSQL
  holds that, and so does SQLite's count of millionths (up to about 9.22 x 10^12).
* **Text**: no NUL character and no lone surrogate (neither can be stored as UTF-8
  text everywhere), and at most :data:`TEXT_MAX` characters unless the field declares
  its own maximum with :func:`max_length`.
* **Instants**: timezone-aware ``datetime``s (a naive one would mean a different
  moment to each reader), between :data:`DATE_MIN` and :data:`DATE_MAX`.
* **Dates**: between :data:`DATE_MIN` and :data:`DATE_MAX`, so adding a payment term's
  days or a reminder's offset never runs past the end of the calendar.
* **Whole numbers**: within a 64-bit signed integer (the ``BIGINT`` columns).
* **Ids and enumerations**: a field typed as an id holds a ``UUID``, a field typed as
  an enumeration one of its members.

:func:`check_storable` applies all of them to an entity (nested values, lists and
mappings included) and raises :class:`~crmkit.kernel.errors.ValidationError` naming
the entity and the field. Every repository runs it on ``add`` and ``save`` before it
writes anything, so a value one backend would keep and another refuse is refused by
all. The converters :func:`to_date`, :func:`to_instant_value` and :func:`to_amount`
turn what a form sends (``"2026-03-01"``, ``"2026-03-01T09:00+08:00"``, ``"100"``)
into values at the entry points, or refuse it with the same error.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import typing
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from uuid import UUID

import attrs

from crmkit.kernel.hints import field_hints, stored_type
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.money import Money, to_decimal

__all__ = [
    "AMOUNT_LIMIT",
    "AMOUNT_PLACES",
    "DATE_MAX",
    "DATE_MIN",
    "INT_MAX",
    "INT_MIN",
    "TEXT_MAX",
    "check_amount",
    "check_storable",
    "check_text",
    "expect_type",
    "max_length",
    "to_amount",
    "to_date",
    "to_instant_value",
    "to_member",
    "to_text",
]

AMOUNT_PLACES = 6
"""Decimals an amount may have: the scale of the SQL amount columns."""
AMOUNT_LIMIT = Decimal(9) * Decimal(10) ** 12
"""Amounts must be smaller than this in size (nine trillion of any currency): SQLite
keeps an amount as a 64-bit count of millionths, which ends a little above."""
TEXT_MAX = 10_000
"""Characters a text field may hold unless it declares its own maximum."""
DATE_MIN = dt.date(1000, 1, 1)
"""The earliest date (and day of an instant) crmkit stores."""
DATE_MAX = dt.date(2999, 12, 31)
"""The latest date (and day of an instant) crmkit stores."""
INT_MIN = -(2**63)
"""The smallest whole number a ``BIGINT`` column holds."""
INT_MAX = 2**63 - 1
"""The largest whole number a ``BIGINT`` column holds."""

_MAX_LENGTH = "crmkit.max_length"
_ZERO = dt.timedelta(0)


def max_length(maximum: int) -> dict[str, int]:
    """attrs field metadata declaring a text field's own maximum length.

    ``note: str = attrs.field(default="", metadata=max_length(2000))``; the limit also
    applies to each text of a tuple field (tags).
    """
    return {_MAX_LENGTH: maximum}


# -- single values -----------------------------------------------------------------------------


def check_text(value: str, *, entity: str, field: str, maximum: int = TEXT_MAX) -> str:
    """Refuse text no backend can store alike: NUL, lone surrogates, too long.

    Returns:
        ``value`` unchanged.

    Raises:
        ValidationError: the text holds a NUL character or a lone surrogate, or has
            more than ``maximum`` characters.
    """
    if len(value) > maximum:
        raise invalid(entity, field, N_("is longer than {maximum} characters"), maximum=maximum)
    if "\x00" in value:
        raise invalid(entity, field, N_("contains a NUL character"))
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise invalid(entity, field, N_("contains an invalid character")) from None
    return value


def to_text(value: Any, *, entity: str, field: str, maximum: int = TEXT_MAX) -> str | None:
    """Text from a form: whitespace runs become one space; empty becomes ``None``.

    Raises:
        ValidationError: ``value`` is not text, or breaks :func:`check_text`.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(entity, field, N_("must be text"))
    text = " ".join(value.split())
    return check_text(text, entity=entity, field=field, maximum=maximum) if text else None


def check_amount(value: Decimal, *, entity: str, field: str) -> Decimal:
    """Refuse an amount outside the range and scale every backend stores exactly.

    Returns:
        ``value`` unchanged.

    Raises:
        ValidationError: NaN or Infinity, more than :data:`AMOUNT_PLACES` decimals, or
            not below :data:`AMOUNT_LIMIT` in size.
    """
    if not value.is_finite():
        raise invalid(entity, field, N_("{value} is not a finite number"), value=str(value))
    if abs(value) >= AMOUNT_LIMIT:
        raise invalid(
            entity,
            field,
            N_("{value} is too large (the limit is {limit})"),
            value=str(value),
            limit=f"{AMOUNT_LIMIT:,f}",
        )
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite, checked above
    if exponent < -AMOUNT_PLACES and value != value.quantize(Decimal(1).scaleb(-AMOUNT_PLACES)):
        raise invalid(
            entity,
            field,
            N_("{value} has more than {places} decimals"),
            value=str(value),
            places=AMOUNT_PLACES,
        )
    return value


def to_amount(value: Any, *, entity: str, field: str) -> Money:
    """A Money from what a form or a program sends, within the limits.

    A ``Money`` passes; ``{"amount": "100", "currency": "CNY"}`` is built into one. A
    bare number (``100``, ``"100"``) is refused: an amount means nothing without its
    currency, and guessing one would store a wrong figure.

    Raises:
        ValidationError: a bare number, text that is no number, an unknown currency, or
            an amount outside :func:`check_amount`.
    """
    if isinstance(value, Money):
        money = value
    elif isinstance(value, Mapping) and set(value) == {"amount", "currency"}:
        amount, currency = value["amount"], value["currency"]
        if isinstance(amount, float) or not isinstance(amount, str | int | Decimal):
            raise invalid(entity, field, N_("is not an amount"))
        money = Money(to_decimal(amount, entity=entity, field=field), currency)
    else:
        raise invalid(
            entity,
            field,
            N_("needs an amount with its currency, e.g. Money('100', 'CNY')"),
        )
    check_amount(money.amount, entity=entity, field=field)
    return money


T = typing.TypeVar("T")


def expect_type(value: Any, kind: type[T] | tuple[type[Any], ...], *, field: str) -> T:
    """``value`` when it is a ``kind``; a programmer's mistake (``TypeError``) otherwise.

    For parameters no form fills as text (a flag, a program-built mapping): a wrong
    Python type there is a bug mypy would catch, so it is said plainly at the boundary
    instead of surfacing later as an ``AttributeError`` or a driver error that differs
    by backend. ``bool`` is no ``int`` here.

    Raises:
        TypeError: ``value`` is not a ``kind``.
    """
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise TypeError(f"{field} must be {names}, not {type(value).__name__}")
    return typing.cast(T, value)


def _check_day(day: dt.date, entity: str, field: str) -> None:
    if not DATE_MIN <= day <= DATE_MAX:
        raise invalid(
            entity,
            field,
            N_("{value} is outside {start} to {end}"),
            value=day.isoformat(),
            start=DATE_MIN.isoformat(),
            end=DATE_MAX.isoformat(),
        )


def to_date(value: Any, *, entity: str, field: str) -> dt.date:
    """A date from a ``date`` or an ISO date text (``"2026-03-01"``), within the limits.

    Raises:
        ValidationError: ``value`` is a datetime (a moment is not a day: pass its date
            in the zone that matters), text that is no ISO date, another type, or a
            date outside :data:`DATE_MIN` .. :data:`DATE_MAX`.
    """
    if isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise invalid(
                entity, field, N_("{value!r} is not a date (YYYY-MM-DD)"), value=value[:40]
            ) from None
    elif isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise invalid(entity, field, N_("must be a date"))
    else:
        day = value
    _check_day(day, entity, field)
    return day


E = typing.TypeVar("E", bound=enum.Enum)


def to_member(kind: type[E], value: Any, *, entity: str, field: str) -> E:
    """A member of the enumeration ``kind`` from itself or its value (``"user"``).

    A form sends the value as text; anything that is not one is refused by name,
    listing the choices, instead of escaping as ``ValueError`` from ``kind(value)``.

    Raises:
        ValidationError: ``value`` is neither a member of ``kind`` nor one's value.
    """
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except (ValueError, TypeError):
        raise invalid(
            entity,
            field,
            N_("{value!r} is not one of {choices}"),
            value=str(value)[:40],
            choices=", ".join(str(member.value) for member in kind),
        ) from None


def to_instant_value(value: Any, *, entity: str, field: str) -> dt.datetime:
    """An aware instant from a ``datetime`` or ISO 8601 text with an offset.

    Returns:
        The instant, unchanged when it was an aware ``datetime``.

    Raises:
        ValidationError: a naive datetime or text without an offset (which moment
            would it be?), text that is no instant, another type, or an instant outside
            the date limits.
    """
    if isinstance(value, str):
        try:
            instant = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise invalid(
                entity, field, N_("{value!r} is not a date and time"), value=value[:40]
            ) from None
    elif isinstance(value, dt.datetime):
        instant = value
    else:
        raise invalid(entity, field, N_("must be a date and time"))
    _check_instant(instant, entity, field)
    return instant


def _check_instant(instant: dt.datetime, entity: str, field: str) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise invalid(entity, field, N_("needs a time zone (a naive time is ambiguous)"))
    try:
        day = instant.astimezone(dt.UTC).date()
    except OverflowError:
        day = instant.date()
    _check_day(day, entity, field)


def _check_int(value: int, entity: str, field: str) -> None:
    if not INT_MIN <= value <= INT_MAX:
        raise invalid(entity, field, N_("{value} is too large"), value=str(value)[:30])


# -- whole entities -----------------------------------------------------------------------------

_Check = typing.Callable[[Any, str, str], None]


def _entity_label(obj: Any) -> str:
    return str(getattr(type(obj), "entity_name", type(obj).__name__.lower()))


def _check_any(value: Any, entity: str, field: str, maximum: int = TEXT_MAX) -> None:
    """Check a value by what it is (inside JSON columns and untyped fields)."""
    if value is None or isinstance(value, bool | UUID | enum.Enum):
        return
    if isinstance(value, str):
        check_text(value, entity=entity, field=field, maximum=maximum)
    elif isinstance(value, Money):
        check_amount(value.amount, entity=entity, field=field)
    elif isinstance(value, Decimal):
        check_amount(value, entity=entity, field=field)
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise invalid(entity, field, N_("{value} is not a finite number"), value=str(value))
    elif isinstance(value, dt.datetime):
        _check_instant(value, entity, field)
    elif isinstance(value, dt.date):
        _check_day(value, entity, field)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _check_any(key, entity, field)
            _check_any(item, entity, field)
    elif isinstance(value, tuple | list | set | frozenset):
        for item in value:
            _check_any(item, entity, field, maximum)
    elif attrs.has(type(value)):
        _walk(value, entity, field)


def _typed(tp: Any, maximum: int) -> _Check:
    """The check of one field from its declared type (the column it is stored in)."""
    if not isinstance(tp, type):
        return functools.partial(_any_with_max, maximum=maximum)
    if issubclass(tp, bool):
        return _expect(bool, N_("must be true or false"))
    if issubclass(tp, enum.Enum):
        kind = tp

        def member(value: Any, entity: str, field: str) -> None:
            if not isinstance(value, kind):
                raise invalid(
                    entity,
                    field,
                    N_("{value!r} is not one of {choices}"),
                    value=str(value)[:40],
                    choices=", ".join(str(m.value) for m in kind),
                )

        return member
    if issubclass(tp, UUID):
        return _expect(UUID, N_("is not an id"))
    if issubclass(tp, str):

        def text(value: Any, entity: str, field: str) -> None:
            if not isinstance(value, str):
                raise invalid(entity, field, N_("must be text"))
            check_text(value, entity=entity, field=field, maximum=maximum)

        return text
    if issubclass(tp, int):

        def whole(value: Any, entity: str, field: str) -> None:
            if not isinstance(value, int) or isinstance(value, bool):
                raise invalid(entity, field, N_("must be a whole number"))
            _check_int(value, entity, field)

        return whole
    if issubclass(tp, Decimal):

        def number(value: Any, entity: str, field: str) -> None:
            if not isinstance(value, Decimal):
                raise invalid(entity, field, N_("must be a number"))
            check_amount(value, entity=entity, field=field)

        return number
    if issubclass(tp, Money):

        def money(value: Any, entity: str, field: str) -> None:
            if not isinstance(value, Money):
                raise invalid(
                    entity,
                    field,
                    N_("needs an amount with its currency, e.g. Money('100', 'CNY')"),
                )
            check_amount(value.amount, entity=entity, field=field)

        return money
    if issubclass(tp, dt.datetime):

        def instant(value: Any, entity: str, field: str) -> None:
            if not isinstance(value, dt.datetime):
                raise invalid(entity, field, N_("must be a date and time"))
            _check_instant(value, entity, field)

        return instant
    if issubclass(tp, dt.date):

        def day(value: Any, entity: str, field: str) -> None:
            if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
                raise invalid(entity, field, N_("must be a date"))
            _check_day(value, entity, field)

        return day
    return functools.partial(_any_with_max, maximum=maximum)


def _any_with_max(value: Any, entity: str, field: str, *, maximum: int) -> None:
    _check_any(value, entity, field, maximum)


def _expect(kind: type[Any], message: str) -> _Check:
    def check(value: Any, entity: str, field: str) -> None:
        if not isinstance(value, kind):
            raise invalid(entity, field, message)

    return check


_INSTANT_MIN = dt.datetime.combine(DATE_MIN, dt.time(), dt.UTC)
_INSTANT_END = dt.datetime.combine(DATE_MAX + dt.timedelta(days=1), dt.time(), dt.UTC)


@attrs.frozen
class _Plan:
    """How to check one attrs class: its fields grouped by kind for a quick pass.

    Every repository runs this on every write, so the common case (a value within
    its limits) is answered inline per group; only a value that looks wrong goes to
    its field's full check (``slow``), which raises the error naming it.
    """

    texts: tuple[tuple[str, int], ...]
    instances: tuple[tuple[str, type[Any]], ...]
    instants: tuple[str, ...]
    days: tuple[str, ...]
    ints: tuple[str, ...]
    rest: tuple[str, ...]
    required: tuple[str, ...]
    slow: dict[str, _Check]


def _is_plain_text(value: Any, maximum: int) -> bool:
    return (
        type(value) is str
        and len(value) <= maximum
        and "\x00" not in value
        and (value.isascii() or _encodes(value))
    )


def _encodes(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@functools.cache
def _plan(cls: Any) -> _Plan:
    hints = field_hints(cls)  # all Any when a forward reference does not resolve
    texts, instances, instants, days, ints, rest = [], [], [], [], [], []
    required: list[str] = []
    slow: dict[str, _Check] = {}
    for field in attrs.fields(cls):
        name = field.name
        maximum = field.metadata.get(_MAX_LENGTH, TEXT_MAX)
        tp, optional = stored_type(hints[name])
        slow[name] = _typed(tp, maximum)
        if not optional and isinstance(tp, type) and tp is not type(None):
            # A field typed without ``None`` must hold a value: memory would keep None,
            # SQL would write 'None' or fail on a NOT NULL column.
            required.append(name)
        if not isinstance(tp, type):
            rest.append(name)
        elif issubclass(tp, bool | enum.Enum | UUID):
            instances.append((name, bool if issubclass(tp, bool) else tp))
        elif issubclass(tp, str):
            texts.append((name, maximum))
        elif issubclass(tp, int):
            ints.append(name)
        elif issubclass(tp, dt.datetime):
            instants.append(name)
        elif issubclass(tp, dt.date):
            days.append(name)
        else:
            rest.append(name)  # amounts, nested values, lists, mappings: checked in full
    return _Plan(
        tuple(texts),
        tuple(instances),
        tuple(instants),
        tuple(days),
        tuple(ints),
        tuple(rest),
        tuple(required),
        slow,
    )


def _walk(obj: Any, entity: str, prefix: str | None) -> None:
    kind: Any = type(obj)
    plan = _plan(kind)
    for name in plan.required:
        if getattr(obj, name) is None:
            path = name if prefix is None else f"{prefix}.{name}"
            raise invalid(entity, path, N_("is required"))
    suspects: list[str] = []
    for name, maximum in plan.texts:
        value = getattr(obj, name)
        if value is not None and not _is_plain_text(value, maximum):
            suspects.append(name)
    for name, expected in plan.instances:
        value = getattr(obj, name)
        if value is not None and not isinstance(value, expected):
            suspects.append(name)
    for name in plan.instants:
        value = getattr(obj, name)
        if value is not None and not (
            isinstance(value, dt.datetime)
            and value.utcoffset() is not None
            and _INSTANT_MIN <= value < _INSTANT_END
        ):
            suspects.append(name)
    for name in plan.days:
        value = getattr(obj, name)
        if value is not None and not (
            isinstance(value, dt.date)
            and not isinstance(value, dt.datetime)
            and DATE_MIN <= value <= DATE_MAX
        ):
            suspects.append(name)
    for name in plan.ints:
        value = getattr(obj, name)
        if value is not None and not (type(value) is int and INT_MIN <= value <= INT_MAX):
            suspects.append(name)
    suspects.extend(name for name in plan.rest if getattr(obj, name) is not None)
    for name in suspects:  # the full check raises for a value that breaks a limit
        path = name if prefix is None else f"{prefix}.{name}"
        plan.slow[name](getattr(obj, name), entity, path)


def check_storable(obj: Any) -> None:
    """Check every field of an entity (an attrs instance) against the domain's limits.

    Each field is checked against its declared type (text must be text, an id a
    ``UUID``, an enumeration one of its members, an instant an aware ``datetime``) and
    the limits of this module; tuples, mappings and nested values are checked inside.

    Raises:
        ValidationError: naming the entity and a field that breaks a limit.
    """
    _walk(obj, _entity_label(obj), None)
