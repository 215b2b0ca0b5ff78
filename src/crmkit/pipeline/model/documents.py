"""What quotes and contracts share as documents an approval flow decides.

A quote over the discount threshold and a contract that needs approval go the same
way through approval: a draft is **submitted** (``in_approval``), the approver (or
the tenant's approval flow) **approves** it or **rejects** it back to draft, and an
approval may be revoked — 反审核, *unapprove* — which takes the document back to
draft, to be revised and submitted again. Only the states are each document's own
(a quote becomes ``approved``, a contract ``active``), and the events it records.

:func:`approval_transitions` declares those four moves over a document's states,
:class:`ApprovalDecisions` gives each document the same reject and unapprove methods, and
:class:`DocumentRejected` and :class:`DocumentUnapproved` are the facts those two record,
which each document's events only name.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable
from datetime import datetime
from typing import Any, ClassVar, TypeVar

import attrs

from crmkit.kernel.events import DomainEvent
from crmkit.kernel.machine import Machine, Transition

__all__ = ["ApprovalDecisions", "approval_transitions"]

S = TypeVar("S", bound=Hashable)


def approval_transitions(
    *,
    draft: S,
    in_approval: S,
    approved: S,
    submitted: type[DomainEvent],
    approved_event: type[DomainEvent],
    rejected: type[DomainEvent],
    unapproved: type[DomainEvent],
) -> list[Transition[S]]:
    """The submit, approve, reject and unapprove moves of a document's machine.

    Args:
        draft, in_approval, approved: the document's states for each step (``approved``
            is the state an approval puts it in: a contract's ``active``).
        submitted, approved_event, rejected, unapproved: the events each move records.

    Returns:
        The four transitions, for the document's machine to list with its own.
    """
    return [
        Transition("submit", source=draft, target=in_approval, event=submitted),
        Transition("approve", source=in_approval, target=approved, event=approved_event),
        Transition("reject", source=in_approval, target=draft, event=rejected),
        Transition("unapprove", source=approved, target=draft, event=unapproved),
    ]


@attrs.frozen(kw_only=True)
class DocumentRejected(DomainEvent):
    """The approver sent a document back to draft, for ``reason``."""

    reason: str


@attrs.frozen(kw_only=True)
class DocumentUnapproved(DomainEvent):
    """The approval of a document was revoked (反审核) by ``by``; it is a draft again."""

    by: uuid.UUID | None = None
    reason: str = ""


class ApprovalDecisions:
    """The approver's decisions on a document, the same for quotes and contracts.

    A document class mixes this in and sets ``approval_machine`` to its machine.
    """

    approval_machine: ClassVar[Machine[Any]]
    decided_by: uuid.UUID | None

    def reject(self, by: uuid.UUID | None, why: str, now: datetime) -> DomainEvent | None:
        """The approver sends it back to draft."""
        event = self.approval_machine.fire(self, "reject", now=now, payload={"reason": why})
        self.decided_by = by
        return event

    def unapprove(self, by: uuid.UUID | None, why: str, now: datetime) -> DomainEvent | None:
        """The approval was revoked (反审核): back to draft, to be revised and submitted again.

        Raises:
            InvalidTransition: the document is no longer approved (a quote converted,
                declined or superseded; a contract that ended).
        """
        payload = {"by": by, "reason": why}
        event = self.approval_machine.fire(self, "unapprove", now=now, payload=payload)
        self.decided_by = None
        return event
