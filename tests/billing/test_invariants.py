"""Money adds up whatever clerks do, in whatever order (hypothesis stateful test)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
)

from crmkit import Crm
from crmkit.adapters.memory import MemoryStorage
from crmkit.billing import (
    Installment,
    OverAllocation,
    OverRefund,
    Plan,
    Receipt,
    ReceiptState,
    Refund,
    allocate_receipt,
    apply_credit,
    approve_refund,
    balance_mismatches,
    confirm_receipt,
    create_plan,
    deallocate,
    ledger_entries,
    pay_refund,
    record_receipt,
    request_refund,
    reverse_receipt,
    verify_ledger,
)
from crmkit.billing.model.ledger import EntryKind, LedgerEntry
from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import FixedClock
from crmkit.kernel.errors import InvalidTransition, ValidationError
from crmkit.kernel.ids import RandomIdGenerator, TenantId, UserId
from crmkit.kernel.money import HALF_EVEN, HALF_UP, Money
from crmkit.kernel.rates import ExchangeRates
from crmkit.rules.permissions import bootstrap_tenant
from tests.billing.builders import TERMS_30_60_10, make_document, second_admin, seed_customers

CUSTOMERS = [uuid.UUID(int=n) for n in (1, 2)]
DAY = date(2026, 2, 1)
RATES = ExchangeRates()
RATES.add("USD", "CNY", "7.1234", on=date(2026, 1, 1))


class Billing(RuleBasedStateMachine):
    """Random sequences of billing commands against the memory adapter."""

    receipts = Bundle("receipts")
    allocations = Bundle("allocations")
    refunds = Bundle("refunds")

    @initialize()
    def start(self) -> None:
        self.crm = Crm(
            MemoryStorage(), clock=FixedClock("2026-02-01T09:00:00Z"), ids=RandomIdGenerator()
        )
        self.actor = Actor(TenantId(uuid.uuid4()), UserId(uuid.uuid4()), "finance")
        bootstrap_tenant(self.crm, self.actor.tenant_id, self.actor.user_id)
        seed_customers(self.crm, self.actor.tenant_id, CUSTOMERS)
        self.keys = 0
        self.seen: list[tuple[uuid.UUID, str]] = []

    def key(self) -> str:
        self.keys += 1
        return f"k{self.keys}"

    @rule(
        who=st.sampled_from(CUSTOMERS),
        fen=st.integers(min_value=1, max_value=10**8),
        signed=st.integers(min_value=-90, max_value=90),
    )
    def make_plan(self, who: uuid.UUID, fen: int, signed: int) -> None:
        from datetime import timedelta

        document = make_document(
            customer_id=who, total=str(Money.from_minor_units(fen, "CNY").amount)
        )
        create_plan(
            self.crm,
            self.actor,
            document,
            terms=TERMS_30_60_10,
            milestones={"signing": DAY + timedelta(days=signed)},
        )

    @rule(
        target=receipts,
        who=st.sampled_from(CUSTOMERS),
        cents=st.integers(min_value=1, max_value=10**8),
        usd=st.booleans(),
        confirmed=st.booleans(),
    )
    def record(self, who: uuid.UUID, cents: int, usd: bool, confirmed: bool) -> uuid.UUID:
        amount = Money.from_minor_units(cents, "USD" if usd else "CNY")
        receipt = record_receipt(
            self.crm,
            self.actor,
            customer_id=who,
            amount=amount,
            received_on=DAY,
            settle_in="CNY",
            rates=RATES,
            confirmed=confirmed,
            idempotency_key=self.key(),
        )
        return receipt.id

    # Every refusal is checked against a model of the stored state: a command is refused
    # exactly when the state said it must be, and nothing else is swallowed.

    def receipt(self, receipt_id: uuid.UUID) -> Receipt:
        return self.crm.run(
            self.actor.tenant_id, lambda uow: uow.repository(Receipt).get(receipt_id)
        )

    def open_items(self, receipt: Receipt) -> list[Installment]:
        return sorted(
            (
                i
                for i in self.rows(Installment)
                if i.customer_id == receipt.customer_id
                and i.amount.currency == receipt.currency
                and i.outstanding.is_positive
            ),
            key=lambda i: i.id,
        )

    @rule(receipt=receipts)
    def confirm(self, receipt: uuid.UUID) -> None:
        before = self.receipt(receipt)
        try:
            confirm_receipt(
                self.crm,
                self.actor,
                receipt,
                confirmed_on=DAY,
                idempotency_key=self.key(),
                rates=RATES,
            )
        except InvalidTransition:
            assert before.state is not ReceiptState.SLIP_RECEIVED, before
        else:
            assert before.state is ReceiptState.SLIP_RECEIVED, before

    def _allocate_automatically(self, receipt_id: uuid.UUID, key: str) -> list[LedgerEntry] | None:
        before = self.receipt(receipt_id)
        owed = sum((i.outstanding for i in self.open_items(before)), Money.zero(before.currency))
        try:
            entries = allocate_receipt(self.crm, self.actor, receipt_id, idempotency_key=key)
        except ValidationError:
            assert not before.is_confirmed, before
            return None
        assert before.is_confirmed, before
        moved = sum((e.amount for e in entries), Money.zero(before.currency))
        assert moved == min(before.unallocated, owed)
        return entries

    @rule(target=allocations, receipt=receipts)
    def allocate(self, receipt: uuid.UUID) -> list[uuid.UUID]:
        entries = self._allocate_automatically(receipt, self.key())
        return [e.id for e in entries or []]

    @rule(receipt=receipts)
    def retry_the_same_allocation(self, receipt: uuid.UUID) -> None:
        key = self.key()
        first = self._allocate_automatically(receipt, key)
        if first is not None:
            assert allocate_receipt(self.crm, self.actor, receipt, idempotency_key=key) == first

    @rule(
        target=allocations,
        receipt=receipts,
        picks=st.lists(st.integers(min_value=1, max_value=120), min_size=1, max_size=3),
    )
    def allocate_by_hand(self, receipt: uuid.UUID, picks: list[int]) -> list[uuid.UUID]:
        # Percentages of each open installment's outstanding amount: above 100 asks for
        # more than it owes, and together they may ask for more than the receipt has left.
        before = self.receipt(receipt)
        items = self.open_items(before)[: len(picks)]
        if not items:
            return []
        to = [
            (
                i.id,
                max(
                    Money.from_minor_units(1, i.amount.currency),
                    (i.outstanding * Decimal(p) / 100).round(),
                ),
            )
            for i, p in zip(items, picks, strict=False)
        ]
        total = sum((amount for _, amount in to), Money.zero(before.currency))
        too_much = any(a > i.outstanding for i, (_, a) in zip(items, to, strict=True))
        try:
            entries = allocate_receipt(
                self.crm, self.actor, receipt, idempotency_key=self.key(), to=to
            )
        except OverAllocation:
            assert before.is_confirmed, before
            assert too_much or total > before.unallocated, (before, to)
            return []
        except ValidationError:
            assert not before.is_confirmed, before
            return []
        assert before.is_confirmed, before
        assert not too_much, (before, to)
        assert total <= before.unallocated, (before, to)
        assert [(e.installment_id, e.amount) for e in entries] == to
        return [e.id for e in entries]

    @rule(who=st.sampled_from(CUSTOMERS))
    def use_credit(self, who: uuid.UUID) -> None:
        apply_credit(self.crm, self.actor, who, currency="CNY", idempotency_key=self.key())

    @rule(entries=consumes(allocations))
    def take_back(self, entries: list[uuid.UUID]) -> None:
        for entry in entries:
            # taken back already: with its receipt's reversal, or by an earlier take-back
            undone = any(e.reverses == entry for e in ledger_entries(self.crm, self.actor))
            try:
                deallocate(self.crm, self.actor, entry, idempotency_key=self.key())
            except ValidationError:
                assert undone, entry
            else:
                assert not undone, entry

    @rule(receipt=consumes(receipts))
    def reverse(self, receipt: uuid.UUID) -> None:
        before = self.receipt(receipt)
        try:
            reverse_receipt(
                self.crm, self.actor, receipt, reason_text="bounced", idempotency_key=self.key()
            )
        except InvalidTransition:
            assert before.state is ReceiptState.REVERSED, before
        except ValidationError:
            assert before.refunded.is_positive, before  # that money already went back
        else:
            assert before.state is not ReceiptState.REVERSED, before
            assert before.refunded.is_zero, before
            after = self.receipt(receipt)
            assert (after.state, after.allocated) == (
                ReceiptState.REVERSED,
                Money.zero(after.currency),
            )

    @rule(target=refunds, receipt=receipts, share=st.integers(min_value=1, max_value=120))
    def ask_refund(self, receipt: uuid.UUID, share: int) -> uuid.UUID | None:
        before = self.receipt(receipt)
        amount = (before.settled * Decimal(share) / 100).round()
        try:
            refund = request_refund(
                self.crm,
                self.actor,
                receipt,
                amount=amount,
                reason_text="customer asked",
                idempotency_key=self.key(),
            )
        except OverRefund:
            assert before.is_confirmed, before
            assert amount > before.unallocated, (before, amount)
            return None
        except ValidationError:
            assert not before.is_confirmed or not amount.is_positive, (before, amount)
            return None
        assert before.is_confirmed, before
        assert amount.is_positive, amount
        assert amount <= before.unallocated, (before, amount)
        approve_refund(self.crm, second_admin(self.crm, self.actor), refund.id)
        return refund.id

    @rule(target=refunds, receipt=receipts, share=st.integers(min_value=1, max_value=100))
    def allocate_between_request_and_payment(
        self, receipt: uuid.UUID, share: int
    ) -> uuid.UUID | None:
        # The race the refund payment must catch: money promised back is allocated to an
        # installment before the refund is paid (directed: random steps rarely line it up).
        refund = self.ask_refund(receipt, share)
        if refund is not None:
            self._allocate_automatically(receipt, self.key())
            self.pay(refund, half=False)
        return refund

    @rule(refund=refunds, half=st.booleans())
    def pay(self, refund: uuid.UUID | None, half: bool) -> None:
        if refund is None:
            return
        stored = self.crm.run(self.actor.tenant_id, lambda uow: uow.repository(Refund).get(refund))
        source = self.receipt(stored.receipt_id)
        amount = (stored.remaining / 2).round() if half else None
        wanted = stored.remaining if amount is None else amount
        try:
            pay_refund(self.crm, self.actor, refund, amount=amount, idempotency_key=self.key())
        except InvalidTransition:
            assert stored.remaining.is_zero, stored
        except OverRefund:
            # the receipt's money was allocated (or reversed) since the request
            assert wanted > source.unallocated, (stored, source)
        except ValidationError:
            assert not wanted.is_positive, stored
        else:
            assert wanted.is_positive, stored
            assert wanted <= source.unallocated, (stored, source)
            after = self.receipt(stored.receipt_id)
            assert after.refunded == source.refunded + wanted

    # -- invariants -----------------------------------------------------------------------

    def rows(self, kind: type) -> list:  # type: ignore[type-arg]
        return self.crm.run(self.actor.tenant_id, lambda uow: uow.repository(kind).query())

    @invariant()
    def installments_add_up_and_never_overpaid(self) -> None:
        items = self.rows(Installment)
        for plan in self.rows(Plan):
            mine = [i for i in items if i.plan_id == plan.id]
            assert sum((i.amount for i in mine), Money.zero("CNY")) == plan.total
        for item in items:
            assert Money.zero("CNY") <= item.paid <= item.amount
            assert item.paid + item.outstanding == item.amount

    @invariant()
    def receipts_are_allocated_refunded_or_credit(self) -> None:
        for receipt in self.rows(Receipt):
            assert receipt.settled.is_rounded
            assert receipt.refunded <= receipt.settled
            if receipt.is_confirmed:
                assert receipt.allocated + receipt.refunded + receipt.unallocated == receipt.settled
                assert not receipt.unallocated.is_negative
            else:
                assert receipt.allocated.is_zero
                assert receipt.refunded.is_zero

    @invariant()
    def allocations_match_payments(self) -> None:
        paid = sum((i.paid for i in self.rows(Installment)), Money.zero("CNY"))
        allocated = sum((r.allocated for r in self.rows(Receipt)), Money.zero("CNY"))
        assert paid == allocated

    @invariant()
    def the_ledger_only_grows_and_rebuilds_every_balance(self) -> None:
        entries = ledger_entries(self.crm, self.actor)
        assert [(e.id, e.hash) for e in entries[: len(self.seen)]] == self.seen
        self.seen = [(e.id, e.hash) for e in entries]
        assert verify_ledger(self.crm, self.actor).ok
        assert balance_mismatches(self.crm, self.actor) == []
        refunded = [e for e in entries if e.kind is EntryKind.REFUND]
        assert all(e.amount.is_positive for e in refunded)


TestBilling = Billing.TestCase
TestBilling.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)


@given(
    cents=st.integers(min_value=0, max_value=10**12),
    rate=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("10000"), places=4),
    source=st.sampled_from(["USD", "JPY", "KWD", "EUR"]),
    target=st.sampled_from(["CNY", "JPY", "KWD"]),
    parts=st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=6),
    mode=st.sampled_from([HALF_UP, HALF_EVEN]),
)
def test_converting_and_splitting_never_creates_or_loses_a_minor_unit(
    cents: int, rate: Decimal, source: str, target: str, parts: list[int], mode: str
) -> None:
    rates = ExchangeRates()
    if source != target:
        rates.add(source, target, rate, on=DAY)
    amount = Money.from_minor_units(cents, source)
    settled = rates.convert(amount, target, on=DAY, mode=mode)
    exact = amount.amount * rates.rate(source, target, on=DAY)
    unit = Decimal(1).scaleb(-settled.minor_unit)
    assert settled.is_rounded
    assert abs(settled.amount - exact) <= unit / 2
    shares = settled.allocate(parts)
    assert sum(shares, Money.zero(target)) == settled
    assert all(share.is_rounded for share in shares)
