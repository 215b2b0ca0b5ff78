"""The customers domain, pure: one module per concept (each opens with what it is).

- :mod:`.customer` — the customer master record, its addresses and events;
- :mod:`.relations` — group hierarchy and other links between customers;
- :mod:`.contacts` — the people at a customer;
- :mod:`.pool` — the public pool (公海) lifecycle machine, its policy and assignment rules;
- :mod:`.custom_fields`, :mod:`.custom_values`, :mod:`.custom_query` — fields a tenant
  adds: their definitions, the values a record carries, and filters on them;
- :mod:`.identifiers`, :mod:`.phones` — tax ids, e-mail addresses and phone numbers;
- :mod:`.names`, :mod:`.dedup` — one normal form for names, and duplicate detection;
- :mod:`.search_keys` — the pinyin keys and A–Z letter stored with each name;
- :mod:`.history` — the field-by-field change history;
- :mod:`.merge` — what a merge of duplicates keeps so it can be undone;
- :mod:`.transfer`, :mod:`.cells` — the import/export file format.

Each module's ``__all__`` is its public part; this package re-exports them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmkit.customers.model import cells as _cells
from crmkit.customers.model import contacts as _contacts
from crmkit.customers.model import custom_fields as _custom_fields
from crmkit.customers.model import custom_query as _custom_query
from crmkit.customers.model import custom_values as _custom_values
from crmkit.customers.model import customer as _customer
from crmkit.customers.model import dedup as _dedup
from crmkit.customers.model import history as _history
from crmkit.customers.model import identifiers as _identifiers
from crmkit.customers.model import merge as _merge
from crmkit.customers.model import names as _names
from crmkit.customers.model import phones as _phones
from crmkit.customers.model import pool as _pool
from crmkit.customers.model import relations as _relations
from crmkit.customers.model import search_keys as _search_keys
from crmkit.customers.model import transfer as _transfer
from crmkit.customers.model.cells import *  # noqa: F403
from crmkit.customers.model.contacts import *  # noqa: F403
from crmkit.customers.model.custom_fields import *  # noqa: F403
from crmkit.customers.model.custom_query import *  # noqa: F403
from crmkit.customers.model.custom_values import *  # noqa: F403
from crmkit.customers.model.customer import *  # noqa: F403
from crmkit.customers.model.dedup import *  # noqa: F403
from crmkit.customers.model.history import *  # noqa: F403
from crmkit.customers.model.identifiers import *  # noqa: F403
from crmkit.customers.model.merge import *  # noqa: F403
from crmkit.customers.model.names import *  # noqa: F403
from crmkit.customers.model.phones import *  # noqa: F403
from crmkit.customers.model.pool import *  # noqa: F403
from crmkit.customers.model.relations import *  # noqa: F403
from crmkit.customers.model.search_keys import *  # noqa: F403
from crmkit.customers.model.transfer import *  # noqa: F403

# mypy reads the star imports above (it cannot follow an __all__ built from other
# modules' lists, and would then hide every name); the interpreter gets the list.
if not TYPE_CHECKING:
    __all__ = [
        *_cells.__all__,
        *_contacts.__all__,
        *_custom_fields.__all__,
        *_custom_query.__all__,
        *_custom_values.__all__,
        *_customer.__all__,
        *_dedup.__all__,
        *_history.__all__,
        *_identifiers.__all__,
        *_merge.__all__,
        *_names.__all__,
        *_phones.__all__,
        *_pool.__all__,
        *_relations.__all__,
        *_search_keys.__all__,
        *_transfer.__all__,
    ]
