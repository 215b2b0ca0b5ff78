"""Per-tenant pipeline settings: the lists reps pick reasons from."""

from __future__ import annotations

import uuid

import attrs

from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId

__all__ = ["DEFAULT_DISQUALIFY_REASONS", "DEFAULT_LOSS_REASONS", "PipelineSettings", "settings_id"]

DEFAULT_DISQUALIFY_REASONS = ("no budget", "no need", "unreachable", "duplicate", "competitor")
DEFAULT_LOSS_REASONS = ("price", "product fit", "competitor", "timing", "no decision")
_NAMESPACE = uuid.UUID("3f5d1c8e-2b7a-4e11-8f0a-6c4b9d2e7a10")


def settings_id(tenant_id: TenantId) -> uuid.UUID:
    """Each tenant has one settings record with this id."""
    return uuid.uuid5(_NAMESPACE, str(tenant_id))


@attrs.define(eq=False)
class PipelineSettings:
    """The tenant's lists of reasons for disqualifying leads and losing deals."""

    entity_name = N_("pipeline settings")

    id: uuid.UUID
    tenant_id: TenantId
    disqualify_reasons: tuple[str, ...] = DEFAULT_DISQUALIFY_REASONS
    loss_reasons: tuple[str, ...] = DEFAULT_LOSS_REASONS
    version: int = 0
