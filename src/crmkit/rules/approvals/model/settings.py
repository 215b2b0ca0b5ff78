"""The tenant's approval settings: may anyone approve their own document?

A document's owner (who drew up the quote, asked for the refund, claimed the
expenses) or the person who submitted it for review is the one party whose "yes"
proves nothing, so by default nobody approves their own document — whether an
approval flow decides it or someone with the ``approve`` grant decides it by hand.
A very small company where the boss does everything may say otherwise, explicitly,
for the whole tenant (:func:`configure_approvals`).

Inside a flow the submitter is left out of every stage (see
:func:`~crmkit.rules.approvals.resolve_route`); a flow's own ``allow_self_approval``
option opts that one flow out. By hand, the areas call :func:`ensure_not_own` before
they record an approval.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

import attrs

from crmkit.kernel.entity import Entity
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId

__all__ = ["ApprovalSettings"]

_SETTINGS = uuid.UUID("7a4c1c55-3b8e-4f43-9a57-0d6e2f1b5c21")


def approval_settings_id(tenant_id: TenantId) -> uuid.UUID:
    """Each tenant has one approval settings record with this id."""
    return uuid.uuid5(_SETTINGS, str(tenant_id))


@attrs.define(eq=False)
class ApprovalSettings(Entity):
    """A tenant's approval settings.

    Attributes:
        id: :func:`approval_settings_id` of the tenant.
        tenant_id: the owning tenant.
        allow_self_approval: whether the owner or submitter of a document may approve it
            by hand (off by default; flows decide by their own option).
        version: optimistic-locking counter.
    """

    entity_name: ClassVar[str] = N_("approval settings")

    id: uuid.UUID
    tenant_id: TenantId
    allow_self_approval: bool = False
    version: int = 0
