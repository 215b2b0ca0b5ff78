"""Merging duplicate customers: what a merge keeps so it can be undone.

A merge folds one or more *merged* customers into a *survivor* (see
:mod:`crmkit.customers.services.merge`). A :class:`MergeRecord` keeps every row a merge
moved (:class:`Moved`) and every survivor value it overwrote, so undoing it puts everything
back exactly as it was. Ownership is never merged (:data:`MERGEABLE_FIELDS`): a different
owner is a transfer, with its own holding limits and history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import attrs

from crmkit.customers.model.customer import SYSTEM_FIELDS, Customer, CustomerEvent
from crmkit.kernel.entity import Entity
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId, UserId

__all__ = [
    "CustomerMergeUndone",
    "CustomersMerged",
    "MergeRecord",
    "MergeResult",
    "Moved",
]

FIELD_LABELS = (N_("survivor_id"), N_("merged_ids"), N_("merged_into"), N_("merge_id"))

# Ownership is not merged: the survivor keeps its owner (a different owner is a
# transfer, with its own holding limits and history).
_NOT_MERGED = SYSTEM_FIELDS | {"owner_id", "department_id"}
MERGEABLE_FIELDS = tuple(f.name for f in attrs.fields(Customer) if f.name not in _NOT_MERGED)


@attrs.frozen
class Moved:
    """One row a merge changed, with what is needed to change it back.

    Attributes:
        part: the merge part that moved it (see :func:`register_merge_part`).
        id: the row's id.
        from_id: the customer it pointed at before the merge.
        data: other values the part changed or needs to undo (as text).
    """

    part: str
    id: UUID
    from_id: UUID
    data: dict[str, str | None] = attrs.field(factory=dict)


@attrs.define(eq=False)
class MergeRecord(Entity):
    """What one merge did, kept so it can be undone.

    Attributes:
        survivor_id: the customer that remained.
        merged_ids: the customers folded into it (now in the recycle bin).
        merged_at, merged_by: when and by whom.
        fields_before: the survivor's values the merge overwrote (plain data).
        moved: every row the merge re-pointed or dropped.
        undone_at, undone_by: set once the merge was undone.
    """

    entity_name = N_("customer_merge")

    id: UUID
    tenant_id: TenantId
    survivor_id: UUID
    merged_ids: tuple[UUID, ...]
    merged_at: datetime
    merged_by: UserId | None
    fields_before: dict[str, Any] = attrs.field(factory=dict)
    moved: tuple[Moved, ...] = ()
    undone_at: datetime | None = None
    undone_by: UserId | None = None
    version: int = 0


@attrs.frozen
class MergeResult:
    """What :func:`merge_customers` did.

    Attributes:
        merge_id: the id to pass to :func:`undo_merge`.
        survivor: the surviving customer, as the actor may see it.
        merged_ids: the customers now in the recycle bin.
        moved: how many rows each part moved (``{"customers.contacts": 2, ...}``).
    """

    merge_id: UUID
    survivor: Customer
    merged_ids: tuple[UUID, ...]
    moved: dict[str, int]


@attrs.frozen(kw_only=True)
class CustomersMerged(CustomerEvent):
    """Customers were merged into ``aggregate_id`` (the survivor)."""

    merge_id: UUID
    merged_ids: tuple[UUID, ...]


@attrs.frozen(kw_only=True)
class CustomerMergeUndone(CustomerEvent):
    """A merge into ``aggregate_id`` was undone; the merged customers are back."""

    merge_id: UUID
    merged_ids: tuple[UUID, ...]
