"""Leads: possible business not yet worth an opportunity.

A lead comes from the website, a trade show, a phone directory, a referral or a
campaign. A rep contacts it, qualifies it and converts it — in one transaction —
into a customer and an opportunity; or disqualifies it with a reason from the
tenant's list; or recycles it to the pool for someone else. Sources and
campaigns stay on the lead so conversions can be attributed.

Scoring says which leads to call first: rule-based points (source, industry,
completeness, recent activity) and, when the tenant has history, a learned score
from its own won and lost leads (see :mod:`crmkit.pipeline.model.scoring`).

Entry control: the same company reaches sales many times — a web form, a trade-show
badge, a cold call. A lead stores the keys the customer master uses (the normalised
name of its company, or of the person when there is no company, and the caller-ID key
of its phone, and its email in lower case), so a new lead is matched against existing leads and customers by
indexed lookups (see :func:`crmkit.pipeline.services.check_lead_duplicates`).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any, NewType

import attrs

from crmkit.customers.model.names import normalize_name
from crmkit.customers.model.phones import phone_key
from crmkit.customers.model.search_keys import search_keys
from crmkit.kernel.entity import Entity
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.invalid import invalid
from crmkit.kernel.machine import Guard, Machine, Transition
from crmkit.rules.permissions.model import derived_from

__all__ = [
    "LEAD",
    "Lead",
    "LeadContacted",
    "LeadConverted",
    "LeadCreated",
    "LeadDisqualified",
    "LeadEvent",
    "LeadId",
    "LeadQualified",
    "LeadRecycled",
    "LeadReopened",
    "LeadStatus",
    "email_key",
    "lead_name_key",
]

LeadId = NewType("LeadId", uuid.UUID)


class LeadStatus(enum.Enum):
    """Where a lead stands."""

    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    CONVERTED = "converted"
    DISQUALIFIED = "disqualified"
    RECYCLED = "recycled"


def _required(entity: str, field: str) -> Any:
    def check(_instance: Any, _attribute: Any, value: str) -> None:
        if not value or not value.strip():
            raise invalid(entity, field, N_("is required"))

    return check


def _refresh_keys(instance: Any, attribute: Any, value: Any) -> Any:
    # Runs when name, company or phone is assigned (after validation), so the stored
    # duplicate and caller-ID keys never go stale.
    current = {
        "name": instance.name,
        "company": instance.company,
        "phone": instance.phone,
        "email": instance.email,
    }
    current[attribute.name] = value
    _set_keys(instance, current["name"], current["company"], current["phone"], current["email"])
    return value


def lead_name_key(name: str, company: str | None = None) -> str:
    """The normalised name a lead is matched by: its company's, else the person's.

    Args:
        name: the person's name.
        company: the organisation, if any (blank counts as none).

    Returns:
        :func:`crmkit.customers.model.names.normalize_name` of the company or the name, the
        same key a customer of that name stores as ``name_key``.
    """
    return normalize_name((company or "").strip() or name.strip())


def email_key(email: str | None) -> str | None:
    """The key an email is matched by: stripped and lower case; ``None`` when blank."""
    cleaned = (email or "").strip().lower()
    return cleaned or None


def _set_keys(
    instance: Any, name: str, company: str | None, phone: str | None, email: str | None
) -> None:
    # The pinyin keys spell what name_key holds: the company, else the person (read as a
    # person's name, so 曾 is zeng), so the search box finds a lead as it finds a customer.
    organisation = (company or "").strip()
    keys = search_keys(organisation or name.strip(), person=not organisation)
    object.__setattr__(instance, "name_key", lead_name_key(name, company))
    object.__setattr__(instance, "pinyin_full", keys.pinyin_full)
    object.__setattr__(instance, "pinyin_initials", keys.pinyin_initials)
    object.__setattr__(instance, "phone_key", phone_key(phone))
    object.__setattr__(instance, "email_key", email_key(email))


_KEYED: Any = [attrs.setters.validate, _refresh_keys]


@attrs.define(eq=False)
class Lead(Entity):
    """A lead.

    Attributes:
        name: the person's name; ``company`` the organisation, if any.
        source: where it came from (``website``, ``trade_show``, ``referral``, ...).
        campaign_id: the campaign that produced it, for ROI.
        owner_id: the rep working it; ``None`` while it sits in the pool.
        status: see :class:`LeadStatus`; moved only through :data:`LEAD`.
        disqualify_reason: why it was dropped (from the tenant's list).
        customer_id, opportunity_id: what it became when converted.
        name_key: the normalised company name (the person's name without a company),
            read-only and recomputed when ``name`` or ``company`` changes; compared with
            customers' ``name_key`` for duplicates.
        phone_key: the caller-ID key of ``phone`` (see ``crmkit.customers.model.phones``).
        email_key: ``email`` stripped and in lower case (see :func:`email_key`).
        pinyin_full, pinyin_initials: the pinyin of the company (else the person's
            name), for the search box (see ``crmkit.customers.model.search_keys``).
    """

    entity_name = N_("lead")

    id: LeadId
    tenant_id: TenantId
    name: str = attrs.field(validator=_required("lead", "name"), on_setattr=_KEYED)
    created_at: datetime
    company: str | None = attrs.field(default=None, on_setattr=_KEYED)
    phone: str | None = attrs.field(default=None, on_setattr=_KEYED)
    email: str | None = attrs.field(default=None, on_setattr=_KEYED)
    source: str | None = None
    campaign_id: uuid.UUID | None = None
    industry: str | None = None
    region: str | None = None
    owner_id: UserId | None = None
    department_id: uuid.UUID | None = None
    status: LeadStatus = LeadStatus.NEW
    disqualify_reason: str | None = None
    score: int = 0
    last_activity_at: datetime | None = None
    customer_id: uuid.UUID | None = None
    opportunity_id: uuid.UUID | None = None
    version: int = 0
    # Derived keys, stored and indexed so the duplicate check and search are indexed lookups.
    # Each names its sources, so a field rule hiding a source hides the key everywhere.
    name_key: str = attrs.field(init=False, default="", metadata=derived_from("name", "company"))
    phone_key: str | None = attrs.field(init=False, default=None, metadata=derived_from("phone"))
    email_key: str | None = attrs.field(init=False, default=None, metadata=derived_from("email"))
    pinyin_full: str = attrs.field(init=False, default="", metadata=derived_from("name", "company"))
    pinyin_initials: str = attrs.field(
        init=False, default="", metadata=derived_from("name", "company")
    )

    def __attrs_post_init__(self) -> None:
        _set_keys(self, self.name, self.company, self.phone, self.email)

    def contact(self, now: datetime) -> DomainEvent | None:
        """Record a first contact."""
        self.last_activity_at = now
        return LEAD.fire(self, "contact", now=now)

    def qualify(self, now: datetime) -> DomainEvent | None:
        """The lead is real and worth pursuing."""
        self.last_activity_at = now
        return LEAD.fire(self, "qualify", now=now)

    def disqualify(self, why: str, allowed: frozenset[str], now: datetime) -> DomainEvent | None:
        """Drop the lead for a reason on the tenant's list.

        Raises:
            GuardFailed: ``why`` is not one of ``allowed``.
        """
        event = LEAD.fire(
            self, "disqualify", now=now, why=why, allowed=allowed, payload={"reason": why}
        )
        self.disqualify_reason = why
        return event

    def recycle(self, now: datetime) -> DomainEvent | None:
        """Give the lead back to the pool: nobody owns it any more."""
        event = LEAD.fire(self, "recycle", now=now, payload={"former_owner_id": self.owner_id})
        self.owner_id = None
        return event

    def reopen(self, owner_id: UserId, now: datetime) -> DomainEvent | None:
        """Take a recycled or disqualified lead up again."""
        event = LEAD.fire(self, "reopen", now=now, payload={"owner_id": owner_id})
        self.owner_id = owner_id
        self.disqualify_reason = None
        return event

    def convert(
        self, customer_id: uuid.UUID, opportunity_id: uuid.UUID | None, now: datetime
    ) -> DomainEvent | None:
        """Mark the lead converted into ``customer_id`` (and ``opportunity_id``)."""
        event = LEAD.fire(
            self,
            "convert",
            now=now,
            payload={"customer_id": customer_id, "opportunity_id": opportunity_id},
        )
        self.customer_id = customer_id
        self.opportunity_id = opportunity_id
        return event


@attrs.frozen(kw_only=True)
class LeadEvent(DomainEvent):
    """Base of the events of a :class:`Lead` (its ``aggregate_id``)."""

    aggregate_type = "lead"


@attrs.frozen(kw_only=True)
class LeadCreated(LeadEvent):
    """A lead was entered."""

    source: str | None = None
    campaign_id: uuid.UUID | None = None
    possible_duplicates: tuple[uuid.UUID, ...] = ()
    """Ids of existing leads and customers it may duplicate (entered under a warning)."""


@attrs.frozen(kw_only=True)
class LeadContacted(LeadEvent):
    """Someone talked to the lead for the first time."""


@attrs.frozen(kw_only=True)
class LeadQualified(LeadEvent):
    """The lead is worth pursuing."""


@attrs.frozen(kw_only=True)
class LeadDisqualified(LeadEvent):
    """The lead was dropped."""

    reason: str


@attrs.frozen(kw_only=True)
class LeadRecycled(LeadEvent):
    """The lead went back to the pool."""

    former_owner_id: uuid.UUID | None = None


@attrs.frozen(kw_only=True)
class LeadReopened(LeadEvent):
    """A recycled or disqualified lead was taken up again."""

    owner_id: uuid.UUID


@attrs.frozen(kw_only=True)
class LeadConverted(LeadEvent):
    """The lead became a customer (and an opportunity)."""

    customer_id: uuid.UUID
    opportunity_id: uuid.UUID | None = None


def _reason_allowed(_lead: Lead, why: str, allowed: frozenset[str]) -> bool:
    return why in allowed


_WORKING = (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED)

LEAD: Machine[LeadStatus] = Machine(
    name="lead",
    states=LeadStatus,
    initial=LeadStatus.NEW,
    final={LeadStatus.CONVERTED},
    state_attr="status",
    transitions=[
        Transition(
            "contact", source=LeadStatus.NEW, target=LeadStatus.CONTACTED, event=LeadContacted
        ),
        Transition(
            "qualify",
            source=(LeadStatus.NEW, LeadStatus.CONTACTED),
            target=LeadStatus.QUALIFIED,
            event=LeadQualified,
        ),
        Transition("convert", source=_WORKING, target=LeadStatus.CONVERTED, event=LeadConverted),
        Transition(
            "disqualify",
            source=_WORKING,
            target=LeadStatus.DISQUALIFIED,
            guard=Guard("reason_on_the_tenants_list", _reason_allowed),
            event=LeadDisqualified,
        ),
        Transition("recycle", source=_WORKING, target=LeadStatus.RECYCLED, event=LeadRecycled),
        Transition(
            "reopen",
            source=(LeadStatus.RECYCLED, LeadStatus.DISQUALIFIED),
            target=LeadStatus.NEW,
            event=LeadReopened,
        ),
    ],
)
