"""Receipts, allocation, credit, refunds, reversal, idempotency and the ledger — on every backend."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
import sqlalchemy as sa

from crmkit import Crm
from crmkit.billing import (
    Direction,
    EntryKind,
    InstallmentStatus,
    NothingToAllocate,
    OverAllocation,
    OverRefund,
    ReceiptState,
    RefundState,
    allocate_receipt,
    apply_credit,
    approve_refund,
    balance_mismatches,
    confirm_receipt,
    customer_credit,
    deallocate,
    get_plan,
    get_receipt,
    ledger_entries,
    pay_refund,
    record_receipt,
    request_refund,
    reverse_receipt,
    set_milestone,
    verify_ledger,
)
from crmkit.billing.model.ledger import LedgerEntry, ProblemKind
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import IdempotencyConflict, InvalidTransition, ValidationError
from crmkit.kernel.money import Money
from crmkit.kernel.rates import ExchangeRates
from tests.billing.builders import make_plan, second_admin


def cny(text: str) -> Money:
    return Money(text, "CNY")


def test_a_partial_receipt_pays_the_oldest_installment_first(crm: Crm, actor: Actor) -> None:
    view = make_plan(crm, actor)
    customer = view.plan.customer_id
    receipt = record_receipt(
        crm,
        actor,
        customer_id=customer,
        amount=cny("40000"),
        received_on=date(2026, 2, 1),
        idempotency_key="r1",
    )
    entries = allocate_receipt(crm, actor, receipt.id, idempotency_key="a1")
    assert [e.amount for e in entries] == [cny("30000"), cny("10000")]
    plan = get_plan(crm, actor, view.plan.id)
    first, second, third = plan.installments
    assert (first.status, first.outstanding) == (InstallmentStatus.PAID, cny("0"))
    assert (second.status, second.paid, second.outstanding) == (
        InstallmentStatus.PARTIAL,
        cny("10000"),
        cny("50000"),
    )
    assert third.paid == cny("0")
    assert plan.outstanding == cny("60000")
    assert plan.overdue(date(2026, 3, 1)) == cny("50000")
    assert second.is_overdue(date(2026, 3, 1))
    assert not third.is_overdue(date(2026, 3, 1))
    assert balance_mismatches(crm, actor) == []


def test_an_overpayment_becomes_credit_that_can_be_applied_later(crm: Crm, actor: Actor) -> None:
    view = make_plan(crm, actor, total="1000.00")
    customer = view.plan.customer_id
    receipt = record_receipt(
        crm,
        actor,
        customer_id=customer,
        amount=cny("1200"),
        received_on=date(2026, 2, 1),
        idempotency_key="r1",
    )
    allocate_receipt(crm, actor, receipt.id, idempotency_key="a1")
    assert get_plan(crm, actor, view.plan.id).outstanding == cny("0")
    assert customer_credit(crm, actor, customer) == {"CNY": cny("200")}
    later = make_plan(crm, actor, total="500.00", customer_id=customer, document_id=uuid.uuid4())
    applied = apply_credit(crm, actor, customer, currency="CNY", idempotency_key="c1")
    assert sum((e.amount for e in applied), cny("0")) == cny("200")
    assert get_plan(crm, actor, later.plan.id).outstanding == cny("300")
    assert customer_credit(crm, actor, customer) == {}
    assert balance_mismatches(crm, actor) == []


def test_money_we_paid_a_customer_is_not_their_credit(crm: Crm, actor: Actor) -> None:
    # A customer who is also a supplier: what we paid them is no overpayment of theirs.
    view = make_plan(crm, actor, total="500.00")
    customer = view.plan.customer_id
    record_receipt(
        crm,
        actor,
        customer_id=customer,
        amount=cny("300"),
        received_on=date(2026, 2, 1),
        direction=Direction.PAYABLE,
        idempotency_key="p1",
    )
    assert customer_credit(crm, actor, customer) == {}
    assert apply_credit(crm, actor, customer, currency="CNY", idempotency_key="c1") == []
    assert get_plan(crm, actor, view.plan.id).outstanding == cny("500")


def test_only_confirmed_money_reduces_what_is_owed(crm: Crm, actor: Actor) -> None:
    view = make_plan(crm, actor)
    slip = record_receipt(
        crm,
        actor,
        customer_id=view.plan.customer_id,
        amount=cny("30000"),
        received_on=date(2026, 1, 6),
        confirmed=False,
        idempotency_key="s1",
    )
    assert slip.state is ReceiptState.SLIP_RECEIVED
    with pytest.raises(ValidationError, match="confirmed"):
        allocate_receipt(crm, actor, slip.id, idempotency_key="a0")
    assert get_plan(crm, actor, view.plan.id).outstanding == cny("100000")
    confirmed = confirm_receipt(
        crm, actor, slip.id, confirmed_on=date(2026, 1, 8), idempotency_key="c1"
    )
    assert confirmed.state is ReceiptState.CONFIRMED
    assert confirmed.confirmed_on == date(2026, 1, 8)
    allocate_receipt(crm, actor, slip.id, idempotency_key="a1")
    assert get_plan(crm, actor, view.plan.id).outstanding == cny("70000")
    kinds = [e.kind for e in ledger_entries(crm, actor, receipt_id=slip.id)]
    assert kinds == [EntryKind.SLIP_RECEIVED, EntryKind.RECEIPT_CONFIRMED, EntryKind.ALLOCATION]


def test_a_usd_receipt_settles_in_cny_at_the_rate_of_its_day(crm: Crm, actor: Actor) -> None:
    view = make_plan(crm, actor)
    rates = ExchangeRates()
    rates.add("USD", "CNY", "7.1000", on=date(2026, 1, 2))
    rates.add("USD", "CNY", "7.2345", on=date(2026, 2, 1))
    receipt = record_receipt(
        crm,
        actor,
        customer_id=view.plan.customer_id,
        amount=Money("1000.01", "USD"),
        received_on=date(2026, 1, 20),
        settle_in="CNY",
        rates=rates,
        idempotency_key="usd",
    )
    assert receipt.settled == cny("7100.07")  # 1000.01 x 7.10 = 7100.071, rounded once
    assert receipt.rate_on == date(2026, 1, 2)
    allocate_receipt(crm, actor, receipt.id, idempotency_key="a1")
    assert get_plan(crm, actor, view.plan.id).paid == cny("7100.07")


def test_manual_allocation_cannot_take_more_than_is_left(crm: Crm, actor: Actor) -> None:
    view = make_plan(crm, actor)
    first, second, _ = view.installments
    receipt = record_receipt(
        crm,
        actor,
        customer_id=view.plan.customer_id,
        amount=cny("50000"),
        received_on=date(2026, 2, 1),
        idempotency_key="r1",
    )
    with pytest.raises(OverAllocation):
        allocate_receipt(
            crm, actor, receipt.id, idempotency_key="a1", to=[(first.id, cny("30000.01"))]
        )
    with pytest.raises(OverAllocation):
        allocate_receipt(
            crm,
            actor,
            receipt.id,
            idempotency_key="a2",
            to=[(first.id, cny("30000")), (second.id, cny("20000.01"))],
        )
    entries = allocate_receipt(
        crm, actor, receipt.id, idempotency_key="a3", to=[(second.id, cny("45000"))]
    )
    assert [e.installment_id for e in entries] == [second.id]
    assert get_receipt(crm, actor, receipt.id).unallocated == cny("5000")


def test_a_clerk_allocating_a_receipt_another_clerk_allocated_is_told_so(
    crm: Crm, actor: Actor
) -> None:
    view = make_plan(crm, actor)
    receipt = record_receipt(
        crm,
        actor,
        customer_id=view.plan.customer_id,
        amount=cny("40000"),
        received_on=date(2026, 2, 1),
        idempotency_key="r1",
    )
    first = allocate_receipt(crm, actor, receipt.id, idempotency_key="clerk-1")
    assert sum((e.amount for e in first), cny("0")) == cny("40000")
    entries = len(ledger_entries(crm, actor))
    # The second clerk's screen still showed the money; without expected_version the
    # call used to answer [] as if all were well.
    for to in (None, [(view.installments[1].id, cny("100"))]):
        with pytest.raises(NothingToAllocate) as told:
            allocate_receipt(crm, actor, receipt.id, idempotency_key=f"clerk-2-{to}", to=to)
        assert isinstance(told.value, OverAllocation)
        assert told.value.fields["allocated"] == cny("40000")
        assert "Nothing is left to allocate" in str(told.value)
        assert "40000.00 CNY is allocated already" in str(told.value)
    assert len(ledger_entries(crm, actor)) == entries
    assert get_receipt(crm, actor, receipt.id).allocated == cny("40000")


def test_a_receipt_refunded_whole_has_nothing_to_allocate(crm: Crm, actor: Actor) -> None:
    view = make_plan(crm, actor)
    receipt = record_receipt(
        crm,
        actor,
        customer_id=view.plan.customer_id,
        amount=cny("500"),
        received_on=date(2026, 2, 1),
        idempotency_key="r1",
    )
    refund = request_refund(
        crm, actor, receipt.id, reason_text="多付", amount=cny("500"), idempotency_key="f1"
    )
    approve_refund(crm, second_admin(crm, actor), refund.id)
    pay_refund(crm, actor, refund.id, idempotency_key="p1")
    with pytest.raises(NothingToAllocate, match=r"500\.00 CNY was refunded"):
        allocate_receipt(crm, actor, receipt.id, idempotency_key="a1")


def test_a_second_manual_allocation_is_checked_against_what_is_left(crm: Crm, actor: Actor) -> None:
    # The check is against the receipt's unallocated rest, not its amount: 45,000 of
    # 50,000 already went to the delivery installment, so only 5,000 may follow by hand.
    view = make_plan(crm, actor)
    first, second, _ = view.installments
    receipt = record_receipt(
        crm,
        actor,
        customer_id=view.plan.customer_id,
        amount=cny("50000"),
        received_on=date(2026, 2, 1),
        idempotency_key="r1",
    )
    allocate_receipt(crm, actor, receipt.id, idempotency_key="a1", to=[(second.id, cny("45000"))])
    with pytest.raises(OverAllocation):
        allocate_receipt(
            crm, actor, receipt.id, idempotency_key="a2", to=[(first.id, cny("5000.01"))]
        )
    after_refusal = get_receipt(crm, actor, receipt.id)
    assert (after_refusal.allocated, after_refusal.unallocated) == (cny("45000"), cny("5000"))
    allocate_receipt(crm, actor, receipt.id, idempotency_key="a3", to=[(first.id, cny("5000"))])
    stored = get_receipt(crm, actor, receipt.id)
    assert (stored.allocated, stored.unallocated) == (cny("50000"), cny("0"))
    with pytest.raises(OverAllocation):
        allocate_receipt(crm, actor, receipt.id, idempotency_key="a4", to=[(first.id, cny("0.01"))])
    assert get_plan(crm, actor, view.plan.id).paid == cny("50000")


def test_a_retried_command_returns_the_first_result_and_changes_nothing(
    crm: Crm, actor: Actor
) -> None:
    view = make_plan(crm, actor)
    args = {
        "customer_id": view.plan.customer_id,
        "amount": cny("1000"),
        "received_on": date(2026, 2, 1),
        "idempotency_key": "same",
    }
    first = record_receipt(crm, actor, **args)  # type: ignore[arg-type]
    again = record_receipt(crm, actor, **{**args, "amount": cny("1000.00")})  # type: ignore[arg-type]
    assert again.id == first.id
    allocated = allocate_receipt(crm, actor, first.id, idempotency_key="alloc")
    assert allocate_receipt(crm, actor, first.id, idempotency_key="alloc") == allocated
    assert len(ledger_entries(crm, actor)) == 2
    with pytest.raises(IdempotencyConflict) as caught:
        record_receipt(crm, actor, **{**args, "amount": cny("999")})  # type: ignore[arg-type]
    assert caught.value.key == "same"
    assert len(ledger_entries(crm, actor)) == 2


def test_a_refund_is_approved_paid_in_parts_and_never_exceeds_what_was_received(
    crm: Crm, actor: Actor
) -> None:
    view = make_plan(crm, actor, total="1000.00")
    receipt = record_receipt(
        crm,
        actor,
        customer_id=view.plan.customer_id,
        amount=cny("1500"),
        received_on=date(2026, 2, 1),
        idempotency_key="r1",
    )
    allocate_receipt(crm, actor, receipt.id, idempotency_key="a1")
    with pytest.raises(OverRefund):
        request_refund(
            crm,
            actor,
            receipt.id,
            amount=cny("500.01"),
            reason_text="too much",
            idempotency_key="f0",
        )
    refund = request_refund(
        crm, actor, receipt.id, amount=cny("500"), reason_text="overpaid", idempotency_key="f1"
    )
    with pytest.raises(InvalidTransition):
        pay_refund(crm, actor, refund.id, idempotency_key="p0")
    approve_refund(crm, second_admin(crm, actor), refund.id)
    pay_refund(crm, actor, refund.id, amount=cny("200"), idempotency_key="p1")
    with pytest.raises(OverRefund):
        pay_refund(crm, actor, refund.id, amount=cny("300.01"), idempotency_key="p2")
    pay_refund(crm, actor, refund.id, idempotency_key="p3")
    done = get_receipt(crm, actor, receipt.id)
    assert (done.refunded, done.unallocated) == (cny("500"), cny("0"))
    assert customer_credit(crm, actor, view.plan.customer_id) == {}
    refunds = [e for e in ledger_entries(crm, actor) if e.kind is EntryKind.REFUND]
    assert [e.amount for e in refunds] == [cny("200"), cny("300")]
    from crmkit.billing import Refund

    stored = crm.run(actor.tenant_id, lambda uow: uow.repository(Refund).get(refund.id))
    assert stored.state is RefundState.REFUNDED
    assert balance_mismatches(crm, actor) == []


def test_reversing_a_receipt_offsets_it_and_its_allocations(crm: Crm, actor: Actor) -> None:
    view = make_plan(crm, actor)
    receipt = record_receipt(
        crm,
        actor,
        customer_id=view.plan.customer_id,
        amount=cny("40000"),
        received_on=date(2026, 2, 1),
        idempotency_key="r1",
    )
    allocate_receipt(crm, actor, receipt.id, idempotency_key="a1")
    before = ledger_entries(crm, actor)
    offsets = reverse_receipt(crm, actor, receipt.id, reason_text="bounced", idempotency_key="x1")
    assert [e.kind for e in offsets] == [
        EntryKind.DEALLOCATION,
        EntryKind.DEALLOCATION,
        EntryKind.RECEIPT_REVERSED,
    ]
    assert {e.reverses for e in offsets[:2]} == {e.id for e in before[1:]}
    after = ledger_entries(crm, actor)
    assert [(e.id, e.hash) for e in after[: len(before)]] == [(e.id, e.hash) for e in before]
    assert get_plan(crm, actor, view.plan.id).outstanding == cny("100000")
    assert get_receipt(crm, actor, receipt.id).state is ReceiptState.REVERSED
    with pytest.raises(InvalidTransition):
        reverse_receipt(crm, actor, receipt.id, reason_text="again", idempotency_key="x2")
    assert balance_mismatches(crm, actor) == []
    assert verify_ledger(crm, actor).ok


def test_an_allocation_taken_back_returns_the_money_to_the_receipt(crm: Crm, actor: Actor) -> None:
    view = make_plan(crm, actor)
    receipt = record_receipt(
        crm,
        actor,
        customer_id=view.plan.customer_id,
        amount=cny("1000"),
        received_on=date(2026, 2, 1),
        idempotency_key="r1",
    )
    (entry,) = allocate_receipt(crm, actor, receipt.id, idempotency_key="a1")
    offset = deallocate(crm, actor, entry.id, idempotency_key="d1")
    assert (offset.amount, offset.reverses) == (cny("-1000"), entry.id)
    assert get_receipt(crm, actor, receipt.id).unallocated == cny("1000")
    with pytest.raises(ValidationError, match="already"):
        deallocate(crm, actor, entry.id, idempotency_key="d2")


def test_setting_a_milestone_dates_its_installments(crm: Crm, actor: Actor) -> None:
    view = make_plan(crm, actor, delivered=None, accepted=None)
    assert [i.due_date for i in view.installments][1:] == [None, None]
    dated = set_milestone(crm, actor, view.plan.id, "acceptance", date(2026, 4, 1))
    assert [i.due_date for i in dated.installments] == [date(2026, 1, 5), None, date(2026, 6, 30)]


def test_a_document_gets_one_plan(crm: Crm, actor: Actor) -> None:
    from crmkit.billing import create_plan
    from tests.billing.builders import TERMS_30_60_10, make_customer, make_document

    document = make_document(customer_id=make_customer(crm, actor).id)
    create_plan(crm, actor, document, terms=TERMS_30_60_10, milestones={})
    with pytest.raises(ValidationError, match="already has a plan"):
        create_plan(crm, actor, document, terms=TERMS_30_60_10, milestones={})


# -- the hash chain ---------------------------------------------------------------------------


def _ledger_with_entries(crm: Crm, actor: Actor) -> list[LedgerEntry]:
    view = make_plan(crm, actor)
    for n in range(3):
        receipt = record_receipt(
            crm,
            actor,
            customer_id=view.plan.customer_id,
            amount=cny("100"),
            received_on=date(2026, 2, 1),
            idempotency_key=f"r{n}",
        )
        allocate_receipt(crm, actor, receipt.id, idempotency_key=f"a{n}")
    return ledger_entries(crm, actor)


def _tamper(crm: Crm, actor: Actor, entry: LedgerEntry, *, delete: bool) -> None:
    """Change or remove a stored entry behind crmkit's back, as an intruder would."""
    storage = crm.storage
    if getattr(storage, "dialect", "") == "memory":
        key = (LedgerEntry, actor.tenant_id, entry.id)
        if delete:
            del storage._rows[key]  # type: ignore[attr-defined]
        else:
            storage._rows[key].amount = cny("1.00")  # type: ignore[attr-defined]
        return
    from crmkit.adapters.sql.tables import mapping_for

    table = mapping_for(LedgerEntry).table
    where = sa.and_(table.c.tenant_id == actor.tenant_id, table.c.id == entry.id)
    with storage.engine.begin() as connection:  # type: ignore[attr-defined]
        if delete:
            connection.execute(table.delete().where(where))
        else:
            connection.execute(table.update().where(where).values(amount_amount=1))


def test_the_ledger_verifies_until_an_entry_is_altered(crm: Crm, actor: Actor) -> None:
    entries = _ledger_with_entries(crm, actor)
    check = verify_ledger(crm, actor)
    assert check.ok
    assert check.checked == len(entries) == 6
    _tamper(crm, actor, entries[3], delete=False)
    problems = verify_ledger(crm, actor).problems
    assert [(p.seq, p.kind) for p in problems] == [(4, ProblemKind.ALTERED)]


def test_the_ledger_detects_a_removed_entry_in_the_middle_or_at_the_end(
    crm: Crm, actor: Actor
) -> None:
    entries = _ledger_with_entries(crm, actor)
    _tamper(crm, actor, entries[2], delete=True)
    kinds = {(p.seq, p.kind) for p in verify_ledger(crm, actor).problems}
    assert (3, ProblemKind.MISSING) in kinds
    assert (4, ProblemKind.BROKEN_LINK) in kinds
    _tamper(crm, actor, entries[-1], delete=True)
    assert (6, ProblemKind.MISSING) in {(p.seq, p.kind) for p in verify_ledger(crm, actor).problems}


def test_a_batch_allocates_each_receipt_oldest_due_first_in_one_go(crm: Crm, actor: Actor) -> None:
    plans = [make_plan(crm, actor, total="1000.00") for _ in range(3)]
    receipts = [
        record_receipt(
            crm,
            actor,
            customer_id=view.plan.customer_id,
            amount=cny(amount),
            received_on=date(2026, 2, 1),
            idempotency_key=f"r{n}",
        )
        for n, (view, amount) in enumerate(zip(plans, ["300", "950", "1200"], strict=True))
    ]
    slip = record_receipt(
        crm,
        actor,
        customer_id=plans[0].plan.customer_id,
        amount=cny("1"),
        received_on=date(2026, 2, 1),
        confirmed=False,
        idempotency_key="s",
    )
    ids = [r.id for r in receipts] + [slip.id]
    from crmkit.billing import allocate_receipts

    entries = allocate_receipts(crm, actor, ids, idempotency_key="batch")
    assert [e.amount for e in entries] == [
        cny("300"),
        cny("300"),
        cny("600"),
        cny("50"),
        cny("300"),
        cny("600"),
        cny("100"),
    ]
    assert allocate_receipts(crm, actor, ids, idempotency_key="batch") == entries
    assert [get_plan(crm, actor, v.plan.id).outstanding for v in plans] == [
        cny("700"),
        cny("50"),
        cny("0"),
    ]
    assert customer_credit(crm, actor, plans[2].plan.customer_id) == {"CNY": cny("200")}
    assert balance_mismatches(crm, actor) == []
    assert verify_ledger(crm, actor).ok


def test_confirmed_money_counts_at_the_rate_of_the_day_it_arrived(crm: Crm, actor: Actor) -> None:
    view = make_plan(crm, actor)
    rates = ExchangeRates()
    rates.add("USD", "CNY", "7.1000", on=date(2026, 1, 2))
    rates.add("USD", "CNY", "7.2345", on=date(2026, 2, 1))
    slip = record_receipt(
        crm, actor, customer_id=view.plan.customer_id, amount=Money("1000", "USD"),
        received_on=date(2026, 1, 20), settle_in="CNY", rates=rates, confirmed=False,
        idempotency_key="slip",
    )  # fmt: skip
    assert slip.settled == cny("7100.00")  # the slip is forecast at its own day's rate
    with pytest.raises(ValidationError, match="rate"):
        confirm_receipt(crm, actor, slip.id, confirmed_on=date(2026, 2, 3), idempotency_key="c0")
    confirmed = confirm_receipt(
        crm, actor, slip.id, confirmed_on=date(2026, 2, 3), idempotency_key="c1", rates=rates
    )
    assert (confirmed.settled, confirmed.rate_on) == (cny("7234.50"), date(2026, 2, 1))
    entries = ledger_entries(crm, actor, receipt_id=slip.id)
    assert [(e.kind, e.amount) for e in entries] == [
        (EntryKind.SLIP_RECEIVED, cny("7100.00")),
        (EntryKind.RECEIPT_CONFIRMED, cny("7234.50")),
    ]
    allocate_receipt(crm, actor, slip.id, idempotency_key="a1")
    assert get_plan(crm, actor, view.plan.id).paid == cny("7234.50")
    assert balance_mismatches(crm, actor) == []
