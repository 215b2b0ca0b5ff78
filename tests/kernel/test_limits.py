"""The domain's limits (crmkit.kernel.limits): pure checks, no storage."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given

from crmkit.kernel.errors import ValidationError
from crmkit.kernel.limits import (
    AMOUNT_LIMIT,
    DATE_MAX,
    TEXT_MAX,
    check_amount,
    check_storable,
    check_text,
    max_length,
    to_amount,
    to_date,
    to_instant_value,
)
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, check_fields
from tests.boundary_strategies import user_decimals, user_texts


@pytest.mark.parametrize(
    "value", ["1e20", "-9000000000000", "9000000000000.000001", "1e-7", "0.0000001"]
)
def test_amounts_past_the_range_or_scale_of_the_columns_are_refused(value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_amount(Decimal(value), entity="customer", field="credit_limit")
    assert (caught.value.entity, caught.value.field) == ("customer", "credit_limit")


@pytest.mark.parametrize(
    "value", ["0", "-0", "8999999999999.999999", "-8999999999999.999999", "1.500000000", "1E+3"]
)
def test_amounts_every_backend_stores_exactly_pass(value: str) -> None:
    assert check_amount(Decimal(value), entity="x", field="y") == Decimal(value)


@given(user_decimals())
def test_an_amount_passes_exactly_when_it_fits_numeric_24_6(value: Decimal) -> None:
    fits = (
        value.is_finite()
        and abs(value) < AMOUNT_LIMIT
        and value == value.quantize(Decimal("0.000001"))
    )
    try:
        check_amount(value, entity="x", field="y")
    except ValidationError:
        assert not fits
    else:
        assert fits


@given(user_texts())
def test_text_passes_exactly_when_utf8_can_hold_it_without_nul(value: str) -> None:
    try:
        value.encode("utf-8")
        storable = "\x00" not in value and len(value) <= TEXT_MAX
    except UnicodeEncodeError:
        storable = False
    try:
        check_text(value, entity="x", field="y")
    except ValidationError:
        assert not storable
    else:
        assert storable


def test_form_values_become_dates_instants_and_amounts_or_are_refused() -> None:
    assert to_date(" 2026-03-01 ", entity="x", field="d") == dt.date(2026, 3, 1)
    instant = to_instant_value("2026-03-01T09:00:00+08:00", entity="x", field="t")
    assert instant == dt.datetime(2026, 3, 1, 1, tzinfo=dt.UTC)
    assert to_amount({"amount": "12.50", "currency": "CNY"}, entity="x", field="a") == Money(
        "12.5", "CNY"
    )
    refused: list[tuple[Any, Any]] = [
        (to_date, "2026-02-30"),
        (to_date, dt.datetime(2026, 3, 1, tzinfo=dt.UTC)),
        (to_date, DATE_MAX + dt.timedelta(days=1)),
        (to_date, 20260301),
        (to_instant_value, "2026-03-01T09:00:00"),
        (to_instant_value, dt.datetime(2026, 3, 1)),
        (to_instant_value, dt.datetime(9999, 12, 31, tzinfo=dt.UTC)),
        (to_instant_value, dt.date(2026, 3, 1)),
        (to_amount, "100"),
        (to_amount, 100),
        (to_amount, {"amount": "NaN", "currency": "CNY"}),
        (to_amount, {"amount": "1", "currency": "cny"}),
        (to_amount, Money("1e13", "CNY")),
    ]
    for convert, value in refused:
        with pytest.raises(ValidationError):
            convert(value, entity="x", field="f")


@attrs.frozen
class _Line:
    label: str
    price: Money


@attrs.define
class _Record:
    entity_name = "record"

    id: uuid.UUID
    note: str = attrs.field(default="", metadata=max_length(5))
    when: dt.datetime | None = None
    lines: tuple[_Line, ...] = ()
    extra: dict[str, Any] = attrs.Factory(dict)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"note": "123456"}, "note"),
        ({"note": 12}, "note"),
        ({"note": None}, "note"),
        ({"id": None}, "id"),
        ({"id": "not-a-uuid"}, "id"),
        ({"when": dt.datetime(2026, 3, 1)}, "when"),
        ({"when": "2026-03-01T00:00:00+00:00"}, "when"),
        ({"lines": (_Line("a\x00", Money("1", "CNY")),)}, "lines.label"),
        ({"lines": (_Line("a", Money("1e-9", "CNY")),)}, "lines.price"),
        ({"lines": (_Line(None, Money("1", "CNY")),)}, "lines.label"),  # type: ignore[arg-type]
        ({"extra": {"k": float("nan")}}, "extra"),
        ({"extra": {"\ud800": 1}}, "extra"),
    ],
)
def test_check_storable_names_the_entity_and_the_field(changes: dict[str, Any], field: str) -> None:
    record = _Record(id=uuid.uuid4())
    for name, value in changes.items():
        setattr(record, name, value)
    with pytest.raises(ValidationError) as caught:
        check_storable(record)
    assert (caught.value.entity, caught.value.field) == ("record", field)


def test_check_storable_passes_a_record_within_the_limits() -> None:
    record = _Record(
        id=uuid.uuid4(),
        note="短备注",
        when=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
        lines=(_Line("a", Money("1.5", "CNY")),),
        extra={"k": [1, "two", Decimal("3.25")]},
    )
    check_storable(record)


class _Status(enum.Enum):
    OPEN = "open"
    DONE = "done"


@attrs.define
class _Filtered:
    entity_name = "filtered"

    id: uuid.UUID
    name: str = ""
    status: _Status = _Status.OPEN
    count: int = 0
    due: dt.date | None = None
    at: dt.datetime | None = None
    price: Money | None = None


@pytest.mark.parametrize(
    ("where", "field"),
    [
        (F("name").eq(3), "name"),
        (F("status").eq(1), "status"),
        (F("status").is_in(["open", 2]), "status"),
        (F("count").ge("3"), "count"),
        (F("count").eq(True), "count"),
        (F("due").ge("2026-03-01"), "due"),
        (F("due").ge(dt.datetime(2026, 3, 1, tzinfo=dt.UTC)), "due"),
        (F("at").ge(dt.datetime(2026, 3, 1)), "at"),  # naive: which moment?
        (F("at").ge(dt.date(2026, 3, 1)), "at"),
        (F("price.amount").gt(Decimal("NaN")), "price.amount"),
        (F("price.currency").eq(156), "price.currency"),
        (~(F("name").eq("a") | F("id").eq("not-an-id")), "id"),
        (F("name").contains(3), "name"),
    ],
)
def test_a_filter_value_of_another_type_than_its_field_is_refused_by_name(
    where: Any, field: str
) -> None:
    # Memory compares Python values and SQL binds them to the column's type: a value of
    # another type would be no rows on one store and a driver error on another.
    with pytest.raises(ValidationError) as caught:
        check_fields(_Filtered, where)
    assert (caught.value.entity, caught.value.field) == ("filtered", field)


def test_filter_values_of_the_field_type_pass() -> None:
    where = (
        F("name").eq("a")
        & F("status").is_in([_Status.OPEN, "done", "robot"])  # an unknown value: no rows
        & F("count").ge(3)
        & F("due").ge(dt.date(2026, 3, 1))
        & F("at").lt(dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
        & F("price.amount").gt(100)
        & F("price.currency").eq("CNY")
        & F("id").ne(uuid.uuid4())
        & F("due").eq(None)
    )
    check_fields(_Filtered, where)
