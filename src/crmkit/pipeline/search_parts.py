"""Leads and opportunities in the global search box.

:func:`crmkit.customers.search_all.global_search` searches the kinds areas register;
importing :mod:`crmkit.pipeline` registers two: ``lead`` (by the lead's name or
company) and ``opportunity`` (by the deal's name). Both match a prefix of the stored
name, as typed and in title case (``acme`` finds "Acme Trading"), each within the
actor's ``view`` scope on leads or opportunities. The customers area does not know
this area exists.
"""

from __future__ import annotations

from crmkit.customers.search_all import (
    SearchHit,
    prefix_variants,
    register_search_part,
    searchable,
)
from crmkit.kernel.query import Expr, F, Order, Query, or_
from crmkit.pipeline.model.leads import Lead
from crmkit.pipeline.model.opportunities import Opportunity
from crmkit.pipeline.services import DEALS, LEADS
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions.evaluator import Grants

__all__: list[str] = []


def _prefix(fields: tuple[str, ...], text: str) -> Expr:
    return or_(*(F(f).startswith(v) for f in fields for v in prefix_variants(text)))


def _search_leads(uow: UnitOfWork, grants: Grants, text: str, limit: int) -> list[SearchHit]:
    where = _prefix(("name", "company"), text)
    if not searchable(grants, LEADS, where, shown=("name",)):
        return []
    query = Query(where=where, order_by=(Order("name"), Order("id")), limit=limit)
    found = uow.repository(Lead).query(grants.restrict(query, "view", LEADS))
    return [SearchHit("lead", lead.id, lead.name, lead.customer_id) for lead in found]


def _search_opportunities(
    uow: UnitOfWork, grants: Grants, text: str, limit: int
) -> list[SearchHit]:
    where = _prefix(("name",), text)
    if not searchable(grants, DEALS, where):
        return []
    query = Query(where=where, order_by=(Order("name"), Order("id")), limit=limit)
    found = uow.repository(Opportunity).query(grants.restrict(query, "view", DEALS))
    return [SearchHit("opportunity", deal.id, deal.name, deal.customer_id) for deal in found]


register_search_part("lead", _search_leads)
register_search_part("opportunity", _search_opportunities)
