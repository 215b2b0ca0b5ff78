"""Change history use cases, and the follow-up other areas record on a customer."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from crmkit.crm import Crm
from crmkit.customers.model.customer import Customer
from crmkit.customers.model.history import ChangeRecord, snapshot
from crmkit.customers.queries._readers import _customer_history, _history_query, _shown
from crmkit.customers.services._common import RESOURCE, _live, _save
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import NotFound
from crmkit.kernel.ids import UserId
from crmkit.kernel.query import F
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import grants_for, guarded

__all__ = [
    "customer_history",
    "record_follow_up",
    "user_history",
]


def _has_history(uow: UnitOfWork, customer_id: UUID) -> bool:
    return uow.repository(ChangeRecord).count(F("customer_id").eq(customer_id), limit=1) > 0


def customer_history(
    crm: Crm, actor: Actor, customer_id: UUID, *, limit: int | None = 200
) -> list[ChangeRecord]:
    """The change history of one customer, newest first (hidden fields left out).

    A customer in the recycle bin shows its history to those who may ``delete`` it;
    a purged customer's history is kept for tenant administrators.

    Raises:
        NotFound: no such customer in the actor's tenant (nor a purged one's history).
        PermissionDenied: the actor may not view the customer.
    """

    def work(uow: UnitOfWork) -> list[ChangeRecord]:
        grants = grants_for(uow, actor)
        customer = uow.repository(Customer).find(customer_id)
        if customer is None:
            # A purged customer left its history behind; an id with none is unknown
            # here (another tenant's, or never used), not a customer without changes.
            if not grants.is_tenant_admin or not _has_history(uow, customer_id):
                raise NotFound(entity="customer", id=customer_id)
        elif customer.deleted_at is not None:
            grants.require("delete", customer, RESOURCE)
        else:
            grants.require("view", customer, RESOURCE)
        return _customer_history(uow, grants, customer_id, limit)

    return guarded(crm, actor, work)


def user_history(
    crm: Crm, actor: Actor, user_id: UUID, *, limit: int | None = 200
) -> list[ChangeRecord]:
    """What one user changed, newest first, on customers the actor may view."""

    def work(uow: UnitOfWork) -> list[ChangeRecord]:
        grants = grants_for(uow, actor)
        records = uow.repository(ChangeRecord).query(
            _history_query(F("user_id").eq(user_id), limit)
        )
        customers: dict[UUID, Customer] = {
            c.id: c for c in uow.repository(Customer).get_many({r.customer_id for r in records})
        }

        def shown(record: ChangeRecord) -> bool:
            customer = customers.get(record.customer_id)
            if customer is None:
                return grants.is_tenant_admin
            operation = "view" if customer.deleted_at is None else "delete"
            return _shown(grants, record.field) and grants.can(operation, customer, RESOURCE)

        return [r for r in records if shown(r)]

    return guarded(crm, actor, work)


def record_follow_up(
    uow: UnitOfWork, crm: Crm, customer_id: UUID, *, at: datetime, user: UserId | None
) -> Customer:
    """Note a follow-up of the customer (a call, visit, ... another area logged) inside
    the caller's unit of work; the caller has checked the actor may see the customer.

    ``last_activity_at`` moves forward to ``at`` and never back, so the pool's
    protection period (see :func:`crmkit.customers.model.pool.return_due`) runs from the
    latest follow-up, and an activity logged late cannot shorten it. The change goes
    to the customer's history and outbox like any other write.

    Raises:
        NotFound: no such customer, or it is in the recycle bin.
    """
    customer = _live(uow, customer_id)
    if customer.last_activity_at is not None and customer.last_activity_at >= at:
        return customer
    now = crm.now()
    before = snapshot(customer)
    event = customer.change(now, last_activity_at=at)
    _save(uow, crm, customer, before, "follow_up", user, now, event)
    return customer
