"""Helpers the pipeline's use cases share."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.events import DomainEvent
from crmkit.ports import Entity, UnitOfWork
from crmkit.rules.permissions import Member, grants_for, guarded

__all__ = [
    "act_on_record",
    "department_of",
    "load_checked",
]

R = TypeVar("R", bound=Entity)

Action = Callable[[UnitOfWork, R, datetime], DomainEvent | Sequence[DomainEvent] | None]
"""What a use case does to a loaded record: ``(uow, record, now)``, returning its events."""


Loader = Callable[[UnitOfWork, Actor, type[R], str, uuid.UUID, str], R]
"""Loads a record a use case is about to change: ``(uow, actor, type, resource, id, operation)``,
refusing what the actor may not do (:func:`load_checked` is one)."""


def department_of(uow: UnitOfWork, user_id: uuid.UUID | None) -> uuid.UUID | None:
    """The owner's department, which records carry for department-scoped permissions."""
    member = None if user_id is None else uow.repository(Member).find(user_id)
    return None if member is None else member.department_id


def load_checked(
    uow: UnitOfWork,
    actor: Actor,
    entity_type: type[R],
    resource: str,
    record_id: uuid.UUID,
    operation: str = "edit",
) -> R:
    """Load a record, refusing it unless the actor may do ``operation`` on it."""
    record = uow.repository(entity_type).get(record_id)
    grants_for(uow, actor).require(operation, record, resource)
    return record


def act_on_record(
    entity_type: type[R],
    resource: str,
    crm: Crm,
    actor: Actor,
    record_id: uuid.UUID,
    action: Action[R],
    operation: str = "edit",
    load: Loader[R] = load_checked,
) -> R:
    """Load a record with ``load``, act on it, save it and record the events, in one transaction.

    The type and resource come first, so each kind of record binds them once
    (``functools.partial(act_on_record, Lead, LEADS)``).
    """

    def work(uow: UnitOfWork) -> R:
        record = load(uow, actor, entity_type, resource, record_id, operation)
        events = action(uow, record, crm.now())
        uow.repository(entity_type).save(record)
        if isinstance(events, DomainEvent):
            events = [events]
        uow.outbox.add(*(events or ()))
        return record

    return guarded(crm, actor, work)
