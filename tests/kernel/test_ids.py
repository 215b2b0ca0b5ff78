"""Ids are UUIDv7: valid, time-sortable, made from the instant passed in."""

from __future__ import annotations

import datetime as dt
import uuid

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.kernel.ids import RandomIdGenerator, SequentialIdGenerator, timestamp_millis, uuid7

instants = st.datetimes(
    min_value=dt.datetime(1970, 1, 2),
    max_value=dt.datetime(8000, 1, 1),
    timezones=st.sampled_from([dt.UTC, pendulum.UTC, pendulum.timezone("Asia/Shanghai")]),
)


@given(at=instants)
def test_an_id_carries_the_millisecond_it_was_made_for(at: dt.datetime) -> None:
    made = uuid7(at)
    assert (made.version, made.variant) == (7, uuid.RFC_4122)
    assert uuid.UUID(str(made)) == made
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    assert timestamp_millis(made) == (at - epoch) // dt.timedelta(milliseconds=1)


@given(first=instants, second=instants)
def test_ids_sort_by_time(first: dt.datetime, second: dt.datetime) -> None:
    if first.replace(microsecond=0) < second.replace(microsecond=0):
        assert uuid7(first) < uuid7(second)


def test_one_generator_never_repeats_and_stays_ordered_within_a_millisecond() -> None:
    generator = RandomIdGenerator()
    now = pendulum.datetime(2026, 3, 2, 9, tz="UTC")
    made = [generator.new(now) for _ in range(10_000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)


def test_sequential_ids_are_deterministic() -> None:
    now = pendulum.datetime(2026, 3, 2, 9, tz="UTC")
    first, second = SequentialIdGenerator(), SequentialIdGenerator()
    assert [first.new(now) for _ in range(3)] == [second.new(now) for _ in range(3)]


def test_an_instant_before_1970_has_no_uuid7() -> None:
    with pytest.raises(ValueError, match="from 1970"):
        uuid7(dt.datetime(1969, 12, 31, 23, 59, tzinfo=dt.UTC))
