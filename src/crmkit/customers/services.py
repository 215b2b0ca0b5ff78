"""Customer use cases: each function is one transaction.

These are the calls a host makes. Permission checks join here as the
permissions area lands; today every call is confined to the actor's tenant.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from crmkit.crm import Crm
from crmkit.customers.model import Customer, CustomerId, CustomerRegistered
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import ConcurrencyConflict
from crmkit.kernel.query import Query
from crmkit.ports import UnitOfWork

__all__ = ["get_customer", "list_customers", "register_customer", "update_customer"]


def register_customer(crm: Crm, actor: Actor, *, name: str, **fields: Any) -> Customer:
    """Enter a new customer owned by ``fields['owner_id']`` (default: the actor).

    Raises:
        ValidationError: a field breaks a rule; nothing is stored.
    """
    now = crm.now()
    fields.setdefault("owner_id", actor.user_id)
    customer = Customer(
        id=CustomerId(crm.ids.new(now)),
        tenant_id=actor.tenant_id,
        name=name,
        created_at=now,
        **fields,
    )

    def work(uow: UnitOfWork) -> Customer:
        uow.repository(Customer).add(customer)
        uow.outbox.add(
            CustomerRegistered(
                tenant_id=customer.tenant_id,
                aggregate_id=customer.id,
                occurred_at=now,
                name=customer.name,
                owner_id=customer.owner_id,
            )
        )
        return customer

    return crm.run(actor.tenant_id, work)


def update_customer(
    crm: Crm,
    actor: Actor,
    customer_id: UUID,
    *,
    expected_version: int | None = None,
    **changes: Any,
) -> Customer:
    """Change fields of a customer.

    Args:
        expected_version: the version the caller's form was loaded at; a mismatch
            raises ``ConcurrencyConflict`` instead of overwriting someone else's edit.

    Raises:
        NotFound, ValidationError, ConcurrencyConflict.
    """

    def work(uow: UnitOfWork) -> Customer:
        repo = uow.repository(Customer)
        customer = repo.get(customer_id)
        if expected_version is not None and customer.version != expected_version:
            raise ConcurrencyConflict(entity="customer", id=customer_id, version=expected_version)
        event = customer.change(crm.now(), **changes)
        if event is not None:
            repo.save(customer)
            uow.outbox.add(event)
        return customer

    return crm.run(actor.tenant_id, work)


def get_customer(crm: Crm, actor: Actor, customer_id: UUID) -> Customer:
    """Load one customer of the actor's tenant.

    Raises:
        NotFound: no such customer in this tenant.
    """
    return crm.run(actor.tenant_id, lambda uow: uow.repository(Customer).get(customer_id))


def list_customers(crm: Crm, actor: Actor, query: Query | None = None) -> list[Customer]:
    """Customers of the actor's tenant matching ``query``."""
    return crm.run(actor.tenant_id, lambda uow: uow.repository(Customer).query(query))
