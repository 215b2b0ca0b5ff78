"""Running a search: the first page of the records its routes match, best matches first.

Each route of a search text (see :mod:`crmkit.customers.queries.search_routes`) is read from
its own index range, and the pages are merged here: whole-name matches before those behind
the region, each group in pinyin order.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from typing import Any

from crmkit.customers.queries.search_routes import SearchRoute
from crmkit.kernel.query import And, Expr, Or, Order, Query, and_, or_
from crmkit.ports import Repository

__all__ = [
    "DENSE_ROUTE",
    "find_by_routes",
]

#: A route matching at least this many customers is read in ``pinyin_full`` order
#: (through its ``walk``) instead of being read whole and sorted.
DENSE_ROUTE = 1_000


def find_by_routes(
    repository: Repository[Any],
    scope: Expr,
    routes: Iterable[SearchRoute],
    *,
    limit: int,
    dense: int = DENSE_ROUTE,
) -> list[Any]:
    """The first ``limit`` records matching any route, within ``scope``.

    Records whose whole name matches come first, then those matching behind their
    region (``huawei`` finds 华为云 before 北京华为); each group in pinyin order.

    One query per route, each with its own limit, merged here: a single query with all
    routes OR-ed together makes a store read every match of every route and sort them
    before it can stop, which for a broad entry (``wh``, ``beijing``, ``北京``) is tens of
    thousands of rows at a million customers. Each route instead reads its matches from
    its own index range and sorts them (``Query.selective``) or, when a bounded count
    says it is dense, walks the ``pinyin_full`` index in order and stops after ``limit``
    matches. The routes behind the region are read only when the whole-name ones leave
    the page short.

    Args:
        repository: customers (or any records with ``pinyin_full`` and ``id``).
        scope: what else every hit must meet (not in the recycle bin, the actor's view).
        routes: from :func:`search_routes`.
        limit: the most records to return.
        dense: how many matches make a route walk the pinyin index instead.
    """
    order = (Order("pinyin_full"), Order("id"))
    page: list[Any] = []
    for behind in (False, True):
        wanted = limit - len(page)
        # Behind the region, what the whole name found is left out here rather than in
        # the filter (``id NOT IN page``): the statement then keeps one shape whatever the
        # page holds, so it is kept and run straight on the driver (an IN list is
        # rendered per execution), for at most ``len(page)`` more rows read.
        most = wanted + len(page)
        seen = {r.id for r in page}
        found: dict[Any, Any] = {}
        for route in routes:
            if route.behind_region != behind:
                continue
            # Several narrow ranges are each read from their index with the scope
            # beside them (see _within).
            query = Query(_within(scope, route.where), order, most, selective=not route.ordered)
            if route.walk is None:
                records = repository.query(query)
            else:
                walk = Query(and_(scope, route.walk, route.where), order, most)
                records = repository.query_by_count(route.where, dense, query, walk)
            for record in records:
                if record.id not in seen:
                    found[record.id] = record
        page += sorted(found.values(), key=lambda r: (r.pinyin_full, r.id))[:wanted]
        if len(page) >= limit:
            break
    return page


def _within(scope: Expr, where: Expr) -> Expr:
    """``scope`` and ``where``, with ``scope`` inside each branch when ``where`` is an OR.

    Each branch of a route's OR is a narrow range of one index; with the scope repeated
    in every branch, a store reads each range from its index and unites them (SQLite
    does so only for an OR at the top of the filter) instead of scanning the tenant.

    The filter made is kept for the same parts (see :data:`_WITHIN`).
    """
    parts = (*(scope.items if isinstance(scope, And) else (scope,)), where)
    key = tuple(map(id, parts))
    kept = _WITHIN.get(key)
    if kept is not None and all(map(operator.is_, kept[0], parts)):
        return kept[1]
    if isinstance(where, Or):
        made = or_(*(and_(scope, branch) for branch in where.items))
    else:
        made = and_(scope, where)
    if len(_WITHIN) >= _WITHIN_KEPT:
        _WITHIN.clear()
    _WITHIN[key] = (parts, made)
    return made


# The filters _within made, by the identity of their parts: the route's filter (kept
# per text, see _routes_of) and the parts of the scope (the actor's compiled grants and
# the service's base condition, the same objects from one search to the next). Handing
# a store the very filter it saw before lets it find the statement and the values at
# once (see crmkit.adapters.sql.compile.parameterize) instead of walking a hundred
# conditions again. An entry holds its parts, so their ids are not reused while it lives.
_WITHIN: dict[tuple[int, ...], tuple[tuple[Expr, ...], Expr]] = {}
_WITHIN_KEPT = 1024
