"""Customers: the companies and people a tenant sells to.

A customer is the aggregate most of the CRM hangs off: contacts, opportunities,
contracts and receivables all point at one. This module holds the
customer master record with its addresses, the search keys derived from its name,
and the fields the public-pool lifecycle keeps on it (see :mod:`crmkit.customers.model.pool`):

* ``owner_id`` is the one sales rep who owns the customer, or ``None`` while it sits
  in the tenant's **public pool** (公海), where any rep holding ``claim`` may take it;
* ``pool_state`` is where it stands in the lifecycle (in pool, claimed, assigned,
  lead, prospect, won, dormant, closed), moved only by the pool machine;
* ``owned_since`` starts the protection and deal periods of the current owner;
  ``returned_from``/``returned_at`` remember the last owner who lost or released it,
  for the cool-down before they may claim it again;
* ``deleted_at``/``deleted_by`` put it in the **recycle bin**: hidden from every
  list and lookup until restored or purged.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, NewType
from uuid import UUID

import attrs

from crmkit.customers.model.custom_fields import CUSTOM
from crmkit.customers.model.custom_values import CustomValues, show_custom, to_custom_values
from crmkit.customers.model.identifiers import check_email, check_tax_id, compact_tax_id
from crmkit.customers.model.phones import check_phone, phone_key
from crmkit.customers.model.search_keys import search_keys
from crmkit.kernel.entity import Entity
from crmkit.kernel.event_origin import origin
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.invalid import invalid
from crmkit.kernel.limits import max_length, to_member
from crmkit.kernel.money import Money
from crmkit.rules.permissions.model import derived_from

__all__ = [
    "DERIVED_KEYS",
    "SYSTEM_FIELDS",
    "Address",
    "AddressKind",
    "Customer",
    "CustomerChanged",
    "CustomerEvent",
    "CustomerId",
    "CustomerKind",
    "CustomerRegistered",
    "PoolState",
]

CustomerId = NewType("CustomerId", UUID)

NAME_MAX = 200
#: The longest classification value (level, industry, region, source) and tag.
LABEL_MAX = 100

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
    N_("tax_id"),
    N_("tax_country"),
    N_("credit_limit"),
    N_("tags"),
    N_("last_activity_at"),
    N_("addresses"),
    N_("pool_state"),
    N_("owned_since"),
    N_("deleted_at"),
    N_("custom"),
)


class CustomerKind(enum.Enum):
    """A customer is a company or an individual person."""

    COMPANY = "company"
    INDIVIDUAL = "individual"


class PoolState(enum.Enum):
    """Where a customer stands in the ownership lifecycle (see ``crmkit.customers.model.pool``)."""

    IN_POOL = "in_pool"
    CLAIMED = "claimed"
    ASSIGNED = "assigned"
    LEAD = "lead"
    PROSPECT = "prospect"
    WON = "won"
    DORMANT = "dormant"
    CLOSED = "closed"


class AddressKind(enum.Enum):
    """What an address is used for."""

    OFFICE = "office"
    BILLING = "billing"
    SHIPPING = "shipping"
    HOME = "home"
    OTHER = "other"


def optional_text(value: Any) -> str | None:
    """A free-text form value with whitespace runs made one space; blank becomes ``None``.

    Args:
        value: what the form gave (anything; it is shown with ``str``).

    Returns:
        The tidied text, or ``None`` when there is none.
    """
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _address_kind(value: Any) -> AddressKind:
    return to_member(AddressKind, value, entity="customer", field="addresses.kind")


def _address_tuple_item(value: Any) -> Address:
    if isinstance(value, Address):
        return value
    if not isinstance(value, Mapping):
        raise invalid("customer", "addresses", N_("is not an address"))
    unknown = sorted(set(value) - {f.name for f in attrs.fields(Address)})
    if unknown:
        raise invalid(
            "customer",
            "addresses",
            N_("{name} is not a part of an address"),
            name=str(unknown[0])[:40],
        )
    return Address(**value)


@attrs.frozen(kw_only=True)
class Address:
    """A postal address of a customer, Chinese order (province, city, district, street).

    Attributes:
        kind: office, billing, shipping, home or other.
        country: ISO 3166 alpha-2 code, ``CN`` by default.
        province, city, district, street: the parts; at least one must be given.
        postcode: the postal code.
        primary: the address shown first (at most one per customer).
    """

    kind: AddressKind = attrs.field(default=AddressKind.OFFICE, converter=_address_kind)
    country: str = "CN"
    province: str | None = attrs.field(default=None, converter=optional_text)
    city: str | None = attrs.field(default=None, converter=optional_text)
    district: str | None = attrs.field(default=None, converter=optional_text)
    street: str | None = attrs.field(default=None, converter=optional_text)
    postcode: str | None = attrs.field(default=None, converter=optional_text)
    primary: bool = False

    def __attrs_post_init__(self) -> None:
        if not (self.province or self.city or self.district or self.street):
            raise invalid("customer", "addresses", N_("an address is empty"))

    def __str__(self) -> str:
        return "".join(p for p in (self.province, self.city, self.district, self.street) if p)


def _address_tuple(values: Any) -> tuple[Address, ...]:
    if isinstance(values, Address | Mapping):
        values = (values,)
    if not isinstance(values, list | tuple):
        raise invalid("customer", "addresses", N_("is not a list of addresses"))
    return tuple(_address_tuple_item(v) for v in values)


def _check_addresses(_instance: Any, _attribute: Any, value: tuple[Address, ...]) -> None:
    if sum(1 for a in value if a.primary) > 1:
        raise invalid("customer", "addresses", N_("only one address may be primary"))


def _initial_pool_state(instance: Any) -> PoolState:
    # A customer entered without an owner starts in the pool; one entered for a rep is
    # theirs from the start (the protection period runs from ``owned_since``).
    return PoolState.IN_POOL if instance.owner_id is None else PoolState.CLAIMED


def _clean_name(value: str) -> str:
    if not isinstance(value, str):
        raise TypeError("name must be a string")
    return " ".join(value.split())


def check_name(value: str, *, entity: str, maximum: int) -> None:
    """Refuse a blank name or one longer than ``maximum`` characters.

    Args:
        value: the name, already tidied (see :func:`optional_text`).
        entity: what the name belongs to, for the error.
        maximum: the longest name ``entity`` keeps.

    Raises:
        ValidationError: on field ``name``.
    """
    if not value:
        raise invalid(entity, "name", N_("is required"))
    if len(value) > maximum:
        raise invalid(entity, "name", N_("is longer than {maximum} characters"), maximum=maximum)


def _check_name(_instance: Any, _attribute: Any, value: str) -> None:
    check_name(value, entity="customer", maximum=NAME_MAX)


def apply_changes(
    record: Any,
    changes: Mapping[str, Any],
    *,
    editable: Collection[str],
    entity: str,
) -> dict[str, tuple[Any, Any]]:
    """Set ``changes`` on ``record`` once all of them pass its validators.

    Every value is checked on a copy first, so a refused change leaves ``record`` as it
    was rather than half changed.

    Args:
        record: the customer or contact (an attrs instance) to change.
        changes: field -> new value.
        editable: the fields a caller may set.
        entity: what ``record`` is, for the error.

    Returns:
        ``{field: (old, new)}`` for the fields whose value changed.

    Raises:
        ValidationError: a field outside ``editable``, or a value that breaks a rule.
    """
    for name in changes:
        if name not in editable:
            raise invalid(entity, name, N_("cannot be changed"))
    candidate = attrs.evolve(record, **changes)  # validators run here, before any mutation
    diff = {
        name: (getattr(record, name), getattr(candidate, name))
        for name in changes
        if getattr(record, name) != getattr(candidate, name)
    }
    for name, (_, new) in diff.items():
        setattr(record, name, new)
    return diff


def _check_email(instance: Any, _attribute: Any, value: str | None) -> None:
    check_email(value, entity="customer")


def _optional_upper(value: Any) -> str | None:
    text = optional_text(value)
    return None if text is None else text.upper()


def _check_tax_id(instance: Any, _attribute: Any, value: str | None) -> None:
    check_tax_id(value, instance.tax_country, entity="customer")


def _to_kind(value: Any) -> CustomerKind:
    # A form sends the value ("individual"); anything else is refused by name, not
    # stored as text that no backend can map back to a kind.
    return to_member(CustomerKind, value, entity="customer", field="kind")


def _to_tags(value: Any) -> tuple[str, ...]:
    # One text is one tag (a form's single input), not a sequence of letters.
    if isinstance(value, tuple) and all(type(t) is str for t in value):
        return value  # stored tags (and most changes) need no work: rows load through here
    items = (value,) if isinstance(value, str) else value
    if not isinstance(items, list | tuple | set | frozenset):
        raise invalid("customer", "tags", N_("must be a list of texts"))
    tags: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise invalid("customer", "tags", N_("must be a list of texts"))
        tag = " ".join(item.split())
        if tag and tag not in tags:
            tags.append(tag)
    return tuple(tags)


def _check_phone(_instance: Any, _attribute: Any, value: str | None) -> None:
    if value is not None:
        check_phone(value, entity="customer", field="phone")


def _check_credit_limit(_instance: Any, _attribute: Any, value: Money | None) -> None:
    if value is not None and not isinstance(value, Money):
        raise invalid(
            "customer",
            "credit_limit",
            N_("needs an amount with its currency, e.g. Money('100', 'CNY')"),
        )
    if value is not None and value.amount < 0:
        raise invalid("customer", "credit_limit", N_("must not be negative"))


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
class Customer(Entity):
    """The customer master record.

    Attributes:
        id: time-sortable id.
        tenant_id: the owning tenant.
        name: display name, whitespace-normalised, 1..200 characters.
        kind: company or individual.
        owner_id: the sales rep who owns it; ``None`` while it sits in the public pool.
        level: value grade such as ``A``/``B``/``C``.
        industry, region, source: classification used by scopes and reports.
        phone, email: main contact channels (the email checked by email-validator).
        tax_id: the unified social credit code (统一社会信用代码), or the VAT number or
            taxpayer id of ``tax_country`` (ISO 3166 code; China when ``None``),
            checked by python-stdnum and stored compact (see
            ``crmkit.customers.model.identifiers``).
        credit_limit: how much open receivables the customer may carry.
        tags: free labels.
        last_activity_at: when someone last followed the customer up (calls, visits, ...).
        addresses: postal addresses, at most one primary.
        pool_state: the lifecycle state (moved only by ``crmkit.customers.model.pool.POOL``).
        owned_since: when the current owner got it (starts the protection period).
        returned_from, returned_at: the last owner who lost or released it, and when.
        closed_from: the state it was closed from (a reopen goes back there).
        won_at: when it was first won.
        deleted_at, deleted_by: set while it is in the recycle bin.
        custom: the tenant's custom field values (``{key: value}``, see
            :mod:`crmkit.customers.model.custom_fields`); services validate them against the
            tenant's definitions, and history, events and field rules name them
            ``custom.<key>``.
        created_at: when it was registered (UTC).
        version: optimistic-locking counter, managed by the repository.
        name_key, pinyin_full, pinyin_initials, short_full, short_initials, letter: search
            and duplicate keys derived from ``name`` (see ``crmkit.customers.model.search_keys``);
            read-only, recomputed whenever ``name`` or ``kind`` changes.
        phone_key: the caller-ID key of ``phone`` (see ``crmkit.customers.model.phones``).
    """

    entity_name = N_("customer")

    id: CustomerId
    tenant_id: TenantId
    name: str = attrs.field(converter=_clean_name, validator=_check_name, on_setattr=_KEYED)
    created_at: datetime
    kind: CustomerKind = attrs.field(
        default=CustomerKind.COMPANY, converter=_to_kind, on_setattr=_KEYED
    )
    owner_id: UserId | None = None
    department_id: UUID | None = None
    level: str | None = attrs.field(default=None, metadata=max_length(LABEL_MAX))
    industry: str | None = attrs.field(default=None, metadata=max_length(LABEL_MAX))
    region: str | None = attrs.field(default=None, metadata=max_length(LABEL_MAX))
    source: str | None = attrs.field(default=None, metadata=max_length(LABEL_MAX))
    phone: str | None = attrs.field(
        default=None, converter=optional_text, validator=_check_phone, on_setattr=_KEYED
    )
    email: str | None = attrs.field(default=None, converter=optional_text, validator=_check_email)
    tax_country: str | None = attrs.field(default=None, converter=_optional_upper)
    tax_id: str | None = attrs.field(
        default=None, converter=compact_tax_id, validator=_check_tax_id
    )
    credit_limit: Money | None = attrs.field(default=None, validator=_check_credit_limit)
    tags: tuple[str, ...] = attrs.field(
        default=(), converter=_to_tags, metadata=max_length(LABEL_MAX)
    )
    last_activity_at: datetime | None = None
    addresses: tuple[Address, ...] = attrs.field(
        default=(), converter=_address_tuple, validator=_check_addresses
    )
    pool_state: PoolState = attrs.field(
        default=attrs.Factory(_initial_pool_state, takes_self=True), converter=PoolState
    )
    owned_since: datetime | None = None
    returned_from: UserId | None = None
    returned_at: datetime | None = None
    closed_from: PoolState | None = None
    won_at: datetime | None = None
    deleted_at: datetime | None = None
    deleted_by: UserId | None = None
    custom: CustomValues = attrs.field(factory=CustomValues, converter=to_custom_values)
    version: int = 0
    # Derived keys, stored and indexed so search and caller ID are indexed lookups. Each
    # names its source, so a field rule hiding the source hides the key everywhere (the
    # ``kind`` only picks how a name is read, it is not carried in the key).
    name_key: str = attrs.field(init=False, default="", metadata=derived_from("name"))
    pinyin_full: str = attrs.field(init=False, default="", metadata=derived_from("name"))
    pinyin_initials: str = attrs.field(init=False, default="", metadata=derived_from("name"))
    short_full: str | None = attrs.field(init=False, default=None, metadata=derived_from("name"))
    short_initials: str | None = attrs.field(
        init=False, default=None, metadata=derived_from("name")
    )
    letter: str = attrs.field(init=False, default="#", metadata=derived_from("name"))
    phone_key: str | None = attrs.field(init=False, default=None, metadata=derived_from("phone"))

    def __attrs_post_init__(self) -> None:
        _set_keys(self, self.name, self.kind, self.phone)

    def change(self, now: datetime, **changes: Any) -> CustomerChanged | None:
        """Apply field changes (validated) and return the event recording them.

        Raises:
            ValidationError: an unknown or read-only field, or a value that breaks a rule;
                the customer is left unchanged.
        """
        editable = {f.name for f in attrs.fields(Customer)} - SYSTEM_FIELDS
        diff = apply_changes(self, changes, editable=editable, entity="customer")
        if not diff:
            return None
        shown = {name: (_show(old), _show(new)) for name, (old, new) in diff.items()}
        if CUSTOM in diff:
            # One entry per changed custom field, named as history and field rules name it.
            old_custom, new_custom = (show_custom(v) for v in diff[CUSTOM])
            del shown[CUSTOM]
            for name in sorted(set(old_custom) | set(new_custom)):
                old, new = _show(old_custom.get(name)), _show(new_custom.get(name))
                if old != new:
                    shown[name] = (old, new)
        return CustomerChanged(**origin(self, now), changes=shown)


#: The search and caller-ID keys a customer derives from its name, kind and phone: kept
#: fresh on every assignment, never written directly.
DERIVED_KEYS = (
    "name_key",
    "pinyin_full",
    "pinyin_initials",
    "short_full",
    "short_initials",
    "letter",
    "phone_key",
)

# Fields only the services' own paths write (pool moves, recycle bin, derived keys):
# a plain field update may not touch them.
SYSTEM_FIELDS = frozenset(
    {
        "id",
        "tenant_id",
        "created_at",
        "version",
        "pool_state",
        "owned_since",
        "returned_from",
        "returned_at",
        "closed_from",
        "won_at",
        "deleted_at",
        "deleted_by",
        *DERIVED_KEYS,
    }
)


def _show(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def show_value(value: Any) -> str | None:
    """A field value as the text change history and events keep (``None`` stays ``None``)."""
    return _show(value)


@attrs.frozen(kw_only=True)
class CustomerEvent(DomainEvent):
    """Base of the events of a :class:`Customer` (its ``aggregate_id``)."""

    aggregate_type = "customer"


@attrs.frozen(kw_only=True)
class CustomerRegistered(CustomerEvent):
    """A new customer was entered."""

    name: str
    owner_id: UUID | None = None


@attrs.frozen(kw_only=True)
class CustomerChanged(CustomerEvent):
    """Fields of a customer changed: ``changes`` maps field -> (old, new) as text."""

    changes: dict[str, tuple[str | None, str | None]]
