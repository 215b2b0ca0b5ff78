"""Opportunity use cases: deals from first stage to close."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from crmkit.crm import Crm
from crmkit.customers.model import Customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import ConcurrencyConflict
from crmkit.kernel.event_origin import origin
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.limits import check_text
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Query
from crmkit.pipeline.model.opportunities import (
    Opportunity,
    OpportunityId,
    OpportunityOpened,
    OpportunityStatus,
    SalesProcess,
    StageChange,
)
from crmkit.pipeline.model.quotes import Quote, QuoteStatus
from crmkit.pipeline.model.resources import DEALS
from crmkit.pipeline.services._common import department_of
from crmkit.pipeline.services.settings import pipeline_settings
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import grants_for, guarded

__all__ = [
    "attach_document",
    "lose_opportunity",
    "move_opportunity",
    "open_opportunity",
    "refresh_quote_document",
    "reopen_opportunity",
    "win_opportunity",
]


def open_deal(
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
        fields["department_id"] = department_of(uow, fields["owner_id"])
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
            **origin(opportunity, now),
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
        return open_deal(
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


def act_on_deal(
    crm: Crm, actor: Actor, deal_id: uuid.UUID, expected_version: int | None, action: Any
) -> Opportunity:
    def work(uow: UnitOfWork) -> Opportunity:
        repo = uow.repository(Opportunity)
        deal = repo.get(deal_id)
        grants_for(uow, actor).require("edit", deal, DEALS)
        if expected_version is not None and deal.version != expected_version:
            raise ConcurrencyConflict(entity="opportunity", id=deal_id, version=expected_version)
        before = deal.stage if deal.status is OpportunityStatus.OPEN else deal.status.value
        now = crm.now()  # one instant for the move and its history row
        events: list[DomainEvent] = list(action(uow, deal, now))
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
                    changed_at=now,
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
        return [deal.move_to(process, stage, now)]

    return act_on_deal(crm, actor, deal_id, expected_version, move)


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
    kind = check_text(kind, entity="opportunity", field="documents")

    def attach(_uow: UnitOfWork, deal: Opportunity, _now: datetime) -> list[DomainEvent]:
        if kind not in deal.documents:
            deal.documents = (*deal.documents, kind)
        return []

    return act_on_deal(crm, actor, deal_id, None, attach)


def win_opportunity(crm: Crm, actor: Actor, deal_id: uuid.UUID) -> Opportunity:
    """Close a deal as won."""
    return act_on_deal(crm, actor, deal_id, None, lambda _u, deal, now: [deal.win(now)])


def lose_opportunity(crm: Crm, actor: Actor, deal_id: uuid.UUID, reason: str) -> Opportunity:
    """Close a deal as lost, with a reason from the tenant's list."""
    return act_on_deal(
        crm,
        actor,
        deal_id,
        None,
        lambda uow, deal, now: [deal.lose(reason, pipeline_settings(uow).loss_reasons, now)],
    )


def reopen_opportunity(crm: Crm, actor: Actor, deal_id: uuid.UUID) -> Opportunity:
    """Take a closed deal up again in the stage it closed from."""
    return act_on_deal(
        crm,
        actor,
        deal_id,
        None,
        lambda uow, deal, now: [
            deal.reopen(uow.repository(SalesProcess).get(deal.process_id), now)
        ],
    )
