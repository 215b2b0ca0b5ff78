"""Tables of the customers area (migration branch ``customers``).

The customer master and the tables around it: contacts, history, relations, the
pool, merges and custom field definitions. The ``customers`` table's pool and
recycle-bin columns come from the ``Customer`` fields; the indexes the pool scan,
the pool list and the recycle bin use are declared here.
"""

from __future__ import annotations

import sqlalchemy as sa

from crmkit.adapters.sql.mapping import Mapping, map_entity
from crmkit.adapters.sql.metadata import metadata
from crmkit.customers.model import Customer, CustomerRelation
from crmkit.customers.model.contacts import PHONE_KEY_FIELDS, Contact
from crmkit.customers.model.custom_fields import CustomFieldDefinition
from crmkit.customers.model.history import ChangeRecord
from crmkit.customers.model.merge import MergeRecord
from crmkit.customers.model.pool import AssignmentRule, Holding, PoolPolicy

__all__ = [
    "ASSIGNMENT_RULES",
    "CHANGE_RECORDS",
    "CONTACTS",
    "CUSTOMERS",
    "CUSTOM_FIELDS",
    "HOLDINGS",
    "MAPPINGS",
    "MERGES",
    "POOL_POLICIES",
    "RELATIONS",
]

CUSTOMERS = map_entity(
    Customer,
    "customers",
    metadata,
    indexes=[
        ("owner_id",),
        ("name",),
        ("created_at",),
        ("last_activity_at",),
        # Search, duplicate and caller-ID keys (crmkit.customers.model.search_keys / .phones):
        # prefix and equality lookups answered by these B-trees.
        ("name_key",),
        # pinyin_initials rides along so a search walking names in pinyin order checks
        # the initials in the index, reading only the rows that match.
        ("pinyin_full", "pinyin_initials"),
        ("pinyin_initials",),
        ("short_full",),
        ("short_initials",),
        ("letter", "pinyin_full"),
        ("phone_key",),
        ("tax_id",),  # one company, one tax id: found by equality wherever typed
    ],
)

_customers = CUSTOMERS.table
# The pool list and holding counts: customers by owner and state.
sa.Index(
    "ix_customers_pool_state_owner_id",
    _customers.c.tenant_id,
    _customers.c.pool_state,
    _customers.c.owner_id,
)
# The return-to-pool scan walks working customers by when their owner got them.
sa.Index(
    "ix_customers_pool_state_owned_since",
    _customers.c.tenant_id,
    _customers.c.pool_state,
    _customers.c.owned_since,
)
sa.Index("ix_customers_deleted_at", _customers.c.tenant_id, _customers.c.deleted_at)

CONTACTS = map_entity(
    Contact,
    "customer_contacts",
    metadata,
    indexes=[
        ("customer_id",),
        ("owner_id",),
        ("name",),  # the search box: characters typed match a prefix of the name
        ("pinyin_full",),
        ("pinyin_initials",),
        # One caller-ID key per phone slot (crmkit.customers.model.contacts.PHONE_KEY_FIELDS).
        *((field,) for field in PHONE_KEY_FIELDS),
        ("birthday_md",),
    ],
)
CHANGE_RECORDS = map_entity(
    ChangeRecord,
    "customer_history",
    metadata,
    indexes=[("customer_id", "changed_at"), ("user_id", "changed_at")],
)
RELATIONS = map_entity(
    CustomerRelation,
    "customer_relations",
    metadata,
    indexes=[("from_id", "kind"), ("to_id", "kind")],
)
POOL_POLICIES = map_entity(PoolPolicy, "customer_pool_policies", metadata)
HOLDINGS = map_entity(Holding, "customer_holdings", metadata)
ASSIGNMENT_RULES = map_entity(
    AssignmentRule, "customer_assignment_rules", metadata, indexes=[("priority",)]
)

# Merge records (migration 0012): what each merge moved, so it can be undone.
MERGES = map_entity(
    MergeRecord, "customer_merges", metadata, indexes=[("survivor_id", "merged_at")]
)

# Custom field definitions (migration 0014); the values live in ``customers.custom`` (JSON),
# filtered through JSON extraction (see ``crmkit.adapters.sql.compile.JsonPath``).
CUSTOM_FIELDS = map_entity(
    CustomFieldDefinition,
    "custom_field_definitions",
    metadata,
    indexes=[("entity", "position")],
    unique=[("entity", "key")],
)

#: Every mapping of this area, for :mod:`crmkit.adapters.sql.tables` to register.
MAPPINGS: tuple[Mapping, ...] = (
    CUSTOMERS,
    CONTACTS,
    CHANGE_RECORDS,
    RELATIONS,
    POOL_POLICIES,
    HOLDINGS,
    ASSIGNMENT_RULES,
    MERGES,
    CUSTOM_FIELDS,
)
