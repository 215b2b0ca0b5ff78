"""Every billing event and stored value survives the shared converter unchanged."""

from __future__ import annotations

import datetime as dt
import typing
import uuid
from datetime import date

import attrs
import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmkit.billing
from crmkit.billing import ExpenseLine, InvoiceLine, Refund, TaxRounding, TermLine, price_lines
from crmkit.billing.model.credit import UnbilledDocument
from crmkit.billing.model.expenses import Attachment, CategoryLimit, OverLimit
from crmkit.billing.model.receipts import RefundPart
from crmkit.kernel.converter import structure, unstructure
from crmkit.kernel.events import DomainEvent, registered_events
from crmkit.kernel.money import Money
from tests.strategies import money

instants = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
).map(pendulum.instance)
BILLING_EVENTS = sorted(
    name
    for name, cls in registered_events().items()
    if cls.__module__.startswith(crmkit.billing.__name__)
)


@pytest.mark.parametrize("name", BILLING_EVENTS)
def test_every_billing_event_round_trips(name: str) -> None:
    cls = registered_events()[name]
    hints = typing.get_type_hints(cls)
    strategies = {f.name: st.from_type(hints[f.name]) for f in attrs.fields(cls) if f.init}
    strategies["occurred_at"] = instants
    for field, hint in hints.items():
        if hint is Money:
            strategies[field] = money()

    @given(st.builds(cls, **strategies))
    def round_trips(event: DomainEvent) -> None:
        assert structure(unstructure(event), cls) == event

    round_trips()


def test_billing_events_are_found() -> None:
    assert {"ReceiptRecorded", "InvoiceIssued", "ExpenseClaimReimbursed"} <= set(BILLING_EVENTS)


@pytest.mark.parametrize(
    "value",
    [
        TermLine("on delivery", percent="60", milestone="delivery", days=10),
        TermLine("deposit", amount=Money("10000", "CNY")),
        price_lines([InvoiceLine("goods", Money("100", "CNY"), "0.13")], TaxRounding.PER_LINE)[0],
        ExpenseLine(
            "meals",
            Money("88.80", "CNY"),
            date(2026, 2, 1),
            customer_id=uuid.UUID(int=1),
            attachment=Attachment("a.jpg", "image/jpeg", 10, "k"),
        ),
        CategoryLimit("meals", "rep", Money("500", "CNY"), OverLimit.EXTRA_APPROVAL),
        RefundPart(uuid.UUID(int=2), Money("600.00", "CNY")),  # type: ignore[arg-type]
        UnbilledDocument("sales_order", uuid.UUID(int=3), Money("23600", "CNY"), date(2026, 3, 2)),
    ],
)
def test_stored_billing_values_round_trip(value: object) -> None:
    assert structure(unstructure(value), type(value)) == value


def test_a_refund_keeps_its_parts_through_the_converter() -> None:
    refund = Refund(
        id=uuid.UUID(int=1),  # type: ignore[arg-type]
        tenant_id=uuid.UUID(int=2),  # type: ignore[arg-type]
        receipt_id=uuid.UUID(int=3),  # type: ignore[arg-type]
        customer_id=uuid.UUID(int=4),
        amount=Money("1500", "CNY"),
        reason="cancelled",
        requested_at=pendulum.datetime(2026, 3, 2, tz="UTC"),
        sources=[
            RefundPart(uuid.UUID(int=3), Money("600", "CNY")),  # type: ignore[arg-type]
            RefundPart(uuid.UUID(int=5), Money("900", "CNY")),  # type: ignore[arg-type]
        ],
    )
    back = structure(unstructure(refund), Refund)
    assert back.sources == refund.sources
    # A refund stored before refunds had parts reads back as its one part.
    old = {k: v for k, v in unstructure(refund).items() if k != "sources"}
    old["amount"] = unstructure(Money("600", "CNY"))
    assert structure(old, Refund).sources == (RefundPart(refund.receipt_id, Money("600", "CNY")),)
