"""Margin per customer: confirmed receipts less refunds against the customer's expenses."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from crmkit import Crm
from crmkit.billing import (
    ExpenseLine,
    approve_expense_claim,
    customer_margin,
    draft_expense_claim,
    record_receipt,
    submit_expense_claim,
)
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import PermissionDenied
from crmkit.kernel.money import Money
from tests.billing.builders import make_customer, second_admin
from tests.customers.team import make_team

WINDOW = {"since": date(2026, 2, 1), "until": date(2026, 2, 28)}


def _spend(crm: Crm, actor: Actor, customer: uuid.UUID | None, amount: str, day: int) -> None:
    line = ExpenseLine(
        "meals", Money(amount, "CNY"), date(2026, 2, day), "客户招待", customer_id=customer
    )
    claim = draft_expense_claim(crm, actor, [line])
    submit_expense_claim(crm, actor, claim.id, roles=[])
    approve_expense_claim(crm, second_admin(crm, actor), claim.id)


def test_margin_is_collected_money_less_the_customers_expenses(crm: Crm, actor: Actor) -> None:
    # Registered in this order, so Huawei's (time-sorted) id comes first.
    HUAWEI, TENCENT = make_customer(crm, actor).id, make_customer(crm, actor).id
    for key, (customer, amount, day) in enumerate(
        [(HUAWEI, "30000.00", 10), (HUAWEI, "12000.50", 20), (TENCENT, "5000", 3)]
    ):
        record_receipt(
            crm,
            actor,
            customer_id=customer,
            amount=Money(amount, "CNY"),
            received_on=date(2026, 2, day),
            idempotency_key=f"r{key}",
        )
    record_receipt(  # a slip only: not collected yet
        crm,
        actor,
        customer_id=TENCENT,
        amount=Money("9999", "CNY"),
        received_on=date(2026, 2, 5),
        idempotency_key="slip",
        confirmed=False,
    )
    record_receipt(  # outside the window
        crm,
        actor,
        customer_id=HUAWEI,
        amount=Money("777", "CNY"),
        received_on=date(2026, 3, 1),
        idempotency_key="march",
    )
    _spend(crm, actor, HUAWEI, "800.00", 11)
    _spend(crm, actor, HUAWEI, "200.00", 12)
    _spend(crm, actor, None, "50", 12)  # overhead: nobody's cost

    rows = customer_margin(crm, actor, **WINDOW).to_dicts()

    assert rows == [
        {
            "customer_id": str(HUAWEI),
            "currency": "CNY",
            "collected": Decimal("42000.50"),
            "expenses": Decimal("1000.00"),
            "margin": Decimal("41000.50"),
        },
        {
            "customer_id": str(TENCENT),
            "currency": "CNY",
            "collected": Decimal("5000.00"),
            "expenses": Decimal("0"),
            "margin": Decimal("5000.00"),
        },
    ]


def test_the_margin_needs_both_sides_visible(crm: Crm, actor: Actor) -> None:
    team = make_team(crm, actor)  # reps hold customer grants only
    with pytest.raises(PermissionDenied):
        customer_margin(crm, team.li, **WINDOW)
