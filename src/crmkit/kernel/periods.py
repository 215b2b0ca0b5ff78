"""Calendar and fiscal periods: the buckets targets are set for and reports add up over.

A ``Period`` is a whole week, month, quarter or year. Periods of one kind tile
time: every day lies in exactly one of them, and the next one starts the day
after the previous one ends.

Conventions (chosen once, used everywhere):

* **Inclusive ends.** ``start`` and ``end`` are both days of the period, so
  ``Period.parse("2026-02").end == date(2026, 2, 28)`` reads the way people say
  it. ``contains(d)`` is ``start <= d <= end``. To filter instants, compare
  against ``end + 1 day`` in the host's timezone.
* **Weeks** are ISO weeks (Monday to Sunday), labelled ``2026-W03`` by their ISO
  year, which may differ from the calendar year around New Year.
* **Fiscal years** start on the first day of ``fiscal_year_start_month`` and are
  **named after the calendar year they start in**: with an April start, FY2026
  is 2026-04-01..2027-03-31 and FY2026-Q1 is April..June 2026. (Some companies
  name a fiscal year after the year it ends in; convert at the edge if you do.)
  Quarters and years carry their ``fiscal_year_start_month``; weeks and months
  are the same whatever the fiscal calendar, so theirs is always 1.
* **Labels**: ``2026-W03``, ``2026-03``, ``2026-Q1`` and ``2026`` for calendar
  periods; ``FY2026-Q1`` and ``FY2026`` for fiscal ones (start month other than
  January). ``Period.parse(p.label, fiscal_year_start_month=...)`` gives ``p``
  back.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from crmkit.kernel.errors import ValidationError
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid

__all__ = ["Period", "PeriodKind", "periods_between"]

_ONE_DAY = timedelta(days=1)
_ENTITY = "period"


class PeriodKind(enum.Enum):
    """How long a period is; members are listed from the finest to the coarsest."""

    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


# Months per period for the kinds that are made of whole months.
_MONTHS: dict[PeriodKind, int] = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}
_RANK: dict[PeriodKind, int] = {kind: rank for rank, kind in enumerate(PeriodKind)}
_FISCAL_KINDS = frozenset({PeriodKind.QUARTER, PeriodKind.YEAR})


def _to_date(value: date) -> date:
    # A datetime is a date subclass, but comparing one with a date raises; refuse it early.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"expected a date, got {type(value).__name__}: {value!r}")
    return date(value.year, value.month, value.day)


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def _first_of(month_index: int) -> date:
    year, month0 = divmod(month_index, 12)
    return date(year, month0 + 1, 1)


def _check_start_month(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 12:
        raise invalid(
            _ENTITY,
            "fiscal_year_start_month",
            N_("must be a month number from 1 to 12, not {value}"),
            value=value,
        )
    return value


def _bounds(d: date, kind: PeriodKind, fiscal_year_start_month: int) -> tuple[date, date]:
    """First and last day of the ``kind`` period that contains ``d``."""
    if kind is PeriodKind.WEEK:
        monday = d - timedelta(days=d.weekday())
        return monday, monday + timedelta(days=6)
    length = _MONTHS[kind]
    index = _month_index(d)
    # Quarters and years are aligned to the fiscal start month; months to themselves.
    phase = fiscal_year_start_month - 1 if kind in _FISCAL_KINDS else 0
    first = index - (index - phase) % length
    return _first_of(first), _first_of(first + length) - _ONE_DAY


def _normalised_start_month(kind: PeriodKind, fiscal_year_start_month: int) -> int:
    return fiscal_year_start_month if kind in _FISCAL_KINDS else 1


@attrs.frozen(order=False)
class Period:
    """A whole week, month, quarter or (fiscal) year, with inclusive ``start`` and ``end``.

    Build one with ``Period.containing`` or ``Period.parse``; the constructor checks
    that ``start`` and ``end`` really are the bounds of one period of ``kind``.
    Periods sort chronologically (by start, then end, then kind from finest to
    coarsest, then fiscal start month), so ``sorted(periods)`` is a timeline.

    Args:
        kind: week, month, quarter or year.
        start: the first day of the period.
        end: the last day of the period (inclusive).
        fiscal_year_start_month: the month (1-12) fiscal years start in; only
            quarters and years use it, weeks and months must leave it at 1.

    Raises:
        ValidationError: ``start``/``end`` are not the bounds of a ``kind`` period,
            or ``fiscal_year_start_month`` is out of range or set on a week or month.
    """

    kind: PeriodKind = attrs.field(validator=attrs.validators.instance_of(PeriodKind))
    start: date = attrs.field(converter=_to_date)
    end: date = attrs.field(converter=_to_date)
    fiscal_year_start_month: int = attrs.field(default=1, kw_only=True)

    def __attrs_post_init__(self) -> None:
        start_month = _check_start_month(self.fiscal_year_start_month)
        if start_month != _normalised_start_month(self.kind, start_month):
            raise invalid(
                _ENTITY,
                "fiscal_year_start_month",
                N_("only quarters and years follow the fiscal calendar; a {kind} takes 1"),
                kind=self.kind.value,
            )
        first, last = _bounds(self.start, self.kind, start_month)
        if self.start != first:
            raise invalid(
                _ENTITY,
                "start",
                N_("{start} does not start a {kind}; that {kind} starts on {first}"),
                start=self.start.isoformat(),
                kind=self.kind.value,
                first=first.isoformat(),
            )
        if self.end != last:
            raise invalid(
                _ENTITY,
                "end",
                N_("the {kind} starting on {start} ends on {last}, not {end}"),
                kind=self.kind.value,
                start=self.start.isoformat(),
                last=last.isoformat(),
                end=self.end.isoformat(),
            )

    @classmethod
    def containing(cls, d: date, kind: PeriodKind, fiscal_year_start_month: int = 1) -> Period:
        """The period of ``kind`` that ``d`` falls in.

        Args:
            d: any day.
            kind: the kind of period wanted.
            fiscal_year_start_month: the month (1-12) fiscal years start in; ignored
                for weeks and months.

        Returns:
            The period with ``start <= d <= end``.

        Raises:
            ValidationError: ``fiscal_year_start_month`` is not 1-12.
        """
        start_month = _normalised_start_month(kind, _check_start_month(fiscal_year_start_month))
        first, last = _bounds(_to_date(d), kind, start_month)
        return cls(kind, first, last, fiscal_year_start_month=start_month)

    @classmethod
    def parse(cls, label: str, fiscal_year_start_month: int = 1) -> Period:
        """Read a label such as ``2026-W03``, ``2026-03``, ``2026-Q1``, ``2026``, ``FY2026-Q1``.

        Labels without the ``FY`` prefix are calendar periods whatever
        ``fiscal_year_start_month`` says; ``FY`` labels use it (an ``FY`` label with
        the default of 1 is simply the calendar quarter or year).

        Args:
            label: the label, as produced by ``Period.label``.
            fiscal_year_start_month: the month (1-12) fiscal years start in.

        Returns:
            The period the label names.

        Raises:
            ValidationError: the label is not one of the forms above, names a
                week, month or quarter that does not exist, or the start month is
                not 1-12.
        """
        start_month = _check_start_month(fiscal_year_start_month)
        match = _LABEL.fullmatch(label.strip()) if isinstance(label, str) else None
        if match is None:
            raise _bad_label(label)
        fiscal = match["fy"] is not None
        year = int(match["year"])
        try:
            if match["week"] is not None and not fiscal:
                monday = date.fromisocalendar(year, int(match["week"]), 1)
                return cls.containing(monday, PeriodKind.WEEK)
            if match["month"] is not None and not fiscal:
                return cls.containing(date(year, int(match["month"]), 1), PeriodKind.MONTH)
            if match["week"] is not None or match["month"] is not None:
                raise _bad_label(label)
            start_month = start_month if fiscal else 1
            year_start = date(year, start_month, 1)
            if match["quarter"] is None:
                return cls.containing(year_start, PeriodKind.YEAR, start_month)
            quarter = int(match["quarter"])
            if not 1 <= quarter <= 4:
                raise _bad_label(label)
            first = _first_of(_month_index(year_start) + 3 * (quarter - 1))
            return cls.containing(first, PeriodKind.QUARTER, start_month)
        except (ValueError, OverflowError) as exc:
            if isinstance(exc, ValidationError):
                raise
            raise _bad_label(label) from exc

    @property
    def label(self) -> str:
        """A short stable name: ``2026-W03``, ``2026-03``, ``2026-Q1``, ``2026``, ``FY2026``."""
        if self.kind is PeriodKind.WEEK:
            iso = self.start.isocalendar()
            return f"{iso.year:04d}-W{iso.week:02d}"
        if self.kind is PeriodKind.MONTH:
            return f"{self.start.year:04d}-{self.start.month:02d}"
        prefix = "FY" if self.fiscal_year_start_month != 1 else ""
        year_label = f"{prefix}{self.fiscal_year:04d}"
        if self.kind is PeriodKind.YEAR:
            return year_label
        return f"{year_label}-Q{self.quarter}"

    @property
    def fiscal_year(self) -> int:
        """The number of the (fiscal) year the period starts in.

        Fiscal years are named after the calendar year they start in, so with an
        April start, January 2027 is in fiscal year 2026. For calendar periods
        (start month 1, and always for weeks and months) this is ``start.year``.
        """
        year_start = _bounds(self.start, PeriodKind.YEAR, self.fiscal_year_start_month)[0]
        return year_start.year

    @property
    def quarter(self) -> int:
        """The quarter number (1-4) within its (fiscal) year; only for quarters.

        Raises:
            TypeError: the period is not a quarter.
        """
        if self.kind is not PeriodKind.QUARTER:
            raise TypeError(f"a {self.kind.value} has no quarter number")
        offset = (self.start.month - self.fiscal_year_start_month) % 12
        return offset // 3 + 1

    @property
    def days(self) -> int:
        """How many days the period has, counting both ends."""
        return (self.end - self.start).days + 1

    def contains(self, d: date) -> bool:
        """Whether the day ``d`` lies in the period (``start <= d <= end``)."""
        return self.start <= _to_date(d) <= self.end

    def __contains__(self, d: object) -> bool:
        return isinstance(d, date) and not isinstance(d, datetime) and self.contains(d)

    def next(self) -> Period:
        """The period of the same kind (and fiscal calendar) that starts the day after ``end``."""
        return Period.containing(self.end + _ONE_DAY, self.kind, self.fiscal_year_start_month)

    def previous(self) -> Period:
        """The period of the same kind (and fiscal calendar) that ends the day before ``start``."""
        return Period.containing(self.start - _ONE_DAY, self.kind, self.fiscal_year_start_month)

    def sub_periods(self, kind: PeriodKind) -> list[Period]:
        """Split the period into the ``kind`` periods that cover it exactly, in order.

        A year splits into quarters or months, a quarter into months; asking for
        the period's own kind returns ``[self]``.

        Args:
            kind: the finer kind wanted.

        Returns:
            Consecutive periods whose union is exactly this period.

        Raises:
            ValidationError: ``kind`` does not tile this period (weeks never tile a
                month, and nothing tiles a period finer than itself).
        """
        if kind is self.kind:
            return [self]
        if kind not in _MONTHS or self.kind not in _MONTHS or _RANK[kind] > _RANK[self.kind]:
            raise invalid(
                _ENTITY,
                "kind",
                N_("a {parent} cannot be split into whole {kind}s"),
                parent=self.kind.value,
                kind=kind.value,
            )
        return list(_walk(self.start, self.end, kind, self.fiscal_year_start_month))

    def __str__(self) -> str:
        return self.label

    def _key(self) -> tuple[date, date, int, int]:
        return (self.start, self.end, _RANK[self.kind], self.fiscal_year_start_month)

    def __lt__(self, other: Any) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self._key() < other._key()

    def __le__(self, other: Any) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self._key() <= other._key()

    def __gt__(self, other: Any) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self._key() > other._key()

    def __ge__(self, other: Any) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self._key() >= other._key()


_LABEL = re.compile(
    r"(?P<fy>FY)?(?P<year>\d{4})"
    r"(?:-W(?P<week>\d{2})|-Q(?P<quarter>\d)|-(?P<month>\d{2}))?",
    re.IGNORECASE,
)


def _bad_label(label: object) -> ValidationError:
    return invalid(
        _ENTITY,
        "label",
        N_("'{label}' is not a period label such as 2026-03 or 2026-Q1"),
        label=label,
    )


def _walk(
    start: date, end: date, kind: PeriodKind, fiscal_year_start_month: int
) -> Iterator[Period]:
    period = Period.containing(start, kind, fiscal_year_start_month)
    while True:
        yield period
        if period.end >= end:
            return
        period = period.next()


def periods_between(
    start: date, end: date, kind: PeriodKind, fiscal_year_start_month: int = 1
) -> list[Period]:
    """Every ``kind`` period that overlaps the days ``start..end`` (both inclusive), in order.

    The first period contains ``start`` and the last contains ``end``, so the
    result can reach past either end; this is what a report grouped by month
    over an arbitrary date range needs.

    Args:
        start: the first day of the range.
        end: the last day of the range (inclusive).
        kind: the kind of period wanted.
        fiscal_year_start_month: the month (1-12) fiscal years start in.

    Returns:
        Consecutive periods, at least one.

    Raises:
        ValidationError: ``end`` is before ``start``, or the start month is not 1-12.
    """
    first, last = _to_date(start), _to_date(end)
    if last < first:
        raise invalid(
            _ENTITY,
            "end",
            N_("{end} is before {start}"),
            end=last.isoformat(),
            start=first.isoformat(),
        )
    return list(_walk(first, last, kind, fiscal_year_start_month))
