"""Refunds drawing on several receipts, or on a customer's credit as a whole: each payout
writes one entry per receipt it draws on, and every balance still follows from the ledger."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import pytest

from crmkit import Crm
from crmkit.billing import (
    EntryKind,
    OverRefund,
    Receipt,
    RefundState,
    allocate_receipt,
    approve_refund,
    balance_mismatches,
    customer_credit,
    get_receipt,
    ledger_entries,
    pay_refund,
    record_receipt,
    request_refund,
    verify_ledger,
)
from crmkit.billing.model.receipts import Refund, RefundPart
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import ValidationError
from crmkit.kernel.money import Money
from tests.billing.builders import make_customer, make_plan, second_admin


def cny(text: str) -> Money:
    return Money(text, "CNY")


def receipt(crm: Crm, actor: Actor, customer_id: uuid.UUID, amount: str, day: int) -> Receipt:
    return record_receipt(
        crm, actor, customer_id=customer_id, amount=cny(amount),
        received_on=date(2026, 1, day), idempotency_key=f"r-{customer_id}-{day}",
    )  # fmt: skip


def test_a_refund_from_two_receipts_pays_each_part_in_order(crm: Crm, actor: Actor) -> None:
    who = make_customer(crm, actor).id
    first, second = receipt(crm, actor, who, "1000", 5), receipt(crm, actor, who, "1000", 6)
    refund = request_refund(
        crm, actor, sources={first.id: cny("600"), second.id: cny("900")},
        reason_text="order cancelled", idempotency_key="f1",
    )  # fmt: skip
    assert refund.amount == cny("1500")
    assert refund.sources == (RefundPart(first.id, cny("600")), RefundPart(second.id, cny("900")))
    approve_refund(crm, second_admin(crm, actor), refund.id)
    paid = pay_refund(crm, actor, refund.id, amount=cny("1000"), idempotency_key="p1")
    # The first receipt's part is paid in full before the second is touched.
    assert [(e.receipt_id, e.amount) for e in paid] == [
        (first.id, cny("600")),
        (second.id, cny("400")),
    ]
    assert all(e.kind is EntryKind.REFUND and e.refund_id == refund.id for e in paid)
    rest = pay_refund(crm, actor, refund.id, idempotency_key="p2")
    assert [(e.receipt_id, e.amount) for e in rest] == [(second.id, cny("500"))]
    assert get_receipt(crm, actor, first.id).refunded == cny("600")
    assert get_receipt(crm, actor, second.id).unallocated == cny("100")
    assert customer_credit(crm, actor, who) == {"CNY": cny("500")}
    # A retry returns the first result and pays nothing twice.
    assert pay_refund(crm, actor, refund.id, idempotency_key="p2") == rest
    assert balance_mismatches(crm, actor) == []
    assert verify_ledger(crm, actor).ok


def test_a_refund_from_credit_draws_on_the_oldest_receipts_first(crm: Crm, actor: Actor) -> None:
    view = make_plan(crm, actor, total="1000.00")
    who = view.plan.customer_id
    older = receipt(crm, actor, who, "1300", 2)  # 300 left after paying the 1,000 plan
    allocate_receipt(crm, actor, older.id, idempotency_key="a1")
    newer = receipt(crm, actor, who, "500", 9)
    refund = request_refund(
        crm, actor, customer_id=who, amount=cny("600"), reason_text="overpaid",
        idempotency_key="f1",
    )  # fmt: skip
    assert refund.sources == (RefundPart(older.id, cny("300")), RefundPart(newer.id, cny("300")))
    assert refund.receipt_id == older.id
    approve_refund(crm, second_admin(crm, actor), refund.id)
    pay_refund(crm, actor, refund.id, idempotency_key="p1")
    refunds = [e for e in ledger_entries(crm, actor) if e.kind is EntryKind.REFUND]
    assert sorted((e.receipt_id == older.id, e.amount.amount) for e in refunds) == [
        (False, cny("300").amount),
        (True, cny("300").amount),
    ]
    assert customer_credit(crm, actor, who) == {"CNY": cny("200")}
    assert balance_mismatches(crm, actor) == []
    with pytest.raises(OverRefund):
        request_refund(
            crm, actor, customer_id=who, amount=cny("200.01"), reason_text="more",
            idempotency_key="f2",
        )  # fmt: skip


def test_a_payout_stops_when_a_receipt_was_allocated_since_the_request(
    crm: Crm, actor: Actor
) -> None:
    view = make_plan(crm, actor, total="1000.00")
    who = view.plan.customer_id
    money = receipt(crm, actor, who, "1000", 3)
    refund = request_refund(
        crm, actor, sources={money.id: cny("400")}, reason_text="x", idempotency_key="f1"
    )
    approve_refund(crm, second_admin(crm, actor), refund.id)
    allocate_receipt(crm, actor, money.id, idempotency_key="a1")  # takes all 1,000
    with pytest.raises(OverRefund):
        pay_refund(crm, actor, refund.id, idempotency_key="p1")
    assert balance_mismatches(crm, actor) == []


def test_a_refund_names_its_money_one_way_and_one_customer(crm: Crm, actor: Actor) -> None:
    a = receipt(crm, actor, make_customer(crm, actor).id, "100", 1)
    b = receipt(crm, actor, make_customer(crm, actor).id, "100", 2)
    with pytest.raises(ValidationError, match="same customer"):
        request_refund(
            crm, actor, sources={a.id: cny("10"), b.id: cny("10")}, reason_text="x",
            idempotency_key="f1",
        )  # fmt: skip
    with pytest.raises(ValidationError):
        request_refund(
            crm, actor, a.id, sources={a.id: cny("10")}, amount=cny("10"), reason_text="x",
            idempotency_key="f2",
        )  # fmt: skip
    with pytest.raises(ValidationError, match="add up"):
        request_refund(
            crm, actor, sources={a.id: cny("10")}, amount=cny("11"), reason_text="x",
            idempotency_key="f3",
        )  # fmt: skip
    with pytest.raises(OverRefund):
        request_refund(
            crm, actor, sources={a.id: cny("100.01")}, reason_text="x", idempotency_key="f4"
        )
    one = request_refund(crm, actor, a.id, amount=cny("100"), reason_text="x", idempotency_key="f5")
    assert one.sources == (RefundPart(a.id, cny("100")),)
    assert one.state is RefundState.REQUESTED


# -- the refund's own checks of its parts (a refund built or read back anywhere) ----------

OWN, OTHER = uuid.UUID(int=11), uuid.UUID(int=12)


def _refund(amount: str = "100", **fields: object) -> Refund:
    values: dict[str, object] = {
        "id": uuid.UUID(int=1),
        "tenant_id": uuid.UUID(int=2),
        "receipt_id": OWN,
        "customer_id": uuid.UUID(int=3),
        "amount": cny(amount),
        "reason": "overpaid",
        "requested_at": datetime.fromisoformat("2026-02-01T09:00:00+00:00"),
    }
    values.update(fields)
    return Refund(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ([(OWN, "60"), (OWN, "40")], "refund.sources: name each receipt once"),
        ([(OWN, "100"), (OTHER, "0")], "refund.sources: every part must be above zero, in CNY"),
        ([(OWN, "110"), (OTHER, "-10")], "refund.sources: every part must be above zero, in CNY"),
        ([(OWN, "60"), (OTHER, "40 USD")], "refund.sources: every part must be above zero, in CNY"),
        ([(OWN, "60"), (OTHER, "39.99")], "refund.sources: the parts must add up to the refund"),
        ([(OWN, "60"), (OTHER, "40.01")], "refund.sources: the parts must add up to the refund"),
        (
            [(OTHER, "60"), (OWN, "40")],
            "refund.sources: the first part is the refund's own receipt",
        ),
    ],
)
def test_a_refund_refuses_parts_that_do_not_make_up_its_amount(
    parts: list[tuple[uuid.UUID, str]], message: str
) -> None:
    def part(receipt_id: uuid.UUID, text: str) -> RefundPart:
        figure, _, currency = text.partition(" ")
        return RefundPart(receipt_id, Money(figure, currency or "CNY"))  # type: ignore[arg-type]

    with pytest.raises(ValidationError) as refused:
        _refund(sources=[part(r, a) for r, a in parts])
    assert str(refused.value) == message
    assert refused.value.fields["entity"] == "refund"


def test_parts_that_make_up_the_refund_are_kept_in_draining_order() -> None:
    parts = [RefundPart(OWN, cny("60")), RefundPart(OTHER, cny("40"))]  # type: ignore[arg-type]
    refund = _refund(sources=iter(parts))
    assert refund.sources == tuple(parts)
    assert refund.receipt_ids == (OWN, OTHER)
    assert refund.remaining == cny("100")


def test_a_refund_stored_before_parts_existed_is_one_part_of_its_receipt() -> None:
    refund = _refund("250", paid=cny("100"))
    assert refund.sources == (RefundPart(OWN, cny("250")),)  # type: ignore[arg-type]
    assert refund.receipt_ids == (OWN,)
    assert refund.remaining == cny("150")
