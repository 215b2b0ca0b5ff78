"""Pipeline use cases: leads from entry to conversion, deals from first stage to close.

Every function is one transaction. Converting a lead creates the customer and the
opportunity and marks the lead converted in that one transaction, so a failure
leaves no half-converted lead behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import attrs

from crmkit.crm import Crm
from crmkit.customers.contacts import Contact
from crmkit.customers.dedup import DuplicatePolicy
from crmkit.customers.history import record_changes, snapshot
from crmkit.customers.model import Customer, CustomerId, CustomerRegistered
from crmkit.customers.phones import phone_key
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import ConcurrencyConflict, ValidationError, reason
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.limits import check_text, expect_type, to_date, to_instant_value
from crmkit.kernel.money import Money
from crmkit.kernel.query import TRUE, Expr, F, Order, Query
from crmkit.kernel.report import ReportTable
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
    OpportunityId,
    OpportunityOpened,
    OpportunityStatus,
    SalesProcess,
    Stage,
    StageChange,
)
from crmkit.pipeline.model.quotes import Quote, QuoteStatus
from crmkit.pipeline.model.scoring import LearnedScorer, lead_features
from crmkit.pipeline.model.settings import PipelineSettings, settings_id
from crmkit.pipeline.queries import DEAL_COLUMN_SOURCES, PipelineAnalytics
from crmkit.ports import UnitOfWork, queries
from crmkit.rules.permissions import Member, grants_for, guarded, register_resource
from crmkit.rules.permissions.reader import aggregate, report_scope

__all__ = [
    "Conversion",
    "DuplicateMatch",
    "LeadDuplicates",
    "PipelineReport",
    "attach_document",
    "check_lead_duplicates",
    "configure_pipeline",
    "contact_lead",
    "convert_lead",
    "create_lead",
    "define_sales_process",
    "disqualify_lead",
    "learn_lead_scorer",
    "lose_opportunity",
    "move_opportunity",
    "open_opportunity",
    "pipeline_report",
    "qualify_lead",
    "recycle_lead",
    "refresh_quote_document",
    "reopen_lead",
    "reopen_opportunity",
    "win_opportunity",
]


LEADS, DEALS = "lead", "opportunity"
register_resource(LEADS, entity=Lead)
# A deal's product lines add up to its amount, so they carry it: hiding the amount
# hides them too.
register_resource(DEALS, entity=Opportunity, derived={"lines": ("amount",)})
# Tenant-wide configuration: whoever holds "edit" on it may change processes and reasons.
register_resource(
    "pipeline_settings",
    fields=("disqualify_reasons", "loss_reasons", "processes"),
    operations=("view", "edit"),
)


def _require_settings_editor(uow: UnitOfWork, actor: Actor) -> None:
    grants_for(uow, actor).require_operation("edit", "pipeline_settings")


def _settings(uow: UnitOfWork) -> PipelineSettings:
    found = uow.repository(PipelineSettings).find(settings_id(uow.tenant_id))
    return found or PipelineSettings(id=settings_id(uow.tenant_id), tenant_id=uow.tenant_id)


def configure_pipeline(
    crm: Crm,
    actor: Actor,
    *,
    disqualify_reasons: Sequence[str] | None = None,
    loss_reasons: Sequence[str] | None = None,
) -> PipelineSettings:
    """Set the tenant's lists of disqualification and loss reasons."""

    def work(uow: UnitOfWork) -> PipelineSettings:
        _require_settings_editor(uow, actor)
        repo = uow.repository(PipelineSettings)
        current = _settings(uow)
        changes: dict[str, Any] = {}
        if disqualify_reasons is not None:
            changes["disqualify_reasons"] = tuple(disqualify_reasons)
        if loss_reasons is not None:
            changes["loss_reasons"] = tuple(loss_reasons)
        updated = attrs.evolve(current, **changes)
        return repo.save(updated) if current.version else repo.add(updated)

    return guarded(crm, actor, work)


def define_sales_process(
    crm: Crm, actor: Actor, name: str, stages: Sequence[Stage]
) -> SalesProcess:
    """Store a sales process (its stages, probabilities and gates)."""
    process = SalesProcess(
        id=crm.new_id(), tenant_id=actor.tenant_id, name=name, stages=tuple(stages)
    )

    def work(uow: UnitOfWork) -> SalesProcess:
        _require_settings_editor(uow, actor)
        return uow.repository(SalesProcess).add(process)

    return guarded(crm, actor, work)


# -- leads ------------------------------------------------------------------------------------


def _department_of(uow: UnitOfWork, user_id: uuid.UUID | None) -> uuid.UUID | None:
    """The owner's department, which records carry for department-scoped permissions."""
    member = None if user_id is None else uow.repository(Member).find(user_id)
    return None if member is None else member.department_id


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
class LeadDuplicates:
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

    @property
    def is_duplicate(self) -> bool:
        """Whether any existing lead or customer shares a key."""
        return bool(self.matches)

    @property
    def is_blocked(self) -> bool:
        """Whether the policy refuses this entry."""
        return self.is_duplicate and self.policy is DuplicatePolicy.BLOCK

    def require(self) -> LeadDuplicates:
        """Return ``self`` unless the entry is blocked.

        Raises:
            ValidationError: (field ``name``) the policy is ``BLOCK`` and a match exists.
        """
        if self.is_blocked:
            raise ValidationError(
                entity="lead",
                field="name",
                reason=reason(
                    N_("duplicates {leads} lead(s) and {customers} customer(s)"),
                    leads=len(self.leads),
                    customers=len(self.customers),
                ),
            )
        return self


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
    person's; see :func:`crmkit.customers.dedup.normalize_name`), the phone's caller-ID
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
    expect_type(name, str, field="name")
    for text in (company, phone, email):
        expect_type(text, (str, type(None)), field="lead")

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
    expect_type(name, str, field="name")
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
            lead.department_id = _department_of(uow, lead.owner_id)
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
                tenant_id=lead.tenant_id,
                aggregate_id=lead.id,
                occurred_at=now,
                source=lead.source,
                campaign_id=lead.campaign_id,
                possible_duplicates=tuple(m.id for m in found.matches),
            )
        )
        return lead

    return guarded(crm, actor, work)


def _on_lead(crm: Crm, actor: Actor, lead_id: uuid.UUID, action: Any) -> Lead:
    def work(uow: UnitOfWork) -> Lead:
        repo = uow.repository(Lead)
        lead = repo.get(lead_id)
        grants_for(uow, actor).require("edit", lead, LEADS)
        event = action(uow, lead, crm.now())
        repo.save(lead)
        if event is not None:
            uow.outbox.add(event)
        return lead

    return guarded(crm, actor, work)


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
            reason, frozenset(_settings(uow).disqualify_reasons), now
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
            department_id=lead.department_id or _department_of(uow, lead.owner_id),
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
                tenant_id=customer.tenant_id,
                aggregate_id=customer.id,
                occurred_at=now,
                name=customer.name,
                owner_id=customer.owner_id,
            )
        )
        opportunity = None
        if process_id is not None and amount is not None:
            opportunity = _open(
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
        if event is not None:
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


# -- opportunities ----------------------------------------------------------------------------


def _open(
    uow: UnitOfWork,
    crm: Crm,
    actor: Actor,
    now: datetime,
    customer_id: uuid.UUID,
    name: str,
    amount: Money,
    process_id: uuid.UUID,
    expected_close: date | None,
    stage: str | None = None,
    **fields: Any,
) -> Opportunity:
    process = uow.repository(SalesProcess).get(process_id)
    first = process.stage(stage) if stage else process.stages[0]
    grants = grants_for(uow, actor)
    fields.setdefault("owner_id", actor.user_id)
    if fields.get("department_id") is None:
        fields["department_id"] = _department_of(uow, fields["owner_id"])
    opportunity = Opportunity(
        id=OpportunityId(crm.ids.new(now)),
        tenant_id=actor.tenant_id,
        name=name,
        customer_id=customer_id,
        amount=amount,
        process_id=process.id,
        stage=first.code,
        probability=first.probability,
        created_at=now,
        stage_entered_at=now,
        expected_close=expected_close,
        **fields,
    )
    grants.require("create", opportunity, DEALS)
    uow.repository(Opportunity).add(opportunity)
    uow.repository(StageChange).add(
        StageChange(
            id=crm.ids.new(now),
            tenant_id=actor.tenant_id,
            opportunity_id=opportunity.id,
            from_stage=None,
            to_stage=first.code,
            changed_at=now,
            changed_by=actor.user_id,
        )
    )
    uow.outbox.add(
        OpportunityOpened(
            tenant_id=actor.tenant_id,
            aggregate_id=opportunity.id,
            occurred_at=now,
            stage=first.code,
        )
    )
    return opportunity


def open_opportunity(
    crm: Crm,
    actor: Actor,
    *,
    customer_id: uuid.UUID,
    name: str,
    amount: Money,
    process_id: uuid.UUID,
    expected_close: date | None = None,
    stage: str | None = None,
    **fields: Any,
) -> Opportunity:
    """Open a deal with a customer in the first stage of ``process_id`` (or ``stage``)."""

    def work(uow: UnitOfWork) -> Opportunity:
        customer = uow.repository(Customer).get(customer_id)
        grants_for(uow, actor).require("view", customer, "customer")
        return _open(
            uow,
            crm,
            actor,
            crm.now(),
            customer_id,
            name,
            amount,
            process_id,
            expected_close,
            stage,
            **fields,
        )

    return guarded(crm, actor, work)


def _on_deal(
    crm: Crm, actor: Actor, deal_id: uuid.UUID, expected_version: int | None, action: Any
) -> Opportunity:
    def work(uow: UnitOfWork) -> Opportunity:
        repo = uow.repository(Opportunity)
        deal = repo.get(deal_id)
        grants_for(uow, actor).require("edit", deal, DEALS)
        if expected_version is not None and deal.version != expected_version:
            raise ConcurrencyConflict(entity="opportunity", id=deal_id, version=expected_version)
        before = deal.stage if deal.status is OpportunityStatus.OPEN else deal.status.value
        events: list[DomainEvent] = list(action(uow, deal, crm.now()))
        repo.save(deal)
        after = deal.stage if deal.status is OpportunityStatus.OPEN else deal.status.value
        if after != before:
            uow.repository(StageChange).add(
                StageChange(
                    id=crm.new_id(),
                    tenant_id=deal.tenant_id,
                    opportunity_id=deal.id,
                    from_stage=before,
                    to_stage=after,
                    changed_at=crm.now(),
                    changed_by=actor.user_id,
                    backwards=any(getattr(e, "backwards", False) for e in events),
                )
            )
        uow.outbox.add(*events)
        return deal

    return guarded(crm, actor, work)


def move_opportunity(
    crm: Crm, actor: Actor, deal_id: uuid.UUID, stage: str, *, expected_version: int | None = None
) -> Opportunity:
    """Move a deal to ``stage`` (forward through the gates, or back).

    Raises:
        ValidationError: the gate of a stage on the way is not met (says what is missing).
    """

    def move(uow: UnitOfWork, deal: Opportunity, now: datetime) -> list[DomainEvent]:
        process = uow.repository(SalesProcess).get(deal.process_id)
        refresh_quote_document(uow, deal, now.date())
        _change, event = deal.move_to(process, stage, actor.user_id, now)
        return [event]

    return _on_deal(crm, actor, deal_id, expected_version, move)


# A quote in these states still stands before the customer (a converted one became the
# contract or order the deal went on with).
_STANDING = (QuoteStatus.DRAFT, QuoteStatus.IN_APPROVAL, QuoteStatus.APPROVED)


def refresh_quote_document(
    uow: UnitOfWork, deal: Opportunity, today: date, changed: Quote | None = None
) -> bool:
    """Make the deal's ``quote`` document say whether one of its quotes still stands.

    A declined quote, or one past its ``valid_until`` and never converted, no longer
    satisfies a stage gate asking for a quote. A deal none of whose quotes crmkit
    stores keeps whatever :func:`attach_document` recorded (a quote made elsewhere).

    Args:
        changed: a quote of the deal changed in this unit of work and not saved yet;
            it counts as it is now, not as stored.

    Returns:
        Whether ``deal.documents`` changed (the caller saves the deal).
    """
    stored = uow.repository(Quote).query(Query(where=F("opportunity_id").eq(deal.id)))
    quotes = [changed if changed is not None and q.id == changed.id else q for q in stored]
    if not quotes:
        return False
    stands = any(
        q.status is QuoteStatus.CONVERTED or (q.status in _STANDING and not q.is_expired(today))
        for q in quotes
    )
    before = deal.documents
    kept = tuple(kind for kind in before if kind != "quote")
    deal.documents = (*kept, "quote") if stands else kept
    if "quote" in before and stands:
        deal.documents = before  # keep the recorded order when nothing changes
    return deal.documents != before


def attach_document(crm: Crm, actor: Actor, deal_id: uuid.UUID, kind: str) -> Opportunity:
    """Record that a document of ``kind`` (``quote``, ``proposal``) exists for the deal."""
    kind = check_text(expect_type(kind, str, field="kind"), entity="opportunity", field="documents")

    def attach(_uow: UnitOfWork, deal: Opportunity, _now: datetime) -> list[DomainEvent]:
        if kind not in deal.documents:
            deal.documents = (*deal.documents, kind)
        return []

    return _on_deal(crm, actor, deal_id, None, attach)


def win_opportunity(crm: Crm, actor: Actor, deal_id: uuid.UUID) -> Opportunity:
    """Close a deal as won."""
    return _on_deal(crm, actor, deal_id, None, lambda _u, deal, now: [deal.win(now)])


def lose_opportunity(crm: Crm, actor: Actor, deal_id: uuid.UUID, reason: str) -> Opportunity:
    """Close a deal as lost, with a reason from the tenant's list."""
    return _on_deal(
        crm,
        actor,
        deal_id,
        None,
        lambda uow, deal, now: [deal.lose(reason, _settings(uow).loss_reasons, now)],
    )


def reopen_opportunity(crm: Crm, actor: Actor, deal_id: uuid.UUID) -> Opportunity:
    """Take a closed deal up again in the stage it closed from."""
    return _on_deal(
        crm,
        actor,
        deal_id,
        None,
        lambda uow, deal, now: [
            deal.reopen(uow.repository(SalesProcess).get(deal.process_id), now)
        ],
    )


# -- analytics --------------------------------------------------------------------------------


@attrs.frozen
class PipelineReport:
    """The manager's overview, each table computed where the data lives."""

    funnel: ReportTable
    forecast: ReportTable
    win_rate: ReportTable
    lost_reasons: ReportTable
    cycle: ReportTable
    conversion: ReportTable | None


def pipeline_report(
    crm: Crm,
    actor: Actor,
    *,
    since: datetime,
    until: datetime,
    forecast_from: date,
    forecast_to: date,
    process_id: uuid.UUID | None = None,
    scope: Expr = TRUE,
) -> PipelineReport:
    """Funnel, forecast, win rate, loss reasons, cycle and (for a process) stage conversion.

    Computed over the deals the actor may view, narrowed by ``scope``. A column over a
    deal field hidden from the actor (``amount`` for an analyst) is omitted: its cells
    are ``None`` while the deal counts stay (see
    :func:`crmkit.rules.permissions.reader.aggregate`).

    Raises:
        PermissionDenied: ``scope`` filters on a field hidden from the actor.
        ValidationError: a period bound is not an aware instant (``since``, ``until``)
            or a date (``forecast_from``, ``forecast_to``; ISO text is read as one).
    """
    # A host passes what a form sent; every store must read the same period from it.
    since = to_instant_value(since, entity="pipeline report", field="since")
    until = to_instant_value(until, entity="pipeline report", field="until")
    forecast_from = to_date(forecast_from, entity="pipeline report", field="forecast_from")
    forecast_to = to_date(forecast_to, entity="pipeline report", field="forecast_to")

    def work(uow: UnitOfWork) -> PipelineReport:
        analytics: PipelineAnalytics = queries(uow, PipelineAnalytics)
        grants = grants_for(uow, actor)
        visible = report_scope(grants, DEALS, scope)
        process = uow.repository(SalesProcess).get(process_id) if process_id else None
        funnel = analytics.funnel(visible)
        if process is not None:
            # Show the funnel in the process's own stage order, not alphabetically.
            order = {stage.code: i for i, stage in enumerate(process.stages)}
            funnel = ReportTable(
                funnel.columns,
                tuple(sorted(funnel.rows, key=lambda row: (order.get(row[0], len(order)), row[1]))),
            )

        def shown(table: ReportTable) -> ReportTable:
            return aggregate(grants, DEALS, table, DEAL_COLUMN_SOURCES, counts=("deals",))

        return PipelineReport(
            funnel=shown(funnel),
            forecast=shown(analytics.forecast(forecast_from, forecast_to, visible)),
            win_rate=shown(analytics.win_rate(since, until, visible)),
            lost_reasons=shown(analytics.lost_reasons(since, until, visible)),
            cycle=shown(analytics.cycle(since, until, visible)),
            conversion=shown(analytics.stage_conversion(process, visible)) if process else None,
        )

    return guarded(crm, actor, work)
