"""The pipeline's parts of the customer 360 view.

:func:`crmkit.customers.customer_360` shows what areas register; importing
:mod:`crmkit.pipeline` adds the customer's leads, opportunities, quotes, contracts,
sales orders, activities and follow-up plans, newest first, each narrowed to the
actor's ``view`` scope on its own resource and left out for an actor without any
``view`` grant on it.
"""

from __future__ import annotations

from crmkit.customers.queries import records_of, register_360_part
from crmkit.kernel.query import Order
from crmkit.pipeline.model.activities import Activity, FollowUpPlan
from crmkit.pipeline.model.contracts import Contract
from crmkit.pipeline.model.leads import Lead
from crmkit.pipeline.model.opportunities import Opportunity
from crmkit.pipeline.model.orders import SalesOrder
from crmkit.pipeline.model.quotes import Quote
from crmkit.pipeline.services.activities import ACTIVITIES, PLANS
from crmkit.pipeline.services.leads import DEALS, LEADS
from crmkit.pipeline.services.quotes import CONTRACTS, ORDERS, QUOTES

__all__: list[str] = []

_NEWEST = (Order("created_at", descending=True), Order("id", descending=True))

register_360_part("leads", LEADS, records_of(Lead, LEADS, order_by=_NEWEST))
register_360_part("opportunities", DEALS, records_of(Opportunity, DEALS, order_by=_NEWEST))
register_360_part("quotes", QUOTES, records_of(Quote, QUOTES, order_by=_NEWEST))
register_360_part("contracts", CONTRACTS, records_of(Contract, CONTRACTS, order_by=_NEWEST))
register_360_part("orders", ORDERS, records_of(SalesOrder, ORDERS, order_by=_NEWEST))
register_360_part(
    "activities",
    ACTIVITIES,
    records_of(
        Activity,
        ACTIVITIES,
        order_by=(Order("occurred_at", descending=True), Order("id", descending=True)),
    ),
)
register_360_part(
    "follow_up_plans",
    PLANS,
    records_of(FollowUpPlan, PLANS, order_by=(Order("due_at"), Order("id"))),
)
