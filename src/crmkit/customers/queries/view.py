"""Read models of the customers area: the customer 360 view.

:func:`customer_360` answers "tell me everything about this customer" in one call
and one transaction: the customer, its contacts, its relations and its change
history, each part filtered by the actor's permissions. Areas that land later
(activities, opportunities, quotes, contracts, orders, receivables) add
their part with :func:`register_360_part`; a part whose resource the actor holds no
``view`` grant on is left out rather than refused, so one screen serves every role.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import attrs

from crmkit.crm import Crm
from crmkit.customers.model.contacts import Contact
from crmkit.customers.model.customer import Customer
from crmkit.customers.model.history import ChangeRecord
from crmkit.customers.model.relations import CustomerRelation
from crmkit.customers.queries._readers import (
    _customer_history,
    _visible_contacts,
    _visible_relations,
    customer_reader,
)
from crmkit.kernel.actor import Actor
from crmkit.kernel.query import TRUE, F, Order, Query
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import grants_for, guarded
from crmkit.rules.permissions.evaluator import Grants
from crmkit.rules.permissions.reader import ScopedReader

__all__ = [
    "PART_LIMIT",
    "Customer360",
    "PartLoader",
    "customer_360",
    "records_of",
    "register_360_part",
]

PartLoader = Callable[[UnitOfWork, Grants, Customer], Any]
"""Loads one extra part of the 360 view: ``loader(uow, grants, customer) -> value``.

The loader runs in the view's transaction and must filter what it returns with
``grants`` (e.g. ``grants.restrict(query, "view", "opportunity")``).
"""

_PARTS: dict[str, tuple[str, PartLoader]] = {}


def register_360_part(name: str, resource: str, loader: PartLoader) -> None:
    """Add a part to every customer 360 view (areas call this at import).

    Args:
        name: the key the part appears under in :attr:`Customer360.parts`.
        resource: the permission resource of the part; actors without any ``view``
            grant on it do not get the part at all.
        loader: builds the part (see :data:`PartLoader`).
    """
    _PARTS[name] = (resource, loader)


#: The most records one part of the 360 view lists, newest first; the area's own list
#: pages through the rest.
PART_LIMIT = 50


def records_of(
    entity: type[Any],
    resource: str,
    *,
    order_by: tuple[Order, ...],
    field: str = "customer_id",
    limit: int = PART_LIMIT,
) -> PartLoader:
    """A part loader listing the ``entity`` records whose ``field`` is the customer.

    The list is read through a :class:`~crmkit.rules.permissions.reader.ScopedReader`:
    narrowed to the actor's ``view`` scope on ``resource``, each record without the
    fields hidden from the actor (derived ones included), as the area's own lists do.
    """

    def load(uow: UnitOfWork, grants: Grants, customer: Customer) -> tuple[Any, ...]:
        # The customer condition is the view's own, not the actor's filter: it is the
        # reader's base, so field rules on the link field do not refuse the whole view.
        reader = ScopedReader(uow, grants, entity, resource, base=F(field).eq(customer.id))
        # Newest first by a field hidden from the actor would reveal its order: such a
        # key is dropped (ids are time-sorted, the order stays close) rather than
        # refusing the view.
        shown = tuple(o for o in order_by if grants.can_filter(resource, TRUE, [o.field]))
        return tuple(reader.query(Query(order_by=shown, limit=limit)))

    return load


@attrs.frozen
class Customer360:
    """Everything about one customer the actor may see.

    Attributes:
        customer: the customer, with fields hidden from the actor set to ``None``.
        contacts: its contacts, primary first.
        relations: its relations to customers the actor may view.
        history: its change history, newest first, without hidden fields.
        parts: the parts other areas registered, by name.
    """

    customer: Customer
    contacts: tuple[Contact, ...]
    relations: tuple[CustomerRelation, ...]
    history: tuple[ChangeRecord, ...]
    parts: dict[str, Any] = attrs.field(factory=dict)


def customer_360(
    crm: Crm, actor: Actor, customer_id: UUID, *, history_limit: int | None = 50
) -> Customer360:
    """The customer with its contacts, relations, history and registered parts.

    Raises:
        NotFound: no such customer (or it is in the recycle bin).
        PermissionDenied: the customer is outside the actor's view scope.
    """

    def work(uow: UnitOfWork) -> Customer360:
        grants = grants_for(uow, actor)
        customer = customer_reader(uow, grants).get(customer_id)
        parts = {
            name: loader(uow, grants, customer)
            for name, (resource, loader) in sorted(_PARTS.items())
            if grants.holds("view", resource)
        }
        return Customer360(
            customer=customer,
            contacts=tuple(_visible_contacts(uow, grants, customer_id)),
            relations=tuple(_visible_relations(uow, grants, customer_id)),
            history=tuple(_customer_history(uow, grants, customer_id, history_limit)),
            parts=parts,
        )

    return guarded(crm, actor, work)
