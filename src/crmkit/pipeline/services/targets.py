"""Targets and commission plans: what each rep and department is to reach, and how they are paid."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.limits import check_amount
from crmkit.kernel.money import to_decimal
from crmkit.kernel.periods import Period
from crmkit.kernel.query import F, Query
from crmkit.pipeline.model.targets import (
    CategoryRate,
    CommissionPlan,
    Metric,
    Target,
    Tier,
    UnitKind,
)
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import (
    grants_for,
    guarded,
)

__all__ = [
    "define_commission_plan",
    "set_target",
]


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
    Period.parse(period)  # refuse a label that is not a period, before anything is stored

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
            value=check_amount(
                to_decimal(value, entity="target", field="value"), entity="target", field="value"
            ),
            currency=currency,
        )
        return repo.add(target)

    return guarded(crm, actor, work)


def define_commission_plan(
    crm: Crm,
    actor: Actor,
    *,
    name: str,
    currency: str,
    tiers: list[tuple[Decimal | str, Decimal | str]],
    category_rates: Mapping[str, Decimal | str] | None = None,
) -> CommissionPlan:
    """A plan paying ``rate`` from ``attainment`` upwards: ``[("0", "0.03"), ("1", "0.05")]``.

    ``category_rates`` (``{"software": "0.08"}``) pays the part of a won deal sold in a
    product category at that category's rate instead of the tier rate (see
    :func:`commission_for`).

    Raises:
        ValidationError: tiers that do not start at 0 and rise, or a rate outside 0..1.
    """
    plan = CommissionPlan(
        id=crm.new_id(),
        tenant_id=actor.tenant_id,
        name=name,
        currency=currency,
        tiers=tuple(Tier(Decimal(a), Decimal(r)) for a, r in tiers),
        category_rates=tuple(
            CategoryRate(c, Decimal(r)) for c, r in sorted((category_rates or {}).items())
        ),
    )

    def work(uow: UnitOfWork) -> CommissionPlan:
        grants_for(uow, actor).require_operation("edit", "pipeline_settings")
        return uow.repository(CommissionPlan).add(plan)

    return guarded(crm, actor, work)
