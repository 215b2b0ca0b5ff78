"""The approval request's lifecycle, declared once as data.

Stage-by-stage progress happens inside ``IN_REVIEW`` (the request keeps the index
of its current stage); this machine holds the moves a user sees::

    draft --submit--> in_review --complete--> approved --unapprove--> unapproved
                         |  --reject-->    rejected   --submit--> in_review
                         |  --send_back--> returned   --submit--> in_review
                         |  --withdraw-->  withdrawn  --submit--> in_review

No state is final: a rejected, returned, withdrawn or unapproved document can be
edited and resubmitted, which starts a new round.
"""

from __future__ import annotations

import enum

from crmkit.kernel.machine import Machine, Transition
from crmkit.rules.approvals.model.events import (
    ApprovalApproved,
    ApprovalRejected,
    ApprovalReturned,
    ApprovalSubmitted,
    ApprovalUnapproved,
    ApprovalWithdrawn,
)

__all__ = ["APPROVAL", "RequestStatus"]


class RequestStatus(enum.Enum):
    """Where a document stands in review.

    ``DRAFT`` exists only until the first submission. The document is locked
    (cannot be edited) while ``IN_REVIEW`` or ``APPROVED``.
    """

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    RETURNED = "returned"
    WITHDRAWN = "withdrawn"
    UNAPPROVED = "unapproved"

    @property
    def locks_document(self) -> bool:
        """Whether a document in this status may not be edited."""
        return self in (RequestStatus.IN_REVIEW, RequestStatus.APPROVED)


S = RequestStatus

APPROVAL: Machine[RequestStatus] = Machine(
    name="approval_request",
    states=RequestStatus,
    initial=S.DRAFT,
    final=(),
    transitions=[
        Transition(
            "submit",
            source=(S.DRAFT, S.REJECTED, S.RETURNED, S.WITHDRAWN, S.UNAPPROVED),
            target=S.IN_REVIEW,
            event=ApprovalSubmitted,
        ),
        Transition("complete", source=S.IN_REVIEW, target=S.APPROVED, event=ApprovalApproved),
        Transition("reject", source=S.IN_REVIEW, target=S.REJECTED, event=ApprovalRejected),
        Transition("send_back", source=S.IN_REVIEW, target=S.RETURNED, event=ApprovalReturned),
        Transition("withdraw", source=S.IN_REVIEW, target=S.WITHDRAWN, event=ApprovalWithdrawn),
        Transition("unapprove", source=S.APPROVED, target=S.UNAPPROVED, event=ApprovalUnapproved),
    ],
    state_attr="status",
)
