"""Targets vs actuals with department rollups, and commission statements.

Actuals come from the pipeline analytics (aggregates in SQL on a database), per
owner; a department's figures add up everyone in its subtree. Periods are read
in UTC day boundaries: ``2026-03`` is [2026-03-01 00:00, 2026-04-01 00:00) UTC.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.money import Money
from crmkit.kernel.periods import Period
from crmkit.kernel.query import F, Query
from crmkit.kernel.report import ReportTable
from crmkit.pipeline.model.opportunities import Opportunity, OpportunityStatus
from crmkit.pipeline.model.targets import (
    CommissionPlan,
    CommissionStatement,
    Metric,
    Target,
    Tier,
    UnitKind,
    commission_statement,
)
from crmkit.pipeline.queries import PipelineAnalytics
from crmkit.ports import UnitOfWork, queries
from crmkit.rules.permissions import Department, Member, grants_for, guarded

__all__ = [
    "TARGET_COLUMNS",
    "commission_for",
    "define_commission_plan",
    "set_target",
    "target_report",
]

TARGET_COLUMNS = ("unit", "unit_id", "name", "target", "actual", "attainment")


def _bounds(label: str) -> tuple[Period, datetime, datetime]:
    period = Period.parse(label)
    since = datetime.combine(period.start, time(), tzinfo=UTC)
    until = datetime.combine(period.end + timedelta(days=1), time(), tzinfo=UTC)
    return period, since, until


def set_target(
    crm: Crm,
    actor: Actor,
    *,
    unit_kind: UnitKind,
    unit_id: uuid.UUID,
    period: str,
    metric: Metric,
    value: Decimal | int | str,
    currency: str | None = None,
) -> Target:
    """Set (or replace) the target of a unit for a period and metric."""
    _bounds(period)  # refuse a label that is not a period, before anything is stored

    def work(uow: UnitOfWork) -> Target:
        grants_for(uow, actor).require_operation("edit", "pipeline_settings")
        repo = uow.repository(Target)
        same = F("unit_id").eq(unit_id) & F("period").eq(period) & F("metric").eq(metric)
        for old in repo.query(Query(where=same)):
            repo.delete(old)
        target = Target(
            id=crm.new_id(),
            tenant_id=actor.tenant_id,
            unit_kind=unit_kind,
            unit_id=unit_id,
            period=period,
            metric=metric,
            value=Decimal(value),
            currency=currency,
        )
        return repo.add(target)

    return guarded(crm, actor, work)


def _actuals(
    uow: UnitOfWork,
    actor: Actor,
    metric: Metric,
    since: datetime,
    until: datetime,
    currency: str | None,
) -> dict[str, Decimal]:
    analytics: PipelineAnalytics = queries(uow, PipelineAnalytics)
    grants = grants_for(uow, actor)
    per_owner: dict[str, Decimal] = defaultdict(Decimal)
    if metric is Metric.NEW_CUSTOMERS:
        table = analytics.new_customers_by_owner(since, until, grants.scope("view", "customer"))
        for owner, count in table:
            per_owner[owner] += count
        return per_owner
    table = analytics.won_by_owner(since, until, grants.scope("view", "opportunity"))
    for owner, deal_currency, deals, amount in table:
        if metric is Metric.WON_DEALS:
            per_owner[owner] += deals
        elif deal_currency == currency:
            per_owner[owner] += amount
    return per_owner


def target_report(
    crm: Crm, actor: Actor, *, period: str, metric: Metric, currency: str | None = None
) -> ReportTable:
    """Every department (rolled up its tree) and person: target, actual, attainment %.

    Actuals count only what the actor may view. A department without a target of
    its own shows the sum of its children's targets.
    """
    _, since, until = _bounds(period)

    def work(uow: UnitOfWork) -> ReportTable:
        members = uow.repository(Member).query()
        departments = uow.repository(Department).query()
        targets = {
            (t.unit_kind, t.unit_id): t.value
            for t in uow.repository(Target).query(
                Query(where=F("period").eq(period) & F("metric").eq(metric))
            )
        }
        actual_by_user = _actuals(uow, actor, metric, since, until, currency)
        children: dict[uuid.UUID | None, list[Department]] = defaultdict(list)
        for department in departments:
            children[department.parent_id].append(department)
        staff: dict[uuid.UUID, list[Member]] = defaultdict(list)
        for member in members:
            if member.department_id is not None:
                staff[member.department_id].append(member)

        def visit(
            department: Department,
        ) -> tuple[Decimal | None, Decimal, list[tuple[object, ...]]]:
            # Post-order sums, pre-order rows: a department is listed above its children.
            target = targets.get((UnitKind.DEPARTMENT, department.id))
            actual = sum(
                (actual_by_user.get(str(m.id), Decimal(0)) for m in staff[department.id]),
                Decimal(0),
            )
            below: list[tuple[object, ...]] = []
            child_targets: list[Decimal] = []
            for child in sorted(children[department.id], key=lambda d: d.name):
                child_target, child_actual, child_rows = visit(child)
                actual += child_actual
                below += child_rows
                if child_target is not None:
                    child_targets.append(child_target)
            if target is None and child_targets:
                target = sum(child_targets, Decimal(0))
            own = (
                "department",
                str(department.id),
                department.name,
                target,
                actual,
                _attainment(actual, target),
            )
            return target, actual, [own, *below]

        rows: list[tuple[object, ...]] = []
        for top in sorted(children[None], key=lambda d: d.name):
            rows += visit(top)[2]
        for member in sorted(members, key=lambda m: m.name):
            target = targets.get((UnitKind.USER, member.id))
            actual = actual_by_user.get(str(member.id), Decimal(0))
            if target is not None or actual:
                rows.append(
                    (
                        "user",
                        str(member.id),
                        member.name,
                        target,
                        actual,
                        _attainment(actual, target),
                    )
                )
        return ReportTable.of(TARGET_COLUMNS, rows)

    return guarded(crm, actor, work)


def _attainment(actual: Decimal, target: Decimal | None) -> Decimal | None:
    if not target:
        return None
    return (Decimal(actual) * 100 / target).quantize(Decimal("0.1"))


def define_commission_plan(
    crm: Crm,
    actor: Actor,
    *,
    name: str,
    currency: str,
    tiers: list[tuple[Decimal | str, Decimal | str]],
) -> CommissionPlan:
    """A plan paying ``rate`` from ``attainment`` upwards: ``[("0", "0.03"), ("1", "0.05")]``."""
    plan = CommissionPlan(
        id=crm.new_id(),
        tenant_id=actor.tenant_id,
        name=name,
        currency=currency,
        tiers=tuple(Tier(Decimal(a), Decimal(r)) for a, r in tiers),
    )

    def work(uow: UnitOfWork) -> CommissionPlan:
        grants_for(uow, actor).require_operation("edit", "pipeline_settings")
        return uow.repository(CommissionPlan).add(plan)

    return guarded(crm, actor, work)


def commission_for(
    crm: Crm, actor: Actor, *, plan_id: uuid.UUID, rep_id: uuid.UUID, period: str
) -> CommissionStatement:
    """The rep's commission statement for ``period`` (the rep, or whoever may view
    the rep's deals, may ask)."""
    _, since, until = _bounds(period)

    def work(uow: UnitOfWork) -> CommissionStatement:
        plan = uow.repository(CommissionPlan).get(plan_id)
        grants = grants_for(uow, actor)
        won = (
            F("owner_id").eq(rep_id)
            & F("status").eq(OpportunityStatus.WON)
            & F("closed_at").ge(since)
            & F("closed_at").lt(until)
        )
        deals = uow.repository(Opportunity).query(
            grants.restrict(Query(where=won), "view", "opportunity")
        )
        target_row = uow.repository(Target).query(
            Query(
                where=F("unit_id").eq(rep_id)
                & F("period").eq(period)
                & F("metric").eq(Metric.WON_AMOUNT)
                & F("currency").eq(plan.currency)
            )
        )
        target = Money(target_row[0].value, plan.currency) if target_row else None
        inputs = [(d.id, d.amount) for d in deals if d.amount.currency == plan.currency]
        return commission_statement(plan, period, rep_id, inputs, target)

    return guarded(crm, actor, work)
