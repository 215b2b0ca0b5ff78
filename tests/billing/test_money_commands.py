"""The receipt and allocation commands, field by field: whose records each may touch, what
it writes to the ledger and the outbox, which installments it picks, what it stores to
recognise a retry, and how it refuses what it cannot do."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from crmkit import Crm
from crmkit.billing import (
    EntryKind,
    NothingToAllocate,
    allocate_receipt,
    allocate_receipts,
    apply_credit,
    approve_refund,
    confirm_receipt,
    create_plan,
    customer_credit,
    deallocate,
    get_receipt,
    ledger_entries,
    pay_refund,
    record_receipt,
    request_refund,
    reverse_receipt,
)
from crmkit.billing.model.ledger import IdempotencyRecord, idempotency_id, payload_hash
from crmkit.billing.model.plans import Direction, Installment
from crmkit.billing.model.receipts import (
    ReceiptAllocated,
    ReceiptConfirmed,
    ReceiptRecorded,
    ReceiptReversed,
)
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import ConcurrencyConflict, PermissionDenied, ValidationError
from crmkit.kernel.ids import UserId
from crmkit.kernel.money import Money
from crmkit.kernel.rates import ExchangeRates
from crmkit.rules.permissions import Grant, Scope, define_role, set_member
from tests.billing.builders import TERMS_30_60_10, make_customer, make_document, make_plan
from tests.billing.builders import second_admin as approver

DAY = date(2026, 2, 1)


def cny(text: str) -> Money:
    return Money(text, "CNY")


def _receipt(crm: Crm, actor: Actor, who: uuid.UUID, amount: Money, **more: Any) -> Any:
    more.setdefault("received_on", DAY)
    return record_receipt(
        crm, actor, customer_id=who, amount=amount, idempotency_key=uuid.uuid4().hex, **more
    )


def _key() -> str:
    return uuid.uuid4().hex


def _tellers(crm: Crm, admin: Actor) -> tuple[Actor, Actor]:
    """Two clerks who confirm, reverse and allocate only the receipts they recorded."""
    own = [
        Grant("receipt", op, Scope.OWN)
        for op in ("view", "create", "confirm", "reverse", "allocate")
    ]
    define_role(
        crm,
        admin,
        "teller",
        grants=[
            *own,
            Grant("customer", "view", Scope.TENANT),
            Grant("installment", "view", Scope.TENANT),
        ],
    )
    tellers = []
    for name in ("Sun", "Zhou"):
        person = Actor(admin.tenant_id, UserId(uuid.uuid4()), name)
        set_member(crm, admin, person.user_id, name=name, roles=["teller"])
        tellers.append(person)
    return tellers[0], tellers[1]


def _events(crm: Crm, actor: Actor) -> list[Any]:
    return list(crm.run(actor.tenant_id, lambda uow: uow.outbox.pending(limit=500)))


def _stored_request(crm: Crm, actor: Actor, command: str, key: str) -> str:
    record_id = idempotency_id(actor.tenant_id, command, key, actor.user_id)
    found = crm.run(actor.tenant_id, lambda uow: uow.repository(IdempotencyRecord).get(record_id))
    assert found.command == command
    return found.payload_hash


# -- whose receipts a clerk may touch ---------------------------------------------------------


def test_each_command_checks_the_receipt_it_touches(crm: Crm, actor: Actor) -> None:
    sun, zhou = _tellers(crm, actor)
    view = make_plan(crm, actor, total="1000.00")
    who = view.plan.customer_id
    theirs = _receipt(crm, zhou, who, cny("100"), confirmed=False)
    mine = _receipt(crm, sun, who, cny("100"), confirmed=False)
    with pytest.raises(PermissionDenied):
        get_receipt(crm, sun, theirs.id)
    assert get_receipt(crm, sun, mine.id).id == mine.id
    with pytest.raises(PermissionDenied):
        confirm_receipt(crm, sun, theirs.id, confirmed_on=DAY, idempotency_key=_key())
    confirm_receipt(crm, sun, mine.id, confirmed_on=DAY, idempotency_key=_key())
    confirm_receipt(crm, zhou, theirs.id, confirmed_on=DAY, idempotency_key=_key())
    with pytest.raises(PermissionDenied):
        allocate_receipts(crm, sun, [theirs.id], idempotency_key=_key())
    (ours,) = allocate_receipt(crm, zhou, theirs.id, idempotency_key=_key())
    with pytest.raises(PermissionDenied):
        deallocate(crm, sun, ours.id, idempotency_key=_key())
    with pytest.raises(PermissionDenied):
        reverse_receipt(crm, sun, theirs.id, reason_text="x", idempotency_key=_key())
    assert allocate_receipts(crm, sun, [mine.id], idempotency_key=_key())
    assert reverse_receipt(crm, sun, mine.id, reason_text="bounced", idempotency_key=_key())
    assert deallocate(crm, zhou, ours.id, idempotency_key=_key()).reverses == ours.id
    commands = [(e.command, e.actor_id) for e in ledger_entries(crm, actor)]
    assert commands == [
        ("record_receipt", zhou.user_id),
        ("record_receipt", sun.user_id),
        ("confirm_receipt", sun.user_id),
        ("confirm_receipt", zhou.user_id),
        ("allocate", zhou.user_id),
        ("allocate_batch", sun.user_id),
        ("reverse_receipt", sun.user_id),  # the allocation taken back
        ("reverse_receipt", sun.user_id),  # the receipt offset
        ("deallocate", zhou.user_id),
    ]


# -- what each command stores to recognise a retry -----------------------------------------


def test_each_command_stores_the_hash_of_its_request(crm: Crm, actor: Actor) -> None:
    view = make_plan(crm, actor, total="1000.00")
    who = view.plan.customer_id
    slip = _receipt(crm, actor, who, cny("300"), confirmed=False)
    key = _key()
    confirm_receipt(crm, actor, slip.id, confirmed_on=DAY, idempotency_key=key)
    assert _stored_request(crm, actor, "confirm_receipt", key) == payload_hash(
        {"receipt_id": slip.id, "confirmed_on": DAY}
    )
    key = _key()
    (entry,) = allocate_receipts(crm, actor, [slip.id, slip.id], idempotency_key=key, on=DAY)
    assert _stored_request(crm, actor, "allocate_batch", key) == payload_hash(
        {"receipt_ids": [slip.id], "on": DAY}
    )
    key = _key()
    deallocate(crm, actor, entry.id, idempotency_key=key, on=DAY)
    assert _stored_request(crm, actor, "deallocate", key) == payload_hash(
        {"entry_id": entry.id, "on": DAY}
    )
    key = _key()
    apply_credit(crm, actor, who, currency="CNY", idempotency_key=key, on=DAY)
    assert _stored_request(crm, actor, "apply_credit", key) == payload_hash(
        {"customer_id": who, "currency": "CNY", "on": DAY}
    )
    key = _key()
    reverse_receipt(crm, actor, slip.id, reason_text="bounced", idempotency_key=key, on=DAY)
    assert _stored_request(crm, actor, "reverse_receipt", key) == payload_hash(
        {"receipt_id": slip.id, "reason": "bounced", "on": DAY}
    )


# -- the business day ------------------------------------------------------------------------


def test_allocation_days_may_come_as_iso_text_and_anything_else_is_refused(
    crm: Crm, actor: Actor
) -> None:
    view = make_plan(crm, actor, total="1000.00")
    who = view.plan.customer_id
    first = _receipt(crm, actor, who, cny("100"))
    (entry,) = allocate_receipts(crm, actor, [first.id], idempotency_key=_key(), on="2026-02-03")
    assert entry.posted_on == date(2026, 2, 3)
    back = deallocate(crm, actor, entry.id, idempotency_key=_key(), on="2026-02-04")
    assert back.posted_on == date(2026, 2, 4)
    (again,) = apply_credit(
        crm, actor, who, currency="CNY", idempotency_key=_key(), on="2026-02-05"
    )
    assert again.posted_on == date(2026, 2, 5)
    for command in (
        lambda: allocate_receipts(crm, actor, [first.id], idempotency_key=_key(), on=5),
        lambda: deallocate(crm, actor, again.id, idempotency_key=_key(), on=5),
        lambda: apply_credit(crm, actor, who, currency="CNY", idempotency_key=_key(), on=5),
    ):
        with pytest.raises(ValidationError) as refused:
            command()
        assert str(refused.value) == "allocation.on: must be a date"


# -- refusals --------------------------------------------------------------------------------


def test_only_a_live_allocation_can_be_taken_back(crm: Crm, actor: Actor) -> None:
    view = make_plan(crm, actor, total="1000.00")
    money = _receipt(crm, actor, view.plan.customer_id, cny("100"))
    (confirmed,) = ledger_entries(crm, actor)
    with pytest.raises(ValidationError) as refused:
        deallocate(crm, actor, confirmed.id, idempotency_key=_key())
    assert str(refused.value) == "ledger entry.kind: only an allocation can be taken back"
    (entry,) = allocate_receipt(crm, actor, money.id, idempotency_key=_key())
    deallocate(crm, actor, entry.id, idempotency_key=_key())
    with pytest.raises(ValidationError) as again:
        deallocate(crm, actor, entry.id, idempotency_key=_key())
    assert str(again.value) == "ledger entry.id: this allocation was already taken back"


def test_a_refunded_receipt_is_not_reversed(crm: Crm, actor: Actor) -> None:
    money = _receipt(crm, actor, make_customer(crm, actor).id, cny("100"))
    refund = request_refund(
        crm, actor, money.id, amount=cny("10"), reason_text="x", idempotency_key=_key()
    )
    approve_refund(crm, approver(crm, actor), refund.id)
    pay_refund(crm, actor, refund.id, idempotency_key=_key())
    with pytest.raises(ValidationError) as refused:
        reverse_receipt(crm, actor, money.id, reason_text="x", idempotency_key=_key())
    assert str(refused.value) == "receipt.refunded: a refunded receipt cannot be reversed"


def test_confirming_converted_money_without_rates_names_the_currency_and_day(
    crm: Crm, actor: Actor
) -> None:
    rates = ExchangeRates()
    rates.add("USD", "CNY", "7.1", on=date(2026, 1, 1))
    slip = _receipt(
        crm, actor, make_customer(crm, actor).id, Money("10", "USD"),
        confirmed=False, settle_in="CNY", rates=rates,
    )  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        confirm_receipt(crm, actor, slip.id, confirmed_on=date(2026, 2, 3), idempotency_key="c")
    assert str(refused.value) == (
        "receipt.rates: confirming money sent in USD needs the rate of 2026-02-03"
    )


# -- the ledger and the outbox ---------------------------------------------------------------


def test_confirming_and_reversing_are_announced(crm: Crm, actor: Actor) -> None:
    slip = _receipt(crm, actor, make_customer(crm, actor).id, cny("100"), confirmed=False)
    confirm_receipt(crm, actor, slip.id, confirmed_on=DAY, idempotency_key=_key())
    reverse_receipt(crm, actor, slip.id, reason_text="bounced", idempotency_key=_key())
    events = [e for e in _events(crm, actor) if e.aggregate_id == slip.id]
    confirmed = [e for e in events if isinstance(e, ReceiptConfirmed)]
    reversed_ = [e for e in events if isinstance(e, ReceiptReversed)]
    assert [(e.settled, e.confirmed_on) for e in confirmed] == [(cny("100"), DAY)]
    assert [e.reason for e in reversed_] == ["bounced"]


def test_reversing_a_slip_offsets_nothing(crm: Crm, actor: Actor) -> None:
    slip = _receipt(crm, actor, make_customer(crm, actor).id, cny("100"), confirmed=False)
    (entry,) = reverse_receipt(crm, actor, slip.id, reason_text="never came", idempotency_key="r")
    assert (entry.kind, entry.amount) == (EntryKind.RECEIPT_REVERSED, cny("0"))


def test_reversing_a_receipt_takes_back_only_its_own_allocations(crm: Crm, actor: Actor) -> None:
    view = make_plan(crm, actor, total="1000.00")
    who = view.plan.customer_id
    first = _receipt(crm, actor, who, cny("100"))
    second = _receipt(crm, actor, who, cny("100"))
    allocate_receipt(crm, actor, first.id, idempotency_key=_key())
    allocate_receipt(crm, actor, second.id, idempotency_key=_key())
    entries = reverse_receipt(crm, actor, first.id, reason_text="x", idempotency_key=_key())
    assert [(e.kind, e.receipt_id, e.amount) for e in entries] == [
        (EntryKind.DEALLOCATION, first.id, cny("-100")),
        (EntryKind.RECEIPT_REVERSED, first.id, cny("-100")),
    ]
    assert get_receipt(crm, actor, second.id).allocated == cny("100")


# -- which installments the money pays -------------------------------------------------------


def _payable(crm: Crm, actor: Actor, who: uuid.UUID, signed: date) -> None:
    create_plan(
        crm, actor, make_document(total="1000.00", customer_id=who),
        terms=TERMS_30_60_10, milestones={"signing": signed}, direction=Direction.PAYABLE,
    )  # fmt: skip


def _paid(crm: Crm, actor: Actor) -> dict[uuid.UUID, Money]:
    items = crm.run(actor.tenant_id, lambda uow: uow.repository(Installment).query())
    return {i.id: i.paid for i in items if not i.paid.is_zero}


def test_money_pays_only_its_customers_open_installments_in_its_direction_and_currency(
    crm: Crm, actor: Actor
) -> None:
    view = make_plan(crm, actor, total="1000.00", signed=date(2026, 1, 20))
    who = view.plan.customer_id
    # Older debts that this money must not pay: another customer's, a payable of the same
    # customer, and the same customer's in another currency.
    make_plan(crm, actor, total="1000.00", signed=date(2025, 1, 1))
    _payable(crm, actor, who, date(2025, 1, 1))
    make_plan(crm, actor, total="100.00", currency="USD", signed=date(2025, 1, 1), customer_id=who)
    first, second = _receipt(crm, actor, who, cny("300")), _receipt(crm, actor, who, cny("50"))
    allocate_receipt(crm, actor, first.id, idempotency_key=_key())  # pays the signing part
    entries = allocate_receipts(crm, actor, [second.id], idempotency_key=_key())
    delivery = view.installments[1].id
    assert [(e.installment_id, e.amount) for e in entries] == [(delivery, cny("50"))]
    assert _paid(crm, actor) == {view.installments[0].id: cny("300"), delivery: cny("50")}


def test_a_batch_skips_receipts_of_customers_who_owe_nothing_and_announces_each(
    crm: Crm, actor: Actor
) -> None:
    view = make_plan(crm, actor, total="1000.00")
    who = view.plan.customer_id
    nobody = _receipt(crm, actor, make_customer(crm, actor).id, cny("10"))
    money = _receipt(crm, actor, who, cny("400"))
    entries = allocate_receipts(crm, actor, [nobody.id, money.id], idempotency_key=_key())
    signing, delivery = view.installments[0].id, view.installments[1].id
    assert [(e.installment_id, e.amount) for e in entries] == [
        (signing, cny("300")),
        (delivery, cny("100")),
    ]
    (event,) = [e for e in _events(crm, actor) if isinstance(e, ReceiptAllocated)]
    assert (event.aggregate_id, event.amount, event.installment_ids) == (
        money.id,
        cny("400"),
        (signing, delivery),
    )


def test_credit_is_applied_oldest_receipt_first_in_its_currency_only(
    crm: Crm, actor: Actor
) -> None:
    view = make_plan(crm, actor, total="1000.00", delivered=None, accepted=None)
    who = view.plan.customer_id
    make_plan(crm, actor, total="100.00", currency="USD", customer_id=who)
    newer = _receipt(crm, actor, who, cny("250"), received_on=date(2026, 2, 10))
    older = _receipt(crm, actor, who, cny("200"), received_on=date(2026, 2, 1))
    dollars = _receipt(crm, actor, who, Money("5", "USD"))
    third = _receipt(crm, actor, who, cny("900"), received_on=date(2026, 2, 20))
    # Open: the signing part (300) and the undated delivery (600) and acceptance (100).
    entries = apply_credit(crm, actor, who, currency="CNY", idempotency_key=_key())
    assert [(e.receipt_id, e.amount) for e in entries] == [
        (older.id, cny("200")),
        (newer.id, cny("100")),
        (newer.id, cny("150")),
        (third.id, cny("450")),
        (third.id, cny("100")),
    ]
    assert customer_credit(crm, actor, who) == {"CNY": cny("350"), "USD": Money("5", "USD")}
    assert get_receipt(crm, actor, dollars.id).allocated == Money("0", "USD")
    # Nothing open any more: the credit stays, and nothing is written.
    assert apply_credit(crm, actor, who, currency="CNY", idempotency_key=_key()) == []


# -- recording -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", "a lot"),
        ("received_on", 5),
        ("direction", "sideways"),
    ],
)
def test_a_receipt_refuses_a_value_that_is_not_what_its_field_takes(
    crm: Crm, actor: Actor, field: str, value: Any
) -> None:
    fields: dict[str, Any] = {"amount": cny("10"), "received_on": DAY, field: value}
    with pytest.raises(ValidationError) as refused:
        record_receipt(
            crm, actor, customer_id=make_customer(crm, actor).id, idempotency_key="k", **fields
        )
    assert (refused.value.fields["entity"], refused.value.fields["field"]) == ("receipt", field)


def test_a_receipt_of_nothing_is_refused_and_a_reference_is_optional(
    crm: Crm, actor: Actor
) -> None:
    who = make_customer(crm, actor).id
    with pytest.raises(ValidationError) as refused:
        _receipt(crm, actor, who, cny("0"))
    assert str(refused.value) == "receipt.amount: must be above zero"
    assert _receipt(crm, actor, who, cny("1")).reference == ""
    with pytest.raises(TypeError, match=r"^confirmed must be bool, not str$"):
        _receipt(crm, actor, who, cny("1"), confirmed="yes")


# -- allocating by hand ----------------------------------------------------------------------


def test_allocation_by_hand_names_what_is_wrong(crm: Crm, actor: Actor) -> None:
    view = make_plan(crm, actor, total="1000.00")
    who = view.plan.customer_id
    signing = view.installments[0]
    others = make_plan(crm, actor, total="1000.00").installments[0]
    dollars = make_plan(crm, actor, total="100.00", currency="USD", customer_id=who)
    money = _receipt(crm, actor, who, cny("500"))

    def refused(to: list[tuple[uuid.UUID, Money]]) -> ValidationError:
        with pytest.raises(ValidationError) as error:
            allocate_receipt(crm, actor, money.id, idempotency_key=_key(), to=to)
        return error.value

    assert str(refused([(others.id, cny("1"))])) == (
        "allocation.installment_id: belongs to another customer or direction"
    )
    usd = dollars.installments[0].id
    assert str(refused([(usd, Money("1", "USD"))])) == "allocation.amount: must be in USD"
    assert str(refused([(signing.id, cny("0"))])) == "allocation.amount: must be above zero"
    over = refused([(signing.id, cny("300.01"))])
    assert (over.fields["amount"], over.fields["available"]) == ("300.01 CNY", "300.00 CNY")
    assert str(over.fields["what"]) == "outstanding on the installment"
    beyond = refused([(signing.id, cny("300")), (view.installments[1].id, cny("200.01"))])
    assert (beyond.fields["amount"], beyond.fields["available"]) == ("500.01 CNY", "500.00 CNY")
    assert str(beyond.fields["what"]) == "left unallocated"
    # Exactly what is owed, and exactly what is left, are fine.
    key = _key()
    to = [(signing.id, cny("300")), (view.installments[1].id, cny("200"))]
    entries = allocate_receipt(crm, actor, money.id, idempotency_key=key, to=to, on="2026-02-03")
    assert [(e.installment_id, e.amount, e.posted_on) for e in entries] == [
        (signing.id, cny("300"), date(2026, 2, 3)),
        (view.installments[1].id, cny("200"), date(2026, 2, 3)),
    ]
    assert _stored_request(crm, actor, "allocate", key) == payload_hash(
        {"receipt_id": money.id, "to": [[i, a] for i, a in to], "on": date(2026, 2, 3)}
    )
    (event,) = [e for e in _events(crm, actor) if isinstance(e, ReceiptAllocated)]
    assert (event.aggregate_id, event.amount, event.installment_ids) == (
        money.id,
        cny("500"),
        (signing.id, view.installments[1].id),
    )


def test_allocation_refuses_a_slip_a_bad_day_and_a_stale_version(crm: Crm, actor: Actor) -> None:
    view = make_plan(crm, actor, total="1000.00")
    who = view.plan.customer_id
    slip = _receipt(crm, actor, who, cny("100"), confirmed=False)
    with pytest.raises(ValidationError) as refused:
        allocate_receipt(crm, actor, slip.id, idempotency_key=_key())
    assert str(refused.value) == "receipt.state: only confirmed money can be allocated"
    money = _receipt(crm, actor, who, cny("100"), reference="BANK-7")
    with pytest.raises(ValidationError) as bad_day:
        allocate_receipt(crm, actor, money.id, idempotency_key=_key(), on=5)
    assert str(bad_day.value) == "allocation.on: must be a date"
    with pytest.raises(ConcurrencyConflict) as stale:
        allocate_receipt(
            crm, actor, money.id, idempotency_key=_key(), expected_version=money.version + 1
        )
    assert stale.value.fields == {
        "entity": "receipt",
        "id": money.id,
        "version": money.version + 1,
    }
    allocate_receipt(crm, actor, money.id, idempotency_key=_key(), expected_version=money.version)
    with pytest.raises(NothingToAllocate) as empty:
        allocate_receipt(crm, actor, money.id, idempotency_key=_key())
    assert (empty.value.fields["receipt"], empty.value.fields["settled"]) == (
        "BANK-7",
        cny("100"),
    )
    unnamed = _receipt(crm, actor, who, cny("100"))
    allocate_receipt(crm, actor, unnamed.id, idempotency_key=_key())
    with pytest.raises(NothingToAllocate) as nameless:
        allocate_receipt(crm, actor, unnamed.id, idempotency_key=_key())
    assert nameless.value.fields["receipt"] == str(unnamed.id)


def test_a_clerk_allocates_only_their_own_receipts(crm: Crm, actor: Actor) -> None:
    sun, zhou = _tellers(crm, actor)
    who = make_plan(crm, actor, total="1000.00").plan.customer_id
    theirs = _receipt(crm, zhou, who, cny("100"))
    with pytest.raises(PermissionDenied):
        allocate_receipt(crm, sun, theirs.id, idempotency_key=_key())
    mine = _receipt(crm, sun, who, cny("100"))
    assert allocate_receipt(crm, sun, mine.id, idempotency_key=_key())


def test_the_installment_due_first_is_paid_first_whatever_the_order_plans_came_in(
    crm: Crm, actor: Actor
) -> None:
    later = make_plan(crm, actor, total="1000.00", signed=date(2026, 1, 20))
    who = later.plan.customer_id
    earlier = make_plan(crm, actor, total="1000.00", signed=date(2025, 12, 1), customer_id=who)
    money = _receipt(crm, actor, who, cny("400"))
    entries = allocate_receipt(crm, actor, money.id, idempotency_key=_key())
    assert [(e.installment_id, e.amount) for e in entries] == [
        (earlier.installments[0].id, cny("300")),
        (later.installments[0].id, cny("100")),
    ]


def test_a_retry_of_each_command_hands_back_the_first_result(crm: Crm, actor: Actor) -> None:
    view = make_plan(crm, actor, total="1000.00", delivered=None, accepted=None)
    who = view.plan.customer_id
    slip = _receipt(crm, actor, who, cny("100"), confirmed=False)
    first = confirm_receipt(crm, actor, slip.id, confirmed_on=DAY, idempotency_key="c")
    again = confirm_receipt(crm, actor, slip.id, confirmed_on=DAY, idempotency_key="c")
    assert (again.id, again.version, again.confirmed_on) == (first.id, first.version, DAY)
    applied = apply_credit(crm, actor, who, currency="CNY", idempotency_key="a")
    assert apply_credit(crm, actor, who, currency="CNY", idempotency_key="a") == applied
    taken = deallocate(crm, actor, applied[0].id, idempotency_key="d")
    assert deallocate(crm, actor, applied[0].id, idempotency_key="d") == taken
    undone = reverse_receipt(crm, actor, slip.id, reason_text="x", idempotency_key="r")
    assert reverse_receipt(crm, actor, slip.id, reason_text="x", idempotency_key="r") == undone
    assert len(ledger_entries(crm, actor)) == 5


def test_a_batch_whose_customers_span_several_loads_pays_each_installment_once(
    crm: Crm, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Installments are loaded a chunk of customers at a time (1,000 in production); one
    # customer per chunk here, so two customers make two loads.
    from crmkit.billing.services import allocation

    monkeypatch.setattr(allocation, "_CHUNK", 1)
    plans = [make_plan(crm, actor, total="1000.00") for _ in range(2)]
    money = [_receipt(crm, actor, p.plan.customer_id, cny("400")) for p in plans]
    entries = allocate_receipts(crm, actor, [m.id for m in money], idempotency_key=_key())
    assert sorted((e.installment_id, e.amount) for e in entries) == sorted(
        (i.id, amount)
        for p in plans
        for i, amount in zip(p.installments, (cny("300"), cny("100")), strict=False)
    )
    assert _paid(crm, actor) == {e.installment_id: e.amount for e in entries}


def test_recording_converted_money_keeps_its_rate_and_is_announced(crm: Crm, actor: Actor) -> None:
    who = make_customer(crm, actor).id
    with pytest.raises(ValidationError) as refused:
        _receipt(crm, actor, who, Money("10", "USD"), settle_in="CNY")
    assert str(refused.value) == "receipt.settle_in: converting to CNY needs rates"
    rates = ExchangeRates()
    rates.add("USD", "CNY", "7.1", on=date(2026, 1, 1))
    key = _key()
    dollars = record_receipt(
        crm, actor, customer_id=who, amount=Money("10", "USD"), received_on=DAY,
        idempotency_key=key, settle_in="CNY", rates=rates, reference="SWIFT 9",
    )  # fmt: skip
    assert (dollars.settled, dollars.rate, dollars.rate_on) == (
        cny("71"),
        Decimal("7.1"),
        date(2026, 1, 1),
    )
    assert _stored_request(crm, actor, "record_receipt", key) == payload_hash(
        {
            "customer_id": who,
            "amount": Money("10", "USD"),
            "received_on": DAY,
            "confirmed": True,
            "settle_in": "CNY",
            "direction": "receivable",
            "reference": "SWIFT 9",
        }
    )
    own = _receipt(crm, actor, who, cny("5"))
    assert (own.rate, own.rate_on) == (Decimal(1), None)
    mine = [e for e in _events(crm, actor) if e.aggregate_id == dollars.id]
    recorded = [e for e in mine if isinstance(e, ReceiptRecorded)]
    assert [(e.customer_id, e.amount, e.settled, e.confirmed) for e in recorded] == [
        (who, Money("10", "USD"), cny("71"), True)
    ]
    assert [(e.settled, e.confirmed_on) for e in mine if isinstance(e, ReceiptConfirmed)] == [
        (cny("71"), DAY)
    ]
