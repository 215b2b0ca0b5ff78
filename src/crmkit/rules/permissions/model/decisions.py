"""Decisions: the answer to "may this user do this?", with the reasons behind it.

A decision is a value (:meth:`Grants.explain <crmkit.rules.permissions.model.Grants.explain>`
returns one); a breach is an exception (``PermissionDenied`` carries the decision).
"""

from __future__ import annotations

from uuid import UUID

import attrs

from crmkit.kernel.errors import LazyText

__all__ = ["Decision", "Reason"]


@attrs.frozen
class Reason:
    """One line of an explanation.

    Attributes:
        kind: ``admin``, ``grant``, ``owner``, ``share``, ``sharing_rule`` (allowing) or
            ``no_grant``, ``out_of_scope``, ``field``, ``tenant``, ``inactive`` (denying).
        text: the translatable sentence.
        role: the role the reason comes from, when it comes from one.
    """

    kind: str
    text: LazyText
    role: str | None = None

    def __str__(self) -> str:
        return str(self.text)


@attrs.frozen
class Decision:
    """The answer to "may this user do this?", with the reasons behind it."""

    allowed: bool
    user_id: UUID
    operation: str
    resource: str
    record_id: UUID | None = None
    field: str | None = None
    reasons: tuple[Reason, ...] = ()

    def __bool__(self) -> bool:
        return self.allowed

    def __str__(self) -> str:
        verdict = "allowed" if self.allowed else "denied"
        return f"{verdict}: " + "; ".join(str(r) for r in self.reasons)
