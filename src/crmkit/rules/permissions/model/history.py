"""History and bookkeeping: ownership changes, the audit log of refusals, the policy epoch."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import attrs

from crmkit.kernel.entity import Entity
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId, UserId
from crmkit.rules.permissions.model.org import _str_tuple

__all__ = ["Denial", "OwnershipTransfer", "PolicyEpoch"]


@attrs.define(eq=False)
class OwnershipTransfer(Entity):
    """A change of a record's owner, kept as history."""

    entity_name = N_("ownership_transfer")

    id: UUID
    tenant_id: TenantId
    resource: str
    record_id: UUID
    from_owner: UserId | None
    to_owner: UserId
    transferred_by: UserId
    transferred_at: datetime
    note: str = ""
    version: int = 0


@attrs.define(eq=False)
class Denial(Entity):
    """An audit-log entry: an operation the evaluator refused, with its reasons."""

    entity_name = N_("denial")

    id: UUID
    tenant_id: TenantId
    user_id: UserId
    operation: str
    resource: str
    at: datetime
    record_id: UUID | None = None
    field: str | None = None
    reasons: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    version: int = 0


@attrs.define(eq=False)
class PolicyEpoch(Entity):
    """One row per tenant that changes on every policy change.

    Compiled grants are cached under its ``token``; any change to departments,
    members, roles, shares or sharing rules saves the epoch in the same
    transaction, which both invalidates every cache entry of the tenant and
    serialises concurrent policy edits. The token is a fresh id per change rather
    than a counter: a counter value reached inside a transaction that then rolled
    back would be reached again by the next change, and grants compiled in the
    rolled-back transaction could be served under it.
    """

    entity_name = N_("policy")

    id: UUID  # equal to the tenant id
    tenant_id: TenantId
    token: UUID | None = None
    changes: int = 0
    version: int = 0
