"""Who is acting: the user and tenant every service call is made for.

crmkit never owns the login; the host authenticates and hands crmkit an ``Actor``.
"""

from __future__ import annotations

import attrs

from crmkit.kernel.ids import TenantId, UserId

__all__ = ["Actor"]


@attrs.frozen
class Actor:
    """The authenticated user a service call acts for, inside one tenant.

    Attributes:
        tenant_id: the tenant the call is confined to.
        user_id: the acting user.
        name: a display name for messages and audit trails.
    """

    tenant_id: TenantId
    user_id: UserId
    name: str = ""

    def __str__(self) -> str:
        return self.name or str(self.user_id)
