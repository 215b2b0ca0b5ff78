"""Leads and opportunities in the global search box.

:func:`crmkit.customers.queries.search_all.global_search` searches the kinds areas register;
importing :mod:`crmkit.pipeline` registers two: ``lead`` (by the lead's name, its
company or its phone) and ``opportunity`` (by the deal's name). Letters match the
stored pinyin keys (``huaxia`` and ``hx`` find 华夏物流; a Latin name is kept whole,
so ``acme`` finds "Acme Trading"), characters a prefix of the name (a lead's company
too, normalised like a customer's name), each within the actor's ``view`` scope on
leads or opportunities and in pinyin order. The customers area does not know this
area exists.
"""

from __future__ import annotations

from crmkit.customers.model.names import normalize_name
from crmkit.customers.queries.search_all import (
    SearchHit,
    name_query,
    searchable,
)
from crmkit.kernel.query import Order, Query
from crmkit.pipeline.model.leads import Lead
from crmkit.pipeline.model.opportunities import Opportunity
from crmkit.pipeline.model.resources import DEALS, LEADS
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions.evaluator import Grants

__all__ = [
    "search_leads",
    "search_opportunities",
]


_ORDER = (Order("pinyin_full"), Order("id"))


def search_leads(uow: UnitOfWork, grants: Grants, text: str, limit: int) -> list[SearchHit]:
    """Leads whose name, company or phone match ``text``, in the actor's ``view`` scope."""
    where = name_query(text, keyed=(("name", str), ("name_key", normalize_name)))
    # The keys spell the company when there is one: hiding it hides the lead from search.
    if not searchable(grants, LEADS, where, shown=("name", "company")):
        return []
    query = Query(where=where, order_by=_ORDER, limit=limit)
    found = uow.repository(Lead).query(grants.restrict(query, "view", LEADS))
    return [SearchHit("lead", lead.id, lead.name, lead.customer_id) for lead in found]


def search_opportunities(uow: UnitOfWork, grants: Grants, text: str, limit: int) -> list[SearchHit]:
    """Opportunities whose name matches ``text``, in the actor's ``view`` scope."""
    where = name_query(text, phone_field=None)
    if not searchable(grants, DEALS, where, shown=("name",)):
        return []
    query = Query(where=where, order_by=_ORDER, limit=limit)
    found = uow.repository(Opportunity).query(grants.restrict(query, "view", DEALS))
    return [SearchHit("opportunity", deal.id, deal.name, deal.customer_id) for deal in found]
