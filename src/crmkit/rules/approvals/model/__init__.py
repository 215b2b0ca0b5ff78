"""The approval domain, one module per concept (each opens by explaining it).

- :mod:`.calendar` — business hours and working days, for stage deadlines;
- :mod:`.flows` — approval flows: stages, approver selectors, conditions on facts;
- :mod:`.events` — what a request puts in the outbox;
- :mod:`.lifecycle` — the request's statuses and their state machine;
- :mod:`.trail` — the resolved route, the audit trail and the votes;
- :mod:`.request` — the approval request, one per document, rebuilt from its trail;
- :mod:`.tasks` — the approval inbox a request keeps in step;
- :mod:`.settings` — a tenant's approval settings.
"""

from crmkit.rules.approvals.model.calendar import BusinessCalendar, Deadline, DeadlineUnit
from crmkit.rules.approvals.model.events import (
    ApprovalApproved,
    ApprovalCosignerAdded,
    ApprovalDecided,
    ApprovalDelegated,
    ApprovalEscalated,
    ApprovalEvent,
    ApprovalRejected,
    ApprovalReminderDue,
    ApprovalReturned,
    ApprovalStageOpened,
    ApprovalSubmitted,
    ApprovalUnapproved,
    ApprovalUrged,
    ApprovalWithdrawn,
)
from crmkit.rules.approvals.model.flows import (
    ApprovalFlow,
    ApprovalFlowId,
    ApproverKind,
    Approvers,
    Condition,
    Facts,
    FlowStage,
    Outcome,
    Rule,
)
from crmkit.rules.approvals.model.lifecycle import APPROVAL, RequestStatus
from crmkit.rules.approvals.model.request import SYSTEM, ApprovalRequest, ApprovalRequestId, replay
from crmkit.rules.approvals.model.settings import ApprovalSettings
from crmkit.rules.approvals.model.tasks import ApprovalTask
from crmkit.rules.approvals.model.trail import (
    Action,
    AlertKind,
    Decision,
    ReviewState,
    RouteStage,
    TrailEntry,
)

__all__ = [
    "APPROVAL",
    "SYSTEM",
    "Action",
    "AlertKind",
    "ApprovalApproved",
    "ApprovalCosignerAdded",
    "ApprovalDecided",
    "ApprovalDelegated",
    "ApprovalEscalated",
    "ApprovalEvent",
    "ApprovalFlow",
    "ApprovalFlowId",
    "ApprovalRejected",
    "ApprovalReminderDue",
    "ApprovalRequest",
    "ApprovalRequestId",
    "ApprovalReturned",
    "ApprovalSettings",
    "ApprovalStageOpened",
    "ApprovalSubmitted",
    "ApprovalTask",
    "ApprovalUnapproved",
    "ApprovalUrged",
    "ApprovalWithdrawn",
    "ApproverKind",
    "Approvers",
    "BusinessCalendar",
    "Condition",
    "Deadline",
    "DeadlineUnit",
    "Decision",
    "Facts",
    "FlowStage",
    "Outcome",
    "RequestStatus",
    "ReviewState",
    "RouteStage",
    "Rule",
    "TrailEntry",
    "replay",
]
