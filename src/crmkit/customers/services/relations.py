"""Customer relation use cases: relate, unrelate and list related customers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from crmkit.crm import Crm
from crmkit.customers.errors import HierarchyCycle
from crmkit.customers.model.customer import Customer
from crmkit.customers.model.relations import CustomerRelation, RelationKind, would_make_cycle
from crmkit.customers.queries._readers import _parent_of, _relations_of, _visible_relations
from crmkit.customers.services._common import RESOURCE, _history, _live, _of_viewable
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import reason
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import UserId
from crmkit.kernel.invalid import invalid
from crmkit.kernel.limits import to_member
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import grants_for, guarded

__all__ = [
    "list_relations",
    "relate_customers",
    "unrelate_customers",
]


def _claim_trees(
    uow: UnitOfWork,
    parent: Customer,
    child: Customer,
    parent_of: Callable[[UUID], UUID | None],
) -> None:
    # Two parent links written at the same moment each pass the checks against the
    # hierarchy as it was, and together may give a company two parents or close a loop.
    # Every parent link hangs a root (the child) under a tree: saving that root and the
    # tree's root makes any two such links that could combine that way write a common
    # row, so one of them fails its version check (or is retried and then sees the other).
    repo = uow.repository(Customer)
    root = parent
    seen: set[UUID] = {parent.id}
    while (above := parent_of(root.id)) is not None and above not in seen:
        seen.add(above)
        root = repo.get(above)
    for customer in {root.id: root, child.id: child}.values():
        repo.save(customer)


def _record_on_both_ends(
    uow: UnitOfWork,
    crm: Crm,
    user: UserId | None,
    relation: CustomerRelation,
    action: str,
    now: datetime,
) -> None:
    # Both customers' histories tell of the link; ``unrelate`` shows it going away.
    ends = (relation.from_id, relation.to_id)
    for side, other in (ends, ends[::-1]):
        entry = {f"relation.{relation.kind.value}": str(other)}
        before, after = (entry, {}) if action == "unrelate" else ({}, entry)
        _history(uow, crm, side, user, action, before, after, now=now)


def relate_customers(
    crm: Crm,
    actor: Actor,
    from_id: UUID,
    to_id: UUID,
    kind: RelationKind | str,
    *,
    note: str | None = None,
) -> CustomerRelation:
    """Record that ``from_id`` is the ``kind`` of ``to_id``.

    ``kind="subsidiary"`` is stored as the parent relation the other way round. A
    company has at most one parent, and the group hierarchy never loops.

    Raises:
        NotFound: either customer does not exist.
        PermissionDenied: the actor may not edit ``from_id`` or view ``to_id``.
        HierarchyCycle: the parent relation would make a company its own ancestor.
        ValidationError: ``to_id`` has a parent already, the relation exists, or both
            ids are the same.
    """
    if kind == "subsidiary":
        from_id, to_id, kind = to_id, from_id, RelationKind.PARENT
    relation_kind = to_member(RelationKind, kind, entity="customer_relation", field="kind")
    now = crm.now()
    relation = CustomerRelation(
        id=crm.ids.new(now),
        tenant_id=actor.tenant_id,
        from_id=from_id,
        to_id=to_id,
        kind=relation_kind,
        created_at=now,
        created_by=actor.user_id,
        note=note,
    )

    def work(uow: UnitOfWork) -> CustomerRelation:
        grants = grants_for(uow, actor)
        source, target = _live(uow, from_id), _live(uow, to_id)
        grants.require("edit", source, RESOURCE)
        grants.require("view", target, RESOURCE)
        existing = _relations_of(uow, from_id)
        if any(r.to_id == to_id and r.kind is relation_kind for r in existing):
            raise invalid("customer_relation", "kind", N_("already recorded"))
        if relation_kind is RelationKind.PARENT:
            parent_of = _parent_of(uow)
            if parent_of(to_id) is not None:
                raise invalid("customer_relation", "to_id", N_("the company already has a parent"))
            if would_make_cycle(from_id, to_id, parent_of):
                raise HierarchyCycle(
                    entity="customer_relation",
                    field="from_id",
                    reason=reason(N_("the group hierarchy would loop")),
                )
            _claim_trees(uow, source, target, parent_of)
        uow.repository(CustomerRelation).add(relation)
        _record_on_both_ends(uow, crm, actor.user_id, relation, "relate", now)
        return relation

    return guarded(crm, actor, work)


def unrelate_customers(crm: Crm, actor: Actor, relation_id: UUID) -> None:
    """Remove a relation between two customers.

    Raises:
        NotFound: no such relation.
        PermissionDenied: the actor may not edit the relation's ``from`` customer.
    """

    def work(uow: UnitOfWork) -> None:
        grants = grants_for(uow, actor)
        repo = uow.repository(CustomerRelation)
        relation = repo.get(relation_id)
        grants.require("edit", uow.repository(Customer).get(relation.from_id), RESOURCE)
        repo.delete(relation)
        now = crm.now()
        _record_on_both_ends(uow, crm, actor.user_id, relation, "unrelate", now)

    guarded(crm, actor, work)


def list_relations(crm: Crm, actor: Actor, customer_id: UUID) -> list[CustomerRelation]:
    """Relations of a customer, both directions, leaving out customers the actor cannot view.

    Raises:
        NotFound: no such customer.
        PermissionDenied: the customer is outside the actor's view scope.
    """
    return _of_viewable(crm, actor, customer_id, _visible_relations)
