"""A customer's credit: confirmed money not yet allocated (overpayments), and applying it.

Credit is not a balance stored anywhere: it is the unallocated part of the customer's
confirmed receipts, drawn on oldest receipt first.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from crmkit.billing.model.ledger import LedgerEntry
from crmkit.billing.model.plans import Direction
from crmkit.billing.model.receipts import (
    Receipt,
    ReceiptState,
)
from crmkit.billing.services._frame import (
    RECEIPT,
    Post,
    _entries_by_id,
    _money_command,
    _require,
    _viewable_customer,
)
from crmkit.billing.services.allocation import _allocate, _plan_allocation
from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.limits import to_date
from crmkit.kernel.money import Money
from crmkit.kernel.query import TRUE, Expr, F, Order, Query
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import grants_for, guarded

__all__ = [
    "apply_credit",
    "customer_credit",
]


def _credit_receipts(
    uow: UnitOfWork, customer_id: UUID, currency: str | None, scope: Expr = TRUE
) -> list[Receipt]:
    # Only money the customer paid us is their credit; what we paid them is not.
    where = (
        F("customer_id").eq(customer_id)
        & F("direction").eq(Direction.RECEIVABLE)
        & F("state").eq(ReceiptState.CONFIRMED)
        & scope
    )
    found = uow.repository(Receipt).query(
        Query(where=where, order_by=(Order("received_on"), Order("created_at")))
    )
    return [
        r
        for r in found
        if r.unallocated.is_positive and (currency is None or r.currency == currency)
    ]


def customer_credit(crm: Crm, actor: Actor, customer_id: UUID) -> dict[str, Money]:
    """A customer's unallocated confirmed money (overpayments), per currency.

    Raises:
        NotFound: no such customer.
        PermissionDenied: the actor may not view receipts, or may not view the customer.
    """

    def work(uow: UnitOfWork) -> dict[str, Money]:
        grants = _require(uow, actor, "view", RECEIPT)
        _viewable_customer(uow, grants, customer_id)
        credit: dict[str, Money] = {}
        for receipt in _credit_receipts(uow, customer_id, None):
            current = credit.get(receipt.currency, Money.zero(receipt.currency))
            credit[receipt.currency] = current + receipt.unallocated
        return credit

    return guarded(crm, actor, work)


def apply_credit(
    crm: Crm,
    actor: Actor,
    customer_id: UUID,
    *,
    currency: str,
    idempotency_key: str,
    on: date | None = None,
) -> list[LedgerEntry]:
    """Apply a customer's credit (unallocated money, oldest receipt first) to open
    installments, oldest due first.

    Only receipts the actor may ``allocate`` are drawn on (a rep applies the money they
    recorded; a clerk with a tenant-wide grant applies all of it).

    Returns:
        The allocation entries written (none when there is no credit or nothing open).

    Raises:
        NotFound: no such customer.
        PermissionDenied: the actor may not allocate receipts, or may not view the customer.
        IdempotencyConflict: the key was used for a different request.
    """
    on = None if on is None else to_date(on, entity="allocation", field="on")
    payload = {"customer_id": customer_id, "currency": currency, "on": on}

    def body(uow: UnitOfWork, post: Post) -> tuple[list[LedgerEntry], list[UUID]]:
        entries: list[LedgerEntry] = []
        day = on or crm.now().date()
        grants = grants_for(uow, actor)
        _viewable_customer(uow, grants, customer_id)
        mine = grants.scope("allocate", RECEIPT)
        for receipt in _credit_receipts(uow, customer_id, currency, mine):
            plan = _plan_allocation(uow, receipt, None, receipt.unallocated)
            if not plan:
                break
            entries += _allocate(uow, crm, post, receipt, plan, day)
        return entries, [e.id for e in entries]

    return _money_command(
        crm,
        actor,
        "apply_credit",
        idempotency_key,
        payload,
        body,
        _entries_by_id,
        access=("allocate", RECEIPT),
    )
