"""What every customer use case shares: permission resources, live reads, saving.

The ``customer`` and ``contact`` permission resources are registered here, once.
A customer write is saved through :func:`_save` (row, change history, contacts'
owner, outbox events), and customer queries are checked by :func:`readable_where`.
Every read goes through :func:`customer_reader` / :func:`contact_reader`: row scope,
field redaction (derived keys included) and no filter or sort on a hidden field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from crmkit.crm import Crm
from crmkit.customers.model.contacts import Contact
from crmkit.customers.model.custom_fields import CUSTOM, check_sortable, custom_query
from crmkit.customers.model.customer import Customer
from crmkit.customers.model.history import ChangeRecord, record_changes, snapshot
from crmkit.customers.services.custom_fields import definitions_of
from crmkit.kernel.errors import NotFound
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import UserId
from crmkit.kernel.query import Expr, F, Query, fields_of
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import register_resource
from crmkit.rules.permissions.evaluator import Grants
from crmkit.rules.permissions.model import DEFAULT_OPERATIONS
from crmkit.rules.permissions.reader import ScopedReader

__all__ = [
    "CONTACT",
    "CUSTOMER_OPERATIONS",
    "RESOURCE",
    "contact_reader",
    "customer_reader",
    "readable_where",
]

RESOURCE = "customer"
CONTACT = "contact"
CUSTOMER_OPERATIONS = DEFAULT_OPERATIONS | {"release", "recall", "restore", "purge"}
register_resource(RESOURCE, entity=Customer, operations=CUSTOMER_OPERATIONS, open_fields={CUSTOM})
register_resource(CONTACT, entity=Contact)

LABELS = (N_("release"), N_("recall"), N_("restore"), N_("purge"))

_LIVE = F("deleted_at").is_null()


def customer_reader(
    uow: UnitOfWork, grants: Grants, operation: str = "view"
) -> ScopedReader[Customer]:
    """Customers as the actor may read them: in scope, redacted, not in the recycle bin."""
    return ScopedReader(uow, grants, Customer, RESOURCE, operation=operation, base=_LIVE)


def contact_reader(uow: UnitOfWork, grants: Grants) -> ScopedReader[Contact]:
    """Contacts as the actor may read them: in scope, redacted, not in the recycle bin."""
    return ScopedReader(uow, grants, Contact, CONTACT, base=_LIVE)


def _history(
    uow: UnitOfWork,
    crm: Crm,
    customer_id: UUID,
    user: UserId | None,
    action: str,
    before: dict[str, Any],
    after: dict[str, Any],
    *,
    now: datetime,
    always: bool = False,
) -> list[ChangeRecord]:
    # The one place customer writes reach the change history.
    return record_changes(
        uow,
        lambda: crm.ids.new(now),
        customer_id=customer_id,
        tenant_id=uow.tenant_id,
        user_id=user,
        at=now,
        action=action,
        before=before,
        after=after,
        always=always,
    )


def _save(
    uow: UnitOfWork,
    crm: Crm,
    customer: Customer,
    before: dict[str, Any],
    action: str,
    user: UserId | None,
    now: datetime,
    *events: Any,
) -> None:
    """Save a changed customer, its history and its events; keep its contacts' owner."""
    uow.repository(Customer).save(customer)
    after = snapshot(customer)
    _history(uow, crm, customer.id, user, action, before, after, now=now)
    if before.get("owner_id") != after.get("owner_id") or before.get("department_id") != after.get(
        "department_id"
    ):
        _sync_contacts(uow, customer)
    uow.outbox.add(*[e for e in events if e is not None])


def _sync_contacts(uow: UnitOfWork, customer: Customer) -> None:
    repo = uow.repository(Contact)
    for contact in repo.query(Query(where=F("customer_id").eq(customer.id))):
        contact.owner_id = customer.owner_id
        contact.department_id = customer.department_id
        repo.save(contact)


def _live(uow: UnitOfWork, customer_id: UUID) -> Customer:
    customer = uow.repository(Customer).get(customer_id)
    if customer.deleted_at is not None:
        raise NotFound(entity="customer", id=customer_id)
    return customer


def readable_where(uow: UnitOfWork, grants: Grants, query: Query) -> Expr:
    """The filter of a caller's customer query, checked and ready to run.

    Filters and sort keys on fields hidden from the actor are refused (they would leak
    the values), sorting on custom fields is refused, and conditions on custom fields
    are checked against the tenant's definitions and typed (see
    :func:`crmkit.customers.model.custom_fields.custom_query`).

    Raises:
        PermissionDenied: a hidden field is filtered or sorted on.
        ValidationError: a custom field condition does not fit its field.
    """
    grants.check_readable(RESOURCE, query.where, [o.field for o in query.order_by])
    check_sortable([o.field for o in query.order_by], entity=RESOURCE)
    if not any(path.split(".")[0] == CUSTOM for path in fields_of(query.where)):
        return query.where
    return custom_query(query.where, definitions_of(uow, RESOURCE), entity=RESOURCE)
