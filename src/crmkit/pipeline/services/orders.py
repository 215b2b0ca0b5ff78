"""Sales-order use cases: orders from a quote or called off a contract, the customer's
credit checked on entry, deliveries per line, credit holds released or orders cancelled.

An order over the customer's credit limit is created ``on_credit_hold``; billing's one
credit rule decides it (exposure = open receivables + unbilled orders - unapplied
credit), and :class:`SalesOrderCredit` tells that rule which orders commit the customer.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

from crmkit.billing.model.credit import (
    CreditCheck,
    HeldDocument,
    UnbilledDocument,
)
from crmkit.billing.services.credit import CreditLimitCheck
from crmkit.billing.services.overrides import ensure_override_editable
from crmkit.crm import Crm
from crmkit.customers.model import Customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.event_origin import origin
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.money import to_decimal
from crmkit.kernel.query import F, Query
from crmkit.pipeline.model.contracts import (
    Contract,
    ContractKind,
    ContractStatus,
)
from crmkit.pipeline.model.orders import (
    OrderCreated,
    OrderStatus,
    SalesOrder,
    SalesOrderId,
)
from crmkit.pipeline.model.pricing import (
    DiscountRate,
)
from crmkit.pipeline.model.resources import CONTRACTS, ORDERS
from crmkit.pipeline.services.approvals import (
    CREDIT_OVERRIDE_DOCUMENT,
    release_held_order,
    route_credit_override,
)
from crmkit.pipeline.services.documents import (
    DocumentNumbers,
    LineRequest,
    act_on,
    allow,
    load_for_change,
    price_requests,
    record_on_deal,
    rule_numbers,
)
from crmkit.ports import UnitOfWork
from crmkit.rules.approvals import ensure_editable, ensure_not_own
from crmkit.rules.permissions import guarded

__all__ = [
    "CustomerCreditLimit",
    "SalesOrderCredit",
    "cancel_order",
    "create_order_from_contract",
    "record_delivery",
    "release_credit_hold",
]


# The order confirmation asks billing's one credit rule (exposure = open receivables +
# unbilled orders - unapplied credit); the alias keeps the name hosts already pass in.
CustomerCreditLimit = CreditLimitCheck


@attrs.frozen
class SalesOrderCredit:
    """What billing's credit rule needs to know about sales orders (registered below).

    Confirmed and completed orders commit the customer to pay their total until a
    receivable plan takes over; orders on credit hold are not commitments yet.
    """

    document_type: str = "sales_order"

    def unbilled(self, uow: UnitOfWork, customer_id: uuid.UUID) -> list[UnbilledDocument]:
        """The customer's confirmed and completed orders (billing drops planned ones)."""
        where = F("customer_id").eq(customer_id) & F("status").is_in(
            [OrderStatus.CONFIRMED, OrderStatus.COMPLETED]
        )
        return [
            UnbilledDocument(self.document_type, o.id, o.total, o.created_at.date())
            for o in uow.repository(SalesOrder).query(Query(where=where))
            if o.total is not None
        ]

    def held(self, uow: UnitOfWork, document_id: uuid.UUID) -> HeldDocument | None:
        """The order if it waits on credit hold."""
        order = uow.repository(SalesOrder).find(document_id)
        if order is None or order.status is not OrderStatus.ON_CREDIT_HOLD:
            return None
        assert order.total is not None
        return HeldDocument(
            self.document_type, order.id, order.customer_id, order.total, order.number,
            order.owner_id,
        )  # fmt: skip

    def release(self, uow: UnitOfWork, document_id: uuid.UUID, by: uuid.UUID, at: datetime) -> None:
        """Release the order after an approved (resubmitted) credit override."""
        release_held_order(uow, uow.repository(SalesOrder).get(document_id), by, at)


def open_order(
    uow: UnitOfWork,
    crm: Crm,
    actor: Actor,
    now: datetime,
    credit: CreditCheck | None,
    numbers: DocumentNumbers,
    order_id: uuid.UUID | None = None,
    **fields: Any,
) -> SalesOrder:
    order = SalesOrder(
        id=SalesOrderId(order_id or crm.new_id()),
        tenant_id=actor.tenant_id,
        number=numbers(uow, "sales_order", now),
        created_at=now,
        owner_id=actor.user_id,
        **fields,
    )
    assert order.total is not None
    allow(uow, actor, "create", ORDERS, order)
    check = credit or CustomerCreditLimit()
    order.apply_credit(check.check(uow, order.customer_id, order.total, now.date()))
    uow.repository(SalesOrder).add(order)
    record_on_deal(uow, order.opportunity_id, "sales_order")
    uow.outbox.add(
        OrderCreated(
            **origin(order, now),
            number=order.number,
            total=order.total,
            on_hold=order.status is OrderStatus.ON_CREDIT_HOLD,
        )
    )
    if order.status is OrderStatus.ON_CREDIT_HOLD and route_credit_override(uow, actor, order, now):
        # A route no stage applies to releases the order inside the submission: reload.
        order = uow.repository(SalesOrder).get(order.id)
    return order


def create_order_from_contract(
    crm: Crm,
    actor: Actor,
    contract_id: uuid.UUID,
    *,
    lines: Sequence[LineRequest] | None = None,
    credit: CreditCheck | None = None,
    numbers: DocumentNumbers = rule_numbers,
) -> SalesOrder:
    """Call off an order against an active sales contract.

    Without ``lines`` the order takes the contract's own lines; with them, the lines
    are priced from the list in effect today (a frame contract called off in parts).

    Raises:
        DocumentLocked: an approval flow is deciding the contract (nothing changes).
        ValidationError: the contract is not an active sales contract, or has no lines
            and none were given.
    """

    def work(uow: UnitOfWork) -> SalesOrder:
        now = crm.now()
        # Only "view" on the contract: calling off changes the order book, not the
        # contract — but not against a contract whose terms are still being approved.
        contract = load_for_change(uow, actor, Contract, CONTRACTS, contract_id, "view")
        if contract.status is not ContractStatus.ACTIVE or contract.kind is ContractKind.PURCHASE:
            raise invalid(
                "sales_order", "contract_id", N_("orders are called off active sales contracts")
            )
        discount = contract.total_discount
        if lines is not None:
            customer = uow.repository(Customer).get(contract.customer_id)
            _list, priced = price_requests(
                uow, customer, contract.amount.currency, now.date(), lines
            )
            discount = DiscountRate.none()
        elif contract.lines:
            priced = contract.lines
        else:
            raise invalid("sales_order", "lines", N_("the contract has no lines; name them"))
        return open_order(
            uow,
            crm,
            actor,
            now,
            credit,
            numbers,
            customer_id=contract.customer_id,
            currency=contract.amount.currency,
            lines=priced,
            total_discount=discount,
            contract_id=contract.id,
            opportunity_id=contract.opportunity_id,
        )

    return guarded(crm, actor, work)


def record_delivery(
    crm: Crm,
    actor: Actor,
    order_id: uuid.UUID,
    quantities: Mapping[int, Decimal | str | int],
    *,
    delivered_on: date | None = None,
    reference: str = "",
) -> SalesOrder:
    """Record what went out, per line number; the delivery status follows.

    Raises:
        DocumentLocked: an approval flow is deciding the order's credit override.
        InvalidTransition: the order is on credit hold, cancelled or completed.
        ValidationError: an unknown line or more than is outstanding.
    """
    wanted = {
        line: to_decimal(q, entity="delivery", field="quantities") for line, q in quantities.items()
    }
    return _on_order(
        crm,
        actor,
        order_id,
        lambda _uow, order, now: order.record_delivery(
            wanted, delivered_on or now.date(), now, reference
        ),
    )


def release_credit_hold(crm: Crm, approver: Actor, order_id: uuid.UUID) -> SalesOrder:
    """Let an order over the customer's credit limit go ahead.

    With a ``"credit_override"`` approval flow the flow releases the order (see
    :mod:`crmkit.pipeline.services.approvals`); by hand it is refused while that request is in
    review or approved, and allowed again once the flow rejected or the request was
    withdrawn.

    Raises:
        DocumentLocked: the order's credit override is in an approval flow.
        InvalidTransition: the order is not on credit hold.
        SelfApprovalForbidden: the approver owns the order and the tenant does not allow
            self-approval.
    """

    def work(uow: UnitOfWork) -> SalesOrder:
        repo = uow.repository(SalesOrder)
        order = load_for_change(uow, approver, SalesOrder, ORDERS, order_id, "approve")
        ensure_editable(uow, CREDIT_OVERRIDE_DOCUMENT, order_id)
        ensure_override_editable(uow, order_id)
        ensure_not_own(uow, approver, (order.owner_id,), f"{ORDERS} {order.number}")
        event = order.release(approver.user_id, crm.now())
        repo.save(order)
        uow.outbox.add(event)
        return order

    return guarded(crm, approver, work)


def cancel_order(crm: Crm, actor: Actor, order_id: uuid.UUID, why: str) -> SalesOrder:
    """Cancel an order nothing of which was delivered.

    Raises:
        DocumentLocked: an approval flow is deciding the order's credit override.
    """
    return _on_order(crm, actor, order_id, lambda _u, order, now: order.cancel(why, now))


_on_order = functools.partial(act_on, SalesOrder, ORDERS)
