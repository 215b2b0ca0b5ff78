"""Sales orders: from quotes and contracts, credit checks through a port, deliveries per line."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import attrs
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from crmkit import Crm, ValidationError
from crmkit.billing.model.credit import decide_credit
from crmkit.customers.model import Customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import GuardFailed, InvalidTransition
from crmkit.kernel.ids import TenantId
from crmkit.kernel.machine import assert_every_state_reaches_final
from crmkit.kernel.money import Money
from crmkit.pipeline.model.orders import (
    SALES_ORDER,
    CreditDecision,
    DeliveryStatus,
    OrderStatus,
    SalesOrder,
    SalesOrderId,
)
from crmkit.pipeline.model.pricing import LineItem
from crmkit.pipeline.services import (
    LineRequest,
    cancel_order,
    configure_sales_documents,
    convert_quote_to_contract,
    convert_quote_to_order,
    create_order_from_contract,
    record_delivery,
    release_credit_hold,
    sign_contract,
)
from crmkit.ports import UnitOfWork
from tests.billing.builders import second_admin
from tests.pipeline.test_quotes import approved_quote, customer

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_deliveries_move_the_order_from_none_to_partial_to_full(crm: Crm, actor: Actor) -> None:
    order = convert_quote_to_order(crm, actor, approved_quote(crm, actor).id)
    assert (order.status, order.delivery_status) == (OrderStatus.CONFIRMED, DeliveryStatus.NONE)
    part = record_delivery(crm, actor, order.id, {1: "4"}, reference="DN-1")
    assert part.delivery_status is DeliveryStatus.PARTIAL
    assert part.outstanding(1) == 6
    with pytest.raises(ValidationError, match="outstanding"):
        record_delivery(crm, actor, order.id, {1: "7"})
    with pytest.raises(ValidationError, match="no line 9"):
        record_delivery(crm, actor, order.id, {9: "1"})
    done = record_delivery(crm, actor, order.id, {1: "6", 2: "2"})
    assert (done.status, done.delivery_status) == (OrderStatus.COMPLETED, DeliveryStatus.FULL)
    stored = crm.run(actor.tenant_id, lambda uow: uow.repository(SalesOrder).get(order.id))
    assert [(d.line_no, d.quantity) for d in stored.deliveries] == [
        (1, Decimal(4)),
        (1, Decimal(6)),
        (2, Decimal(2)),
    ]
    with pytest.raises(InvalidTransition):
        record_delivery(crm, actor, order.id, {1: "1"})


def test_an_order_over_the_credit_limit_waits_for_release(crm: Crm, actor: Actor) -> None:
    buyer = customer(crm, actor, credit_limit=Money("30000", "CNY"))
    # 10 x 1200 + 2 x 5800 = 23,600: fits once, not twice.
    first = convert_quote_to_order(crm, actor, approved_quote(crm, actor, buyer=buyer).id)
    assert first.status is OrderStatus.CONFIRMED
    second = convert_quote_to_order(crm, actor, approved_quote(crm, actor, buyer=buyer).id)
    assert second.status is OrderStatus.ON_CREDIT_HOLD
    assert (second.open_receivables, second.credit_limit) == (
        Money("23600", "CNY"),
        Money("30000", "CNY"),
    )
    with pytest.raises(InvalidTransition):
        record_delivery(crm, actor, second.id, {1: "1"})
    manager = second_admin(crm, actor)  # another administrator: nobody approves their own
    released = release_credit_hold(crm, manager, second.id)
    assert released.status is OrderStatus.CONFIRMED
    assert released.released_by == manager.user_id


@attrs.frozen
class Owing:
    """A credit check answering as billing would for a customer owing a fixed amount."""

    owed: Money

    def check(
        self, uow: UnitOfWork, customer_id: uuid.UUID, amount: Money, on: date
    ) -> CreditDecision:
        limit = uow.repository(Customer).get(customer_id).credit_limit
        return decide_credit(limit=limit, amount=amount, open_receivables=self.owed)


@attrs.frozen
class AlwaysRefuse:
    """A credit check that sends every order to approval."""

    def check(
        self, uow: UnitOfWork, customer_id: uuid.UUID, amount: Money, on: date
    ) -> CreditDecision:
        zero = Money.zero(amount.currency)
        return CreditDecision(allowed=False, amount=amount, limit=zero, open_receivables=zero)


def test_the_credit_check_is_a_port_billing_can_answer(crm: Crm, actor: Actor) -> None:
    buyer = customer(crm, actor, credit_limit=Money("30000", "CNY"))
    owing = Owing(Money("10000", "CNY"))
    held = convert_quote_to_order(
        crm, actor, approved_quote(crm, actor, buyer=buyer).id, credit=owing
    )
    assert held.status is OrderStatus.ON_CREDIT_HOLD  # 10,000 + 23,600 > 30,000
    refused = convert_quote_to_order(
        crm, actor, approved_quote(crm, actor).id, credit=AlwaysRefuse()
    )
    assert refused.status is OrderStatus.ON_CREDIT_HOLD


def test_a_customer_without_a_limit_is_not_held(crm: Crm, actor: Actor) -> None:
    order = convert_quote_to_order(crm, actor, approved_quote(crm, actor).id)
    assert order.status is OrderStatus.CONFIRMED
    assert order.credit_limit is None


def test_an_order_is_cancelled_only_before_anything_went_out(crm: Crm, actor: Actor) -> None:
    order = convert_quote_to_order(crm, actor, approved_quote(crm, actor).id)
    record_delivery(crm, actor, order.id, {2: "1"})
    with pytest.raises(GuardFailed):
        cancel_order(crm, actor, order.id, "changed mind")
    other = convert_quote_to_order(crm, actor, approved_quote(crm, actor).id)
    cancelled = cancel_order(crm, actor, other.id, "changed mind")
    assert (cancelled.status, cancelled.cancel_reason) == (OrderStatus.CANCELLED, "changed mind")


def test_orders_are_called_off_active_sales_contracts(crm: Crm, actor: Actor) -> None:
    configure_sales_documents(crm, actor, contracts_need_approval=False)
    quote = approved_quote(crm, actor)
    contract = convert_quote_to_contract(crm, actor, quote.id, start_date=date(2026, 3, 2))
    with pytest.raises(ValidationError, match="active sales contracts"):
        create_order_from_contract(crm, actor, contract.id)
    sign_contract(crm, actor, contract.id)
    whole = create_order_from_contract(crm, actor, contract.id)
    assert whole.contract_id == contract.id
    assert whole.total == contract.amount
    part = create_order_from_contract(crm, actor, contract.id, lines=[LineRequest("SENSOR", "3")])
    assert part.total == Money("3600.00", "CNY")
    assert part.number == "SO-2026-00002"


def test_every_order_state_reaches_an_end() -> None:
    assert_every_state_reaches_final(SALES_ORDER)


class Deliveries(RuleBasedStateMachine):
    """Whatever is delivered, in any order: never more than ordered; status follows."""

    def __init__(self) -> None:
        super().__init__()
        lines = tuple(
            LineItem(n, f"P{n}", "p", Decimal(q), Money("9.99", "CNY"))
            for n, q in ((1, "5"), (2, "2.5"), (3, "1"))
        )
        self.order = SalesOrder(
            id=SalesOrderId(uuid.uuid4()),
            tenant_id=TenantId(uuid.uuid4()),
            number="SO-1",
            customer_id=uuid.uuid4(),
            currency="CNY",
            lines=lines,
            created_at=NOW,
            status=OrderStatus.CONFIRMED,
        )

    @rule(line=st.sampled_from([1, 2, 3]), quantity=st.decimals("0.5", "6", places=1))
    def deliver(self, line: int, quantity: Decimal) -> None:
        before = self.order.deliveries
        try:
            self.order.record_delivery({line: quantity}, date(2026, 3, 2), NOW)
        except (ValidationError, InvalidTransition):
            assert self.order.deliveries == before  # a refused delivery records nothing

    @invariant()
    def consistent(self) -> None:
        order = self.order
        outstanding = [order.outstanding(line.line_no) for line in order.lines]
        assert all(left >= 0 for left in outstanding)
        if not order.deliveries:
            assert order.delivery_status is DeliveryStatus.NONE
        elif all(left == 0 for left in outstanding):
            assert order.delivery_status is DeliveryStatus.FULL
            assert order.status is OrderStatus.COMPLETED
        else:
            assert order.delivery_status is DeliveryStatus.PARTIAL
            assert order.status is OrderStatus.CONFIRMED


TestDeliveries = Deliveries.TestCase
