"""Lead use cases: from entry (checked for duplicates) to conversion.

Every function is one transaction. Converting a lead creates the customer and the
opportunity and marks the lead converted in that one transaction, so a failure
leaves no half-converted lead behind.
"""

from __future__ import annotations

import functools
import uuid
from datetime import date
from typing import Any

import attrs

from crmkit.crm import Crm
from crmkit.customers.model import Customer, CustomerId, CustomerRegistered
from crmkit.customers.model.contacts import Contact
from crmkit.customers.model.dedup import DuplicateOutcome, DuplicatePolicy
from crmkit.customers.model.history import record_changes, snapshot
from crmkit.customers.model.phones import phone_key
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import ValidationError
from crmkit.kernel.event_origin import origin
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.money import Money
from crmkit.kernel.query import Expr, F, Order, Query
from crmkit.pipeline.model.leads import (
    Lead,
    LeadCreated,
    LeadId,
    LeadStatus,
    email_key,
    lead_name_key,
)
from crmkit.pipeline.model.opportunities import (
    Opportunity,
)
from crmkit.pipeline.model.resources import LEADS
from crmkit.pipeline.model.scoring import LearnedScorer, lead_features
from crmkit.pipeline.services._common import act_on_record, department_of
from crmkit.pipeline.services.opportunities import open_deal
from crmkit.pipeline.services.settings import pipeline_settings
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import grants_for, guarded

__all__ = [
    "Conversion",
    "DuplicateMatch",
    "LeadDuplicates",
    "check_lead_duplicates",
    "contact_lead",
    "convert_lead",
    "create_lead",
    "disqualify_lead",
    "learn_lead_scorer",
    "qualify_lead",
    "recycle_lead",
    "reopen_lead",
]


@attrs.frozen
class DuplicateMatch:
    """An existing record a new lead may duplicate.

    Attributes:
        entity: ``"lead"`` or ``"customer"``.
        id: the record's id (only the id: the record may lie outside the actor's scope).
        reasons: what matched, among ``"name"``, ``"phone"`` and ``"email"``.
    """

    entity: str
    id: uuid.UUID
    reasons: tuple[str, ...]


@attrs.frozen
class LeadDuplicates(DuplicateOutcome):
    """The outcome of checking a new lead against the tenant's leads and customers.

    Attributes:
        name_key: the normalised company (or person) name that was compared.
        phone_key: the caller-ID key of the phone, if one was given and usable.
        policy: the policy that was applied.
        matches: existing records sharing a key, customers first, then leads; empty
            under ``ALLOW``.
    """

    name_key: str
    phone_key: str | None
    policy: DuplicatePolicy
    matches: tuple[DuplicateMatch, ...] = ()

    @property
    def leads(self) -> tuple[uuid.UUID, ...]:
        """Ids of matching leads."""
        return tuple(m.id for m in self.matches if m.entity == "lead")

    @property
    def customers(self) -> tuple[uuid.UUID, ...]:
        """Ids of matching customers."""
        return tuple(m.id for m in self.matches if m.entity == "customer")

    def blocked(self) -> ValidationError:
        """(field ``name``) how many leads and customers the entry duplicates."""
        return invalid(
            "lead",
            "name",
            N_("duplicates {leads} lead(s) and {customers} customer(s)"),
            leads=len(self.leads),
            customers=len(self.customers),
        )


# How many hits per key and kind a duplicate check reads; the answer is a warning, not a list.
_DUPLICATE_LIMIT = 20


def _email_forms(email: str | None) -> list[str]:
    # Customers store their email as entered, with no key; match the entry as typed and in
    # lower case, the two forms nearly every stored address takes.
    cleaned = (email or "").strip()
    return sorted({cleaned, cleaned.lower()}) if cleaned else []


def _find_duplicates(
    uow: UnitOfWork,
    policy: DuplicatePolicy,
    *,
    name: str,
    company: str | None,
    phone: str | None,
    email: str | None,
) -> LeadDuplicates:
    # Duplicate control looks at the whole tenant, not the actor's scope: a rep must not
    # enter a lead a colleague already works just because she cannot see it.
    name_key, key_of_phone = lead_name_key(name, company), phone_key(phone)
    if policy is DuplicatePolicy.ALLOW:
        return LeadDuplicates(name_key, key_of_phone, policy)
    emails, key_of_email = _email_forms(email), email_key(email)
    probes: list[tuple[str, Expr]] = [("name", F("name_key").eq(name_key))]
    if key_of_phone is not None:
        probes.append(("phone", F("phone_key").eq(key_of_phone)))
    kinds: list[tuple[str, type[Any], Expr, Expr]] = [
        ("customer", Customer, F("deleted_at").is_null(), F("email").is_in(emails)),
        # A converted lead is represented by the customer it became.
        ("lead", Lead, ~F("status").eq(LeadStatus.CONVERTED), F("email_key").eq(key_of_email)),
    ]
    matches: list[DuplicateMatch] = []
    for entity, cls, live, by_email in kinds:
        reasons: dict[uuid.UUID, list[str]] = {}
        for why, condition in [*probes, *([("email", by_email)] if emails else [])]:
            # One indexed lookup per key, rather than an OR the planner may not split.
            query = Query(where=condition & live, order_by=(Order("id"),), limit=_DUPLICATE_LIMIT)
            for record in uow.repository(cls).query(query):
                reasons.setdefault(record.id, []).append(why)
        matches.extend(DuplicateMatch(entity, rid, tuple(why)) for rid, why in reasons.items())
    return LeadDuplicates(name_key, key_of_phone, policy, tuple(matches))


def check_lead_duplicates(
    crm: Crm,
    actor: Actor,
    *,
    name: str,
    company: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    policy: DuplicatePolicy = DuplicatePolicy.WARN,
) -> LeadDuplicates:
    """Which existing leads and customers would a new lead duplicate? (to warn before entry)

    A record matches when it shares the normalised name (the company's, else the
    person's; see :func:`crmkit.customers.model.names.normalize_name`), the phone's caller-ID
    key, or the email (a lead's case-insensitively; a customer's as typed or in lower
    case, since customers store no email key). The whole tenant is searched, whatever the actor may see; only
    ids are returned. Converted leads and customers in the recycle bin are left out.

    Args:
        crm: the host's handle.
        actor: who is about to enter the lead; needs ``create`` on leads.
        name, company, phone, email: the lead's details as entered.
        policy: the policy to report under (``BLOCK`` makes ``require()`` raise).

    Returns:
        The matches; empty when the lead is new.

    Raises:
        PermissionDenied: the actor may not create leads.
    """

    def work(uow: UnitOfWork) -> LeadDuplicates:
        grants_for(uow, actor).require_operation("create", LEADS)
        return _find_duplicates(uow, policy, name=name, company=company, phone=phone, email=email)

    return guarded(crm, actor, work)


def create_lead(
    crm: Crm,
    actor: Actor,
    *,
    name: str,
    duplicates: DuplicatePolicy = DuplicatePolicy.WARN,
    **fields: Any,
) -> Lead:
    """Enter a lead, owned by the actor unless ``owner_id`` says otherwise.

    The lead's department defaults to its owner's. The lead is checked against the
    tenant's leads and customers (see :func:`check_lead_duplicates`) in the same
    transaction: under ``BLOCK`` a match refuses the entry, under ``WARN`` (the default)
    the lead is stored and its ``LeadCreated`` event lists the possible duplicates, under
    ``ALLOW`` nothing is looked up.

    Raises:
        ValidationError: a field breaks a rule, or (field ``name``) the lead is a blocked
            duplicate; nothing is stored.
        PermissionDenied: the actor may not create this lead or set one of the fields.
    """
    now = crm.now()
    fields.setdefault("owner_id", actor.user_id)
    lead = Lead(
        id=LeadId(crm.ids.new(now)), tenant_id=actor.tenant_id, name=name, created_at=now, **fields
    )

    def work(uow: UnitOfWork) -> Lead:
        grants = grants_for(uow, actor)
        grants.require_operation("create", LEADS)
        grants.check_writable(LEADS, sorted({"name", *fields}))
        if "department_id" not in fields:
            lead.department_id = department_of(uow, lead.owner_id)
        grants.require("create", lead, LEADS)
        found = _find_duplicates(
            uow,
            duplicates,
            name=lead.name,
            company=lead.company,
            phone=lead.phone,
            email=lead.email,
        ).require()
        uow.repository(Lead).add(lead)
        uow.outbox.add(
            LeadCreated(
                **origin(lead, now),
                source=lead.source,
                campaign_id=lead.campaign_id,
                possible_duplicates=tuple(m.id for m in found.matches),
            )
        )
        return lead

    return guarded(crm, actor, work)


_on_lead = functools.partial(act_on_record, Lead, LEADS)


def contact_lead(crm: Crm, actor: Actor, lead_id: uuid.UUID) -> Lead:
    """Record the first contact with a lead."""
    return _on_lead(crm, actor, lead_id, lambda _uow, lead, now: lead.contact(now))


def qualify_lead(crm: Crm, actor: Actor, lead_id: uuid.UUID) -> Lead:
    """Mark a lead qualified."""
    return _on_lead(crm, actor, lead_id, lambda _uow, lead, now: lead.qualify(now))


def disqualify_lead(crm: Crm, actor: Actor, lead_id: uuid.UUID, reason: str) -> Lead:
    """Drop a lead with a reason from the tenant's list (see :func:`configure_pipeline`)."""
    return _on_lead(
        crm,
        actor,
        lead_id,
        lambda uow, lead, now: lead.disqualify(
            reason, frozenset(pipeline_settings(uow).disqualify_reasons), now
        ),
    )


def recycle_lead(crm: Crm, actor: Actor, lead_id: uuid.UUID) -> Lead:
    """Give a lead back to the pool."""
    return _on_lead(crm, actor, lead_id, lambda _uow, lead, now: lead.recycle(now))


def reopen_lead(crm: Crm, actor: Actor, lead_id: uuid.UUID) -> Lead:
    """Take up a recycled or disqualified lead; the actor becomes its owner."""
    return _on_lead(crm, actor, lead_id, lambda _uow, lead, now: lead.reopen(actor.user_id, now))


@attrs.frozen
class Conversion:
    """What converting a lead produced."""

    lead: Lead
    customer: Customer
    contact: Contact
    opportunity: Opportunity | None


def convert_lead(
    crm: Crm,
    actor: Actor,
    lead_id: uuid.UUID,
    *,
    process_id: uuid.UUID | None = None,
    amount: Money | None = None,
    opportunity_name: str | None = None,
    expected_close: date | None = None,
) -> Conversion:
    """Turn a lead into a customer, its primary contact and (given a process and an
    amount) an opportunity.

    All in one transaction: the customer (with its history record), the contact, the
    opportunity, its first stage change and the lead's new state commit together or
    not at all.
    """

    def work(uow: UnitOfWork) -> Conversion:
        now = crm.now()
        grants = grants_for(uow, actor)
        lead = uow.repository(Lead).get(lead_id)
        grants.require("edit", lead, LEADS)
        customer = Customer(
            id=CustomerId(crm.ids.new(now)),
            tenant_id=lead.tenant_id,
            name=lead.company or lead.name,
            created_at=now,
            owner_id=lead.owner_id,
            department_id=lead.department_id or department_of(uow, lead.owner_id),
            industry=lead.industry,
            region=lead.region,
            source=lead.source,
            phone=lead.phone,
            email=lead.email,
            last_activity_at=now,
            owned_since=now if lead.owner_id is not None else None,
        )
        grants.require("create", customer, "customer")
        uow.repository(Customer).add(customer)
        record_changes(
            uow,
            crm.new_id,
            customer_id=customer.id,
            tenant_id=customer.tenant_id,
            user_id=actor.user_id,
            at=now,
            action="convert",
            before={},
            after=snapshot(customer),
        )
        contact = Contact(
            id=crm.ids.new(now),
            tenant_id=customer.tenant_id,
            customer_id=customer.id,
            name=lead.name,
            created_at=now,
            phones=(lead.phone,) if lead.phone else (),
            email=lead.email,
            primary=True,
            owner_id=customer.owner_id,
            department_id=customer.department_id,
        )
        # A contact's access follows its customer's, which the create check covered.
        uow.repository(Contact).add(contact)
        uow.outbox.add(
            CustomerRegistered(
                **origin(customer, now),
                name=customer.name,
                owner_id=customer.owner_id,
            )
        )
        opportunity = None
        if process_id is not None and amount is not None:
            opportunity = open_deal(
                uow,
                crm,
                actor,
                now,
                customer.id,
                opportunity_name or f"{customer.name} – {lead.source or 'lead'}",
                amount,
                process_id,
                expected_close,
                campaign_id=lead.campaign_id,
                lead_id=lead.id,
                owner_id=lead.owner_id,
                department_id=lead.department_id,
            )
        event = lead.convert(customer.id, opportunity.id if opportunity else None, now)
        uow.repository(Lead).save(lead)
        uow.outbox.add(event)
        return Conversion(lead, customer, contact, opportunity)

    return guarded(crm, actor, work)


def learn_lead_scorer(crm: Crm, actor: Actor) -> LearnedScorer:
    """Fit the learned lead score on the tenant's converted and disqualified leads."""

    def work(uow: UnitOfWork) -> list[Lead]:
        done = F("status").is_in([LeadStatus.CONVERTED, LeadStatus.DISQUALIFIED])
        query = grants_for(uow, actor).restrict(Query(where=done), "view", LEADS)
        return uow.repository(Lead).query(query)

    history = guarded(crm, actor, work)
    return LearnedScorer.fit(
        (lead_features(lead), lead.status is LeadStatus.CONVERTED) for lead in history
    )
