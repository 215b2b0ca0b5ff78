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

from crmkit.kernel.machine import Machine, Transition
from crmkit.rules.approvals.model.flows import (
    ApprovalApproved,
    ApprovalRejected,
    ApprovalReturned,
    ApprovalSubmitted,
    ApprovalUnapproved,
    ApprovalWithdrawn,
    RequestStatus,
)

__all__ = ["APPROVAL"]

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
