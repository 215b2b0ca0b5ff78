"""Recurring dates: birthdays, contract renewals, follow-up cadences, repeating events.

A ``Recurrence`` is a rule that yields days, not instants: "every year on
14 March", "every 2 weeks on Monday and Thursday", "on the 31st of every month".
Reminder rules and the calendar turn a day into an instant at the last moment,
with ``at_time(day, time, tz)``, because "9:00 in Shanghai" is a different UTC
instant on different days wherever daylight saving time applies.

How a rule lays out its days:

* The rule has a ``start`` day. Nothing happens before it, and it is only an
  occurrence if it matches the rule (the alternate constructors default the
  weekday, day and month to the start's, so by default it does).
* ``interval`` counts periods from the one containing ``start``: every
  ``interval`` days, ISO weeks (Monday to Sunday), months or years.
* **Monthly** on day N uses the month's last day when N is past it (31 gives
  30 April and 28/29 February). **Yearly** on a month and day does the same, so
  a 29 February birthday falls on 28 February in common years.
* The series ends at ``end`` (inclusive), after ``count`` occurrences, or never.

Every query (``next_after``, ``occurrences(after=...)``) jumps straight to the
right place with arithmetic, so asking about 2090 for a rule that started in
1950 costs the same as asking about next week.
"""

from __future__ import annotations

import bisect
import enum
import functools
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta, tzinfo

import attrs
import pendulum
from pendulum.tz.exceptions import AmbiguousTime, InvalidTimezone, NonExistingTime

from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid

__all__ = ["Frequency", "Recurrence", "WeekDay", "at_time"]

WeekDay = pendulum.WeekDay
"""Days of the week, ``WeekDay.MONDAY`` (0) to ``WeekDay.SUNDAY`` (6), as ``date.weekday()``."""

_ENTITY = "recurrence"
_ONE_DAY = timedelta(days=1)


class Frequency(enum.Enum):
    """The unit a recurrence repeats in."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    YEARLY = "yearly"


_invalid = functools.partial(invalid, _ENTITY)


def _to_date(value: date) -> date:
    # A datetime is a date subclass, but comparing one with a date raises; refuse it early.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"expected a date, got {type(value).__name__}: {value!r}")
    return date(value.year, value.month, value.day)


def _to_optional_date(value: date | None) -> date | None:
    return None if value is None else _to_date(value)


def _to_weekdays(values: Iterable[int]) -> tuple[WeekDay, ...]:
    days = set()
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 6:
            raise _invalid(
                "weekdays", N_("{value} is not a weekday (0 = Monday .. 6 = Sunday)"), value=value
            )
        days.add(WeekDay(value))
    return tuple(sorted(days))


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _month_length(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _clamped(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, _month_length(year, month)))


@attrs.frozen
class Recurrence:
    """A rule that yields an ascending series of days.

    Prefer the alternate constructors (``daily``, ``weekly``, ``monthly``,
    ``yearly``); the fields a frequency does not use must stay empty.

    Args:
        frequency: daily, weekly, monthly or yearly.
        start: no occurrence is earlier than this day.
        interval: repeat every ``interval`` days, weeks, months or years (>= 1).
        weekdays: weekly only: the days of the week it happens on (at least one).
        day: monthly and yearly: the day of the month (1-31), clamped to the
            month's last day.
        month: yearly only: the month (1-12).
        end: the last day an occurrence may fall on (inclusive, >= start).
        count: how many occurrences there are in all (>= 1).

    Raises:
        ValidationError: naming the field that breaks one of the rules above, or
            ``end`` when both ``end`` and ``count`` are given.
    """

    frequency: Frequency = attrs.field(validator=attrs.validators.instance_of(Frequency))
    start: date = attrs.field(converter=_to_date)
    interval: int = attrs.field(default=1, kw_only=True)
    weekdays: tuple[WeekDay, ...] = attrs.field(default=(), kw_only=True, converter=_to_weekdays)
    day: int | None = attrs.field(default=None, kw_only=True)
    month: int | None = attrs.field(default=None, kw_only=True)
    end: date | None = attrs.field(default=None, kw_only=True, converter=_to_optional_date)
    count: int | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if not _is_int(self.interval) or self.interval < 1:
            raise _invalid("interval", N_("must be a whole number of at least 1"))
        if self.count is not None and (not _is_int(self.count) or self.count < 1):
            raise _invalid("count", N_("must be a whole number of at least 1"))
        if self.end is not None and self.count is not None:
            raise _invalid("end", N_("give an end date or a count, not both"))
        if self.end is not None and self.end < self.start:
            raise _invalid(
                "end",
                N_("{end} is before the start {start}"),
                end=self.end.isoformat(),
                start=self.start.isoformat(),
            )
        freq = self.frequency
        if freq is Frequency.WEEKLY and not self.weekdays:
            raise _invalid("weekdays", N_("a weekly recurrence needs at least one weekday"))
        if freq is not Frequency.WEEKLY and self.weekdays:
            raise _invalid("weekdays", N_("only weekly recurrences take weekdays"))
        if freq in (Frequency.MONTHLY, Frequency.YEARLY):
            if self.day is None or not _is_int(self.day) or not 1 <= self.day <= 31:
                raise _invalid("day", N_("must be a day of the month from 1 to 31"))
        elif self.day is not None:
            raise _invalid("day", N_("only monthly and yearly recurrences take a day"))
        if freq is Frequency.YEARLY:
            if self.month is None or not _is_int(self.month) or not 1 <= self.month <= 12:
                raise _invalid("month", N_("must be a month number from 1 to 12"))
            assert self.day is not None
            if self.day > _month_length(2000, self.month):
                raise _invalid(
                    "day",
                    N_("month {month} never has a day {day}"),
                    month=self.month,
                    day=self.day,
                )
        elif self.month is not None:
            raise _invalid("month", N_("only yearly recurrences take a month"))

    # -- alternate constructors -------------------------------------------------------

    @classmethod
    def daily(
        cls, start: date, *, interval: int = 1, end: date | None = None, count: int | None = None
    ) -> Recurrence:
        """Every ``interval`` days from ``start``.

        Args:
            start: the first occurrence.
            interval: days between occurrences.
            end: the last day an occurrence may fall on (inclusive).
            count: how many occurrences in all.

        Raises:
            ValidationError: as for ``Recurrence``.
        """
        return cls(Frequency.DAILY, start, interval=interval, end=end, count=count)

    @classmethod
    def weekly(
        cls,
        start: date,
        *,
        weekdays: Iterable[int] | None = None,
        interval: int = 1,
        end: date | None = None,
        count: int | None = None,
    ) -> Recurrence:
        """On the given weekdays of every ``interval``-th ISO week, counted from ``start``'s week.

        Args:
            start: no occurrence is earlier than this day.
            weekdays: ``WeekDay`` members or ``date.weekday()`` numbers (0 = Monday);
                ``start``'s weekday when omitted.
            interval: weeks between the weeks it happens in.
            end: the last day an occurrence may fall on (inclusive).
            count: how many occurrences in all.

        Raises:
            ValidationError: as for ``Recurrence`` (an empty ``weekdays`` included).
        """
        days = (start.weekday(),) if weekdays is None else weekdays
        return cls(Frequency.WEEKLY, start, weekdays=days, interval=interval, end=end, count=count)

    @classmethod
    def monthly(
        cls,
        start: date,
        *,
        day: int | None = None,
        interval: int = 1,
        end: date | None = None,
        count: int | None = None,
    ) -> Recurrence:
        """On day ``day`` of every ``interval``-th month, counted from ``start``'s month.

        Args:
            start: no occurrence is earlier than this day.
            day: the day of the month (1-31), clamped to shorter months;
                ``start.day`` when omitted.
            interval: months between occurrences.
            end: the last day an occurrence may fall on (inclusive).
            count: how many occurrences in all.

        Raises:
            ValidationError: as for ``Recurrence``.
        """
        return cls(
            Frequency.MONTHLY,
            start,
            day=start.day if day is None else day,
            interval=interval,
            end=end,
            count=count,
        )

    @classmethod
    def yearly(
        cls,
        start: date,
        *,
        month: int | None = None,
        day: int | None = None,
        interval: int = 1,
        end: date | None = None,
        count: int | None = None,
    ) -> Recurrence:
        """On ``month``/``day`` of every ``interval``-th year (the birthday rule).

        29 February falls on 28 February in common years.

        Args:
            start: no occurrence is earlier than this day.
            month: the month (1-12); ``start.month`` when omitted.
            day: the day of the month; ``start.day`` when omitted.
            interval: years between occurrences.
            end: the last day an occurrence may fall on (inclusive).
            count: how many occurrences in all.

        Raises:
            ValidationError: as for ``Recurrence``, or ``day`` when the month
                never has that day (31 April).
        """
        return cls(
            Frequency.YEARLY,
            start,
            month=start.month if month is None else month,
            day=start.day if day is None else day,
            interval=interval,
            end=end,
            count=count,
        )

    # -- queries ----------------------------------------------------------------------

    def occurrences(
        self, after: date | None = None, until: date | None = None, limit: int | None = None
    ) -> Iterator[date]:
        """The occurrences in ascending order, lazily.

        Without ``until``, ``limit``, ``end`` or ``count`` the series is infinite
        (it stops at the last representable date).

        Args:
            after: only occurrences strictly after this day.
            until: only occurrences on or before this day.
            limit: yield at most this many (>= 0).

        Yields:
            Days, never before ``start``, honouring ``end`` and ``count``.

        Raises:
            ValidationError: ``limit`` is negative.
        """
        if limit is not None and (not _is_int(limit) or limit < 0):
            raise _invalid("limit", N_("must be a whole number of at least 0"))
        return self._iterate(
            None if after is None else _to_date(after),
            None if until is None else _to_date(until),
            limit,
        )

    def _iterate(self, after: date | None, until: date | None, limit: int | None) -> Iterator[date]:
        stop = self.end
        if until is not None:
            stop = until if stop is None else min(until, stop)
        slot = self._skipped
        if after is not None:
            following = _day_after(after)
            if following is None:
                return
            slot = max(slot, self._first_slot_on_or_after(following))
        last_slot = None if self.count is None else self._skipped + self.count - 1
        yielded = 0
        while limit is None or yielded < limit:
            if last_slot is not None and slot > last_slot:
                return
            day = self._slot_date(slot)
            if day is None or (stop is not None and day > stop):
                return
            yield day
            yielded += 1
            slot += 1

    def next_after(self, d: date) -> date | None:
        """The first occurrence strictly after ``d``, or ``None`` when the series is over.

        Args:
            d: any day; before ``start`` gives the first occurrence.
        """
        return next(self._iterate(_to_date(d), None, 1), None)

    def occurrences_between(self, start: date, end: date) -> list[date]:
        """The occurrences from ``start`` to ``end``, both inclusive, ascending.

        Args:
            start: the first day of the window.
            end: the last day of the window.

        Raises:
            ValidationError: ``end`` is before ``start``.
        """
        first, last = _to_date(start), _to_date(end)
        if last < first:
            raise _invalid(
                "end", N_("{end} is before {start}"), end=last.isoformat(), start=first.isoformat()
            )
        return list(self._iterate(first - _ONE_DAY if first > date.min else None, last, None))

    def is_occurrence(self, d: date) -> bool:
        """Whether ``d`` is one of the occurrences."""
        d = _to_date(d)
        return next(self._iterate(d - _ONE_DAY if d > date.min else None, d, 1), None) == d

    # -- slots ------------------------------------------------------------------------
    #
    # Every frequency lays out an infinite, strictly increasing sequence of candidate
    # days ("slots") from the period containing ``start``: slot 0 may fall before
    # ``start`` (a monthly rule on the 5th starting on the 20th), so the first
    # ``_skipped`` slots are not occurrences and occurrence n is slot
    # ``_skipped + n``. Both directions (slot -> day, day -> slot) are arithmetic.

    @property
    def _skipped(self) -> int:
        return self._first_slot_on_or_after(self.start)

    def _slot_date(self, slot: int) -> date | None:
        """The day of ``slot``, or ``None`` past the last representable date."""
        try:
            match self.frequency:
                case Frequency.DAILY:
                    return self.start + timedelta(days=slot * self.interval)
                case Frequency.WEEKLY:
                    weeks, index = divmod(slot, len(self.weekdays))
                    offset = 7 * weeks * self.interval + self.weekdays[index]
                    return self._week_zero + timedelta(days=offset)
                case Frequency.MONTHLY:
                    assert self.day is not None
                    year, month0 = divmod(self._month_zero + slot * self.interval, 12)
                    return _clamped(year, month0 + 1, self.day)
                case Frequency.YEARLY:
                    assert self.day is not None
                    assert self.month is not None
                    return _clamped(self.start.year + slot * self.interval, self.month, self.day)
        except (OverflowError, ValueError):
            return None
        raise AssertionError(self.frequency)  # pragma: no cover

    def _first_slot_on_or_after(self, d: date) -> int:
        """The smallest slot whose day is ``>= d``."""
        match self.frequency:
            case Frequency.DAILY:
                return max(0, _ceil_div((d - self.start).days, self.interval))
            case Frequency.WEEKLY:
                days = (d - self._week_zero).days
                if days <= 0:
                    return 0
                weeks, weekday = divmod(days, 7)
                block = _ceil_div(weeks, self.interval)
                index = 0
                if block * self.interval == weeks:
                    # ``d`` is inside a week the rule fires in: skip its earlier weekdays.
                    index = bisect.bisect_left(self.weekdays, weekday)
                return block * len(self.weekdays) + index
            case Frequency.MONTHLY:
                months = _month_index(d) - self._month_zero
                slot = max(0, _ceil_div(months, self.interval))
            case Frequency.YEARLY:
                slot = max(0, _ceil_div(d.year - self.start.year, self.interval))
        # Monthly and yearly: ``slot`` is the first one in ``d``'s month (year) or
        # later; it can still fall earlier in that same month (year) than ``d``.
        day = self._slot_date(slot)
        return slot + 1 if day is not None and day < d else slot

    @property
    def _week_zero(self) -> date:
        return self.start - timedelta(days=self.start.weekday())

    @property
    def _month_zero(self) -> int:
        return _month_index(self.start)


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _day_after(d: date) -> date | None:
    return None if d == date.max else d + _ONE_DAY


def at_time(d: date, time_of_day: time, tz: str | tzinfo) -> pendulum.DateTime:
    """The UTC instant at which the wall clock in ``tz`` shows ``time_of_day`` on day ``d``.

    Daylight saving time: a wall time that does not exist that day (inside the
    spring-forward gap) moves forward by the gap (02:30 becomes 03:30); a wall
    time that happens twice (the fall-back hour) means the first of the two.

    Args:
        d: the local day.
        time_of_day: a naive wall-clock time.
        tz: an IANA zone name (``"Asia/Shanghai"``) or a tzinfo.

    Returns:
        A pendulum ``DateTime`` in UTC.

    Raises:
        ValidationError: ``tz`` is not a known timezone, or ``time_of_day`` carries
            its own tzinfo (ambiguous with ``tz``).
    """
    day = _to_date(d)
    if time_of_day.tzinfo is not None:
        raise invalid("at_time", "time", N_("pass a naive time of day; the timezone comes from tz"))
    try:
        zone = pendulum.timezone(tz) if isinstance(tz, str) else tz
    except InvalidTimezone as exc:
        raise invalid("at_time", "tz", N_("unknown timezone {tz}"), tz=tz) from exc
    parts = (
        day.year,
        day.month,
        day.day,
        time_of_day.hour,
        time_of_day.minute,
        time_of_day.second,
        time_of_day.microsecond,
    )
    try:
        local = pendulum.datetime(*parts, tz=zone, fold=0, raise_on_unknown_times=True)
    except NonExistingTime:
        local = pendulum.datetime(*parts, tz=zone, fold=1)
    except AmbiguousTime:
        local = pendulum.datetime(*parts, tz=zone, fold=0)
    return local.in_timezone("UTC")
