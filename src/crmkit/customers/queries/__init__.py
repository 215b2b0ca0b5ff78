"""Customer read models: the 360 view, searches, merge look-ups and exports.

- :mod:`.view` — :func:`customer_360` and the parts other areas register for it;
- :mod:`.search_text`, :mod:`.search_routes`, :mod:`.search_ranking` — a search box
  entry read as pinyin, turned into index routes, and run for the first page;
- :mod:`.search_all` — the global search over every kind areas register;
- :mod:`.merges` — the merges a customer took part in, and where a merged one went;
- :mod:`.exports` — the customer file and its import template.

Reads go through the scoped readers of :mod:`._readers` (the actor's view scope, field
rules, the recycle bin), which the use cases in :mod:`crmkit.customers.services` share.
"""

from __future__ import annotations

from crmkit.customers.queries.exports import (
    Sheet,
    export_customers,
    import_template,
)
from crmkit.customers.queries.merges import (
    MergeSummary,
    list_merges,
    merged_into,
)
from crmkit.customers.queries.search_all import (
    SearchHit,
    SearchPart,
    SearchResults,
    global_search,
    name_query,
    prefix_variants,
    register_search_part,
    searchable,
)
from crmkit.customers.queries.search_ranking import (
    DENSE_ROUTE,
    find_by_routes,
)
from crmkit.customers.queries.search_routes import (
    SearchRoute,
    pinyin_query,
    search_customers_query,
    search_routes,
)
from crmkit.customers.queries.search_text import (
    MAX_INITIALS_RANGES,
    MAX_READINGS,
    MAX_SEARCH_TEXT,
    MAX_SEGMENTED_LETTERS,
    check_search_text,
    search_readings,
)
from crmkit.customers.queries.view import (
    PART_LIMIT,
    Customer360,
    PartLoader,
    customer_360,
    records_of,
    register_360_part,
)

__all__ = [
    "DENSE_ROUTE",
    "MAX_INITIALS_RANGES",
    "MAX_READINGS",
    "MAX_SEARCH_TEXT",
    "MAX_SEGMENTED_LETTERS",
    "PART_LIMIT",
    "Customer360",
    "MergeSummary",
    "PartLoader",
    "SearchHit",
    "SearchPart",
    "SearchResults",
    "SearchRoute",
    "Sheet",
    "check_search_text",
    "customer_360",
    "export_customers",
    "find_by_routes",
    "global_search",
    "import_template",
    "list_merges",
    "merged_into",
    "name_query",
    "pinyin_query",
    "prefix_variants",
    "records_of",
    "register_360_part",
    "register_search_part",
    "search_customers_query",
    "search_readings",
    "search_routes",
    "searchable",
]
