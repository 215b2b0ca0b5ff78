"""Permission before state: how a use case loads the record it acts on.

A refusal must not tell the caller anything about a record they may not reach. A
service that loads a customer and asks "is it in the pool?" or "is it in the recycle
bin?" before it asks "may this user touch it?" answers ``NotInPool`` or "not in the
recycle bin" to a stranger, and so reveals the record's state. The same goes for an
invoice's state, a request's decision or a receipt's unallocated amount.

So a use case acting on one stored record loads it through :func:`load_for` (or
:func:`load_through` for a record that has no owner of its own and belongs to
another one, such as an invoice to its customer): the record comes back only after
the actor's access was checked, and every domain check runs on what it returns. The
only answers a caller who may not reach the record can get are ``NotFound`` (no such
record in their tenant) and ``PermissionDenied``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from crmkit.kernel.errors import NotFound, PermissionDenied
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.query import field_value, to_predicate
from crmkit.ports import Entity, UnitOfWork
from crmkit.rules.permissions.model import Grants, registry

__all__ = ["load_for", "load_named", "load_record", "load_through", "require_reach"]

T = TypeVar("T", bound=Entity)
P = TypeVar("P", bound=Entity)


def require_reach(
    grants: Grants, operation: str, record: Any, resource: str, *, unowned: bool = False
) -> None:
    """Raise unless the actor may do ``operation`` to ``record``.

    Args:
        unowned: a record nobody owns (a customer in the public pool) is reached
            through :meth:`Grants.unowned_scope`, as the pool opens to whoever holds the
            operation; an owned record is checked as usual.

    Raises:
        PermissionDenied: the actor may not.
    """
    spec = registry.find(resource)
    owner_field = spec.owner_field if spec is not None else "owner_id"
    if unowned and field_value(record, owner_field) is None:
        grants.require_operation(operation, resource)
        if field_value(record, "tenant_id") == grants.tenant_id and to_predicate(
            grants.unowned_scope(operation, resource)
        )(record):
            return
        raise PermissionDenied(actor=grants.label, operation=operation, resource=resource)
    grants.require(operation, record, resource)


def load_for(
    uow: UnitOfWork,
    grants: Grants,
    entity: type[T],
    record_id: UUID,
    operation: str,
    resource: str,
    *,
    unowned: bool = False,
) -> T:
    """The stored record ``record_id``, returned only once the actor may ``operation`` it.

    Every check of the record's state (its workflow state, the pool, the recycle bin)
    belongs after this call, so a refused caller learns nothing but "not found" or
    "not allowed". The record is returned as stored (not redacted): it is the one the
    use case changes; redact what the service returns.

    Raises:
        NotFound: no such record in the actor's tenant.
        PermissionDenied: the actor may not do ``operation`` to it.
    """
    record = uow.repository(entity).get(record_id)
    require_reach(grants, operation, record, resource, unowned=unowned)
    return record


def load_through(
    uow: UnitOfWork,
    grants: Grants,
    entity: type[T],
    record_id: UUID,
    operation: str,
    resource: str,
    *,
    parent: type[P],
    parent_of: Callable[[T], UUID],
    parent_resource: str,
    parent_operation: str = "view",
) -> T:
    """A record without an owner of its own, reached through the record it belongs to.

    An invoice names no owner: it belongs to its customer. The actor must hold
    ``operation`` on ``resource`` (the object permission: who may issue invoices at
    all) *and* reach the parent record for ``parent_operation`` (the record access:
    whose invoices). Both are checked before the record's state is looked at.

    Raises:
        NotFound: no such record (or its parent is gone) in the actor's tenant.
        PermissionDenied: the actor lacks the operation or cannot reach the parent.
    """
    grants.require_operation(operation, resource)
    record = uow.repository(entity).get(record_id)
    owner = uow.repository(parent).find(parent_of(record))
    if owner is None:
        raise NotFound(entity=resource, id=record_id)
    grants.require(parent_operation, owner, parent_resource)
    return record


def load_named(
    uow: UnitOfWork, grants: Grants, resource: str, record_id: UUID, operation: str
) -> Any | None:
    """:func:`load_for` for a record named by its resource code (``"sales_order"``).

    For services that take a document type as data. Returns ``None`` when no
    registered resource of that name has an entity class (a type a host keeps itself,
    which it vouches for).

    Raises:
        NotFound: no such record in the actor's tenant.
        PermissionDenied: the actor may not do ``operation`` to it.
    """
    spec = registry.find(resource)
    if spec is None or spec.entity is None:
        return None
    entity: type[Entity] = spec.entity
    return load_for(uow, grants, entity, record_id, operation, resource)


def load_record(uow: UnitOfWork, resource: str, record_id: UUID) -> Any:
    """The stored record a resource code and an id name, not yet checked.

    For the permission services that take the resource as data and then ask about the
    actor's access to that very record (sharing it, transferring it, "may I?"): the
    caller checks or answers before anything about the record's state is used.

    Raises:
        ValidationError: ``resource`` names no stored aggregate.
        NotFound: no such record in the unit of work's tenant.
    """
    spec = registry.get(resource)
    if spec.entity is None:
        raise invalid(
            "share", "resource", N_("{resource} is not a stored aggregate"), resource=resource
        )
    return uow.repository(spec.entity).get(record_id)
