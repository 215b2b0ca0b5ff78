"""Receipts and payments: money that actually moved, and refunds of it.

A *receipt* is money a customer sent us (a *payment* is the payables mirror: money
we sent a supplier). Finance tracks it in two steps, as the source products do:
first the customer's **remittance slip** arrives (底单到账: a bank slip saying the
money was sent), later the bank statement shows the **money confirmed** on our
account. Only confirmed money reduces what a customer owes; slips received feed
the collection forecast.

A receipt may come in any currency. It is *settled* in the currency of the
receivables it pays, rounded once to the settlement currency's minor unit. A slip
is settled at the rate of the day it arrived (what the collection forecast
expects); when the money is confirmed it is settled again at the rate of the
confirmation day, and that settled amount is the ledger's truth from then on, so
conversion never creates or loses a minor unit later.

Confirmed money is *allocated* to installments (oldest due first, or by hand), in
part or in full. What is left unallocated is the customer's **credit**: it can be
applied to later installments or refunded. A :class:`Refund` returns unallocated
money, after approval, in one or several payouts: from one receipt, from several
(each a :class:`RefundPart`), or from the customer's credit as a whole (its receipts
oldest first). Each payout writes one ledger entry per receipt it draws on. A receipt
is never edited or deleted once recorded: reversing it (a bounced transfer) is a
new ledger entry that offsets it.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import NewType
from uuid import UUID

import attrs

from crmkit.billing.model.plans import Direction
from crmkit.kernel.entity import Entity
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.invalid import invalid
from crmkit.kernel.money import Money

__all__ = [
    "Receipt",
    "ReceiptAllocated",
    "ReceiptConfirmed",
    "ReceiptEvent",
    "ReceiptId",
    "ReceiptRecorded",
    "ReceiptReversed",
    "ReceiptState",
    "Refund",
    "RefundApproved",
    "RefundEvent",
    "RefundId",
    "RefundPaid",
    "RefundPart",
    "RefundRejected",
    "RefundRequested",
    "RefundState",
]

ReceiptId = NewType("ReceiptId", UUID)
RefundId = NewType("RefundId", UUID)


class ReceiptState(enum.Enum):
    """A receipt's progress: slip received, money confirmed, or reversed."""

    SLIP_RECEIVED = "slip_received"
    CONFIRMED = "confirmed"
    REVERSED = "reversed"


@attrs.define(eq=False)
class Receipt(Entity):
    """Money received from a customer (or, for payables, paid to a supplier).

    Attributes:
        id: the receipt's id.
        tenant_id: the owning tenant.
        direction: receivable (money in) or payable (money out).
        customer_id: who paid (or whom we paid).
        amount: the amount as sent, in its own currency.
        settled: ``amount`` in the settlement currency at ``rate``, rounded once (at
            the slip day's rate until the money is confirmed, then at the
            confirmation day's).
        rate: settlement-currency units per unit of ``amount``'s currency.
        rate_on: the date the rate was published for (``None`` when no conversion).
        received_on: the day the money (or the slip) arrived.
        state: slip received, confirmed or reversed.
        confirmed_on: the day the money was confirmed on the account.
        allocated: confirmed money allocated to installments (cached from the ledger).
        refunded: money paid back (cached from the ledger).
        owner_id: the clerk who recorded it.
        reference: bank reference, slip number, ...
        created_at: when it was recorded (UTC).
        version: optimistic-locking counter.
    """

    entity_name = N_("receipt")

    id: ReceiptId
    tenant_id: TenantId
    direction: Direction
    customer_id: UUID
    amount: Money
    settled: Money
    rate: Decimal
    received_on: date
    created_at: datetime
    state: ReceiptState = ReceiptState.SLIP_RECEIVED
    rate_on: date | None = None
    confirmed_on: date | None = None
    owner_id: UserId | None = None
    reference: str = ""
    allocated: Money = attrs.field()
    refunded: Money = attrs.field()
    version: int = 0

    @allocated.default
    def _nothing_allocated(self) -> Money:
        return Money.zero(self.settled.currency)

    @refunded.default
    def _nothing_refunded(self) -> Money:
        return Money.zero(self.settled.currency)

    @property
    def currency(self) -> str:
        """The settlement currency: the one allocations and refunds are in."""
        return self.settled.currency

    @property
    def is_confirmed(self) -> bool:
        """True once the money is confirmed (and not reversed)."""
        return self.state is ReceiptState.CONFIRMED

    @property
    def unallocated(self) -> Money:
        """Confirmed money neither allocated nor refunded: the customer's credit from it."""
        if not self.is_confirmed:
            return Money.zero(self.currency)
        return self.settled - self.allocated - self.refunded


@attrs.frozen(kw_only=True)
class ReceiptEvent(DomainEvent):
    """Base of the events of a :class:`Receipt` (its ``aggregate_id``)."""

    aggregate_type = "receipt"


@attrs.frozen(kw_only=True)
class ReceiptRecorded(ReceiptEvent):
    """A receipt (or its remittance slip) was recorded."""

    customer_id: UUID
    amount: Money
    settled: Money
    confirmed: bool


@attrs.frozen(kw_only=True)
class ReceiptConfirmed(ReceiptEvent):
    """The money of a receipt was confirmed on the account."""

    settled: Money
    confirmed_on: date


@attrs.frozen(kw_only=True)
class ReceiptReversed(ReceiptEvent):
    """A receipt was reversed by offsetting entries (its allocations were taken back)."""

    reason: str


@attrs.frozen(kw_only=True)
class ReceiptAllocated(ReceiptEvent):
    """Money of a receipt (or of a customer's credit) was allocated to installments."""

    amount: Money
    installment_ids: tuple[UUID, ...]


class RefundState(enum.Enum):
    """A refund's progress from request to fully paid out."""

    REQUESTED = "requested"
    APPROVED = "approved"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    REJECTED = "rejected"


@attrs.frozen
class RefundPart:
    """How much of a refund is drawn on one receipt."""

    receipt_id: ReceiptId
    amount: Money


def _check_parts(refund: Refund, _attribute: object, parts: tuple[RefundPart, ...]) -> None:
    if not parts:
        return
    receipts = [p.receipt_id for p in parts]
    if len(set(receipts)) != len(receipts):
        raise _invalid("sources", N_("name each receipt once"))
    if any(p.amount.currency != refund.amount.currency or not p.amount.is_positive for p in parts):
        raise _invalid(
            "sources", N_("every part must be above zero, in {currency}"),
            currency=refund.amount.currency,
        )  # fmt: skip
    if sum((p.amount for p in parts), Money.zero(refund.amount.currency)) != refund.amount:
        raise _invalid("sources", N_("the parts must add up to the refund"))
    if parts[0].receipt_id != refund.receipt_id:
        raise _invalid("sources", N_("the first part is the refund's own receipt"))


def _to_parts(values: Iterable[RefundPart]) -> tuple[RefundPart, ...]:
    return tuple(values)


_invalid = functools.partial(invalid, "refund")


@attrs.define(eq=False)
class Refund(Entity):
    """A request to pay money back from a receipt, approved, then paid in one or more parts.

    Attributes:
        id: the refund's id.
        tenant_id: the owning tenant.
        receipt_id: the (first) receipt whose unallocated money goes back.
        sources: every receipt drawn on and how much, in the order payouts drain them
            (``sources`` of a refund from one receipt is that one part).
        customer_id: who gets the money.
        amount: how much is to be refunded in total.
        reason: why (shown to the approver).
        requested_by: who asked.
        requested_at: when (UTC).
        state: requested, approved, partially refunded, refunded or rejected.
        paid: how much has been paid out so far (cached from the ledger).
        version: optimistic-locking counter.
    """

    entity_name = N_("refund")

    id: RefundId
    tenant_id: TenantId
    receipt_id: ReceiptId
    customer_id: UUID
    amount: Money
    reason: str
    requested_at: datetime
    requested_by: UserId | None = None
    state: RefundState = RefundState.REQUESTED
    paid: Money = attrs.field()
    sources: tuple[RefundPart, ...] = attrs.field(
        default=(), converter=_to_parts, validator=_check_parts
    )
    version: int = 0

    @paid.default
    def _nothing_paid(self) -> Money:
        return Money.zero(self.amount.currency)

    def __attrs_post_init__(self) -> None:
        if not self.sources:
            # Refunds stored before refunds drew on several receipts had one part.
            self.sources = (RefundPart(self.receipt_id, self.amount),)

    @property
    def receipt_ids(self) -> tuple[ReceiptId, ...]:
        """The receipts the refund draws on, in draining order."""
        return tuple(p.receipt_id for p in self.sources)

    @property
    def remaining(self) -> Money:
        """What is still to be paid out."""
        return self.amount - self.paid


@attrs.frozen(kw_only=True)
class RefundEvent(DomainEvent):
    """Base of the events of a :class:`Refund` (its ``aggregate_id``)."""

    aggregate_type = "refund"


@attrs.frozen(kw_only=True)
class RefundRequested(RefundEvent):
    """A refund was requested and waits for approval."""

    amount: Money


@attrs.frozen(kw_only=True)
class RefundApproved(RefundEvent):
    """A refund was approved."""


@attrs.frozen(kw_only=True)
class RefundRejected(RefundEvent):
    """A refund was rejected."""


@attrs.frozen(kw_only=True)
class RefundPaid(RefundEvent):
    """Part (or the rest) of a refund was paid out."""

    amount: Money
