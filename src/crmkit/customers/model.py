"""Customers: the companies and people a tenant sells to.

A customer is the aggregate most of the CRM hangs off: contacts, opportunities,
contracts, receivables and tickets all point at one. This module holds the
customer master record; ownership, the public pool, dedup and search grow here
as the customers area lands.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, NewType
from uuid import UUID

import attrs

from crmkit.customers.phones import phone_key
from crmkit.customers.search import search_keys
from crmkit.kernel.errors import ValidationError, reason
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.money import Money
from crmkit.rules.reminders.model import ReminderSource, register_source

__all__ = [
    "Customer",
    "CustomerChanged",
    "CustomerId",
    "CustomerKind",
    "CustomerRegistered",
]

CustomerId = NewType("CustomerId", UUID)

NAME_MAX = 200

# Labels of the stored field names, so errors naming a field read well in every locale.
FIELD_LABELS = (
    N_("name"),
    N_("kind"),
    N_("owner_id"),
    N_("department_id"),
    N_("level"),
    N_("industry"),
    N_("region"),
    N_("source"),
    N_("phone"),
    N_("email"),
    N_("credit_limit"),
    N_("tags"),
    N_("last_activity_at"),
)


class CustomerKind(enum.Enum):
    """A customer is a company or an individual person."""

    COMPANY = "company"
    INDIVIDUAL = "individual"


def _clean_name(value: str) -> str:
    if not isinstance(value, str):
        raise TypeError("name must be a string")
    return " ".join(value.split())


def _check_name(_instance: Any, _attribute: Any, value: str) -> None:
    if not value:
        raise ValidationError(entity="customer", field="name", reason=reason(N_("is required")))
    if len(value) > NAME_MAX:
        raise ValidationError(
            entity="customer",
            field="name",
            reason=reason(N_("is longer than {maximum} characters"), maximum=NAME_MAX),
        )


def _check_credit_limit(_instance: Any, _attribute: Any, value: Money | None) -> None:
    if value is not None and value.amount < 0:
        raise ValidationError(
            entity="customer", field="credit_limit", reason=reason(N_("must not be negative"))
        )


def _refresh_keys(instance: Any, attribute: Any, value: Any) -> Any:
    # Runs when name, kind or phone is assigned (after conversion and validation), so the
    # stored search and caller-ID keys never go stale.
    current = {"name": instance.name, "kind": instance.kind, "phone": instance.phone}
    current[attribute.name] = value
    _set_keys(instance, current["name"], current["kind"], current["phone"])
    return value


def _set_keys(instance: Any, name: str, kind: CustomerKind, phone: str | None) -> None:
    keys = search_keys(name, person=kind is CustomerKind.INDIVIDUAL)
    for field in ("name_key", "pinyin_full", "pinyin_initials", "short_full", "short_initials"):
        object.__setattr__(instance, field, getattr(keys, field))
    object.__setattr__(instance, "letter", keys.letter)
    object.__setattr__(instance, "phone_key", phone_key(phone))


_KEYED: Any = [attrs.setters.convert, attrs.setters.validate, _refresh_keys]


@attrs.define(eq=False)
class Customer:
    """The customer master record.

    Attributes:
        id: time-sortable id.
        tenant_id: the owning tenant.
        name: display name, whitespace-normalised, 1..200 characters.
        kind: company or individual.
        owner_id: the sales rep who owns it; ``None`` while it sits in the public pool.
        level: value grade such as ``A``/``B``/``C``.
        industry, region, source: classification used by scopes and reports.
        phone, email: main contact channels.
        credit_limit: how much open receivables the customer may carry.
        tags: free labels.
        last_activity_at: when someone last followed the customer up (calls, visits, ...).
        created_at: when it was registered (UTC).
        version: optimistic-locking counter, managed by the repository.
        name_key, pinyin_full, pinyin_initials, short_full, short_initials, letter: search
            and duplicate keys derived from ``name`` (see ``crmkit.customers.search``);
            read-only, recomputed whenever ``name`` or ``kind`` changes.
        phone_key: the caller-ID key of ``phone`` (see ``crmkit.customers.phones``).
    """

    entity_name = N_("customer")

    id: CustomerId
    tenant_id: TenantId
    name: str = attrs.field(converter=_clean_name, validator=_check_name, on_setattr=_KEYED)
    created_at: datetime
    kind: CustomerKind = attrs.field(default=CustomerKind.COMPANY, on_setattr=_KEYED)
    owner_id: UserId | None = None
    department_id: UUID | None = None
    level: str | None = None
    industry: str | None = None
    region: str | None = None
    source: str | None = None
    phone: str | None = attrs.field(default=None, on_setattr=_KEYED)
    email: str | None = None
    credit_limit: Money | None = attrs.field(default=None, validator=_check_credit_limit)
    tags: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    last_activity_at: datetime | None = None
    version: int = 0
    # Derived keys, stored and indexed so search and caller ID are indexed lookups.
    name_key: str = attrs.field(init=False, default="")
    pinyin_full: str = attrs.field(init=False, default="")
    pinyin_initials: str = attrs.field(init=False, default="")
    short_full: str | None = attrs.field(init=False, default=None)
    short_initials: str | None = attrs.field(init=False, default=None)
    letter: str = attrs.field(init=False, default="#")
    phone_key: str | None = attrs.field(init=False, default=None)

    def __attrs_post_init__(self) -> None:
        _set_keys(self, self.name, self.kind, self.phone)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Customer) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def change(self, now: datetime, **changes: Any) -> CustomerChanged | None:
        """Apply field changes (validated) and return the event recording them.

        Raises:
            ValidationError: an unknown or read-only field, or a value that breaks a rule;
                the customer is left unchanged.
        """
        editable = {f.name for f in attrs.fields(Customer)} - {
            "id",
            "tenant_id",
            "created_at",
            "version",
        }
        for name in changes:
            if name not in editable:
                raise ValidationError(
                    entity="customer", field=name, reason=reason(N_("cannot be changed"))
                )
        candidate = attrs.evolve(self, **changes)  # validators run here, before any mutation
        diff = {
            name: (getattr(self, name), getattr(candidate, name))
            for name in changes
            if getattr(self, name) != getattr(candidate, name)
        }
        if not diff:
            return None
        for name, (_, new) in diff.items():
            setattr(self, name, new)
        return CustomerChanged(
            tenant_id=self.tenant_id,
            aggregate_id=self.id,
            occurred_at=now,
            changes={name: (_show(old), _show(new)) for name, (old, new) in diff.items()},
        )


def _show(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value)


@attrs.frozen(kw_only=True)
class CustomerRegistered(DomainEvent):
    """A new customer was entered."""

    aggregate_type = "customer"

    name: str
    owner_id: UUID | None = None


@attrs.frozen(kw_only=True)
class CustomerChanged(DomainEvent):
    """Fields of a customer changed: ``changes`` maps field -> (old, new) as text."""

    aggregate_type = "customer"

    changes: dict[str, tuple[str | None, str | None]]


register_source(ReminderSource("customer", Customer, title_field="name"))
