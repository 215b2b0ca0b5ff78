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

from typing import TYPE_CHECKING

from crmkit.customers.queries import exports as _exports
from crmkit.customers.queries import merges as _merges
from crmkit.customers.queries import search_all as _search_all
from crmkit.customers.queries import search_ranking as _search_ranking
from crmkit.customers.queries import search_routes as _search_routes
from crmkit.customers.queries import search_text as _search_text
from crmkit.customers.queries import view as _view
from crmkit.customers.queries.exports import *  # noqa: F403
from crmkit.customers.queries.merges import *  # noqa: F403
from crmkit.customers.queries.search_all import *  # noqa: F403
from crmkit.customers.queries.search_ranking import *  # noqa: F403
from crmkit.customers.queries.search_routes import *  # noqa: F403
from crmkit.customers.queries.search_text import *  # noqa: F403
from crmkit.customers.queries.view import *  # noqa: F403

# mypy reads the star imports above (it cannot follow an __all__ built from other
# modules' lists, and would then hide every name); the interpreter gets the list.
if not TYPE_CHECKING:
    __all__ = [
        *_exports.__all__,
        *_merges.__all__,
        *_search_all.__all__,
        *_search_ranking.__all__,
        *_search_routes.__all__,
        *_search_text.__all__,
        *_view.__all__,
    ]
