"""Pipeline records follow a customer merge.

When duplicates are merged (:func:`crmkit.customers.services.merge.merge_customers`), the
leads, opportunities, quotes, contracts and sales orders of the merged customers
move to the survivor, and come back on :func:`crmkit.customers.services.merge.undo_merge`.
Registered when :mod:`crmkit.pipeline` is imported; the customers area does not
know this area exists.
"""

from __future__ import annotations

from crmkit.customers.services.merge_parts import register_merge_part, repoint_part
from crmkit.pipeline.model.contracts import Contract
from crmkit.pipeline.model.leads import Lead
from crmkit.pipeline.model.opportunities import Opportunity
from crmkit.pipeline.model.orders import SalesOrder
from crmkit.pipeline.model.quotes import Quote

__all__: list[str] = []

# A converted lead points at the customer it became; an open lead has no customer
# and is never matched by the move.
for _name, _entity in (
    ("leads", Lead),
    ("opportunities", Opportunity),
    ("quotes", Quote),
    ("contracts", Contract),
    ("orders", SalesOrder),
):
    register_merge_part(f"pipeline.{_name}", *repoint_part(_entity))
