"""What every customer use case shares: live reads and saving.

A customer write is saved through :func:`_save` (row, change history, contacts'
owner, outbox events). Reads go through the readers of
:mod:`crmkit.customers.queries._readers` (row scope, field redaction, derived keys
included, and no filter or sort on a hidden field), re-exported here for the use cases.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from crmkit.crm import Crm
from crmkit.customers.model.contacts import Contact
from crmkit.customers.model.customer import Customer, CustomerRegistered
from crmkit.customers.model.history import ChangeRecord, record_changes, snapshot
from crmkit.customers.queries._readers import (
    CONTACT,
    RESOURCE,
    contact_reader,
    customer_reader,
    readable_where,
)
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import NotFound
from crmkit.kernel.event_origin import origin
from crmkit.kernel.ids import UserId
from crmkit.kernel.query import F, Query
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import grants_for, guarded
from crmkit.rules.permissions.model import Grants

__all__ = [
    "CONTACT",
    "RESOURCE",
    "contact_reader",
    "customer_reader",
    "readable_where",
]


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
    uow.outbox.add(*events)


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


def _live_for(uow: UnitOfWork, grants: Grants, operation: str, customer_id: UUID) -> Customer:
    # A customer in the recycle bin is not found before anyone asks whether the actor
    # may act on it.
    customer = _live(uow, customer_id)
    grants.require(operation, customer, RESOURCE)
    return customer


T = TypeVar("T")


def _of_viewable(
    crm: Crm,
    actor: Actor,
    customer_id: UUID,
    read: Callable[[UnitOfWork, Grants, UUID], list[T]],
) -> list[T]:
    # What hangs off a customer (contacts, relations) is listed only to those who may
    # view the live customer itself, and then filtered by ``read``.
    def work(uow: UnitOfWork) -> list[T]:
        grants = grants_for(uow, actor)
        _live_for(uow, grants, "view", customer_id)
        return read(uow, grants, customer_id)

    return guarded(crm, actor, work)


def _registered(customer: Customer, now: datetime) -> CustomerRegistered:
    # The event of a new customer, however it came (a form, an import).
    return CustomerRegistered(
        **origin(customer, now), name=customer.name, owner_id=customer.owner_id
    )
