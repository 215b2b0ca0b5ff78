"""Recycle bin use cases: delete, list, restore and purge customers."""

from __future__ import annotations

from uuid import UUID

from crmkit.crm import Crm
from crmkit.customers.model.contacts import Contact
from crmkit.customers.model.customer import Customer
from crmkit.customers.model.history import ChangeRecord, snapshot
from crmkit.customers.model.merge import MergeRecord
from crmkit.customers.model.relations import CustomerRelation
from crmkit.customers.queries._readers import _contacts_of, _relations_of
from crmkit.customers.services._common import (
    RESOURCE,
    _history,
    _live_for,
    _save,
    customer_reader,
    readable_where,
)
from crmkit.kernel.actor import Actor
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.query import F, Order, Query
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import grants_for, guarded
from crmkit.rules.permissions.access import load_for
from crmkit.rules.permissions.model import Grants
from crmkit.rules.permissions.reader import ScopedReader

__all__ = [
    "delete_customer",
    "list_recycle_bin",
    "purge_customer",
    "restore_customer",
]


def delete_customer(crm: Crm, actor: Actor, customer_id: UUID) -> None:
    """Move a customer and its contacts to the recycle bin.

    Raises:
        NotFound: no such customer (or it is in the bin already).
        PermissionDenied: the actor may not ``delete`` it.
    """

    def work(uow: UnitOfWork) -> None:
        grants = grants_for(uow, actor)
        customer = _live_for(uow, grants, "delete", customer_id)
        now = crm.now()
        before = snapshot(customer)
        customer.deleted_at = now
        customer.deleted_by = actor.user_id
        contacts = uow.repository(Contact)
        for contact in _contacts_of(uow, customer_id):
            contact.deleted_at = now
            contacts.save(contact)
        _save(uow, crm, customer, before, "delete", actor.user_id, now)

    guarded(crm, actor, work)


def list_recycle_bin(crm: Crm, actor: Actor, query: Query | None = None) -> list[Customer]:
    """Customers in the recycle bin that the actor may ``delete`` (newest deletion first)."""
    query = query or Query()

    def work(uow: UnitOfWork) -> list[Customer]:
        grants = grants_for(uow, actor)
        reader = ScopedReader(
            uow, grants, Customer, RESOURCE, operation="delete", base=F("deleted_at").not_null()
        )
        binned = Query(
            where=readable_where(uow, grants, query),
            order_by=query.order_by or (Order("deleted_at", descending=True),),
            limit=query.limit,
            offset=query.offset,
        )
        return reader.query(binned)

    return guarded(crm, actor, work)


def _binned(uow: UnitOfWork, grants: Grants, customer_id: UUID, operation: str) -> Customer:
    # Permission first: whether a customer is in the bin is not for strangers to learn.
    customer = load_for(uow, grants, Customer, customer_id, operation, RESOURCE)
    if customer.deleted_at is None:
        raise invalid("customer", "deleted_at", N_("is not in the recycle bin"))
    return customer


def _refuse_merged(uow: UnitOfWork, customer: Customer) -> None:
    """Refuse to restore a customer a merge binned: only ``undo_merge`` may bring it back.

    Restoring it alone would leave its contacts, relations and other areas' records
    with the survivor and the merge record claiming it is still merged.
    """
    # Each merge writes a ``merge_id`` history row on every customer it touched; the
    # customer is still merged away while such a merge is not undone and its binning
    # is still the one the merge did.
    rows = uow.repository(ChangeRecord).query(
        Query(
            where=F("customer_id").eq(customer.id)
            & F("action").eq("merge")
            & F("field").eq("merge_id")
        )
    )
    records = uow.repository(MergeRecord)
    for row in rows:
        record = records.find(UUID(row.new_value)) if row.new_value else None
        if (
            record is not None
            and record.undone_at is None
            and customer.id in record.merged_ids
            and customer.deleted_at == record.merged_at
        ):
            raise invalid(
                "customer",
                "deleted_at",
                N_("was merged into customer {survivor_id}; undo merge {merge_id} instead"),
                survivor_id=str(record.survivor_id),
                merge_id=str(record.id),
            )


def restore_customer(crm: Crm, actor: Actor, customer_id: UUID) -> Customer:
    """Bring a customer and the contacts deleted with it back from the recycle bin.

    A customer binned by a merge cannot be restored on its own: undo the merge with
    :func:`crmkit.customers.services.merge.undo_merge`, which puts its records back too.

    Raises:
        NotFound: no such customer.
        ValidationError: it is not in the recycle bin, or a merge folded it into
            another customer (the reason names the merge to undo).
        PermissionDenied: the actor may not ``restore`` it.
    """

    def work(uow: UnitOfWork) -> Customer:
        grants = grants_for(uow, actor)
        customer = _binned(uow, grants, customer_id, "restore")
        _refuse_merged(uow, customer)
        now = crm.now()
        before = snapshot(customer)
        customer.deleted_at = None
        customer.deleted_by = None
        contacts = uow.repository(Contact)
        # Single contacts are removed for good, so every binned contact went with it.
        for contact in contacts.query(Query(where=F("customer_id").eq(customer_id))):
            if contact.deleted_at is not None:
                contact.deleted_at = None
                contacts.save(contact)
        _save(uow, crm, customer, before, "restore", actor.user_id, now)
        return customer_reader(uow, grants).redact(customer)

    return guarded(crm, actor, work)


def purge_customer(crm: Crm, actor: Actor, customer_id: UUID) -> None:
    """Delete a binned customer, its contacts and relations for good (history stays).

    Raises:
        NotFound: no such customer.
        ValidationError: it is not in the recycle bin (delete it first).
        PermissionDenied: the actor may not ``purge`` it.
    """

    def work(uow: UnitOfWork) -> None:
        grants = grants_for(uow, actor)
        customer = _binned(uow, grants, customer_id, "purge")
        contacts = uow.repository(Contact)
        for contact in contacts.query(Query(where=F("customer_id").eq(customer_id))):
            contacts.delete(contact)
        relations = uow.repository(CustomerRelation)
        for relation in _relations_of(uow, customer_id):
            relations.delete(relation)
        uow.repository(Customer).delete(customer)
        now = crm.now()
        _history(
            uow,
            crm,
            customer_id,
            actor.user_id,
            "purge",
            {"name": customer.name},
            {},
            now=now,
            always=True,
        )

    guarded(crm, actor, work)
