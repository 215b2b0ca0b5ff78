"""Routing: turning a flow's selectors into the people a document goes to.

Routing "the submitter's manager" or "the head of the sales department" needs to
know who reports to whom. That is the :class:`crmkit.ports.Directory` port; by
default the approval services read it from crmkit's own org model
(:class:`crmkit.rules.permissions.OrgDirectory`), and a host may pass its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from crmkit.kernel.ids import TenantId
from crmkit.ports import Directory
from crmkit.rules.approvals.errors import NoApprover
from crmkit.rules.approvals.model.flows import ApprovalFlow, ApproverKind, Approvers, Facts, Rule
from crmkit.rules.approvals.model.trail import RouteStage

__all__ = ["ApprovalDirectory", "resolve_route"]


ApprovalDirectory = Directory
"""The directory approvals route by (the shared :class:`crmkit.ports.Directory`)."""


def _select(
    selector: Approvers,
    tenant_id: TenantId,
    submitter: UUID,
    directory: ApprovalDirectory | None,
) -> list[UUID]:
    if selector.kind is ApproverKind.USER:
        return list(selector.user_ids)
    if directory is None:
        return []
    if selector.kind is ApproverKind.ROLE:
        return directory.members_of_role(tenant_id, selector.role or "")
    if selector.kind is ApproverKind.DEPARTMENT_HEAD:
        department = directory.department_of(tenant_id, submitter)
        head = None if department is None else directory.department_head(tenant_id, department)
        return [] if head is None else [head]
    manager = directory.manager_of(tenant_id, submitter)
    if selector.kind is ApproverKind.MANAGERS_MANAGER and manager is not None:
        manager = directory.manager_of(tenant_id, manager)
    return [] if manager is None else [manager]


def people_for(
    selectors: Iterable[Approvers],
    tenant_id: TenantId,
    submitter: UUID,
    directory: ApprovalDirectory | None,
) -> list[UUID]:
    found: list[UUID] = []
    for selector in selectors:
        for person in _select(selector, tenant_id, submitter, directory):
            if person not in found:
                found.append(person)
    return found


def resolve_route(
    flow: ApprovalFlow,
    facts: Facts,
    submitter: UUID,
    directory: ApprovalDirectory | None,
    *,
    owners: Iterable[UUID] = (),
) -> tuple[RouteStage, ...]:
    """Turn a flow into the stages and people a document with these facts goes to.

    Stages whose condition is false are skipped. Unless the flow allows
    self-approval the submitter and the document's ``owners`` are left out of every
    stage, whatever its approver kind, and a stage left empty by that goes to the
    submitter's manager (unless that is an owner too).

    Raises:
        NoApprover: a stage resolves to nobody, or to fewer people than its quorum.
    """
    own = {submitter, *owners}
    route = []
    for stage in flow.stages_for(facts):
        people = people_for(stage.approvers, flow.tenant_id, submitter, directory)
        if not flow.allow_self_approval and own & set(people):
            people = [p for p in people if p not in own]
            if not people:
                people = _select(Approvers.manager(), flow.tenant_id, submitter, directory)
                people = [p for p in people if p not in own]
        if not people or (stage.rule is Rule.N_OF_M and len(people) < (stage.quorum or 1)):
            raise NoApprover(flow=flow.name, stage=stage.name)
        route.append(
            RouteStage(
                name=stage.name,
                rule=stage.rule,
                approvers=tuple(people),
                quorum=stage.quorum,
                remind_after=stage.remind_after,
                escalate_after=stage.escalate_after,
                escalate_to=tuple(
                    people_for(stage.escalate_to, flow.tenant_id, submitter, directory)
                ),
            )
        )
    return tuple(route)
