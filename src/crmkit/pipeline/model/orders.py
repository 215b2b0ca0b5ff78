"""Sales orders: what the customer ordered, and how much of it was delivered.

An order comes from an accepted quote or an active contract (or is entered
directly) and carries priced lines. Before it is confirmed, the customer's
**credit** is checked: its exposure (open receivables, orders not yet billed, less
unapplied credit) plus this order against the customer's credit limit. Within the limit the order is confirmed at once; over it, the
order waits ``on_credit_hold`` until someone with authority releases it (or it
is cancelled). The check is billing's port, :class:`CreditCheck`, and its answer
billing's :class:`CreditDecision`: billing owns the one credit rule.

Deliveries are recorded per line; the order's **delivery status** follows from
them: ``none``, ``partial`` or ``full``. A fully delivered order is completed.

.. code-block:: text

    on_credit_hold --clear [credit ok] / release--> confirmed --complete [fully delivered]--> completed
    (on_credit_hold | confirmed [nothing delivered]) --cancel--> cancelled
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import NewType

import attrs

# One credit rule and one decision type, billing's: the order only applies the answer.
from crmkit.billing.model.credit import CreditCheck, CreditDecision
from crmkit.kernel.entity import Entity
from crmkit.kernel.event_origin import origin
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.invalid import invalid
from crmkit.kernel.machine import Guard, Machine, Transition
from crmkit.kernel.money import Money
from crmkit.pipeline.model.pricing import DiscountRate, LineItem, check_line_numbers, totals

__all__ = [
    "SALES_ORDER",
    "CreditCheck",
    "CreditDecision",
    "Delivery",
    "DeliveryRecorded",
    "DeliveryStatus",
    "OrderCancelled",
    "OrderCompleted",
    "OrderConfirmed",
    "OrderCreated",
    "OrderStatus",
    "SalesOrder",
    "SalesOrderEvent",
    "SalesOrderId",
]

SalesOrderId = NewType("SalesOrderId", uuid.UUID)
_ENTITY = N_("sales order")


class DeliveryStatus(enum.Enum):
    """How much of an order went out."""

    NONE = "none"
    PARTIAL = "partial"
    FULL = "full"


class OrderStatus(enum.Enum):
    """Where a sales order stands (see the module docstring for the moves)."""

    ON_CREDIT_HOLD = "on_credit_hold"
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@attrs.frozen
class Delivery:
    """One delivery of some quantity of one order line."""

    line_no: int
    quantity: Decimal = attrs.field(converter=Decimal)
    delivered_on: date = attrs.field()
    reference: str = ""


def _fully_delivered(order: SalesOrder) -> bool:
    return order.delivery_status is DeliveryStatus.FULL


def _nothing_delivered(order: SalesOrder) -> bool:
    return not order.deliveries


@attrs.define(eq=False)
class SalesOrder(Entity):
    """A sales order.

    Attributes:
        number: the document number.
        customer_id: who ordered.
        lines, total_discount: what was ordered and at what price; ``total`` derived.
        quote_id, contract_id, opportunity_id: where it came from.
        deliveries: every recorded delivery; ``delivery_status`` follows from them.
        open_receivables, credit_limit: the figures of the credit check at entry.
        released_by: who released a credit hold.
    """

    entity_name = _ENTITY

    id: SalesOrderId
    tenant_id: TenantId
    number: str
    customer_id: uuid.UUID
    currency: str
    lines: tuple[LineItem, ...]
    created_at: datetime
    total_discount: DiscountRate = attrs.field(factory=DiscountRate.none)
    total: Money | None = None
    owner_id: UserId | None = None
    quote_id: uuid.UUID | None = None
    contract_id: uuid.UUID | None = None
    opportunity_id: uuid.UUID | None = None
    status: OrderStatus = OrderStatus.ON_CREDIT_HOLD
    delivery_status: DeliveryStatus = DeliveryStatus.NONE
    deliveries: tuple[Delivery, ...] = ()
    open_receivables: Money | None = None
    credit_limit: Money | None = None
    released_by: uuid.UUID | None = None
    cancel_reason: str | None = None
    version: int = 0

    def __attrs_post_init__(self) -> None:
        if not self.lines:
            raise invalid(_ENTITY, "lines", N_("an order needs at least one line"))
        check_line_numbers(_ENTITY, self.lines)
        self.total = totals(self.lines, self.total_discount, self.currency).total

    def line(self, line_no: int) -> LineItem:
        """The line numbered ``line_no``.

        Raises:
            ValidationError: no such line.
        """
        for line in self.lines:
            if line.line_no == line_no:
                return line
        raise invalid(_ENTITY, "deliveries", N_("the order has no line {line}"), line=line_no)

    def delivered(self, line_no: int) -> Decimal:
        """How much of line ``line_no`` went out so far."""
        return sum((d.quantity for d in self.deliveries if d.line_no == line_no), Decimal(0))

    def outstanding(self, line_no: int) -> Decimal:
        """How much of line ``line_no`` is still to deliver."""
        return self.line(line_no).quantity - self.delivered(line_no)

    def apply_credit(self, decision: CreditDecision) -> None:
        """Confirm the new order when its credit check passed; else it stays on hold.

        ``open_receivables`` keeps the exposure the check counted before this order.
        """
        self.open_receivables, self.credit_limit = decision.exposure, decision.limit
        if decision.allowed:
            SALES_ORDER.fire(self, "clear")

    def release(self, by: uuid.UUID, now: datetime) -> DomainEvent | None:
        """Someone with authority lets an order over the credit limit go ahead."""
        event = SALES_ORDER.fire(self, "release", now=now, payload={"released_by": by})
        self.released_by = by
        return event

    def cancel(self, why: str, now: datetime) -> DomainEvent | None:
        """Cancel an order nothing of which was delivered.

        Raises:
            GuardFailed: something was delivered already.
        """
        event = SALES_ORDER.fire(self, "cancel", now=now, payload={"reason": why})
        self.cancel_reason = why
        return event

    def record_delivery(
        self, quantities: Mapping[int, Decimal], on: date, now: datetime, reference: str = ""
    ) -> list[DomainEvent]:
        """Record what went out, per line; a fully delivered order completes.

        Raises:
            InvalidTransition: the order is on hold, cancelled or completed.
            ValidationError: an unknown line, a non-positive quantity, or more than is
                outstanding on a line (nothing is recorded then).
        """
        SALES_ORDER.fire(self, "deliver")
        added = []
        for line_no, raw in sorted(quantities.items()):
            quantity = Decimal(raw)
            if not quantity.is_finite() or quantity <= 0:
                raise invalid(_ENTITY, "deliveries", N_("a delivered quantity must be positive"))
            if quantity > self.outstanding(line_no):
                raise invalid(
                    _ENTITY,
                    "deliveries",
                    N_("line {line}: {quantity} is more than the {left} outstanding"),
                    line=line_no,
                    quantity=quantity,
                    left=self.outstanding(line_no),
                )
            added.append(Delivery(line_no, quantity, on, reference))
        if not added:
            raise invalid(_ENTITY, "deliveries", N_("name at least one line"))
        self.deliveries = (*self.deliveries, *added)
        self.delivery_status = self._delivery_status()
        events: list[DomainEvent] = [
            DeliveryRecorded(
                **origin(self, now),
                lines=tuple((d.line_no, str(d.quantity)) for d in added),
                delivery_status=self.delivery_status.value,
            )
        ]
        if self.delivery_status is DeliveryStatus.FULL:
            completed = SALES_ORDER.fire(self, "complete", now=now)
            assert completed is not None
            events.append(completed)
        return events

    def _delivery_status(self) -> DeliveryStatus:
        if not self.deliveries:
            return DeliveryStatus.NONE
        if all(self.outstanding(line.line_no) == 0 for line in self.lines):
            return DeliveryStatus.FULL
        return DeliveryStatus.PARTIAL


@attrs.frozen(kw_only=True)
class SalesOrderEvent(DomainEvent):
    """Base of the events of a :class:`SalesOrder` (its ``aggregate_id``)."""

    aggregate_type = "sales_order"


@attrs.frozen(kw_only=True)
class OrderCreated(SalesOrderEvent):
    """A sales order was entered (``on_hold`` when its credit check asked for approval)."""

    number: str
    total: Money
    on_hold: bool


@attrs.frozen(kw_only=True)
class OrderConfirmed(SalesOrderEvent):
    """A credit hold was released."""

    released_by: uuid.UUID


@attrs.frozen(kw_only=True)
class OrderCancelled(SalesOrderEvent):
    """An order was cancelled."""

    reason: str


@attrs.frozen(kw_only=True)
class DeliveryRecorded(SalesOrderEvent):
    """Some of an order went out: ``(line_no, quantity)`` pairs."""

    lines: tuple[tuple[int, str], ...]
    delivery_status: str


@attrs.frozen(kw_only=True)
class OrderCompleted(SalesOrderEvent):
    """Everything on the order was delivered."""


SALES_ORDER: Machine[OrderStatus] = Machine(
    name="sales_order",
    states=OrderStatus,
    # Every order is born on hold and cleared at once when its credit check passes.
    initial=OrderStatus.ON_CREDIT_HOLD,
    final={OrderStatus.COMPLETED, OrderStatus.CANCELLED},
    state_attr="status",
    transitions=[
        Transition("clear", source=OrderStatus.ON_CREDIT_HOLD, target=OrderStatus.CONFIRMED),
        Transition(
            "release",
            source=OrderStatus.ON_CREDIT_HOLD,
            target=OrderStatus.CONFIRMED,
            event=OrderConfirmed,
        ),
        Transition("deliver", source=OrderStatus.CONFIRMED, target=OrderStatus.CONFIRMED),
        Transition(
            "complete",
            source=OrderStatus.CONFIRMED,
            target=OrderStatus.COMPLETED,
            guard=Guard("fully delivered", _fully_delivered),
            event=OrderCompleted,
        ),
        Transition(
            "cancel",
            source=(OrderStatus.ON_CREDIT_HOLD, OrderStatus.CONFIRMED),
            target=OrderStatus.CANCELLED,
            guard=Guard("nothing delivered", _nothing_delivered),
            event=OrderCancelled,
        ),
    ],
)
