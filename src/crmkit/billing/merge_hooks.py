"""Billing records follow a customer merge.

When duplicates are merged (:func:`crmkit.customers.services.merge.merge_customers`), the
receivable and payable plans, their installments, receipts, refunds and invoices
of the merged customers move to the survivor, and come back on
:func:`crmkit.customers.services.merge.undo_merge`. Registered when :mod:`crmkit.billing` is
imported.

Ledger entries do not move: they are hash-chained facts that are never rewritten,
so they keep naming the counterparty of the day (the merge record links the two).
"""

from __future__ import annotations

from crmkit.billing.model.invoices import Invoice
from crmkit.billing.model.plans import Installment, Plan
from crmkit.billing.model.receipts import Receipt, Refund
from crmkit.customers.services.merge_parts import register_merge_part, repoint_part

__all__: list[str] = []

for _name, _entity in (
    ("plans", Plan),
    ("installments", Installment),
    ("receipts", Receipt),
    ("refunds", Refund),
    ("invoices", Invoice),
):
    register_merge_part(f"billing.{_name}", *repoint_part(_entity))
