"""Contacts: the people at a customer a sales team talks to.

A customer has any number of contacts and at most one *primary* contact (the one
shown on lists and used for calls by default). A contact keeps what a Chinese
sales team asks for: title, several phone numbers, email, WeChat, QQ and other IM
handles, and a birthday; ``birthday_md`` (``"MMDD"``, the form every yearly reminder
rule reads: :func:`~crmkit.rules.reminders.month_day_key`) is derived and stored so a
yearly birthday reminder is an indexed lookup.

A contact follows its customer: it carries the customer's owner and department
(copied on every ownership change) so the permission evaluator scopes contact
lists without a join, and it goes to the recycle bin and back with its customer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from uuid import UUID

import attrs

from crmkit.customers.model.customer import apply_changes, check_name, optional_text
from crmkit.customers.model.identifiers import check_email
from crmkit.customers.model.phones import check_phone, phone_key
from crmkit.customers.model.search_keys import search_keys
from crmkit.kernel.entity import Entity
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.invalid import invalid
from crmkit.kernel.limits import to_date
from crmkit.rules.permissions.model import derived_from
from crmkit.rules.reminders.model import month_day_key

__all__ = ["PHONES_MAX", "PHONE_KEY_FIELDS", "Contact"]

NAME_MAX = 100
#: The most phone numbers a contact keeps: mobile, office, home, fax and a spare. Each has
#: its own indexed caller-ID key column, so a call from any of them is an indexed lookup.
PHONES_MAX = 5
#: The stored caller-ID key of each phone, in the order of ``Contact.phones``.
PHONE_KEY_FIELDS = ("phone_key", *(f"phone_key_{n}" for n in range(2, PHONES_MAX + 1)))

FIELD_LABELS = (
    N_("customer_id"),
    N_("title"),
    N_("phones"),
    N_("wechat"),
    N_("qq"),
    N_("im"),
    N_("birthday"),
    N_("primary"),
)


def _clean_name(value: Any) -> str:
    return optional_text(value) or ""


def _check_name(_instance: Any, _attribute: Any, value: str) -> None:
    check_name(value, entity="contact", maximum=NAME_MAX)


def _phones(values: Any) -> tuple[str, ...]:
    if isinstance(values, str):
        values = (values,)
    if not isinstance(values, list | tuple):
        raise invalid("contact", "phones", N_("must be a list of texts"))
    return tuple(p for p in (optional_text(v) for v in values) if p)


def _check_phones(_instance: Any, _attribute: Any, value: tuple[str, ...]) -> None:
    if len(value) > PHONES_MAX:
        raise invalid(
            "contact", "phones", N_("at most {maximum} phone numbers"), maximum=PHONES_MAX
        )
    for number in value:
        check_phone(number, entity="contact", field="phones")


def _check_email(_instance: Any, _attribute: Any, value: str | None) -> None:
    check_email(value, entity="contact")


def _check_qq(_instance: Any, _attribute: Any, value: str | None) -> None:
    # QQ numbers are 5 to 11 digits and never start with 0.
    if value is not None and not re.fullmatch(r"[1-9][0-9]{4,10}", value):
        raise invalid("contact", "qq", N_("is not a QQ number"))


def _birthday(value: Any) -> date | None:
    # A form sends "1985-02-09"; stored rows come back as dates and take the short way.
    if value is None or type(value) is date:
        return value
    return to_date(value, entity="contact", field="birthday")


def _im(values: Any) -> dict[str, str]:
    if not isinstance(values, Mapping):
        raise invalid("contact", "im", N_("must map each service to a handle"))
    return {str(k).strip().lower(): str(v).strip() for k, v in dict(values).items() if v}


def _refresh(instance: Any, attribute: Any, value: Any) -> Any:
    current = {"name": instance.name, "phones": instance.phones, "birthday": instance.birthday}
    current[attribute.name] = value
    _set_derived(instance, current["name"], current["phones"], current["birthday"])
    return value


def _set_derived(instance: Any, name: str, phones: tuple[str, ...], birthday: date | None) -> None:
    keys = search_keys(name, person=True)
    object.__setattr__(instance, "pinyin_full", keys.pinyin_full)
    object.__setattr__(instance, "pinyin_initials", keys.pinyin_initials)
    # Stored rows from before the cap may hold more phones; only the first ones are keyed.
    for slot, field in enumerate(PHONE_KEY_FIELDS):
        object.__setattr__(instance, field, phone_key(phones[slot]) if slot < len(phones) else None)
    object.__setattr__(
        instance, "birthday_md", None if birthday is None else month_day_key(birthday)
    )


_DERIVED: Any = [attrs.setters.convert, attrs.setters.validate, _refresh]


@attrs.define(eq=False)
class Contact(Entity):
    """A person at a customer.

    Attributes:
        customer_id: the customer they work for.
        name: their name, 1..100 characters.
        title: job title.
        phones: up to :data:`PHONES_MAX` phone numbers, the first one is the main one
            (validated as phone numbers).
        email: email address.
        wechat, qq: WeChat id and QQ number.
        im: other IM handles by network (``{"dingtalk": "...", "telegram": "..."}``).
        birthday: date of birth (the year may be a placeholder when unknown).
        primary: the customer's primary contact (the services keep at most one).
        owner_id, department_id: copied from the customer, for permission scopes.
        notes: free text.
        deleted_at: set while the contact (or its customer) is in the recycle bin.
        pinyin_full, pinyin_initials, phone_key, birthday_md: derived, stored for lookups.
        phone_key_2 .. phone_key_5: the caller-ID keys of the other phones, in order.
    """

    entity_name = N_("contact")

    id: UUID
    tenant_id: TenantId
    customer_id: UUID
    name: str = attrs.field(converter=_clean_name, validator=_check_name, on_setattr=_DERIVED)
    created_at: datetime
    title: str | None = attrs.field(default=None, converter=optional_text)
    phones: tuple[str, ...] = attrs.field(
        default=(), converter=_phones, validator=_check_phones, on_setattr=_DERIVED
    )
    email: str | None = attrs.field(default=None, converter=optional_text, validator=_check_email)
    wechat: str | None = attrs.field(default=None, converter=optional_text)
    qq: str | None = attrs.field(default=None, converter=optional_text, validator=_check_qq)
    im: dict[str, str] = attrs.field(factory=dict, converter=_im)
    birthday: date | None = attrs.field(default=None, converter=_birthday, on_setattr=_DERIVED)
    primary: bool = False
    owner_id: UserId | None = None
    department_id: UUID | None = None
    notes: str | None = None
    deleted_at: datetime | None = None
    version: int = 0
    # Derived, stored for lookups; each names its source so field rules follow it.
    pinyin_full: str = attrs.field(init=False, default="", metadata=derived_from("name"))
    pinyin_initials: str = attrs.field(init=False, default="", metadata=derived_from("name"))
    phone_key: str | None = attrs.field(init=False, default=None, metadata=derived_from("phones"))
    phone_key_2: str | None = attrs.field(init=False, default=None, metadata=derived_from("phones"))
    phone_key_3: str | None = attrs.field(init=False, default=None, metadata=derived_from("phones"))
    phone_key_4: str | None = attrs.field(init=False, default=None, metadata=derived_from("phones"))
    phone_key_5: str | None = attrs.field(init=False, default=None, metadata=derived_from("phones"))
    birthday_md: str | None = attrs.field(
        init=False, default=None, metadata=derived_from("birthday")
    )

    def __attrs_post_init__(self) -> None:
        _set_derived(self, self.name, self.phones, self.birthday)

    def change(self, **changes: Any) -> dict[str, tuple[Any, Any]]:
        """Apply field changes (validated first) and return ``{field: (old, new)}``.

        Raises:
            ValidationError: an unknown or system field, or a value that breaks a rule;
                the contact is left unchanged.
        """
        return apply_changes(self, changes, editable=EDITABLE_FIELDS, entity="contact")


EDITABLE_FIELDS = frozenset(
    {"name", "title", "phones", "email", "wechat", "qq", "im", "birthday", "notes"}
)
