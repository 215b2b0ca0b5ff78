"""Reading customers and contacts as an actor may.

Every customer read applies the actor's view scope, the field rules and the recycle bin;
they are applied here, once, for the read models of this package and for the use cases
in :mod:`crmkit.customers.services`, which build on it (never the other way round).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from crmkit.customers.model.contacts import Contact
from crmkit.customers.model.custom_fields import (
    CUSTOM,
    CustomFieldDefinition,
)
from crmkit.customers.model.custom_query import check_sortable, custom_query
from crmkit.customers.model.customer import Customer
from crmkit.customers.model.history import ChangeRecord
from crmkit.customers.model.relations import CustomerRelation, RelationKind
from crmkit.kernel.query import Expr, F, Order, Query, fields_of
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions.evaluator import Grants
from crmkit.rules.permissions.reader import ScopedReader

# The permission resources of customers and contacts (declared in registrations).
RESOURCE = "customer"
CONTACT = "contact"

# Records in the recycle bin are out of every read but the bin's own.
_LIVE = F("deleted_at").is_null()


def customer_reader(
    uow: UnitOfWork, grants: Grants, operation: str = "view"
) -> ScopedReader[Customer]:
    """Customers as the actor may read them: in scope, redacted, not in the recycle bin."""
    return ScopedReader(uow, grants, Customer, RESOURCE, operation=operation, base=_LIVE)


def contact_reader(uow: UnitOfWork, grants: Grants) -> ScopedReader[Contact]:
    """Contacts as the actor may read them: in scope, redacted, not in the recycle bin."""
    return ScopedReader(uow, grants, Contact, CONTACT, base=_LIVE)


def readable_where(uow: UnitOfWork, grants: Grants, query: Query) -> Expr:
    """The filter of a caller's customer query, checked and ready to run.

    Filters and sort keys on fields hidden from the actor are refused (they would leak
    the values), sorting on custom fields is refused, and conditions on custom fields
    are checked against the tenant's definitions and typed (see
    :func:`crmkit.customers.model.custom_query.custom_query`).

    Raises:
        PermissionDenied: a hidden field is filtered or sorted on.
        ValidationError: a custom field condition does not fit its field.
    """
    grants.check_readable(RESOURCE, query.where, [o.field for o in query.order_by])
    check_sortable([o.field for o in query.order_by], entity=RESOURCE)
    if not any(path.split(".")[0] == CUSTOM for path in fields_of(query.where)):
        return query.where
    return custom_query(query.where, definitions_of(uow, RESOURCE), entity=RESOURCE)


def definitions_of(uow: UnitOfWork, entity: str) -> list[CustomFieldDefinition]:
    """Every custom field of ``entity`` in the unit of work's tenant, in display order."""
    return uow.repository(CustomFieldDefinition).query(
        Query(where=F("entity").eq(entity), order_by=(Order("position"), Order("key")))
    )


def _contacts_of(uow: UnitOfWork, customer_id: UUID) -> list[Contact]:
    return uow.repository(Contact).query(
        Query(
            where=F("customer_id").eq(customer_id) & _LIVE,
            order_by=(Order("created_at"), Order("id")),
        )
    )


def _visible_contacts(uow: UnitOfWork, grants: Grants, customer_id: UUID) -> list[Contact]:
    # Contacts show under their customer's view grant (checked by the caller), with the
    # contact field rules applied.
    reader = contact_reader(uow, grants)
    found = sorted(_contacts_of(uow, customer_id), key=lambda c: not c.primary)
    return [reader.redact(c) for c in found]


def _relations_of(uow: UnitOfWork, customer_id: UUID) -> list[CustomerRelation]:
    repo = uow.repository(CustomerRelation)
    return repo.query(
        Query(
            where=F("from_id").eq(customer_id) | F("to_id").eq(customer_id),
            order_by=(Order("created_at"), Order("id")),
        )
    )


def _visible_relations(
    uow: UnitOfWork, grants: Grants, customer_id: UUID
) -> list[CustomerRelation]:
    relations = _relations_of(uow, customer_id)
    others = {r.to_id if r.from_id == customer_id else r.from_id for r in relations}
    visible = {
        c.id
        for c in uow.repository(Customer).get_many(others)
        if c.deleted_at is None and grants.can("view", c, RESOURCE)
    }
    return [r for r in relations if (r.to_id if r.from_id == customer_id else r.from_id) in visible]


def _shown(grants: Grants, field: str | None) -> bool:
    """Whether a history entry of ``field`` may be shown to the actor.

    Customer fields follow the customer field rules (``custom.budget`` also a rule on
    ``custom``; a derived key its source). Contact edits are kept as
    ``contact.<name>.<field>`` and follow the contact field rules: a hidden ``phones``
    hides the entry, and a hidden contact ``name`` hides every contact entry, since
    the entry's label carries the name.
    """
    if field is None:
        return True
    if field.startswith(_CONTACT_PREFIX):
        contact_field = field.rpartition(".")[2]
        return not (grants.is_hidden(CONTACT, "name") or grants.is_hidden(CONTACT, contact_field))
    return not grants.is_hidden(RESOURCE, field)


_CONTACT_PREFIX = "contact."


def _history_query(where: Any, limit: int | None) -> Query:
    return Query(
        where=where,
        order_by=(Order("changed_at", descending=True), Order("id", descending=True)),
        limit=limit,
    )


def _customer_history(
    uow: UnitOfWork, grants: Grants, customer_id: UUID, limit: int | None
) -> list[ChangeRecord]:
    records = uow.repository(ChangeRecord).query(
        _history_query(F("customer_id").eq(customer_id), limit)
    )
    # A field hidden from the actor stays hidden in its history.
    return [r for r in records if _shown(grants, r.field)]


def _parent_of(uow: UnitOfWork) -> Callable[[UUID], UUID | None]:
    repo = uow.repository(CustomerRelation)

    def parent_of(child: UUID) -> UUID | None:
        found = repo.query(
            Query(where=F("to_id").eq(child) & F("kind").eq(RelationKind.PARENT.value), limit=1)
        )
        return found[0].from_id if found else None

    return parent_of
