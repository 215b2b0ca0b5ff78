"""The one cattrs converter crmkit uses to turn values into plain data and back.

Decimal and Money become strings (never floats), instants become ISO-8601 UTC
strings, dates ISO dates, ids strings, enums their values. The SQL adapter's JSON
columns, the outbox and export all go through it. It is private
to crmkit: the global cattrs converter is never touched.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

import cattrs
import pendulum

from crmkit.kernel.money import Money

__all__ = ["converter", "structure", "to_instant", "unstructure"]

T = TypeVar("T")


_ZERO = dt.timedelta(0)


def to_instant(value: dt.datetime | str) -> pendulum.DateTime:
    """Parse or convert to a UTC pendulum instant; naive datetimes are taken as UTC."""
    if isinstance(value, str):
        parsed = pendulum.parse(value)
        if not isinstance(parsed, pendulum.DateTime):
            raise ValueError(f"not an instant: {value!r}")
        return parsed.in_timezone("UTC")
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    utc = value if value.utcoffset() == _ZERO else value.astimezone(dt.UTC)
    # Built field by field on pendulum's shared UTC zone: ``pendulum.instance`` makes a
    # new zone object per call and reloads its tz data, which costs several times
    # more, and every instant read from storage comes through here.
    return pendulum.DateTime(
        utc.year,
        utc.month,
        utc.day,
        utc.hour,
        utc.minute,
        utc.second,
        utc.microsecond,
        tzinfo=pendulum.UTC,
    )


def _unstructure_instant(value: dt.datetime) -> str:
    return to_instant(value).isoformat()


def _structure_date(value: Any, _: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def _structure_money(value: Any, _: Any) -> Money:
    if isinstance(value, Money):
        return value
    return Money(Decimal(value["amount"]), value["currency"])


@functools.cache
def _build() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=False)
    conv.register_unstructure_hook(Decimal, str)
    conv.register_structure_hook(Decimal, lambda v, _: v if isinstance(v, Decimal) else Decimal(v))
    conv.register_unstructure_hook(UUID, str)
    conv.register_structure_hook(UUID, lambda v, _: v if isinstance(v, UUID) else UUID(v))
    conv.register_unstructure_hook(
        Money, lambda m: {"amount": str(m.amount), "currency": m.currency}
    )
    conv.register_structure_hook(Money, _structure_money)
    for instant in (dt.datetime, pendulum.DateTime):
        conv.register_unstructure_hook(instant, _unstructure_instant)
        conv.register_structure_hook(instant, lambda v, _: to_instant(v))
    conv.register_unstructure_hook(dt.time, lambda t: t.isoformat())
    conv.register_structure_hook(
        dt.time, lambda v, _: v if isinstance(v, dt.time) else dt.time.fromisoformat(v)
    )
    for day in (dt.date, pendulum.Date):
        conv.register_unstructure_hook(day, lambda d: d.isoformat())
        conv.register_structure_hook(day, _structure_date)
    return conv


def converter() -> cattrs.Converter:
    """The shared converter (built once, on first use)."""
    return _build()


def unstructure(value: Any) -> Any:
    """Turn any crmkit value into JSON-ready plain data."""
    return _build().unstructure(value)


def structure(data: Any, type_: type[T]) -> T:
    """Rebuild a crmkit value of ``type_`` from plain data."""
    return _build().structure(data, type_)
