"""Business calendars: when the clock of an approval deadline is running.

"Approve within 8 business hours" means 8 hours of office time: a request
submitted on Friday at 17:00 in Shanghai with the office open 09:00-18:00 is due
on Monday at 16:00. Chinese offices also move working days around public
holidays (调休): a Sunday can be a working day and a Wednesday a holiday, so the
calendar takes both a holiday list and a list of extra working days.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time, timedelta
from typing import Any

import attrs
import pendulum

from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid

__all__ = ["BusinessCalendar", "Deadline", "DeadlineUnit"]

_ENTITY = N_("business calendar")
# A calendar with no working day in ten years is a configuration error, not a deadline.
_MAX_DAYS_SCANNED = 3660


def _check_workdays(_i: Any, _a: Any, value: tuple[int, ...]) -> None:
    if not value or any(not isinstance(d, int) or not 1 <= d <= 7 for d in value):
        raise invalid(_ENTITY, "workdays", N_("must list ISO weekdays 1 (Monday) to 7 (Sunday)"))


def _check_timezone(_i: Any, _a: Any, value: str) -> None:
    try:
        pendulum.timezone(value)
    except Exception as error:  # pendulum raises several types for an unknown zone
        raise invalid(_ENTITY, "timezone", N_("unknown time zone {zone}"), zone=value) from error


@attrs.frozen
class BusinessCalendar:
    """Working days and office hours in one time zone.

    Attributes:
        timezone: IANA zone the office hours are in (default ``Asia/Shanghai``).
        workdays: ISO weekdays that are working days (default Monday-Friday).
        opens: local opening time (default 09:00).
        closes: local closing time (default 18:00), after ``opens``.
        holidays: dates that are not working days even on a workday.
        extra_workdays: dates that are working days even on a weekend (调休).
    """

    timezone: str = attrs.field(default="Asia/Shanghai", validator=_check_timezone)
    workdays: tuple[int, ...] = attrs.field(
        default=(1, 2, 3, 4, 5), converter=tuple, validator=_check_workdays
    )
    opens: time = time(9, 0)
    closes: time = time(18, 0)
    holidays: tuple[date, ...] = attrs.field(default=(), converter=tuple)
    extra_workdays: tuple[date, ...] = attrs.field(default=(), converter=tuple)

    def __attrs_post_init__(self) -> None:
        if self.closes <= self.opens:
            raise invalid(_ENTITY, "closes", N_("must be after the opening time"))

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day (holidays and extra working days applied)."""
        if day in self.holidays:
            return False
        return day in self.extra_workdays or day.isoweekday() in self.workdays

    def _at(self, day: date, moment: time) -> pendulum.DateTime:
        return pendulum.datetime(
            day.year,
            day.month,
            day.day,
            moment.hour,
            moment.minute,
            moment.second,
            tz=self.timezone,
        )

    def add_business_hours(self, start: datetime, hours: int) -> pendulum.DateTime:
        """The instant ``hours`` hours of office time after ``start``.

        Time before opening, after closing and on non-working days does not count.

        Args:
            start: a timezone-aware instant.
            hours: how many office hours (at least 0).

        Returns:
            The deadline as a UTC instant.

        Raises:
            ValidationError: no working day within ten years (a broken calendar).
        """
        remaining = timedelta(hours=hours)
        local = pendulum.instance(start).in_timezone(self.timezone)
        day = local.date()
        for _ in range(_MAX_DAYS_SCANNED):
            if self.is_working_day(day):
                opening, closing = self._at(day, self.opens), self._at(day, self.closes)
                cursor = max(local, opening)
                if cursor < closing:
                    available = closing - cursor
                    if remaining <= available:
                        return (cursor + remaining).in_timezone("UTC")
                    remaining -= available
            day = day + timedelta(days=1)
            local = self._at(day, time(0, 0))
        raise invalid(_ENTITY, "workdays", N_("has no working day"))

    def add_days(self, start: datetime, days: int) -> pendulum.DateTime:
        """The same local wall time ``days`` calendar days after ``start``, as UTC."""
        local = pendulum.instance(start).in_timezone(self.timezone)
        return local.add(days=days).in_timezone("UTC")

    def deadline(self, start: datetime, after: Deadline) -> pendulum.DateTime:
        """When a stage opened at ``start`` is overdue by ``after``."""
        if after.unit is DeadlineUnit.BUSINESS_HOURS:
            return self.add_business_hours(start, after.amount)
        return self.add_days(start, after.amount)


class DeadlineUnit(enum.Enum):
    """How a stage deadline counts time."""

    CALENDAR_DAYS = "calendar_days"
    BUSINESS_HOURS = "business_hours"


def _positive(_i: Any, attribute: Any, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise invalid(N_("deadline"), attribute.name, N_("must be a positive whole number"))


@attrs.frozen
class Deadline:
    """A stage deadline: ``Deadline.business_hours(8)`` or ``Deadline.days(2)``.

    Attributes:
        amount: how many units, at least 1.
        unit: calendar days or business hours.
    """

    amount: int = attrs.field(validator=_positive)
    unit: DeadlineUnit = DeadlineUnit.CALENDAR_DAYS

    @classmethod
    def days(cls, amount: int) -> Deadline:
        """A deadline of ``amount`` calendar days."""
        return cls(amount, DeadlineUnit.CALENDAR_DAYS)

    @classmethod
    def business_hours(cls, amount: int) -> Deadline:
        """A deadline of ``amount`` office hours on the flow's business calendar."""
        return cls(amount, DeadlineUnit.BUSINESS_HOURS)
