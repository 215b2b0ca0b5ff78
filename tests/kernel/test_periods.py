"""Calendar and fiscal periods: labels, navigation, and the tiling properties reports rely on."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.kernel.errors import ValidationError
from crmkit.kernel.periods import Period, PeriodKind, periods_between

WEEK, MONTH, QUARTER, YEAR = PeriodKind

days = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))
kinds = st.sampled_from(PeriodKind)
start_months = st.integers(min_value=1, max_value=12)
# (parent, child) pairs where the child kind tiles the parent kind.
splits = st.sampled_from([(YEAR, QUARTER), (YEAR, MONTH), (QUARTER, MONTH), (MONTH, MONTH)])


@st.composite
def periods(draw: st.DrawFn) -> Period:
    return Period.containing(draw(days), draw(kinds), draw(start_months))


# -- examples --------------------------------------------------------------------------------


def test_fiscal_year_starting_april_is_named_after_the_year_it_starts_in() -> None:
    fy = Period.containing(date(2027, 2, 14), YEAR, fiscal_year_start_month=4)
    assert (fy.start, fy.end) == (date(2026, 4, 1), date(2027, 3, 31))
    assert fy.label == "FY2026"
    assert fy.fiscal_year == 2026
    assert [q.label for q in fy.sub_periods(QUARTER)] == [
        "FY2026-Q1",
        "FY2026-Q2",
        "FY2026-Q3",
        "FY2026-Q4",
    ]
    assert fy.sub_periods(QUARTER)[3].start == date(2027, 1, 1)


def test_calendar_labels() -> None:
    d = date(2026, 3, 14)
    assert Period.containing(d, MONTH).label == "2026-03"
    assert Period.containing(d, QUARTER).label == "2026-Q1"
    assert Period.containing(d, YEAR).label == "2026"
    assert Period.containing(d, WEEK).label == "2026-W11"
    assert str(Period.containing(d, MONTH)) == "2026-03"


def test_weeks_are_iso_weeks_labelled_by_iso_year() -> None:
    week = Period.containing(date(2026, 1, 1), WEEK)
    assert (week.start, week.end) == (date(2025, 12, 29), date(2026, 1, 4))
    assert week.label == "2026-W01"
    assert Period.parse("2026-W01") == week
    assert Period.parse("2026-W53").end == date(2027, 1, 3)  # 2026 has 53 ISO weeks
    with pytest.raises(ValidationError):
        Period.parse("2025-W53")  # 2025 has 52 ISO weeks


def test_month_bounds_and_days() -> None:
    feb = Period.parse("2028-02")
    assert (feb.start, feb.end, feb.days) == (date(2028, 2, 1), date(2028, 2, 29), 29)
    assert Period.parse("2026").days == 365
    assert Period.parse("2026-Q1").days == 90


def test_contains_includes_both_ends() -> None:
    q = Period.parse("2026-Q2")
    assert q.contains(date(2026, 4, 1))
    assert q.contains(date(2026, 6, 30))
    assert not q.contains(date(2026, 7, 1))
    assert not q.contains(date(2026, 3, 31))
    assert date(2026, 5, 5) in q
    assert pendulum.date(2026, 5, 5) in q


def test_next_and_previous_cross_year_boundaries() -> None:
    assert Period.parse("2026-12").next() == Period.parse("2027-01")
    assert Period.parse("2026-Q1").previous() == Period.parse("2025-Q4")
    assert Period.parse("FY2026-Q4", 4).next() == Period.parse("FY2027-Q1", 4)


def test_parse_reads_every_label_form() -> None:
    assert Period.parse("FY2026-Q4", fiscal_year_start_month=4).start == date(2027, 1, 1)
    assert Period.parse("fy2026", fiscal_year_start_month=10).start == date(2026, 10, 1)
    assert Period.parse("FY2026") == Period.parse("2026")  # start month 1: FY is the year
    assert Period.parse(" 2026-q3 ") == Period.parse("2026-Q3")


@pytest.mark.parametrize(
    "label", ["", "2026-13", "2026-Q5", "2026-Q0", "2026-W00", "26-01", "FY2026-03", "March"]
)
def test_parse_refuses_what_is_not_a_label(label: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Period.parse(label)
    assert caught.value.fields["field"] == "label"


def test_constructor_refuses_bounds_that_are_not_a_period() -> None:
    with pytest.raises(ValidationError) as caught:
        Period(MONTH, date(2026, 1, 2), date(2026, 1, 31))
    assert caught.value.fields["field"] == "start"
    with pytest.raises(ValidationError) as caught:
        Period(MONTH, date(2026, 1, 1), date(2026, 1, 30))
    assert caught.value.fields["field"] == "end"
    with pytest.raises(ValidationError) as caught:
        Period(MONTH, date(2026, 1, 1), date(2026, 1, 31), fiscal_year_start_month=4)
    assert caught.value.fields["field"] == "fiscal_year_start_month"
    with pytest.raises(ValidationError) as caught:
        Period.containing(date(2026, 1, 1), YEAR, fiscal_year_start_month=13)
    assert caught.value.fields["field"] == "fiscal_year_start_month"
    assert Period(QUARTER, date(2026, 2, 1), date(2026, 4, 30), fiscal_year_start_month=11)


def test_months_ignore_the_fiscal_calendar() -> None:
    month = Period.containing(date(2026, 5, 5), MONTH, fiscal_year_start_month=4)
    assert month == Period.parse("2026-05")
    assert month.fiscal_year_start_month == 1


def test_sub_periods_refuse_kinds_that_do_not_tile() -> None:
    with pytest.raises(ValidationError) as caught:
        Period.parse("2026-03").sub_periods(WEEK)
    assert caught.value.fields["field"] == "kind"
    with pytest.raises(ValidationError):
        Period.parse("2026-03").sub_periods(YEAR)


def test_periods_between_covers_a_report_range() -> None:
    labels = [p.label for p in periods_between(date(2026, 1, 15), date(2026, 4, 1), MONTH)]
    assert labels == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert periods_between(date(2026, 1, 15), date(2026, 1, 15), YEAR) == [Period.parse("2026")]
    with pytest.raises(ValidationError):
        periods_between(date(2026, 2, 1), date(2026, 1, 1), MONTH)


def test_periods_sort_chronologically() -> None:
    unsorted = [Period.parse("2026-03"), Period.parse("2026-Q1"), Period.parse("2026-01")]
    assert [p.label for p in sorted(unsorted)] == ["2026-01", "2026-Q1", "2026-03"]
    assert Period.parse("2026-01") < Period.parse("2026-02") <= Period.parse("2026-02")


def test_quarter_number_only_for_quarters() -> None:
    assert Period.parse("FY2026-Q3", 7).quarter == 3
    with pytest.raises(TypeError):
        _ = Period.parse("2026").quarter


# -- properties ------------------------------------------------------------------------------


@given(days, kinds, start_months)
def test_containing_contains_the_day(d: date, kind: PeriodKind, start_month: int) -> None:
    period = Period.containing(d, kind, start_month)
    assert period.contains(d)
    assert period.start <= d <= period.end
    assert period.days == (period.end - period.start).days + 1
    assert Period.containing(period.start, kind, start_month) == period
    assert Period.containing(period.end, kind, start_month) == period


@given(days, kinds, start_months)
def test_consecutive_days_share_a_period_or_step_to_the_next(
    d: date, kind: PeriodKind, start_month: int
) -> None:
    today = Period.containing(d, kind, start_month)
    tomorrow = Period.containing(d + timedelta(days=1), kind, start_month)
    if d == today.end:
        assert tomorrow == today.next()
        assert tomorrow.start == today.end + timedelta(days=1)
        assert tomorrow > today
    else:
        assert tomorrow == today


@given(periods())
def test_next_and_previous_are_adjacent_and_inverse(period: Period) -> None:
    assert period.next().start == period.end + timedelta(days=1)
    assert period.previous().end == period.start - timedelta(days=1)
    assert period.next().previous() == period
    assert period.previous().next() == period


@given(days, st.integers(min_value=0, max_value=800), kinds, start_months)
def test_each_day_lies_in_exactly_one_period_of_a_kind(
    d: date, span: int, kind: PeriodKind, start_month: int
) -> None:
    end = d + timedelta(days=span)
    tiling = periods_between(d, end, kind, start_month)
    assert tiling[0].contains(d)
    assert tiling[-1].contains(end)
    for day_offset in range(0, span + 1, 7):
        day = d + timedelta(days=day_offset)
        assert sum(p.contains(day) for p in tiling) == 1
    for a, b in itertools.pairwise(tiling):
        assert b.start == a.end + timedelta(days=1)


@given(days, splits, start_months)
def test_sub_periods_cover_their_parent_exactly(
    d: date, split: tuple[PeriodKind, PeriodKind], start_month: int
) -> None:
    parent_kind, child_kind = split
    parent = Period.containing(d, parent_kind, start_month)
    children = parent.sub_periods(child_kind)
    assert children[0].start == parent.start
    assert children[-1].end == parent.end
    assert sum(child.days for child in children) == parent.days
    for a, b in itertools.pairwise(children):
        assert b.start == a.end + timedelta(days=1)
    assert all(child.kind is child_kind for child in children)
    assert children == sorted(children)


@given(days, start_months)
def test_fiscal_quarters_line_up_with_the_fiscal_year(d: date, start_month: int) -> None:
    year = Period.containing(d, YEAR, start_month)
    quarter = Period.containing(d, QUARTER, start_month)
    quarters = year.sub_periods(QUARTER)
    assert quarter in quarters
    assert [q.quarter for q in quarters] == [1, 2, 3, 4]
    assert quarters[0].start == year.start
    assert quarters[0].start.month == start_month
    assert all(q.fiscal_year == year.fiscal_year for q in quarters)
    assert all(q.label.startswith(year.label + "-Q") for q in quarters)
    assert len(year.sub_periods(MONTH)) == 12


@given(periods())
def test_label_round_trips_through_parse(period: Period) -> None:
    assert Period.parse(period.label, period.fiscal_year_start_month) == period


@given(st.lists(periods(), min_size=2, max_size=10))
def test_ordering_is_chronological(items: list[Period]) -> None:
    ordered = sorted(items)
    for a, b in itertools.pairwise(ordered):
        assert (a.start, a.end) <= (b.start, b.end)
        assert a <= b
        assert not a > b
