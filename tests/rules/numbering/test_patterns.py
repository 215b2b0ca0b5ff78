"""Patterns: parsing, validation at definition time, rendering, reset periods."""

from __future__ import annotations

import uuid

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.kernel.errors import ValidationError
from crmkit.kernel.ids import TenantId
from crmkit.rules.numbering import (
    NumberCounter,
    NumberingRule,
    NumberPattern,
    Reset,
    preview_number,
)

MARCH = pendulum.datetime(2026, 3, 2, 9, 0, tz="UTC")


@pytest.mark.parametrize(
    ("pattern", "reset", "expected"),
    [
        ("HT-{yyyy}{mm}-{seq:4}", "monthly", "HT-202603-0001"),
        ("KH{seq:6}", "never", "KH000001"),
        ("QT{yy}{mm}{dd}{seq:3}", "daily", "QT260302001"),
        ("INV/{yyyy}/{seq}", "yearly", "INV/2026/1"),
        ("{{X}}-{seq:2}", "never", "{X}-01"),
        ("合同{yyyy}第{seq:3}号", "yearly", "合同2026第001号"),
    ],
)
def test_patterns_render_their_first_number(pattern: str, reset: str, expected: str) -> None:
    assert preview_number(pattern, reset, MARCH) == expected


@pytest.mark.parametrize(
    ("pattern", "reset", "field", "fragment"),
    [
        ("HT-{yyyy}-{foo}-{seq}", "never", "pattern", "unknown token {foo}"),
        ("HT-{yyyy}{mm}", "never", "pattern", "no {seq}"),
        ("{seq}{seq:2}", "never", "pattern", "more than one"),
        ("HT{seq:0}", "never", "pattern", "width"),
        ("HT{seq:4", "never", "pattern", "brace"),
        ("KH{seq:6}", "yearly", "reset", "{yyyy}"),
        ("HT{yyyy}{seq:4}", "monthly", "reset", "{mm}"),
        ("HT{yyyy}{mm}{seq:4}", "daily", "reset", "{dd}"),
    ],
)
def test_invalid_rules_are_refused_when_defined(
    pattern: str, reset: str, field: str, fragment: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        preview_number(pattern, reset, MARCH)
    assert raised.value.fields["field"] == field
    assert fragment in str(raised.value)


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown time zone Mars/Base"):
        preview_number("KH{seq}", "never", MARCH, timezone="Mars/Base")


def test_dates_and_periods_follow_the_rule_time_zone() -> None:
    # 20:00 UTC on 31 March is already 1 April in Shanghai: a new monthly period there.
    late = pendulum.datetime(2026, 3, 31, 20, 0, tz="UTC")
    assert preview_number("HT{yyyy}{mm}{seq:2}", "monthly", late) == "HT20260301"
    assert preview_number("HT{yyyy}{mm}{seq:2}", "monthly", late, timezone="Asia/Shanghai") == (
        "HT20260401"
    )


def test_sequence_past_its_width_keeps_counting_with_more_digits() -> None:
    pattern = NumberPattern.parse("KH{seq:2}")
    assert [pattern.render(MARCH, n) for n in (99, 100, 1234)] == ["KH99", "KH100", "KH1234"]


def test_reset_periods_are_distinct_per_kind() -> None:
    local = pendulum.datetime(2026, 3, 2)
    keys = {reset: reset.period(local) for reset in Reset}
    assert keys == {
        Reset.NEVER: "never",
        Reset.YEARLY: "y2026",
        Reset.MONTHLY: "m2026-03",
        Reset.DAILY: "d2026-03-02",
    }


@given(
    st.sampled_from(["HT-{yyyy}{mm}-{seq:4}", "KH{seq:6}", "Q{yy}{mm}{dd}-{seq:3}"]),
    st.integers(min_value=1, max_value=10**7),
    st.integers(min_value=1, max_value=10**7),
)
def test_distinct_sequence_values_in_one_period_render_distinct_numbers(
    text: str, a: int, b: int
) -> None:
    pattern = NumberPattern.parse(text)
    assert (pattern.render(MARCH, a) == pattern.render(MARCH, b)) == (a == b)


@pytest.mark.parametrize(
    ("pattern", "reset", "field", "reason"),
    [
        (
            "HT-{foo}-{seq}",
            "never",
            "pattern",
            "unknown token {foo}; use yyyy, yy, mm, dd or seq:N",
        ),
        ("HT-{yyyy}{mm}", "never", "pattern", "HT-{yyyy}{mm} has no {seq} token"),
        ("{seq}{seq:2}", "never", "pattern", "{seq}{seq:2} has more than one {seq}"),
        ("HT{seq:0}", "never", "pattern", "sequence width must be 1 to 18"),
        ("HT{seq:19}", "never", "pattern", "sequence width must be 1 to 18"),
        ("HT{seq:4", "never", "pattern", "unmatched brace in HT{seq:4"),
        ("HT}{seq}", "never", "pattern", "unmatched brace in HT}{seq}"),
        (
            "KH{seq:6}",
            "yearly",
            "reset",
            "a yearly reset needs {yyyy} in the pattern, or numbers repeat",
        ),
        (
            "HT{yy}{seq:4}",
            "monthly",
            "reset",
            "a monthly reset needs {mm} in the pattern, or numbers repeat",
        ),
        (
            "HT{yy}{mm}{seq}",
            "daily",
            "reset",
            "a daily reset needs {dd} in the pattern, or numbers repeat",
        ),
    ],
)
def test_a_refused_rule_says_exactly_what_is_wrong(
    pattern: str, reset: str, field: str, reason: str
) -> None:
    # The whole message a settings screen shows, not a fragment of it.
    with pytest.raises(ValidationError) as raised:
        preview_number(pattern, reset, MARCH)
    assert raised.value.to_dict() == {
        "code": "validation_error",
        "message": f"numbering_rule.{field}: {reason}",
        "entity": "numbering_rule",
        "field": field,
        "reason": reason,
        "row": None,
    }


def test_an_unknown_time_zone_names_the_field_and_the_zone() -> None:
    with pytest.raises(ValidationError) as raised:
        preview_number("KH{seq}", "never", MARCH, timezone="Mars/Base")
    assert (
        raised.value.to_dict()["message"] == "numbering_rule.timezone: unknown time zone Mars/Base"
    )
    assert raised.value.fields["field"] == "timezone"


@pytest.mark.parametrize(("width", "accepted"), [(1, True), (18, True), (19, False)])
def test_the_sequence_width_runs_from_1_to_18(width: int, accepted: bool) -> None:
    if accepted:
        assert NumberPattern.parse(f"KH{{seq:{width}}}").width == width
    else:
        with pytest.raises(ValidationError):
            NumberPattern.parse(f"KH{{seq:{width}}}")


@pytest.mark.parametrize(
    ("doc_type", "accepted"), [("", False), ("  ", False), ("x" * 64, True), ("x" * 65, False)]
)
def test_a_document_type_has_1_to_64_characters(doc_type: str, accepted: bool) -> None:
    import uuid

    from crmkit.kernel.ids import TenantId
    from crmkit.rules.numbering import NumberingRule

    def make() -> NumberingRule:
        return NumberingRule(
            id=uuid.UUID(int=1),
            tenant_id=TenantId(uuid.UUID(int=2)),
            doc_type=doc_type,
            reset="never",
            pattern="KH{seq}",
        )

    if accepted:
        assert make().doc_type == doc_type
    else:
        with pytest.raises(
            ValidationError, match=r"^numbering_rule\.doc_type: must be 1 to 64 characters$"
        ):
            make()


def test_preview_defaults_to_utc() -> None:
    # 23:30 UTC on 31 March: still March in UTC, already April in Shanghai.
    late = pendulum.datetime(2026, 3, 31, 23, 30, tz="UTC")
    assert preview_number("HT{yy}{mm}{seq}", "monthly", late) == "HT26031"


# -- the rule and counter records ----------------------------------------------------------


def _rule(rule_id: int, pattern: str = "HT{yyyy}{mm}{seq:3}", **extra: str) -> NumberingRule:
    return NumberingRule(
        id=uuid.UUID(int=rule_id),
        tenant_id=TenantId(uuid.UUID(int=2)),
        doc_type="contract",
        reset="monthly",
        pattern=pattern,
        **extra,
    )


def test_a_rule_numbers_and_keys_periods_on_its_own_calendar() -> None:
    late = pendulum.datetime(2026, 3, 31, 20, 0, tz="UTC")
    utc, shanghai = _rule(1), _rule(1, timezone="Asia/Shanghai")
    assert (utc.render(late, 7), utc.period(late)) == ("HT202603007", "m2026-03")
    assert (shanghai.render(late, 7), shanghai.period(late)) == ("HT202604007", "m2026-04")
    assert shanghai.local(late).isoformat() == "2026-04-01T04:00:00+08:00"
    assert shanghai.parsed == NumberPattern.parse("HT{yyyy}{mm}{seq:3}")


def test_rules_and_counters_are_the_same_record_exactly_when_their_ids_are() -> None:
    first, edited, other = _rule(1), _rule(1, "C{yyyy}{mm}{seq}"), _rule(3)
    assert first == edited
    assert hash(first) == hash(edited)
    assert first != other
    assert len({first, edited, other}) == 2
    tenant = TenantId(uuid.UUID(int=2))
    counter = NumberCounter(
        id=uuid.UUID(int=1), tenant_id=tenant, doc_type="contract", period="never"
    )
    moved = NumberCounter(
        id=uuid.UUID(int=1), tenant_id=tenant, doc_type="contract", period="never", value=9
    )
    assert counter == moved
    assert hash(counter) == hash(moved)
    assert counter != NumberCounter(
        id=uuid.UUID(int=4), tenant_id=tenant, doc_type="contract", period="never"
    )
    # Same id, different kind of record: not the same thing.
    assert counter != first
    assert first != counter


def test_a_preview_with_an_unknown_reset_names_the_field_and_the_choices() -> None:
    with pytest.raises(ValidationError) as raised:
        preview_number("KH{seq}", "weekly", MARCH)
    why = "'weekly' is not one of never, yearly, monthly, daily"
    assert raised.value.to_dict() == {
        "code": "validation_error",
        "message": f"numbering_rule.reset: {why}",
        "entity": "numbering_rule",
        "field": "reset",
        "reason": why,
        "row": None,
    }


def test_a_finer_reset_set_on_a_stored_rule_must_still_suit_its_pattern() -> None:
    rule = _rule(1)
    rule.reset = Reset.YEARLY
    with pytest.raises(ValidationError) as raised:
        rule.reset = Reset.DAILY
    why = "a daily reset needs {dd} in the pattern, or numbers repeat"
    assert raised.value.to_dict() == {
        "code": "validation_error",
        "message": f"numbering_rule.reset: {why}",
        "entity": "numbering_rule",
        "field": "reset",
        "reason": why,
        "row": None,
    }


def test_a_parsed_pattern_lists_its_literals_and_tokens_in_order() -> None:
    assert NumberPattern.parse("KH{seq:6}") == NumberPattern(
        text="KH{seq:6}", parts=((False, "KH"), (True, "seq")), width=6
    )
    assert NumberPattern.parse("HT-{yyyy}{mm}-{{{seq:4}}}").parts == (
        (False, "HT-"),
        (True, "yyyy"),
        (True, "mm"),
        (False, "-{"),
        (True, "seq"),
        (False, "}"),
    )
