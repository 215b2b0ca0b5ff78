"""Payment terms cut a total into installments that add up to it exactly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.billing import TermLine, schedule
from crmkit.kernel.errors import ValidationError
from crmkit.kernel.money import Money
from tests.billing.builders import TERMS_30_60_10


def test_thirty_sixty_ten_falls_due_after_each_milestone() -> None:
    drafts = schedule(
        Money("100000.01", "CNY"),
        TERMS_30_60_10,
        {"signing": date(2026, 1, 5), "delivery": date(2026, 2, 5), "acceptance": date(2026, 3, 1)},
    )
    assert [d.amount for d in drafts] == [
        Money("30000.00", "CNY"),
        Money("60000.01", "CNY"),
        Money("10000.00", "CNY"),
    ]
    assert [d.due_date for d in drafts] == [date(2026, 1, 5), date(2026, 2, 5), date(2026, 5, 30)]


def test_an_unknown_milestone_leaves_the_installment_undated() -> None:
    drafts = schedule(Money("10", "CNY"), TERMS_30_60_10, {"signing": date(2026, 1, 5)})
    assert [d.due_date for d in drafts] == [date(2026, 1, 5), None, None]


def test_a_fixed_deposit_is_taken_first_and_the_rest_shared() -> None:
    lines = [
        TermLine("deposit", amount=Money("10000", "CNY")),
        TermLine("half", percent="50", milestone="delivery"),
        TermLine("other half", percent="50", milestone="acceptance"),
    ]
    drafts = schedule(Money("25000.01", "CNY"), lines, {})
    assert [d.amount for d in drafts] == [
        Money("10000", "CNY"),
        Money("7500.01", "CNY"),
        Money("7500.00", "CNY"),
    ]


def test_percentages_must_add_up_to_one_hundred() -> None:
    from crmkit.billing import PaymentTerms

    with pytest.raises(ValidationError, match="add up to 90"):
        PaymentTerms(
            id=None,  # type: ignore[arg-type]
            tenant_id=None,  # type: ignore[arg-type]
            name="bad",
            lines=[TermLine("a", percent="30"), TermLine("b", percent="60")],
        )


def test_fixed_amounts_above_the_total_are_refused() -> None:
    lines = [TermLine("deposit", amount=Money("200", "CNY")), TermLine("rest", percent="100")]
    with pytest.raises(ValidationError, match="exceed"):
        schedule(Money("100", "CNY"), lines, {})


@given(
    units=st.integers(min_value=1, max_value=10**12),
    currency=st.sampled_from(["CNY", "USD", "JPY", "KWD"]),
    percents=st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=8),
)
def test_installments_always_sum_exactly_to_the_total(
    units: int, currency: str, percents: list[int]
) -> None:
    scale = Decimal(100) / sum(percents)
    # Percentages that add up to 100 exactly: the last one takes the rounding.
    shares = [(Decimal(p) * scale).quantize(Decimal("0.0001")) for p in percents[:-1]]
    last = Decimal(100) - sum(shares, Decimal(0))
    if last <= 0 or any(s <= 0 for s in shares):
        return
    lines = [TermLine(f"#{i}", percent=p) for i, p in enumerate([*shares, last])]
    total = Money.from_minor_units(units, currency)
    drafts = schedule(total, lines, {})
    assert sum((d.amount for d in drafts), Money.zero(currency)) == total
    assert all(d.amount.is_rounded and d.amount.is_positive for d in drafts)
