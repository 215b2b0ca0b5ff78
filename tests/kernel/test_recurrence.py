"""Recurrence rules: examples for the business cases, properties against a brute-force reference."""

from __future__ import annotations

import calendar
import itertools
from datetime import UTC, date, time, timedelta, timezone

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.kernel.errors import ValidationError
from crmkit.kernel.recurrence import Frequency, Recurrence, WeekDay, at_time

MON, TUE, WED, THU, FRI, SAT, SUN = WeekDay

# -- strategies ---------------------------------------------------------------------------

starts = st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 12, 31))
intervals = st.integers(min_value=1, max_value=4)
weekday_sets = st.sets(st.integers(min_value=0, max_value=6), min_size=1)


@st.composite
def yearly_month_days(draw: st.DrawFn) -> tuple[int, int]:
    month = draw(st.integers(min_value=1, max_value=12))
    day = draw(st.integers(min_value=1, max_value=calendar.monthrange(2000, month)[1]))
    return month, day


@st.composite
def rules(draw: st.DrawFn) -> Recurrence:
    start = draw(starts)
    interval = draw(intervals)
    frequency = draw(st.sampled_from(Frequency))
    limit = draw(st.sampled_from(["none", "count", "end"]))
    count = draw(st.integers(min_value=1, max_value=15)) if limit == "count" else None
    end = (
        start + timedelta(days=draw(st.integers(min_value=0, max_value=3000)))
        if limit == "end"
        else None
    )
    if frequency is Frequency.DAILY:
        return Recurrence.daily(start, interval=interval, count=count, end=end)
    if frequency is Frequency.WEEKLY:
        days = draw(weekday_sets)
        return Recurrence.weekly(start, weekdays=days, interval=interval, count=count, end=end)
    if frequency is Frequency.MONTHLY:
        day = draw(st.integers(min_value=1, max_value=31))
        return Recurrence.monthly(start, day=day, interval=interval, count=count, end=end)
    month, day = draw(yearly_month_days())
    return Recurrence.yearly(start, month=month, day=day, interval=interval, count=count, end=end)


# -- brute-force reference: walk day by day and test each day against the rule's definition --

_HORIZON_DAYS = {
    Frequency.DAILY: 120,
    Frequency.WEEKLY: 400,
    Frequency.MONTHLY: 1600,
    Frequency.YEARLY: 7400,
}


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _matches(rule: Recurrence, d: date) -> bool:
    start = rule.start
    if rule.frequency is Frequency.DAILY:
        return (d - start).days % rule.interval == 0
    if rule.frequency is Frequency.WEEKLY:
        week_zero = start - timedelta(days=start.weekday())
        in_week = ((d - week_zero).days // 7) % rule.interval == 0
        return in_week and d.weekday() in rule.weekdays
    assert rule.day is not None
    wanted_day = min(rule.day, _last_day(d.year, d.month))
    if rule.frequency is Frequency.MONTHLY:
        months = (d.year - start.year) * 12 + d.month - start.month
        return months % rule.interval == 0 and d.day == wanted_day
    in_year = (d.year - start.year) % rule.interval == 0
    return in_year and d.month == rule.month and d.day == wanted_day


def brute_force(rule: Recurrence, horizon: date) -> list[date]:
    """Every occurrence up to ``horizon``, found by testing each day from ``start``."""
    found: list[date] = []
    d = rule.start
    while d <= horizon and (rule.end is None or d <= rule.end):
        if _matches(rule, d):
            found.append(d)
            if rule.count is not None and len(found) == rule.count:
                break
        d += timedelta(days=1)
    return found


def horizon_of(rule: Recurrence) -> date:
    return rule.start + timedelta(days=_HORIZON_DAYS[rule.frequency])


# -- examples: the business cases ------------------------------------------------------------


def test_monthly_on_the_31st_falls_on_each_months_last_day() -> None:
    rule = Recurrence.monthly(date(2026, 1, 31))
    assert list(rule.occurrences(limit=5)) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
    ]
    assert rule.next_after(date(2028, 2, 1)) == date(2028, 2, 29)


def test_birthday_on_feb_29_is_celebrated_on_feb_28_in_common_years() -> None:
    birthday = Recurrence.yearly(date(2024, 2, 29))
    assert list(birthday.occurrences(limit=5)) == [
        date(2024, 2, 29),
        date(2025, 2, 28),
        date(2026, 2, 28),
        date(2027, 2, 28),
        date(2028, 2, 29),
    ]
    assert birthday.next_after(date(2100, 1, 1)) == date(2100, 2, 28)  # 2100 is not leap


def test_yearly_takes_month_and_day_apart_from_start() -> None:
    contract = Recurrence.yearly(date(2026, 5, 20), month=3, day=14)
    assert list(contract.occurrences(limit=2)) == [date(2027, 3, 14), date(2028, 3, 14)]


def test_every_other_week_on_monday_wednesday_friday() -> None:
    rule = Recurrence.weekly(date(2026, 1, 7), weekdays=[MON, WED, FRI], interval=2)  # a Wednesday
    assert list(rule.occurrences(limit=6)) == [
        date(2026, 1, 7),
        date(2026, 1, 9),
        date(2026, 1, 19),
        date(2026, 1, 21),
        date(2026, 1, 23),
        date(2026, 2, 2),
    ]


def test_weekly_defaults_to_the_start_weekday() -> None:
    rule = Recurrence.weekly(date(2026, 1, 8))
    assert rule.weekdays == (THU,)
    assert rule.next_after(date(2026, 1, 8)) == date(2026, 1, 15)


def test_follow_up_sequence_every_three_days_stops_after_count() -> None:
    rule = Recurrence.daily(date(2026, 3, 1), interval=3, count=4)
    assert list(rule.occurrences()) == [
        date(2026, 3, 1),
        date(2026, 3, 4),
        date(2026, 3, 7),
        date(2026, 3, 10),
    ]
    assert rule.next_after(date(2026, 3, 9)) == date(2026, 3, 10)
    assert rule.next_after(date(2026, 3, 10)) is None
    assert rule.next_after(date(2030, 1, 1)) is None


def test_end_date_is_inclusive() -> None:
    rule = Recurrence.monthly(date(2026, 1, 15), end=date(2026, 4, 15))
    assert list(rule.occurrences())[-1] == date(2026, 4, 15)
    assert rule.next_after(date(2026, 4, 15)) is None


def test_start_that_does_not_match_the_rule_is_not_an_occurrence() -> None:
    rule = Recurrence.monthly(date(2026, 1, 20), day=5, count=2)
    assert list(rule.occurrences()) == [date(2026, 2, 5), date(2026, 3, 5)]
    assert not rule.is_occurrence(date(2026, 1, 20))
    assert rule.is_occurrence(date(2026, 3, 5))


def test_next_after_a_date_before_start_is_the_first_occurrence() -> None:
    rule = Recurrence.yearly(date(2026, 6, 1))
    assert rule.next_after(date(1900, 1, 1)) == date(2026, 6, 1)


def test_next_after_far_in_the_future_is_computed_directly() -> None:
    rule = Recurrence.daily(date(1900, 1, 1), interval=7)  # Mondays
    assert rule.next_after(date(9999, 12, 20)) == date(9999, 12, 27)
    assert rule.next_after(date(9999, 12, 27)) is None
    assert Recurrence.yearly(date(1900, 3, 1), interval=3).next_after(date(9000, 6, 1)) == date(
        9001, 3, 1
    )
    assert Recurrence.monthly(date(1900, 1, 31)).next_after(date(9999, 12, 31)) is None


def test_occurrences_between_is_inclusive_at_both_ends() -> None:
    rule = Recurrence.weekly(date(2026, 1, 5), weekdays=[MON])
    assert rule.occurrences_between(date(2026, 1, 12), date(2026, 1, 26)) == [
        date(2026, 1, 12),
        date(2026, 1, 19),
        date(2026, 1, 26),
    ]
    assert rule.occurrences_between(date(2026, 1, 13), date(2026, 1, 18)) == []


def test_occurrences_filters_after_until_and_limit() -> None:
    rule = Recurrence.daily(date(2026, 1, 1))
    assert list(rule.occurrences(after=date(2026, 1, 3), until=date(2026, 1, 6))) == [
        date(2026, 1, 4),
        date(2026, 1, 5),
        date(2026, 1, 6),
    ]
    assert list(rule.occurrences(after=date(2026, 1, 3), limit=2)) == [
        date(2026, 1, 4),
        date(2026, 1, 5),
    ]
    assert list(rule.occurrences(limit=0)) == []


def test_pendulum_dates_are_accepted_and_plain_dates_returned() -> None:
    rule = Recurrence.monthly(pendulum.date(2026, 1, 31))
    assert rule.start == date(2026, 1, 31)
    assert type(rule.start) is date
    assert rule.next_after(pendulum.date(2026, 2, 1)) == date(2026, 2, 28)


def test_datetimes_are_refused_where_dates_are_expected() -> None:
    with pytest.raises(TypeError):
        Recurrence.daily(pendulum.datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Recurrence.daily(date(2026, 1, 1), interval=0), "interval"),
        (lambda: Recurrence.daily(date(2026, 1, 1), count=0), "count"),
        (lambda: Recurrence.daily(date(2026, 1, 1), end=date(2025, 12, 31)), "end"),
        (lambda: Recurrence.daily(date(2026, 1, 1), end=date(2026, 2, 1), count=3), "end"),
        (lambda: Recurrence.weekly(date(2026, 1, 1), weekdays=[]), "weekdays"),
        (lambda: Recurrence.weekly(date(2026, 1, 1), weekdays=[7]), "weekdays"),
        (lambda: Recurrence.monthly(date(2026, 1, 1), day=0), "day"),
        (lambda: Recurrence.monthly(date(2026, 1, 1), day=32), "day"),
        (lambda: Recurrence.yearly(date(2026, 1, 1), month=13, day=1), "month"),
        (lambda: Recurrence.yearly(date(2026, 1, 1), month=4, day=31), "day"),
        (lambda: Recurrence(Frequency.DAILY, date(2026, 1, 1), day=3), "day"),
        (lambda: Recurrence(Frequency.MONTHLY, date(2026, 1, 1)), "day"),
        (lambda: Recurrence(Frequency.MONTHLY, date(2026, 1, 1), day=1, month=2), "month"),
        (lambda: Recurrence(Frequency.DAILY, date(2026, 1, 1), weekdays=[MON]), "weekdays"),
        (lambda: Recurrence.daily(date(2026, 1, 1)).occurrences(limit=-1), "limit"),
    ],
)
def test_invalid_rules_name_the_offending_field(build: object, field: str) -> None:
    assert callable(build)
    with pytest.raises(ValidationError) as caught:
        build()
    assert caught.value.fields["field"] == field
    assert caught.value.fields["entity"] == "recurrence"


def test_rules_are_frozen_values() -> None:
    a = Recurrence.weekly(date(2026, 1, 5), weekdays=[FRI, MON, MON])
    b = Recurrence.weekly(date(2026, 1, 5), weekdays={MON, FRI})
    assert a == b
    assert hash(a) == hash(b)
    assert a.weekdays == (MON, FRI)


# -- at_time ---------------------------------------------------------------------------------


def test_at_time_gives_the_utc_instant_of_a_local_wall_time() -> None:
    instant = at_time(date(2026, 3, 14), time(9, 0), "Asia/Shanghai")
    assert instant == pendulum.datetime(2026, 3, 14, 1, 0, tz="UTC")
    assert instant.timezone_name == "UTC"


def test_at_time_follows_daylight_saving_time() -> None:
    winter = at_time(date(2026, 1, 15), time(9, 0), "Europe/Berlin")
    summer = at_time(date(2026, 7, 15), time(9, 0), "Europe/Berlin")
    assert (winter.hour, summer.hour) == (8, 7)


def test_at_time_in_the_spring_gap_moves_forward() -> None:
    instant = at_time(date(2026, 3, 8), time(2, 30), "America/New_York")
    assert instant == pendulum.datetime(2026, 3, 8, 7, 30, tz="UTC")  # 03:30 EDT


def test_at_time_in_the_repeated_hour_takes_the_first() -> None:
    instant = at_time(date(2026, 11, 1), time(1, 30), "America/New_York")
    assert instant == pendulum.datetime(2026, 11, 1, 5, 30, tz="UTC")  # 01:30 EDT


def test_at_time_accepts_a_tzinfo() -> None:
    plus_eight = timezone(timedelta(hours=8))
    assert at_time(date(2026, 3, 14), time(9, 0), plus_eight).hour == 1


def test_at_time_refuses_unknown_zones_and_aware_times() -> None:
    with pytest.raises(ValidationError) as caught:
        at_time(date(2026, 3, 14), time(9, 0), "Mars/Olympus_Mons")
    assert caught.value.fields["field"] == "tz"
    with pytest.raises(ValidationError):
        at_time(date(2026, 3, 14), time(9, 0, tzinfo=UTC), "UTC")


# -- properties ------------------------------------------------------------------------------


@settings(deadline=None)
@given(rules())
def test_occurrences_match_the_brute_force_reference(rule: Recurrence) -> None:
    horizon = horizon_of(rule)
    assert list(rule.occurrences(until=horizon)) == brute_force(rule, horizon)


@settings(deadline=None)
@given(rules(), st.integers(min_value=-400, max_value=7400))
def test_next_after_is_the_first_occurrence_strictly_after(rule: Recurrence, shift: int) -> None:
    horizon = horizon_of(rule)
    d = rule.start + timedelta(days=min(shift, _HORIZON_DAYS[rule.frequency]))
    expected = next((x for x in brute_force(rule, horizon) if x > d), None)
    found = rule.next_after(d)
    if expected is not None:
        assert found == expected
    else:
        assert found is None or found > horizon
    assert found == next((x for x in rule.occurrences() if x > d), None)


@given(rules(), st.integers(min_value=0, max_value=3000), st.integers(min_value=1, max_value=400))
def test_occurrences_after_until_are_a_window_of_the_full_series(
    rule: Recurrence, skip: int, width: int
) -> None:
    after = rule.start + timedelta(days=skip - 30)
    until = after + timedelta(days=width)
    window = list(rule.occurrences(after=after, until=until))
    full = [x for x in rule.occurrences(until=until) if x > after]
    assert window == full
    assert rule.occurrences_between(after + timedelta(days=1), until) == window


@given(rules())
def test_occurrences_are_strictly_ascending_and_never_before_start(rule: Recurrence) -> None:
    days = list(rule.occurrences(limit=40))
    assert all(a < b for a, b in itertools.pairwise(days))
    assert all(d >= rule.start for d in days)
    if rule.end is not None:
        assert all(d <= rule.end for d in days)


@given(rules().filter(lambda r: r.count is not None))
def test_count_limits_the_series_and_the_last_has_no_successor(rule: Recurrence) -> None:
    days = list(rule.occurrences())
    assert rule.count is not None
    assert len(days) == rule.count
    assert rule.next_after(days[-1]) is None
    assert rule.next_after(days[0] - timedelta(days=1)) == days[0]
    for earlier, later in itertools.pairwise(days):
        assert rule.next_after(earlier) == later


@given(starts, st.integers(min_value=1, max_value=31), intervals)
def test_monthly_is_one_per_interval_month_on_the_clamped_day(
    start: date, day: int, interval: int
) -> None:
    days = list(Recurrence.monthly(start, day=day, interval=interval).occurrences(limit=30))
    assert len(days) == 30
    for d in days:
        assert d.day == min(day, _last_day(d.year, d.month))
    for a, b in itertools.pairwise(days):
        assert (b.year - a.year) * 12 + b.month - a.month == interval
    first_months = (days[0].year - start.year) * 12 + days[0].month - start.month
    assert first_months in (0, interval)


@given(st.integers(min_value=1900, max_value=2400), intervals)
def test_yearly_feb_29_falls_on_feb_28_in_common_years(year: int, interval: int) -> None:
    leap_year = year + (-year % 4)
    while not calendar.isleap(leap_year):
        leap_year += 4
    rule = Recurrence.yearly(date(leap_year, 2, 29), interval=interval)
    for d in rule.occurrences(limit=20):
        assert d.month == 2
        assert d.day == (29 if calendar.isleap(d.year) else 28)
        assert (d.year - leap_year) % interval == 0


@given(rules(), st.integers(min_value=0, max_value=3000))
def test_is_occurrence_agrees_with_the_series(rule: Recurrence, shift: int) -> None:
    d = rule.start + timedelta(days=shift)
    assert rule.is_occurrence(d) == (d in rule.occurrences_between(rule.start, d))
