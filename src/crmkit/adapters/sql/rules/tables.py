"""Tables of the permissions area (migration branch ``permissions``).

Policy objects are aggregates mapped like any other; grants and field rules live
inside their role as JSON because a role is read and written as a whole. The
customers table gains an index on ``department_id`` so department scopes filter
through an index as owner scopes already do.
"""

from __future__ import annotations

import sqlalchemy as sa

from crmkit.adapters.sql.mapping import map_entity
from crmkit.adapters.sql.tables import mapping_for, metadata, register
from crmkit.customers.model import Customer
from crmkit.rules.permissions.model import (
    Denial,
    Department,
    Member,
    OwnershipTransfer,
    PolicyEpoch,
    RecordShare,
    Role,
    SharingRule,
)

__all__ = [
    "DENIALS",
    "DEPARTMENTS",
    "MEMBERS",
    "OWNERSHIP_TRANSFERS",
    "POLICY_EPOCHS",
    "RECORD_SHARES",
    "ROLES",
    "SHARING_RULES",
]

DEPARTMENTS = register(map_entity(Department, "departments", metadata, indexes=[("parent_id",)]))
MEMBERS = register(
    map_entity(Member, "members", metadata, indexes=[("department_id",), ("manager_id",)])
)
ROLES = register(map_entity(Role, "roles", metadata, unique=[("code",)]))
RECORD_SHARES = register(
    map_entity(
        RecordShare,
        "record_shares",
        metadata,
        indexes=[("grantee_kind", "grantee"), ("resource", "record_id")],
    )
)
SHARING_RULES = register(map_entity(SharingRule, "sharing_rules", metadata))
OWNERSHIP_TRANSFERS = register(
    map_entity(
        OwnershipTransfer,
        "ownership_transfers",
        metadata,
        indexes=[("resource", "record_id", "transferred_at")],
    )
)
DENIALS = register(
    map_entity(Denial, "permission_denials", metadata, indexes=[("at",), ("user_id", "at")])
)
POLICY_EPOCHS = register(map_entity(PolicyEpoch, "policy_epochs", metadata))

_customers = mapping_for(Customer).table
sa.Index("ix_customers_department_id", _customers.c.tenant_id, _customers.c.department_id)
