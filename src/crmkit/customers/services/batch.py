"""Batch update: set the same fields on many customers at once.

The whole batch runs in one transaction and is checked per record. The field-level
check is per batch — a field the actor may not edit refuses the whole call, because it
would fail on every record. The record-level checks report and skip: a customer that
does not exist, lies outside the actor's ``edit`` scope, or rejects the value (a rule
of the customer model) is listed in :attr:`BatchResult.failed` with its error, and the
others are updated. This is what a sales manager expects from "select 200 customers,
set level A": the 3 she cannot touch are named, the 197 are done. Each refusal is
written to the permission audit log; each updated customer gets change-history
records (action ``update``, old and new value per field) and a ``CustomerChanged``
event, exactly as a single ``update_customer`` would.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

import attrs

from crmkit.crm import Crm
from crmkit.customers.model.custom_fields import CUSTOM
from crmkit.customers.model.custom_values import apply_custom, custom_paths
from crmkit.customers.model.customer import Customer
from crmkit.customers.model.history import record_changes, snapshot
from crmkit.customers.queries._readers import RESOURCE, definitions_of
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import CrmError, LimitExceeded, NotFound, PermissionDenied
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import grants_for, guarded, record_denial

__all__ = ["BatchResult", "batch_update_customers"]

MAX_BATCH = 10_000


@attrs.frozen
class BatchResult:
    """The outcome of a batch update.

    Attributes:
        updated: ids of the customers changed, in the order given.
        unchanged: ids of customers that already had the values.
        failed: the error per id that was skipped (``NotFound``, ``PermissionDenied``,
            ``ValidationError``).
    """

    updated: tuple[UUID, ...] = ()
    unchanged: tuple[UUID, ...] = ()
    failed: Mapping[UUID, CrmError] = attrs.field(factory=dict)


def batch_update_customers(
    crm: Crm, actor: Actor, customer_ids: Iterable[UUID], **changes: Any
) -> BatchResult:
    """Set ``changes`` on every customer of ``customer_ids`` the actor may edit.

    Args:
        customer_ids: the customers to change (duplicates are ignored).
        changes: field values, as for ``update_customer`` (``level="A"``, ``tags=(...)``,
            ``custom={"tier": "gold"}``).

    Returns:
        Which customers were updated, already up to date, or skipped and why.

    Raises:
        PermissionDenied: the actor holds no ``edit`` on customers, or one of the fields
            is read-only or hidden for them; nothing is changed.
        ValidationError: a custom field value does not fit its field (it would fail on
            every record); nothing is changed.
        LimitExceeded: more than 10,000 ids.
    """
    ids = list(dict.fromkeys(customer_ids))
    if len(ids) > MAX_BATCH:
        raise LimitExceeded(limit="batch size", value=len(ids), maximum=MAX_BATCH)
    now = crm.now()
    custom = changes.pop(CUSTOM, None)

    def work(uow: UnitOfWork) -> BatchResult:
        grants = grants_for(uow, actor)
        grants.require_operation("edit", RESOURCE)
        grants.check_writable(RESOURCE, [*sorted(changes), *custom_paths(custom)])
        definitions = definitions_of(uow, RESOURCE) if custom is not None else []
        if custom is not None:
            apply_custom(definitions, None, custom, entity=RESOURCE)  # refuses bad values once
        repo = uow.repository(Customer)
        loaded: dict[UUID, Customer] = {c.id: c for c in repo.get_many(ids)}
        updated: list[UUID] = []
        unchanged: list[UUID] = []
        failed: dict[UUID, CrmError] = {}
        for customer_id in ids:
            customer = loaded.get(customer_id)
            if customer is None or customer.deleted_at is not None:  # gone, or in the bin
                failed[customer_id] = NotFound(entity="customer", id=customer_id)
                continue
            if not grants.can("edit", customer, RESOURCE):
                decision = grants.explain("edit", customer, RESOURCE)
                failed[customer_id] = PermissionDenied(
                    actor=grants.label, operation="edit", resource=RESOURCE, decision=decision
                )
                continue
            before = snapshot(customer)
            fields = dict(changes)
            if custom is not None:
                fields[CUSTOM] = apply_custom(definitions, customer.custom, custom, entity=RESOURCE)
            try:
                event = customer.change(now, **fields)
            except CrmError as error:  # a ValidationError; the customer is left unchanged
                failed[customer_id] = error
                continue
            if event is None:
                unchanged.append(customer_id)
                continue
            repo.save(customer)
            record_changes(
                uow,
                lambda: crm.ids.new(now),
                customer_id=customer.id,
                tenant_id=customer.tenant_id,
                user_id=actor.user_id,
                at=now,
                action="update",
                before=before,
                after=snapshot(customer),
            )
            uow.outbox.add(event)
            updated.append(customer_id)
        return BatchResult(tuple(updated), tuple(unchanged), failed)

    result = guarded(crm, actor, work)
    for error in result.failed.values():
        if isinstance(error, PermissionDenied):
            record_denial(crm, actor, error)
    return result
