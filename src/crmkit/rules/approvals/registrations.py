"""Where approvals declare themselves: the ``approval_flow`` resource, the memory inbox
counts, and each public approval service for :mod:`crmkit.rules.permissions.catalog`."""

from __future__ import annotations

from crmkit.ports import register_queries
from crmkit.rules.approvals.model import ApprovalFlow
from crmkit.rules.approvals.queries import (
    InboxCounts,
    MemoryInboxCounts,
    approval_inbox,
    my_submissions,
)
from crmkit.rules.approvals.services import (
    add_cosigner,
    approve_request,
    batch_approve,
    batch_unapprove,
    define_flow,
    delegate_request,
    get_approval_request,
    get_flow,
    reject_request,
    return_request,
    set_flow_active,
    submit_for_approval,
    unapprove_request,
    urge_request,
    withdraw_request,
)
from crmkit.rules.approvals.services.flows import FLOWS
from crmkit.rules.approvals.services.settings import configure_approvals
from crmkit.rules.permissions import register_resource
from crmkit.rules.permissions.catalog import ServiceKind, register_service

AREA = "crmkit.rules.approvals"

register_resource(FLOWS, entity=ApprovalFlow, operations=("view", "edit"))
register_queries("memory", InboxCounts, MemoryInboxCounts)

REQUEST = {"request_id": "approval_request"}
REQUESTS = {"request_ids": "approval_request"}

for service, kind, resource, operation, records, personal in (
    (define_flow, ServiceKind.WRITE, "approval_flow", "edit", {}, False),
    (set_flow_active, ServiceKind.WRITE, "approval_flow", "edit", {}, False),
    (get_flow, ServiceKind.READ, "approval_flow", "view", {}, False),
    (configure_approvals, ServiceKind.WRITE, "approval_flow", "edit", {}, False),
    (
        submit_for_approval,
        ServiceKind.WRITE,
        "approval_request",
        "create",
        {"document_id": "quote"},
        False,
    ),
    (get_approval_request, ServiceKind.READ, "approval_request", "view", REQUEST, False),
    (approve_request, ServiceKind.WRITE, "approval_request", "approve", REQUEST, False),
    (reject_request, ServiceKind.WRITE, "approval_request", "approve", REQUEST, False),
    (return_request, ServiceKind.WRITE, "approval_request", "approve", REQUEST, False),
    (withdraw_request, ServiceKind.WRITE, "approval_request", "edit", REQUEST, False),
    (delegate_request, ServiceKind.WRITE, "approval_request", "approve", REQUEST, False),
    (add_cosigner, ServiceKind.WRITE, "approval_request", "approve", REQUEST, False),
    (urge_request, ServiceKind.WRITE, "approval_request", "edit", REQUEST, False),
    (unapprove_request, ServiceKind.WRITE, "approval_request", "unapprove", REQUEST, False),
    (batch_approve, ServiceKind.WRITE, "approval_request", "approve", REQUESTS, False),
    (batch_unapprove, ServiceKind.WRITE, "approval_request", "unapprove", REQUESTS, False),
    (approval_inbox, ServiceKind.LIST, "approval_request", "approve", {}, True),
    (my_submissions, ServiceKind.LIST, "approval_request", "view", {}, True),
):
    register_service(
        service, kind, resource, operation, records=records, package=AREA, personal=personal
    )
