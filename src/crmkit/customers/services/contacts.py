"""Contact use cases: a customer's contacts, read and written under its grants."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from crmkit.crm import Crm
from crmkit.customers.model.contacts import Contact
from crmkit.customers.queries._readers import _contacts_of, _visible_contacts
from crmkit.customers.services._common import (
    CONTACT,
    _history,
    _live_for,
    _of_viewable,
    contact_reader,
)
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import NotFound
from crmkit.kernel.ids import UserId
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import grants_for, guarded
from crmkit.rules.permissions.model import Grants

T = TypeVar("T")

__all__ = [
    "add_contact",
    "list_contacts",
    "remove_contact",
    "set_primary_contact",
    "update_contact",
]


def _contact_history(
    uow: UnitOfWork,
    crm: Crm,
    contact: Contact,
    user: UserId,
    action: str,
    changes: dict[str, tuple[Any, Any]],
    now: datetime,
) -> None:
    label = f"contact.{contact.name}"
    _history(
        uow,
        crm,
        contact.customer_id,
        user,
        action,
        {f"{label}.{k}": v[0] for k, v in changes.items()},
        {f"{label}.{k}": v[1] for k, v in changes.items()},
        now=now,
        always=True,
    )


def add_contact(
    crm: Crm, actor: Actor, customer_id: UUID, *, name: str, primary: bool = False, **fields: Any
) -> Contact:
    """Add a contact to a customer (the first contact becomes the primary one).

    Args:
        primary: make it the primary contact (the previous primary one stops being it).
        **fields: ``title``, ``phones``, ``email``, ``wechat``, ``qq``, ``im``,
            ``birthday``, ``notes``.

    Raises:
        NotFound: no such customer (or it is in the recycle bin).
        PermissionDenied: the actor may not edit the customer or set a contact field.
        ValidationError: a field breaks a rule; nothing is stored.
    """
    now = crm.now()
    contact = Contact(
        id=crm.ids.new(now),
        tenant_id=actor.tenant_id,
        customer_id=customer_id,
        name=name,
        created_at=now,
        **fields,
    )

    def work(uow: UnitOfWork) -> Contact:
        grants = grants_for(uow, actor)
        customer = _live_for(uow, grants, "edit", customer_id)
        grants.check_writable(CONTACT, sorted({"name", *fields}))
        repo = uow.repository(Contact)
        others = _contacts_of(uow, customer_id)
        contact.primary = primary or not others
        if contact.primary:
            for other in others:
                if other.primary:
                    other.primary = False
                    repo.save(other)
        contact.owner_id = customer.owner_id
        contact.department_id = customer.department_id
        repo.add(contact)
        shown = {k: getattr(contact, k) for k in ("name", *sorted(fields)) if k != "im"}
        _contact_history(
            uow,
            crm,
            contact,
            actor.user_id,
            "contact_add",
            {k: (None, v) for k, v in shown.items()},
            now,
        )
        return contact_reader(uow, grants).redact(contact)

    return guarded(crm, actor, work)


def _edit_contact(
    crm: Crm, actor: Actor, contact_id: UUID, act: Callable[[UnitOfWork, Grants, Contact], T]
) -> T:
    # Every change to a contact is a change to its customer: the contact must be live
    # and the actor allowed to edit the customer it belongs to.
    def work(uow: UnitOfWork) -> T:
        grants = grants_for(uow, actor)
        contact = uow.repository(Contact).get(contact_id)
        if contact.deleted_at is not None:
            raise NotFound(entity="contact", id=contact_id)
        _live_for(uow, grants, "edit", contact.customer_id)
        return act(uow, grants, contact)

    return guarded(crm, actor, work)


def update_contact(crm: Crm, actor: Actor, contact_id: UUID, **changes: Any) -> Contact:
    """Change fields of a contact (use :func:`set_primary_contact` for the primary flag).

    Raises:
        NotFound: no such contact.
        PermissionDenied: the actor may not edit its customer, or one of the fields.
        ValidationError: a change breaks a rule; the contact is left unchanged.
    """

    def change(uow: UnitOfWork, grants: Grants, contact: Contact) -> Contact:
        grants.check_writable(CONTACT, sorted(changes))
        now = crm.now()
        diff = contact.change(**changes)
        if diff:
            uow.repository(Contact).save(contact)
            _contact_history(uow, crm, contact, actor.user_id, "contact_update", diff, now)
        return contact_reader(uow, grants).redact(contact)

    return _edit_contact(crm, actor, contact_id, change)


def set_primary_contact(crm: Crm, actor: Actor, contact_id: UUID) -> Contact:
    """Make a contact its customer's primary contact (and the previous one not).

    Raises:
        NotFound: no such contact.
        PermissionDenied: the actor may not edit its customer.
    """

    def make_primary(uow: UnitOfWork, grants: Grants, contact: Contact) -> Contact:
        repo = uow.repository(Contact)
        for other in _contacts_of(uow, contact.customer_id):
            if other.primary != (other.id == contact.id):
                other.primary = other.id == contact.id
                repo.save(other)
        now = crm.now()
        _contact_history(
            uow, crm, contact, actor.user_id, "contact_primary", {"primary": (False, True)}, now
        )
        return contact_reader(uow, grants).redact(repo.get(contact_id))

    return _edit_contact(crm, actor, contact_id, make_primary)


def remove_contact(crm: Crm, actor: Actor, contact_id: UUID) -> None:
    """Remove a contact for good (the next oldest becomes primary if it was).

    Raises:
        NotFound: no such contact.
        PermissionDenied: the actor may not edit its customer.
    """

    def remove(uow: UnitOfWork, _grants: Grants, contact: Contact) -> None:
        repo = uow.repository(Contact)
        repo.delete(contact)
        if contact.primary:
            rest = _contacts_of(uow, contact.customer_id)
            if rest:
                rest[0].primary = True
                repo.save(rest[0])
        _contact_history(
            uow,
            crm,
            contact,
            actor.user_id,
            "contact_remove",
            {"name": (contact.name, None)},
            crm.now(),
        )

    _edit_contact(crm, actor, contact_id, remove)


def list_contacts(crm: Crm, actor: Actor, customer_id: UUID) -> list[Contact]:
    """The contacts of one customer, primary first, without fields hidden from the actor.

    Raises:
        NotFound: no such customer.
        PermissionDenied: the customer is outside the actor's view scope.
    """
    return _of_viewable(crm, actor, customer_id, _visible_contacts)
