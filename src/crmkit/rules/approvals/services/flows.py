"""Defining approval flows and finding the one a document goes through.

Defining and switching flows is administration: the tenant administrator, or whoever
holds ``edit`` on approval flows (the resource registered in
:mod:`crmkit.rules.approvals.registrations`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import NotFound
from crmkit.kernel.query import F, Query
from crmkit.ports import UnitOfWork
from crmkit.rules.approvals.model.flows import ApprovalFlow, ApprovalFlowId, FlowStage
from crmkit.rules.permissions import grants_for, guarded

__all__ = ["active_flow", "define_flow", "get_flow", "set_flow_active"]


FLOWS = "approval_flow"
"""The permission resource of approval flows and settings."""


def define_flow(
    crm: Crm,
    actor: Actor,
    *,
    name: str,
    document_type: str,
    stages: Sequence[FlowStage],
    **options: Any,
) -> ApprovalFlow:
    """Store a new approval flow for a document type.

    Args:
        name: shown to users.
        document_type: the documents it approves.
        stages: the stages in order.
        **options: other :class:`ApprovalFlow` fields (``allow_self_approval``,
            ``urge_interval_minutes``, ``calendar``, ``unapprovers``).

    Raises:
        ValidationError: a stage or option breaks a rule; nothing is stored.
    """
    flow = ApprovalFlow(
        id=ApprovalFlowId(crm.new_id()),
        tenant_id=actor.tenant_id,
        name=name,
        document_type=document_type,
        stages=tuple(stages),
        **options,
    )

    def work(uow: UnitOfWork) -> ApprovalFlow:
        grants_for(uow, actor).require_operation("edit", FLOWS)
        return uow.repository(ApprovalFlow).add(flow)

    return guarded(crm, actor, work)


def get_flow(crm: Crm, actor: Actor, flow_id: UUID) -> ApprovalFlow:
    """Load a flow (the tenant administrator, or whoever holds ``view`` on approval flows).

    Raises:
        NotFound: no such flow in the actor's tenant.
        PermissionDenied: the actor may not view it.
    """

    def work(uow: UnitOfWork) -> ApprovalFlow:
        flow = uow.repository(ApprovalFlow).get(flow_id)
        grants_for(uow, actor).require("view", flow, FLOWS)
        return flow

    return guarded(crm, actor, work, read_only=True)


def set_flow_active(crm: Crm, actor: Actor, flow_id: UUID, active: bool) -> ApprovalFlow:
    """Switch a flow on or off for new submissions (requests in review keep their route)."""

    def work(uow: UnitOfWork) -> ApprovalFlow:
        grants_for(uow, actor).require_operation("edit", FLOWS)
        repo = uow.repository(ApprovalFlow)
        flow = repo.get(flow_id)
        flow.active = active
        return repo.save(flow)

    return guarded(crm, actor, work)


def flow_for(uow: UnitOfWork, document_type: str, flow_id: UUID | None) -> ApprovalFlow:
    repo = uow.repository(ApprovalFlow)
    if flow_id is not None:
        return repo.get(flow_id)
    found = repo.query(Query(F("document_type").eq(document_type) & F("active").eq(True), limit=2))
    if len(found) != 1:
        # None, or several: the caller must say which flow (never guess between two).
        raise NotFound(entity="approval flow", id=document_type)
    return found[0]


def active_flow(uow: UnitOfWork, document_type: str) -> ApprovalFlow | None:
    """The tenant's one active flow for ``document_type``, or None (none, or several).

    Areas that submit their documents automatically use it: several active flows are
    ambiguous, and the document then keeps its manual approval rather than guessing.
    """
    try:
        return flow_for(uow, document_type, None)
    except NotFound:
        return None
