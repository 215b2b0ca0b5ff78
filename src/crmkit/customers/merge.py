"""Merging duplicate customers, and undoing a merge.

Two records for one company happen: two reps entered it, an import ran twice, a
lead was converted next to an existing customer. :func:`merge_customers` folds one
or more of them (the *merged* customers) into a *survivor*, in one transaction:

* the survivor's fields take, per field, the value chosen by the caller, by default
  the survivor's own value, else the first non-empty value among the merged ones;
* contacts move to the survivor (the survivor's primary contact stays primary);
* relations are re-pointed at the survivor, dropping those that would relate it to
  itself or repeat a relation it already has, and refusing a loop in the group
  hierarchy (``HierarchyCycle``);
* change history moves too, so the survivor's history tells its whole story;
* records of other areas (opportunities, contracts, receivable plans, ...) move
  through the parts those areas register with :func:`register_merge_part` — the
  customers area never imports them;
* the merged customers go to the recycle bin (not purged), each with a
  ``merged_into`` entry in its history;
* a :class:`MergeRecord` keeps every moved row and every overwritten value, so
  :func:`undo_merge` can put everything back exactly as it was.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs

from crmkit.crm import Crm
from crmkit.customers.contacts import Contact
from crmkit.customers.custom_fields import CUSTOM, CustomValues
from crmkit.customers.errors import HierarchyCycle
from crmkit.customers.history import ChangeRecord, snapshot
from crmkit.customers.model import (
    SYSTEM_FIELDS,
    Customer,
    CustomerRelation,
    RelationKind,
    would_make_cycle,
)
from crmkit.customers.services import RESOURCE, _history, _live, _save, customer_reader
from crmkit.kernel.actor import Actor
from crmkit.kernel.converter import structure, to_instant, unstructure
from crmkit.kernel.errors import NotFound, ValidationError, reason
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.limits import expect_type
from crmkit.kernel.query import F, Order, Query
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import grants_for, guarded
from crmkit.rules.permissions.evaluator import Grants

__all__ = [
    "CustomerMergeUndone",
    "CustomersMerged",
    "MergePart",
    "MergeRecord",
    "MergeResult",
    "MergeSummary",
    "Moved",
    "list_merges",
    "merge_customers",
    "merged_into",
    "register_merge_part",
    "repoint_part",
    "undo_merge",
]

FIELD_LABELS = (N_("survivor_id"), N_("merged_ids"), N_("merged_into"), N_("merge_id"))

# Ownership is not merged: the survivor keeps its owner (a different owner is a
# transfer, with its own holding limits and history).
_NOT_MERGED = SYSTEM_FIELDS | {"owner_id", "department_id"}
MERGEABLE_FIELDS = tuple(f.name for f in attrs.fields(Customer) if f.name not in _NOT_MERGED)
_TYPES = typing.get_type_hints(Customer)


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


MoveFn = Callable[[UnitOfWork, Sequence[UUID], UUID], list[Moved]]
UndoFn = Callable[[UnitOfWork, Sequence[Moved]], None]


@attrs.frozen
class MergePart:
    """How one kind of record follows a merge: ``move`` it, and ``undo`` the move."""

    name: str
    move: MoveFn
    undo: UndoFn


_PARTS: dict[str, MergePart] = {}


def register_merge_part(name: str, move: MoveFn, undo: UndoFn) -> None:
    """Make records of another kind follow every merge (areas call this at import).

    Args:
        name: a unique name, stored with each moved row (``"pipeline.opportunities"``).
        move: ``move(uow, from_ids, to_id)`` re-points the records of the merged
            customers ``from_ids`` at the survivor ``to_id`` and returns what it changed.
        undo: ``undo(uow, moved)`` puts back the rows ``move`` returned, in the same
            transaction as the rest of the undo.
    """
    _PARTS[name] = MergePart(name, move, undo)


def repoint_part(entity: type[Any], field: str = "customer_id") -> tuple[MoveFn, UndoFn]:
    """The ``move``/``undo`` pair for records that point at a customer by one field.

    Args:
        entity: the stored entity type (an attrs class with ``id`` and ``version``).
        field: the field holding the customer id.

    Returns:
        ``(move, undo)`` for :func:`register_merge_part`; the part name is filled in
        when the part is registered, so it is read back from each :class:`Moved`.
    """

    def move(uow: UnitOfWork, from_ids: Sequence[UUID], to_id: UUID) -> list[Moved]:
        repo = uow.repository(entity)
        moved = []
        for row in repo.query(Query(where=F(field).is_in(list(from_ids)))):
            moved.append(Moved(part="", id=row.id, from_id=getattr(row, field)))
            setattr(row, field, to_id)
            repo.save(row)
        return moved

    def undo(uow: UnitOfWork, moved: Sequence[Moved]) -> None:
        repo = uow.repository(entity)
        for item in moved:
            row = repo.get(item.id)
            setattr(row, field, item.from_id)
            repo.save(row)

    return move, undo


@attrs.define(eq=False)
class MergeRecord:
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

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MergeRecord) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)


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
class CustomersMerged(DomainEvent):
    """Customers were merged into ``aggregate_id`` (the survivor)."""

    aggregate_type = "customer"

    merge_id: UUID
    merged_ids: tuple[UUID, ...]


@attrs.frozen(kw_only=True)
class CustomerMergeUndone(DomainEvent):
    """A merge into ``aggregate_id`` was undone; the merged customers are back."""

    aggregate_type = "customer"

    merge_id: UUID
    merged_ids: tuple[UUID, ...]


# -- the customers area's own parts ----------------------------------------------------------


def _move_contacts(uow: UnitOfWork, from_ids: Sequence[UUID], to_id: UUID) -> list[Moved]:
    repo = uow.repository(Contact)
    survivor = uow.repository(Customer).get(to_id)
    has_primary = any(c.primary for c in repo.query(Query(where=F("customer_id").eq(to_id))))
    moved = []
    for from_id in from_ids:  # in the caller's order, so "the first primary" is well defined
        found = repo.query(
            Query(where=F("customer_id").eq(from_id), order_by=(Order("created_at"), Order("id")))
        )
        for contact in found:
            moved.append(
                Moved(
                    part="",
                    id=contact.id,
                    from_id=from_id,
                    data={
                        "primary": "1" if contact.primary else "",
                        "owner_id": _text(contact.owner_id),
                        "department_id": _text(contact.department_id),
                    },
                )
            )
            contact.customer_id = to_id
            # One primary per customer: the survivor's, else the first merged one's.
            contact.primary = contact.primary and not has_primary
            has_primary = has_primary or contact.primary
            contact.owner_id = survivor.owner_id
            contact.department_id = survivor.department_id
            repo.save(contact)
    return moved


def _undo_contacts(uow: UnitOfWork, moved: Sequence[Moved]) -> None:
    repo = uow.repository(Contact)
    for item in moved:
        contact = repo.get(item.id)
        contact.customer_id = item.from_id
        contact.primary = bool(item.data["primary"])
        contact.owner_id = _uuid(item.data["owner_id"])  # type: ignore[assignment]
        contact.department_id = _uuid(item.data["department_id"])
        repo.save(contact)


def _move_relations(uow: UnitOfWork, from_ids: Sequence[UUID], to_id: UUID) -> list[Moved]:
    repo = uow.repository(CustomerRelation)
    merged = set(from_ids)
    involved = [to_id, *from_ids]
    touching = repo.query(Query(where=F("from_id").is_in(involved) | F("to_id").is_in(involved)))
    # The survivor's own relations first: on a clash they are the ones kept.
    touching.sort(key=lambda r: (r.from_id in merged or r.to_id in merged, r.created_at, r.id))
    kept: set[tuple[UUID, UUID, RelationKind]] = set()
    parented: set[UUID] = set()
    moved = []
    repointed: list[CustomerRelation] = []
    for relation in touching:
        new_from = to_id if relation.from_id in merged else relation.from_id
        new_to = to_id if relation.to_id in merged else relation.to_id
        key = (new_from, new_to, relation.kind)
        is_parent = relation.kind is RelationKind.PARENT
        clash = new_from == new_to or key in kept or (is_parent and new_to in parented)
        changed = (new_from, new_to) != (relation.from_id, relation.to_id)
        if clash:
            moved.append(_dropped(relation))
            repo.delete(relation)
            continue
        kept.add(key)
        if is_parent:
            parented.add(new_to)
        if changed:
            moved.append(
                Moved(
                    part="",
                    id=relation.id,
                    from_id=relation.from_id,
                    data={"to_id": str(relation.to_id)},
                )
            )
            relation.from_id, relation.to_id = new_from, new_to
            repo.save(relation)
            repointed.append(relation)
    parents_above = _parent_lookup(uow)
    for relation in repointed:
        # With the edge stored, walking up from the parent reaches the child only on a loop.
        if relation.kind is RelationKind.PARENT and would_make_cycle(
            relation.from_id, relation.to_id, parents_above
        ):
            raise HierarchyCycle(
                entity="customer_relation",
                field="from_id",
                reason=reason(N_("the group hierarchy would loop")),
            )
    return moved


def _parent_lookup(uow: UnitOfWork) -> Callable[[UUID], UUID | None]:
    repo = uow.repository(CustomerRelation)

    def parent_of(child: UUID) -> UUID | None:
        found = repo.query(
            Query(where=F("to_id").eq(child) & F("kind").eq(RelationKind.PARENT.value), limit=1)
        )
        return found[0].from_id if found else None

    return parent_of


def _dropped(relation: CustomerRelation) -> Moved:
    return Moved(
        part="",
        id=relation.id,
        from_id=relation.from_id,
        data={
            "dropped": "1",
            "to_id": str(relation.to_id),
            "kind": relation.kind.value,
            "created_at": relation.created_at.isoformat(),
            "created_by": _text(relation.created_by),
            "note": relation.note,
        },
    )


def _undo_relations(uow: UnitOfWork, moved: Sequence[Moved]) -> None:
    repo = uow.repository(CustomerRelation)
    # Re-pointed edges go back before dropped ones return, so no clash is seen midway.
    for item in sorted(moved, key=lambda m: bool(m.data.get("dropped"))):
        to_id = _uuid(item.data["to_id"])
        assert to_id is not None
        if item.data.get("dropped"):
            created_at = item.data["created_at"]
            assert created_at is not None
            repo.add(
                CustomerRelation(
                    id=item.id,
                    tenant_id=uow.tenant_id,
                    from_id=item.from_id,
                    to_id=to_id,
                    kind=RelationKind(item.data["kind"]),
                    created_at=to_instant(created_at),
                    created_by=_uuid(item.data["created_by"]),  # type: ignore[arg-type]
                    note=item.data["note"],
                )
            )
        else:
            relation = repo.get(item.id)
            relation.from_id, relation.to_id = item.from_id, to_id
            repo.save(relation)


register_merge_part("customers.contacts", _move_contacts, _undo_contacts)
register_merge_part("customers.relations", _move_relations, _undo_relations)
register_merge_part("customers.history", *repoint_part(ChangeRecord))


def _text(value: UUID | None) -> str | None:
    return None if value is None else str(value)


def _uuid(value: str | None) -> UUID | None:
    return None if value is None else UUID(value)


# -- use cases -------------------------------------------------------------------------------


def _require_merge(grants: Grants, survivor: Customer, others: Iterable[Customer]) -> None:
    grants.require("edit", survivor, RESOURCE)
    for other in others:
        # Folding a customer away removes it from lists: ``delete`` covers that, and so
        # does ``edit`` (a rep may tidy up her own duplicates without a delete grant).
        if not (grants.can("delete", other, RESOURCE) or grants.can("edit", other, RESOURCE)):
            grants.require("delete", other, RESOURCE)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == ()


def _chosen_values(
    survivor: Customer,
    others: Sequence[Customer],
    choose: Mapping[str, UUID],
) -> dict[str, Any]:
    by_id: dict[UUID, Customer] = {c.id: c for c in (survivor, *others)}
    values = {}
    for field in MERGEABLE_FIELDS:
        if field in choose:
            source = by_id[choose[field]]
            values[field] = getattr(source, field)
            continue
        if field == CUSTOM:
            # Field by field: the survivor's values stand, the others fill its gaps.
            kept = dict(survivor.custom)
            for other in others:
                for key, value in other.custom.items():
                    kept.setdefault(key, value)
            values[field] = CustomValues(kept)
            continue
        value = getattr(survivor, field)
        if _empty(value):
            value = next(
                (getattr(o, field) for o in others if not _empty(getattr(o, field))), value
            )
        values[field] = value
    return {f: v for f, v in values.items() if v != getattr(survivor, f)}


def _check_request(survivor_id: UUID, others: Sequence[UUID], choose: Mapping[str, UUID]) -> None:
    if not others:
        raise ValidationError(
            entity="customer_merge",
            field="merged_ids",
            reason=reason(N_("name at least one customer to merge")),
        )
    if survivor_id in others or len(set(others)) != len(others):
        raise ValidationError(
            entity="customer_merge",
            field="merged_ids",
            reason=reason(N_("a customer can be merged only once, and not into itself")),
        )
    involved = {survivor_id, *others}
    for field, source in choose.items():
        if field not in MERGEABLE_FIELDS:
            raise ValidationError(
                entity="customer_merge", field=field, reason=reason(N_("cannot be merged"))
            )
        if source not in involved:
            raise ValidationError(
                entity="customer_merge",
                field=field,
                reason=reason(N_("must come from one of the merged customers")),
            )


def merge_customers(
    crm: Crm,
    actor: Actor,
    survivor_id: UUID,
    others: Sequence[UUID],
    *,
    choose: Mapping[str, UUID] | None = None,
) -> MergeResult:
    """Fold the customers ``others`` into ``survivor_id``, in one transaction.

    Args:
        survivor_id: the customer that remains.
        others: the duplicates to fold in; they end in the recycle bin.
        choose: ``{field: customer_id}`` — take that field's value from that customer.
            Fields not named keep the survivor's value, or when it is empty the first
            non-empty value among ``others`` (in the order given). Owner and
            department are never merged (transfer the survivor for that).

    Returns:
        The merge, with the id :func:`undo_merge` takes.

    Raises:
        NotFound: a customer does not exist or is in the recycle bin.
        PermissionDenied: the actor may not edit the survivor, may neither delete nor
            edit one of the others, or may not write a chosen field.
        ValidationError: no others, a repeated id, or a field that cannot be merged.
        HierarchyCycle: the merged group hierarchy would loop.
    """
    if choose is not None:
        # A program builds this mapping; a wrong shape is its bug, not a person's input.
        for field, source in expect_type(choose, Mapping, field="choose").items():
            expect_type(field, str, field="choose")
            expect_type(source, UUID, field="choose")
    others = list(others)
    choose = dict(choose or {})
    _check_request(survivor_id, others, choose)

    def work(uow: UnitOfWork) -> MergeResult:
        grants = grants_for(uow, actor)
        survivor = _live(uow, survivor_id)
        merged = [_live(uow, other) for other in others]
        _require_merge(grants, survivor, merged)
        now = crm.now()
        merge_id = crm.ids.new(now)
        changes = _chosen_values(survivor, merged, choose)
        grants.check_writable(RESOURCE, sorted(changes))
        fields_before = {f: unstructure(getattr(survivor, f)) for f in changes}

        moved: list[Moved] = []
        for name, part in _PARTS.items():
            moved += [attrs.evolve(m, part=name) for m in part.move(uow, others, survivor_id)]

        before = snapshot(survivor)
        event = survivor.change(now, **changes)
        _save(uow, crm, survivor, before, "merge", actor.user_id, now, event)
        _history(uow, crm, survivor_id, actor.user_id, "merge", {}, {"merge_id": merge_id}, now=now)
        for customer in merged:
            before = snapshot(customer)
            customer.deleted_at = now
            customer.deleted_by = actor.user_id
            # Its contacts moved already, so the save has no contacts left to follow it.
            _save(uow, crm, customer, before, "merge", actor.user_id, now)
            _history(
                uow,
                crm,
                customer.id,
                actor.user_id,
                "merge",
                {},
                {"merged_into": survivor_id, "merge_id": merge_id},
                now=now,
            )
        uow.repository(MergeRecord).add(
            MergeRecord(
                id=merge_id,
                tenant_id=uow.tenant_id,
                survivor_id=survivor_id,
                merged_ids=tuple(others),
                merged_at=now,
                merged_by=actor.user_id,
                fields_before=fields_before,
                moved=tuple(moved),
            )
        )
        uow.outbox.add(
            CustomersMerged(
                tenant_id=uow.tenant_id,
                aggregate_id=survivor_id,
                occurred_at=now,
                merge_id=merge_id,
                merged_ids=tuple(others),
            )
        )
        counts: dict[str, int] = {}
        for item in moved:
            counts[item.part] = counts.get(item.part, 0) + 1
        return MergeResult(
            merge_id=merge_id,
            survivor=customer_reader(uow, grants).redact(survivor),
            merged_ids=tuple(others),
            moved=counts,
        )

    return guarded(crm, actor, work)


def undo_merge(crm: Crm, actor: Actor, merge_id: UUID) -> Customer:
    """Undo a merge: the merged customers, their rows and the survivor's values come back.

    Every row the merge moved goes back to the customer it came from; relations the
    merge dropped are re-created; the survivor's overwritten fields get their old
    values; the merged customers leave the recycle bin. History records both the
    merge and its undo.

    The undo restores the values the merge overwrote even if the survivor was edited
    since; rows moved by the merge are put back wherever they are now.

    Returns:
        The survivor as it is after the undo.

    Raises:
        NotFound: no such merge, or a customer or moved row of it was deleted since
            (nothing is changed then).
        ValidationError: the merge was undone already.
        PermissionDenied: the actor could not have made the merge.
    """

    def work(uow: UnitOfWork) -> Customer:
        grants = grants_for(uow, actor)
        records = uow.repository(MergeRecord)
        record = records.find(merge_id)
        if record is None:
            raise NotFound(entity="customer_merge", id=merge_id)
        if record.undone_at is not None:
            raise ValidationError(
                entity="customer_merge", field="undone_at", reason=reason(N_("is undone already"))
            )
        customers = uow.repository(Customer)
        survivor = _live(uow, record.survivor_id)
        merged = [customers.get(i) for i in record.merged_ids]
        _require_merge(grants, survivor, merged)
        now = crm.now()
        by_part: dict[str, list[Moved]] = {}
        for item in record.moved:
            by_part.setdefault(item.part, []).append(item)
        for name in reversed(list(by_part)):
            part = _PARTS.get(name)
            if part is None:
                raise ValidationError(
                    entity="customer_merge",
                    field="moved",
                    reason=reason(N_("the area that moved {part} is not loaded"), part=name),
                )
            part.undo(uow, by_part[name])
        for customer in merged:
            before = snapshot(customer)
            customer.deleted_at = None
            customer.deleted_by = None
            _save(uow, crm, customer, before, "unmerge", actor.user_id, now)
        old = {f: structure(v, _TYPES[f]) for f, v in record.fields_before.items()}
        before = snapshot(survivor)
        event = survivor.change(now, **old)
        _save(uow, crm, survivor, before, "unmerge", actor.user_id, now, event)
        _history(
            uow, crm, survivor.id, actor.user_id, "unmerge", {"merge_id": merge_id}, {}, now=now
        )
        record.undone_at = now
        record.undone_by = actor.user_id
        records.save(record)
        uow.outbox.add(
            CustomerMergeUndone(
                tenant_id=uow.tenant_id,
                aggregate_id=survivor.id,
                occurred_at=now,
                merge_id=merge_id,
                merged_ids=record.merged_ids,
            )
        )
        return customer_reader(uow, grants).redact(survivor)

    return guarded(crm, actor, work)


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
