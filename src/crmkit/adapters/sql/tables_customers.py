"""Tables of the customers area beyond the customer master (migration branch ``customers``).

The ``customers`` table itself is mapped in :mod:`crmkit.adapters.sql.tables`; its
pool and recycle-bin columns come from the ``Customer`` fields, and the indexes the
pool scan, the pool list and the recycle bin use are declared here.
"""

from __future__ import annotations

import sqlalchemy as sa

from crmkit.adapters.sql.mapping import map_entity
from crmkit.adapters.sql.tables import metadata, register
from crmkit.customers.model import CustomerRelation
from crmkit.customers.model.contacts import Contact
from crmkit.customers.model.custom_fields import CustomFieldDefinition
from crmkit.customers.model.history import ChangeRecord
from crmkit.customers.model.merge import MergeRecord
from crmkit.customers.model.pool import AssignmentRule, Holding, PoolPolicy

__all__ = [
    "ASSIGNMENT_RULES",
    "CHANGE_RECORDS",
    "CONTACTS",
    "CUSTOM_FIELDS",
    "HOLDINGS",
    "MERGES",
    "POOL_POLICIES",
    "RELATIONS",
]

_customers = metadata.tables["customers"]
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

CONTACTS = register(
    map_entity(
        Contact,
        "customer_contacts",
        metadata,
        indexes=[
            ("customer_id",),
            ("owner_id",),
            ("name",),  # the search box: characters typed match a prefix of the name
            ("pinyin_full",),
            ("pinyin_initials",),
            ("phone_key",),
            ("birthday_md",),
        ],
    )
)
CHANGE_RECORDS = register(
    map_entity(
        ChangeRecord,
        "customer_history",
        metadata,
        indexes=[("customer_id", "changed_at"), ("user_id", "changed_at")],
    )
)
RELATIONS = register(
    map_entity(
        CustomerRelation,
        "customer_relations",
        metadata,
        indexes=[("from_id", "kind"), ("to_id", "kind")],
    )
)
POOL_POLICIES = register(map_entity(PoolPolicy, "customer_pool_policies", metadata))
HOLDINGS = register(map_entity(Holding, "customer_holdings", metadata))
ASSIGNMENT_RULES = register(
    map_entity(AssignmentRule, "customer_assignment_rules", metadata, indexes=[("priority",)])
)

# Merge records (migration 0012): what each merge moved, so it can be undone.
MERGES = register(
    map_entity(MergeRecord, "customer_merges", metadata, indexes=[("survivor_id", "merged_at")])
)

# Custom field definitions (migration 0014); the values live in ``customers.custom`` (JSON),
# filtered through JSON extraction (see ``crmkit.adapters.sql.compile.JsonPath``).
CUSTOM_FIELDS = register(
    map_entity(
        CustomFieldDefinition,
        "custom_field_definitions",
        metadata,
        indexes=[("entity", "position")],
        unique=[("entity", "key")],
    )
)
