"""Time-sortable ids (UUIDv7 layout) made without a database round trip.

An id's first 48 bits are the Unix time in milliseconds of the instant it is made
for, the rest is random, so ids sort by creation time, index well in B-trees and
never need a sequence. The instant is always passed in: nothing here reads the
clock. Typed aliases (``CustomerId``, ...) are ``NewType``s over ``UUID``: free at
run time, checked by mypy.
"""

from __future__ import annotations

import random
import threading
from datetime import UTC, date, datetime
from typing import NewType, Protocol
from uuid import UUID, SafeUUID

import pendulum

__all__ = [
    "IdGenerator",
    "RandomIdGenerator",
    "SequentialIdGenerator",
    "TenantId",
    "UserId",
    "uuid7",
]

TenantId = NewType("TenantId", UUID)
UserId = NewType("UserId", UUID)

_VERSION_7 = 0x7 << 76
_VARIANT_RFC = 0x2 << 62


def uuid7(at: datetime, random_bits: bytes | None = None) -> UUID:
    """Build a UUIDv7 whose timestamp is ``at``.

    Args:
        at: the instant the id is made for (timezone-aware).
        random_bits: 10 bytes of entropy; the process's random generator when omitted
            (seeded from the OS and reseeded after ``fork``: ids need uniqueness, not
            secrecy, and this is several times cheaper than ``os.urandom``).
    """
    millis = _epoch_millis(at)
    if not 0 <= millis < 1 << 48:
        raise ValueError(f"a UUIDv7 holds instants from 1970 to 10889, not {at.isoformat()}")
    tail = random.getrandbits(74) if random_bits is None else int.from_bytes(random_bits, "big")
    rand_a = (tail >> 62) & 0xFFF
    rand_b = tail & ((1 << 62) - 1)
    return _make_uuid((millis << 80) | _VERSION_7 | (rand_a << 64) | _VARIANT_RFC | rand_b)


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_UTC_ZONES = (UTC, pendulum.UTC)


def _epoch_millis(at: datetime) -> int:
    # Ids are made on hot paths; pendulum's timestamp()/utcoffset() cost ~0.5 µs each, so
    # UTC instants (what crmkit stores) are converted from their fields directly.
    if at.tzinfo not in _UTC_ZONES:
        offset = at.utcoffset()
        if offset is None:
            raise ValueError("naive datetimes are ambiguous; pass a timezone-aware instant")
        at = (at - offset).replace(tzinfo=UTC)
    days = at.toordinal() - _EPOCH_ORDINAL
    seconds = ((days * 24 + at.hour) * 60 + at.minute) * 60 + at.second
    return seconds * 1000 + at.microsecond // 1000


def _make_uuid(value: int) -> UUID:
    # UUID(int=...) re-validates a value we built to be valid; set the slots directly.
    made = object.__new__(UUID)
    object.__setattr__(made, "int", value)
    object.__setattr__(made, "is_safe", SafeUUID.unknown)
    return made


def timestamp_millis(value: UUID) -> int:
    """The millisecond timestamp a UUIDv7 was made for."""
    return value.int >> 80


class IdGenerator(Protocol):
    """Port: makes new ids for an instant."""

    def new(self, at: datetime) -> UUID: ...


class RandomIdGenerator:
    """Production ids: UUIDv7 with OS entropy, monotonic within one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def new(self, at: datetime) -> UUID:
        candidate = uuid7(at).int
        with self._lock:
            # Several ids in one millisecond stay ordered: bump past the last one.
            if candidate <= self._last and (candidate >> 80) <= (self._last >> 80):
                candidate = self._last + 1
            self._last = candidate
        return _make_uuid(candidate)


class SequentialIdGenerator:
    """Deterministic ids for tests: the instant's millis plus a counter."""

    def __init__(self) -> None:
        self._counter = 0

    def new(self, at: datetime) -> UUID:
        self._counter += 1
        return uuid7(at, self._counter.to_bytes(10, "big"))
