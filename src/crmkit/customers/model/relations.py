"""Relations between customers: a group and its subsidiaries, branches, partners.

A customer may belong to a parent (集团 and 子公司, 总部 and 分公司); the parent links form a
forest, never a cycle (:func:`would_make_cycle`). Other kinds (partner, ...) link two
customers without a hierarchy.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs

from crmkit.kernel.entity import Entity
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.invalid import invalid

__all__ = [
    "CustomerRelation",
    "RelationKind",
    "would_make_cycle",
]


class RelationKind(enum.Enum):
    """How one customer relates to another (read: ``from`` is the ``kind`` of ``to``).

    ``PARENT`` is the group hierarchy: ``from`` is the parent company of ``to``.
    A subsidiary relation is stored as the parent relation the other way round, so
    the hierarchy has one kind of edge and one place to look for cycles.
    """

    PARENT = "parent"
    PARTNER = "partner"
    COMPETITOR = "competitor"
    CHANNEL = "channel"
    SUPPLIER = "supplier"


@attrs.define(eq=False)
class CustomerRelation(Entity):
    """A relation between two customers of one tenant.

    Attributes:
        from_id, to_id: the two customers (``from`` is the parent / partner / competitor
            / channel / supplier of ``to``).
        kind: the relation kind.
        note: free text.
        created_at, created_by: when and by whom it was entered.
    """

    entity_name = N_("customer_relation")

    id: UUID
    tenant_id: TenantId
    from_id: UUID
    to_id: UUID
    kind: RelationKind = attrs.field(converter=RelationKind)
    created_at: datetime
    created_by: UserId | None = None
    note: str | None = None
    version: int = 0

    def __attrs_post_init__(self) -> None:
        if self.from_id == self.to_id:
            raise invalid(
                "customer_relation", "to_id", N_("a customer cannot be related to itself")
            )


def would_make_cycle(parent_id: UUID, child_id: UUID, parent_of: Any) -> bool:
    """Whether making ``parent_id`` the parent of ``child_id`` closes a loop.

    Args:
        parent_of: ``callable(customer_id) -> parent id or None`` reading the current
            hierarchy (each company has at most one parent).

    Returns:
        True when ``child_id`` is ``parent_id`` itself or one of its ancestors.
    """
    seen: set[UUID] = set()
    current: UUID | None = parent_id
    while current is not None and current not in seen:
        if current == child_id:
            return True
        seen.add(current)
        current = parent_of(current)
    return False
