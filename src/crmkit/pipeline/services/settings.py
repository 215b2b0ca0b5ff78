"""The tenant's pipeline settings: sales processes, disqualification and loss reasons."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.pipeline.model.opportunities import (
    SalesProcess,
    Stage,
)
from crmkit.pipeline.model.settings import PipelineSettings, settings_id
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import grants_for, guarded

__all__ = [
    "configure_pipeline",
    "define_sales_process",
]


def require_settings_editor(uow: UnitOfWork, actor: Actor) -> None:
    grants_for(uow, actor).require_operation("edit", "pipeline_settings")


def pipeline_settings(uow: UnitOfWork) -> PipelineSettings:
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
        require_settings_editor(uow, actor)
        repo = uow.repository(PipelineSettings)
        current = pipeline_settings(uow)
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
        require_settings_editor(uow, actor)
        return uow.repository(SalesProcess).add(process)

    return guarded(crm, actor, work)
