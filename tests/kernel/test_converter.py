"""One converter round-trips every kernel value and every registered domain event."""

from __future__ import annotations

import datetime as dt
import enum
import typing
import uuid
from decimal import Decimal

import attrs
import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

# Import every area so every event class is registered, whatever ran before.
import crmkit.customers
import crmkit.pipeline
import crmkit.rules.approvals
import crmkit.rules.notifications
import crmkit.rules.reminders  # noqa: F401
from crmkit.kernel.converter import structure, unstructure
from crmkit.kernel.events import DomainEvent, registered_events
from crmkit.kernel.money import Money
from crmkit.kernel.periods import Period, PeriodKind
from crmkit.kernel.recurrence import Recurrence, WeekDay
from tests.strategies import money

instants = st.datetimes(
    min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2200, 1, 1), timezones=st.just(dt.UTC)
).map(pendulum.instance)
dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31))


class Level(enum.Enum):
    A = "A"
    B = "B"


@attrs.frozen
class Everything:
    amount: Money
    ratio: Decimal
    at: pendulum.DateTime
    day: dt.date
    ref: uuid.UUID
    level: Level
    tags: tuple[str, ...]
    optional: Money | None


@given(
    amount=money(),
    ratio=st.decimals(allow_nan=False, allow_infinity=False, places=6),
    at=instants,
    day=dates,
    ref=st.uuids(),
    level=st.sampled_from(Level),
    tags=st.lists(st.text(max_size=5), max_size=3).map(tuple),
    optional=st.one_of(st.none(), money()),
)
def test_every_kernel_value_round_trips(**values: object) -> None:
    value = Everything(**values)  # type: ignore[arg-type]
    plain = unstructure(value)
    assert structure(plain, Everything) == value
    assert isinstance(plain["amount"]["amount"], str)  # never a float
    assert isinstance(plain["ratio"], str)
    assert plain["at"].endswith("+00:00")


def test_instants_become_utc() -> None:
    shanghai = pendulum.datetime(2026, 3, 2, 17, 0, tz="Asia/Shanghai")
    assert unstructure(shanghai) == "2026-03-02T09:00:00+00:00"
    assert structure("2026-03-02T17:00:00+08:00", pendulum.DateTime) == shanghai


@given(start=dates, kind=st.sampled_from(PeriodKind), fy=st.integers(1, 12))
def test_periods_round_trip(start: dt.date, kind: PeriodKind, fy: int) -> None:
    period = Period.containing(start, kind, fiscal_year_start_month=fy)
    assert structure(unstructure(period), Period) == period


def test_recurrences_round_trip() -> None:
    weekly = Recurrence.weekly(
        dt.date(2026, 1, 5), weekdays=(WeekDay.MONDAY, WeekDay.FRIDAY), count=10
    )
    yearly = Recurrence.yearly(dt.date(1990, 2, 28), end=dt.date(2040, 1, 1))
    for value in (weekly, yearly):
        assert structure(unstructure(value), Recurrence) == value


st.register_type_strategy(Money, money())
st.register_type_strategy(pendulum.DateTime, instants)
st.register_type_strategy(dt.datetime, instants)  # crmkit keeps only aware UTC instants


_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.text(max_size=10)),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def _strategy(hint: object) -> st.SearchStrategy[object]:
    # Free-form payloads (dict[str, Any]) hold JSON values; everything else by its type.
    if hint == dict[str, typing.Any]:
        return st.dictionaries(st.text(max_size=5), _JSON, max_size=4)
    return st.from_type(hint)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(n for n in registered_events() if n != "DomainEvent"))
def test_every_registered_event_round_trips(name: str) -> None:
    cls = registered_events()[name]
    hints = typing.get_type_hints(cls)
    fields = {f.name: _strategy(hints[f.name]) for f in attrs.fields(cls) if f.init}
    fields["occurred_at"] = instants

    @given(st.builds(cls, **fields))
    def round_trips(event: DomainEvent) -> None:
        assert structure(unstructure(event), cls) == event

    round_trips()


def test_an_event_named_like_another_modules_event_is_refused() -> None:
    # Stored outbox rows are read back by event_type: a host's class of the same name
    # must not silently take the place of crmkit's.
    namespace: dict[str, object] = {
        "__module__": "host_app.events",
        "__qualname__": "CustomerRegistered",
    }
    with pytest.raises(TypeError, match="CustomerRegistered"):
        type("CustomerRegistered", (DomainEvent,), namespace)
    assert registered_events()["CustomerRegistered"].__module__.startswith("crmkit.")
