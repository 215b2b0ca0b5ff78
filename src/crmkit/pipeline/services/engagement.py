"""Campaign and follow-up-sequence use cases.

Campaigns record what marketing spent; their return is one of the pipeline
analytics (:meth:`~crmkit.pipeline.queries.PipelineAnalytics.campaign_roi`).
Sequences lay out a cadence of steps for a customer; ``advance_sequences`` is the
clock-driven job that marks steps due and overdue (run it daily, or before
showing the workbench).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, timedelta

from crmkit.crm import Crm
from crmkit.customers.model import Customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import PermissionDenied
from crmkit.kernel.ids import TenantId
from crmkit.kernel.limits import to_amount, to_date
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Order, Query
from crmkit.pipeline.model.campaigns import Campaign
from crmkit.pipeline.model.sequences import (
    SequenceStep,
    SequenceTemplate,
    StepPlan,
    StepState,
    plan_steps,
)
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import grants_for, guarded

__all__ = [
    "advance_sequences",
    "create_campaign",
    "define_sequence_template",
    "finish_step",
    "record_campaign_cost",
    "sequence_workbench",
    "start_sequence",
]


def create_campaign(
    crm: Crm,
    actor: Actor,
    *,
    name: str,
    channel: str,
    budget: Money,
    starts_on: date | None = None,
    ends_on: date | None = None,
) -> Campaign:
    """Plan a campaign; its actual cost starts at zero."""
    budget = to_amount(budget, entity="campaign", field="budget")
    campaign = Campaign(
        id=crm.new_id(),
        tenant_id=actor.tenant_id,
        name=name,
        channel=channel,
        budget=budget,
        actual_cost=Money.zero(budget.currency),
        starts_on=starts_on,
        ends_on=ends_on,
    )

    def work(uow: UnitOfWork) -> Campaign:
        grants_for(uow, actor).require_operation("edit", "pipeline_settings")
        return uow.repository(Campaign).add(campaign)

    return guarded(crm, actor, work)


def record_campaign_cost(crm: Crm, actor: Actor, campaign_id: uuid.UUID, cost: Money) -> Campaign:
    """Add spending to a campaign's actual cost (in the campaign's currency)."""

    def work(uow: UnitOfWork) -> Campaign:
        grants_for(uow, actor).require_operation("edit", "pipeline_settings")
        repo = uow.repository(Campaign)
        campaign = repo.get(campaign_id)
        campaign.actual_cost = campaign.actual_cost + cost
        campaign.__attrs_post_init__()  # re-check the rules on the new amount
        return repo.save(campaign)

    return guarded(crm, actor, work)


def define_sequence_template(
    crm: Crm, actor: Actor, name: str, steps: Sequence[StepPlan], *, grace_days: int = 1
) -> SequenceTemplate:
    """Store a follow-up cadence."""
    template = SequenceTemplate(
        id=crm.new_id(),
        tenant_id=actor.tenant_id,
        name=name,
        steps=tuple(steps),
        grace_days=grace_days,
    )

    def work(uow: UnitOfWork) -> SequenceTemplate:
        grants_for(uow, actor).require_operation("edit", "pipeline_settings")
        return uow.repository(SequenceTemplate).add(template)

    return guarded(crm, actor, work)


def start_sequence(
    crm: Crm,
    actor: Actor,
    template_id: uuid.UUID,
    customer_id: uuid.UUID,
    *,
    start: date | None = None,
) -> list[SequenceStep]:
    """Apply a template to a customer: its steps, with due dates, owned by the customer's owner.

    Raises:
        ValidationError: ``start`` is no date (``"2026-03-01"`` is one) or lies outside
            the calendar crmkit stores (see :mod:`crmkit.kernel.limits`).
    """
    day = None if start is None else to_date(start, entity="sequence", field="start")

    def work(uow: UnitOfWork) -> list[SequenceStep]:
        template = uow.repository(SequenceTemplate).get(template_id)
        customer = uow.repository(Customer).get(customer_id)
        grants_for(uow, actor).require("edit", customer, "customer")
        now = crm.now()
        first = day if day is not None else now.date()
        sequence_id = crm.new_id()
        steps = [
            SequenceStep(
                id=crm.new_id(),
                tenant_id=actor.tenant_id,
                sequence_id=sequence_id,
                template_id=template.id,
                customer_id=customer.id,
                owner_id=customer.owner_id or actor.user_id,
                name=plan.title,
                action=plan.action,
                due_on=due,
                overdue_on=due + timedelta(days=template.grace_days),
                created_at=now,
            )
            for plan, due in plan_steps(template, first)
        ]
        for step in steps:
            step.tick(now.date())
        uow.repository(SequenceStep).add_many(steps)
        return steps

    return crm.run(actor.tenant_id, work)


def advance_sequences(crm: Crm, tenant_id: TenantId, *, today: date | None = None) -> int:
    """Mark steps due or overdue as the calendar says; returns how many changed."""
    day = today or crm.now().date()

    def work(uow: UnitOfWork) -> int:
        repo = uow.repository(SequenceStep)
        waiting = F("state").is_in([StepState.NORMAL, StepState.DUE]) & F("due_on").le(day)
        changed = [step for step in repo.query(Query(where=waiting)) if step.tick(day)]
        for step in changed:
            repo.save(step)
        return len(changed)

    return crm.run(tenant_id, work)


def finish_step(
    crm: Crm, actor: Actor, step_id: uuid.UUID, outcome: StepState, note: str = ""
) -> SequenceStep:
    """The step's owner marks it done, failed or skipped."""

    def work(uow: UnitOfWork) -> SequenceStep:
        repo = uow.repository(SequenceStep)
        step = repo.get(step_id)
        if step.owner_id != actor.user_id:
            raise PermissionDenied(actor=actor, operation="edit", resource="sequence_step")
        event = step.finish(outcome, crm.now(), note)
        repo.save(step)
        uow.outbox.add(event)
        return step

    return crm.run(actor.tenant_id, work)


def sequence_workbench(crm: Crm, actor: Actor, *, limit: int = 100) -> list[SequenceStep]:
    """The actor's steps that need attention now: due, overdue and failed, oldest first."""
    where = F("owner_id").eq(actor.user_id) & F("state").is_in(
        [StepState.DUE, StepState.OVERDUE, StepState.FAILED]
    )
    query = Query(where=where, order_by=(Order("due_on"),), limit=limit)
    return crm.run(actor.tenant_id, lambda uow: uow.repository(SequenceStep).query(query))
