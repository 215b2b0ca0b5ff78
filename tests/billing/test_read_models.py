"""The billing read models' own arithmetic, edge by edge: which day a window includes,
what is summed, what is left out, how rows are ordered. Run against the port on every
backend, so the SQL read models are held to the same answers."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from crmkit import Crm
from crmkit.billing import (
    ExpenseLine,
    allocate_receipt,
    approve_expense_claim,
    approve_refund,
    create_plan,
    draft_expense_claim,
    pay_refund,
    record_receipt,
    request_refund,
    submit_expense_claim,
)
from crmkit.billing.model.plans import Direction
from crmkit.billing.queries import (
    AgingBuckets,
    AgingQuery,
    CollectionQuery,
    ExpenseQuery,
    counted_sums,
    dso_row,
    forecast_rows,
    period_of,
)
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import ValidationError
from crmkit.kernel.money import Money
from crmkit.kernel.report import ReportTable
from crmkit.ports import UnitOfWork, queries
from tests.billing.builders import (
    TERMS_30_60_10,
    make_customer,
    make_document,
    make_plan,
    second_admin,
)

RAISED = date(2026, 3, 2)  # the clock's day: every plan here is raised on it
P = TypeVar("P")


def _port(crm: Crm, actor: Actor, port: type[P], read: Callable[[P], ReportTable]) -> Any:
    def work(uow: UnitOfWork) -> Any:
        return read(queries(uow, port)).to_dicts()

    return crm.run(actor.tenant_id, work)


def _receipt(crm: Crm, actor: Actor, who: uuid.UUID, amount: Money, day: date, **more: Any) -> Any:
    return record_receipt(
        crm, actor, customer_id=who, amount=amount, received_on=day,
        idempotency_key=f"r-{uuid.uuid4()}", **more,
    )  # fmt: skip


# -- pure helpers ---------------------------------------------------------------------------


def test_each_overdue_bucket_starts_its_bound_of_days_before_the_report_day() -> None:
    assert AgingBuckets((30, 60)).cutoffs(date(2026, 3, 31)) == [
        date(2026, 3, 1),
        date(2026, 1, 30),
    ]


def test_a_forecast_grain_other_than_week_or_month_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        period_of(RAISED, "day")
    assert str(refused.value) == "forecast.grain: 'day' is not 'week' or 'month'"


def test_dso_is_given_to_one_decimal_and_is_zero_when_nothing_was_raised() -> None:
    assert dso_row("CNY", "10000", "70000", 90) == (
        "CNY",
        Decimal("10000.00"),
        Decimal("70000.00"),
        90,
        Decimal("12.9"),
    )
    assert dso_row("CNY", "500", "0", 30)[4] == Decimal("0.0")
    assert str(dso_row("CNY", "500", "0", 30)[4]) == "0.0"


def test_counted_groups_are_ordered_by_key_then_currency() -> None:
    table = counted_sums(
        ("key", "currency", "n", "amount"),
        [("b", "CNY", 1, "5"), ("a", "USD", 1, "1.5"), ("a", "CNY", 3, 2)],
    )
    assert list(table.rows) == [
        ("a", "CNY", 3, Decimal("2.00")),
        ("a", "USD", 1, Decimal("1.50")),
        ("b", "CNY", 1, Decimal("5.00")),
    ]


def test_forecast_periods_sum_per_period_and_currency() -> None:
    start = date(2026, 3, 2)  # a Monday
    table = forecast_rows(
        [
            (start, "CNY", Decimal("300")),  # due on the first day: not overdue
            (start + timedelta(days=3), "CNY", Decimal("600")),
            (start, "USD", Decimal("30")),
            (start - timedelta(days=1), "CNY", Decimal("7")),
            (None, "CNY", Decimal("1")),
        ],
        [(start - timedelta(days=9), "CNY", Decimal("100")), (start, "CNY", Decimal("200"))],
        start,
        "week",
    )
    assert list(table.rows) == [
        ("overdue", "CNY", Decimal("8"), Decimal(0)),
        ("2026-W10", "CNY", Decimal("900"), Decimal("300")),
        ("2026-W10", "USD", Decimal("30"), Decimal(0)),
    ]


# -- DSO -------------------------------------------------------------------------------------


def test_dso_counts_what_was_raised_after_the_window_opens(crm: Crm, actor: Actor) -> None:
    make_plan(crm, actor, total="90000.00")
    # Ninety days on, the window (RAISED, on] no longer holds the day the plan was raised.
    on = RAISED + timedelta(days=90)
    assert _port(crm, actor, AgingQuery, lambda q: q.dso(on)) == [
        {
            "currency": "CNY",
            "outstanding": Decimal("90000"),
            "raised": Decimal(0),
            "days": 90,
            "dso": Decimal("0.0"),
        }
    ]


def test_dso_reads_open_receivables_per_currency_even_when_all_is_paid(
    crm: Crm, actor: Actor
) -> None:
    view = make_plan(crm, actor, total="70000.00")
    money = _receipt(crm, actor, view.plan.customer_id, Money("60000", "CNY"), RAISED)
    allocate_receipt(crm, actor, money.id, idempotency_key="a1")
    paid = make_plan(crm, actor, total="1000.00", currency="USD")
    dollars = _receipt(crm, actor, paid.plan.customer_id, Money("1000", "USD"), RAISED)
    allocate_receipt(crm, actor, dollars.id, idempotency_key="a2")
    create_plan(
        crm, actor, make_document(total="50000.00", customer_id=make_customer(crm, actor).id),
        terms=TERMS_30_60_10, milestones={"signing": RAISED}, direction=Direction.PAYABLE,
    )  # fmt: skip
    rows = _port(crm, actor, AgingQuery, lambda q: q.dso(RAISED, days=90))
    assert [(r["currency"], r["outstanding"], r["raised"], r["dso"]) for r in rows] == [
        ("CNY", Decimal("10000"), Decimal("70000"), Decimal("12.9")),
        ("USD", Decimal(0), Decimal("1000"), Decimal("0.0")),
    ]


# -- the collection forecast ----------------------------------------------------------------


def test_the_forecast_holds_what_falls_due_and_slips_up_to_its_last_day(
    crm: Crm, actor: Actor
) -> None:
    end = RAISED + timedelta(days=13)  # Sunday of the next ISO week
    first = make_plan(crm, actor, total="1000.00", signed=RAISED, delivered=end, accepted=None)
    who = first.plan.customer_id
    make_plan(crm, actor, total="2000.00", signed=RAISED, delivered=None, accepted=None,
              customer_id=who)  # fmt: skip
    make_plan(crm, actor, total="100.00", currency="USD", signed=RAISED, delivered=None,
              accepted=None)  # fmt: skip
    for amount, day in (("100", RAISED - timedelta(days=5)), ("200", RAISED - timedelta(days=5)),
                        ("50", end), ("70", end + timedelta(days=1))):  # fmt: skip
        _receipt(crm, actor, who, Money(amount, "CNY"), day, confirmed=False)
    _receipt(crm, actor, who, Money("1000", "CNY"), RAISED)  # confirmed money is no slip
    stranger = make_customer(crm, actor).id  # owes nothing: their slip is not expected
    _receipt(crm, actor, stranger, Money("80", "CNY"), RAISED, confirmed=False)
    _receipt(crm, actor, who, Money("90", "CNY"), RAISED, confirmed=False,
             direction=Direction.PAYABLE)  # fmt: skip
    rows = _port(crm, actor, AgingQuery, lambda q: q.forecast(RAISED, end))
    assert [tuple(r.values()) for r in rows] == [
        ("2026-W10", "CNY", Decimal("900"), Decimal("300")),
        ("2026-W10", "USD", Decimal("30"), Decimal(0)),
        ("2026-W11", "CNY", Decimal("600"), Decimal("50")),
    ]


# -- money collected ------------------------------------------------------------------------


def test_collected_money_is_confirmed_in_the_window_less_refunds(crm: Crm, actor: Actor) -> None:
    since, until = date(2026, 2, 1), date(2026, 2, 28)
    who, other = make_customer(crm, actor).id, make_customer(crm, actor).id
    first = _receipt(crm, actor, who, Money("1000", "CNY"), since)
    _receipt(crm, actor, who, Money("500", "CNY"), until)
    _receipt(crm, actor, who, Money("300", "CNY"), until + timedelta(days=1))
    _receipt(crm, actor, who, Money("400", "CNY"), since - timedelta(days=1))
    _receipt(crm, actor, who, Money("600", "CNY"), since, confirmed=False)
    _receipt(crm, actor, who, Money("700", "CNY"), since, direction=Direction.PAYABLE)
    _receipt(crm, actor, other, Money("20", "USD"), until)
    refund = request_refund(
        crm, actor, first.id, amount=Money("200", "CNY"), reason_text="x", idempotency_key="f"
    )
    approve_refund(crm, second_admin(crm, actor), refund.id)
    pay_refund(crm, actor, refund.id, idempotency_key="p")
    rows = _port(crm, actor, CollectionQuery, lambda q: q.collected(since, until))
    assert [tuple(r.values()) for r in rows] == sorted(
        [(str(who), "CNY", 2, Decimal("1300")), (str(other), "USD", 1, Decimal("20"))]
    )


# -- expense analysis -----------------------------------------------------------------------


def test_expense_lines_count_on_the_window_edges_and_without_a_customer(
    crm: Crm, actor: Actor
) -> None:
    since, until = date(2026, 2, 1), date(2026, 2, 28)
    who = uuid.UUID(int=7)

    def line(amount: str, day: date, customer: uuid.UUID | None = who) -> ExpenseLine:
        return ExpenseLine("meals", Money(amount, "CNY"), day, customer_id=customer)

    lines = [
        line("1", since - timedelta(days=1)),  # before the window: the later lines still count
        line("10", since),
        line("20", until),
        line("40", until + timedelta(days=1)),
        line("80", since, customer=None),
    ]
    claim = draft_expense_claim(crm, actor, lines)
    submit_expense_claim(crm, actor, claim.id, roles=[])
    approve_expense_claim(crm, second_admin(crm, actor), claim.id)
    rows = _port(crm, actor, ExpenseQuery, lambda q: q.analysis("customer_id", since, until))
    assert [tuple(r.values()) for r in rows] == [
        ("", "CNY", 1, Decimal("80")),
        (str(who), "CNY", 2, Decimal("30")),
    ]


@pytest.mark.parametrize("bounds", [(), (0, 30), (-5,), (30, 30), (60, 30), (30, 60, 45)])
def test_aging_bounds_must_be_increasing_whole_days_above_zero(bounds: tuple[int, ...]) -> None:
    with pytest.raises(ValidationError) as refused:
        AgingBuckets(bounds)
    assert str(refused.value) == (
        "aging.bounds: bucket bounds must be increasing whole days above zero"
    )


def test_a_single_bound_of_one_day_makes_three_buckets() -> None:
    assert AgingBuckets([1]).labels == ("not_due", "1-1", "over_1")


def test_sums_are_written_at_the_minor_unit_rounding_half_up() -> None:
    table = counted_sums(("key", "currency", "n", "amount"), [("a", "CNY", 1, "0.125")])
    assert list(table.rows) == [("a", "CNY", 1, Decimal("0.13"))]


def test_an_installment_without_an_owner_is_aged_under_an_empty_owner(
    crm: Crm, actor: Actor
) -> None:
    make_plan(
        crm, actor, total="1000.00", owner_id=None, signed=RAISED, delivered=None, accepted=None
    )
    rows = _port(crm, actor, AgingQuery, lambda q: q.aging(RAISED))
    assert [(r["owner_id"], r["not_due"], r["total"]) for r in rows] == [
        ("", Decimal("1000"), Decimal("1000"))
    ]
