"""Approval use cases: each function is one transaction (batches: one per document).

- :mod:`.flows` — define and switch flows, find a document type's active flow;
- :mod:`.routing` — resolve a flow into the people a document goes to;
- :mod:`.submission` — submit and resubmit documents, from a host or inside an area;
- :mod:`.decisions` — approve, reject, send back, withdraw, delegate, co-sign, unapprove;
- :mod:`.urging` — the submitter's urges and the overdue scan (reminders, escalations);
- :mod:`.batches` — approve or unapprove many requests;
- :mod:`.settings` — the tenant's self-approval setting;
- :mod:`.approvable` — how areas make their documents approvable and keep them locked.
"""

from crmkit.rules.approvals.services.approvable import (
    Approvable,
    ApprovalHooks,
    ApprovalSubject,
    Describe,
    LockedBy,
    approvable_documents,
    approval_of,
    describe_document,
    ensure_editable,
    ensure_not_in_review,
    in_review,
    is_locked,
    register_approvable,
)
from crmkit.rules.approvals.services.batches import (
    BatchItem,
    BatchResult,
    batch_approve,
    batch_unapprove,
)
from crmkit.rules.approvals.services.decisions import (
    add_cosigner,
    approve_request,
    delegate_request,
    get_approval_request,
    reject_request,
    return_request,
    unapprove_request,
    withdraw_request,
)
from crmkit.rules.approvals.services.flows import (
    active_flow,
    define_flow,
    get_flow,
    set_flow_active,
)
from crmkit.rules.approvals.services.routing import ApprovalDirectory, resolve_route
from crmkit.rules.approvals.services.settings import (
    approval_settings,
    configure_approvals,
    ensure_not_own,
)
from crmkit.rules.approvals.services.submission import (
    decided_by,
    document_hook,
    submit_for_approval,
    submit_if_flow,
    submit_in,
)
from crmkit.rules.approvals.services.urging import ScanResult, scan_overdue_approvals, urge_request

__all__ = [
    "Approvable",
    "ApprovalDirectory",
    "ApprovalHooks",
    "ApprovalSubject",
    "BatchItem",
    "BatchResult",
    "Describe",
    "LockedBy",
    "ScanResult",
    "active_flow",
    "add_cosigner",
    "approvable_documents",
    "approval_of",
    "approval_settings",
    "approve_request",
    "batch_approve",
    "batch_unapprove",
    "configure_approvals",
    "decided_by",
    "define_flow",
    "delegate_request",
    "describe_document",
    "document_hook",
    "ensure_editable",
    "ensure_not_in_review",
    "ensure_not_own",
    "get_approval_request",
    "get_flow",
    "in_review",
    "is_locked",
    "register_approvable",
    "reject_request",
    "resolve_route",
    "return_request",
    "scan_overdue_approvals",
    "set_flow_active",
    "submit_for_approval",
    "submit_if_flow",
    "submit_in",
    "unapprove_request",
    "urge_request",
    "withdraw_request",
]
