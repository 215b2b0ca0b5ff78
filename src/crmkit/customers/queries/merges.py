"""Looking merges up: the merges a customer took part in, and where a merged one went.

A link to a customer merged away (a bookmark, an old export) is redirected with
:func:`merged_into`; :func:`list_merges` shows what a merge did, for the undo button.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import attrs

from crmkit.crm import Crm
from crmkit.customers.model.customer import Customer
from crmkit.customers.model.history import ChangeRecord
from crmkit.customers.model.merge import MergeRecord
from crmkit.customers.queries._readers import RESOURCE
from crmkit.kernel.actor import Actor
from crmkit.kernel.ids import UserId
from crmkit.kernel.query import F, Query
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import grants_for, guarded

__all__ = [
    "MergeSummary",
    "list_merges",
    "merged_into",
]

# -- looking merges up ------------------------------------------------------------------------


@attrs.frozen
class MergeSummary:
    """One merge, as :func:`list_merges` shows it.

    Attributes:
        merge_id: the id :func:`undo_merge` takes.
        survivor_id: the customer that remained.
        merged_ids: the customers folded into it.
        merged_at, merged_by: when and by whom.
        undone_at, undone_by: set once the merge was undone.
        moved: how many rows each part moved (``{"customers.contacts": 2, ...}``).
    """

    merge_id: UUID
    survivor_id: UUID
    merged_ids: tuple[UUID, ...]
    merged_at: datetime
    merged_by: UserId | None
    undone_at: datetime | None
    undone_by: UserId | None
    moved: dict[str, int]

    @classmethod
    def of(cls, record: MergeRecord) -> MergeSummary:
        moved: dict[str, int] = {}
        for item in record.moved:
            moved[item.part] = moved.get(item.part, 0) + 1
        return cls(
            record.id,
            record.survivor_id,
            record.merged_ids,
            record.merged_at,
            record.merged_by,
            record.undone_at,
            record.undone_by,
            moved,
        )


def _merges_of(uow: UnitOfWork, customer_id: UUID) -> list[MergeRecord]:
    # As survivor, through the indexed survivor_id; as a merged customer, through the
    # merge_id row every merge writes into the history of each customer it touched.
    records = uow.repository(MergeRecord)
    found = {r.id: r for r in records.query(Query(where=F("survivor_id").eq(customer_id)))}
    rows = uow.repository(ChangeRecord).query(
        Query(
            where=F("customer_id").eq(customer_id)
            & F("action").eq("merge")
            & F("field").eq("merge_id")
        )
    )
    for row in rows:
        merge_id = UUID(row.new_value) if row.new_value else None
        if merge_id is not None and merge_id not in found:
            record = records.find(merge_id)
            if record is not None:
                found[record.id] = record
    return sorted(found.values(), key=lambda r: (r.merged_at, r.id), reverse=True)


def list_merges(crm: Crm, actor: Actor, customer_id: UUID) -> list[MergeSummary]:
    """The merges a customer took part in, as survivor or as merged customer, newest first.

    A customer merged away sits in the recycle bin; the actor needs ``view`` on it (its
    owner and department stay what they were).

    Raises:
        NotFound: no such customer (purged ones included).
        PermissionDenied: the actor may not view the customer.
    """

    def work(uow: UnitOfWork) -> list[MergeSummary]:
        grants = grants_for(uow, actor)
        grants.require("view", uow.repository(Customer).get(customer_id), RESOURCE)
        return [MergeSummary.of(record) for record in _merges_of(uow, customer_id)]

    return guarded(crm, actor, work)


def merged_into(crm: Crm, actor: Actor, customer_id: UUID) -> UUID | None:
    """Where a customer that was merged away lives on: its survivor, following later merges.

    A host holding an old link to a merged customer (a bookmark, an email, a record of
    another system) calls this to redirect to the customer that now carries its
    contacts, deals and history. ``None`` when the customer was not merged away (or the
    merge was undone).

    Raises:
        NotFound: no such customer.
        PermissionDenied: the actor may not view the customer or the survivor.
    """

    def work(uow: UnitOfWork) -> UUID | None:
        grants = grants_for(uow, actor)
        customers = uow.repository(Customer)
        current = customers.get(customer_id)
        grants.require("view", current, RESOURCE)
        seen = {current.id}
        while True:
            live = [
                r
                for r in _merges_of(uow, current.id)
                if r.undone_at is None and current.id in r.merged_ids
            ]
            if not live or current.deleted_at is None:
                break
            survivor = customers.get(live[0].survivor_id)
            if survivor.id in seen:  # merges never loop; refuse to spin if data says so
                break
            seen.add(survivor.id)
            current = survivor
        if current.id == customer_id:
            return None
        grants.require("view", current, RESOURCE)
        return current.id

    return guarded(crm, actor, work)
