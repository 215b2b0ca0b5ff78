"""What a merge moves: the parts registered by areas, and the customers area's own.

Each part moves the records of the merged customers that point at them to the survivor, and
returns what it moved (:class:`~crmkit.customers.model.merge.Moved`) so :func:`undo_merge`
can put them back. Areas register their parts in their ``registrations`` module (the
customers area's own: contacts, relations, history) with :func:`register_merge_part`;
the most common one re-points a ``customer_id`` column (:func:`repoint_part`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

import attrs

from crmkit.customers.errors import HierarchyCycle
from crmkit.customers.model.contacts import Contact
from crmkit.customers.model.customer import Customer
from crmkit.customers.model.merge import Moved
from crmkit.customers.model.relations import CustomerRelation, RelationKind, would_make_cycle
from crmkit.customers.queries._readers import _parent_of
from crmkit.kernel.converter import to_instant
from crmkit.kernel.errors import reason
from crmkit.kernel.i18n import N_
from crmkit.kernel.query import F, Order, Query
from crmkit.ports import UnitOfWork

__all__ = [
    "MergePart",
    "register_merge_part",
    "repoint_part",
]

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


def _text(value: UUID | None) -> str | None:
    return None if value is None else str(value)


def _uuid(value: str | None) -> UUID | None:
    return None if value is None else UUID(value)


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
    parents_above = _parent_of(uow)
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
    # Each row was either re-pointed or dropped, never both, and no store checks a clash
    # between relations: the rows go back in any order.
    for item in moved:
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
