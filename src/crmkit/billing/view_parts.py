"""Billing's parts of the customer 360 view: receivable installments and receipts.

Importing :mod:`crmkit.billing` adds them to :func:`crmkit.customers.customer_360`:
the customer's installments by due date (what is owed and when; paid and outstanding
on each) and its receipts, newest first, each narrowed to the actor's ``view`` scope
on ``installment`` / ``receipt`` and left out for an actor without such a grant.
"""

from __future__ import annotations

from crmkit.billing.model.plans import Installment
from crmkit.billing.model.receipts import Receipt
from crmkit.billing.services._frame import INSTALLMENT, RECEIPT
from crmkit.customers.queries import records_of, register_360_part
from crmkit.kernel.query import Order

__all__: list[str] = []

register_360_part(
    "installments",
    INSTALLMENT,
    records_of(Installment, INSTALLMENT, order_by=(Order("due_date"), Order("seq"), Order("id"))),
)
register_360_part(
    "receipts",
    RECEIPT,
    records_of(
        Receipt,
        RECEIPT,
        order_by=(Order("received_on", descending=True), Order("id", descending=True)),
    ),
)
