"""The ``Clock`` port: the only place crmkit learns what time it is.

Domain code takes ``now`` as an argument; services ask the ``Clock`` they were
given. ``SystemClock`` reads the wall clock (UTC); ``FixedClock`` is for tests and
notebooks and moves only when told to.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import pendulum

__all__ = ["Clock", "FixedClock", "SystemClock"]


class Clock(Protocol):
    """Port: tells the current instant (timezone-aware, UTC)."""

    def now(self) -> pendulum.DateTime: ...


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> pendulum.DateTime:
        return pendulum.now("UTC")


class FixedClock:
    """A clock that stands still until ``advance`` or ``set`` moves it."""

    def __init__(self, at: datetime | str = "2026-01-05T09:00:00Z") -> None:
        self._now = _to_utc(at)

    def now(self) -> pendulum.DateTime:
        return self._now

    def set(self, at: datetime | str) -> None:
        """Jump to ``at``."""
        self._now = _to_utc(at)

    def advance(self, **delta: float) -> pendulum.DateTime:
        """Move forward by a pendulum duration (``days=3``, ``hours=2``) and return the new now."""
        self._now = self._now.add(**delta)  # type: ignore[arg-type]
        return self._now


def _to_utc(at: datetime | str) -> pendulum.DateTime:
    if isinstance(at, str):
        parsed = pendulum.parse(at)
        if not isinstance(parsed, pendulum.DateTime):
            raise TypeError(f"not an instant: {at!r}")
        return parsed.in_timezone("UTC")
    if at.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass a timezone-aware instant")
    return pendulum.instance(at).in_timezone("UTC")
