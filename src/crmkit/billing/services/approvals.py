"""Route billing documents (refunds, expense claims, credit resubmissions) through the
tenant's approval flows.

When a tenant has an active approval flow for ``"refund"`` or ``"expense_claim"``,
requesting a refund or submitting an expense claim also submits it to that flow,
in the same transaction. The flow's last approval fires the document's own
``approve`` transition through the hooks defined here (and registered by
:mod:`crmkit.billing.registrations`), inside the deciding transaction; a rejection, return or withdrawal rejects the document (neither
machine has a way back to draft). While the flow decides, the manual
``approve_*`` / ``reject_*`` services refuse with ``DocumentLocked``. Without a
flow, :func:`~crmkit.billing.services.approve_refund` and
:func:`~crmkit.billing.services.approve_expense_claim` keep working by hand.

A credit override asked for again after a refusal
(:func:`~crmkit.billing.services.overrides.resubmit_credit_override`) is its own
request of type ``"credit_override_resubmission"``; its last approval releases the
held document through the area that registered it
(:func:`~crmkit.billing.model.credit.register_credit_documents`).

Submission happens inside the document's own unit of work
(:func:`crmkit.rules.approvals.submit_in`), so the document's status change and the
approval request commit together.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

import attrs

from crmkit.billing.model.credit import CreditOverride, credit_documents
from crmkit.billing.model.expenses import ClaimState, ExpenseClaim
from crmkit.billing.model.flows import EXPENSE_CLAIM_FLOW, REFUND_FLOW
from crmkit.billing.model.receipts import Refund
from crmkit.billing.services._frame import _require
from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.machine import Machine
from crmkit.ports import Entity, UnitOfWork
from crmkit.rules.approvals import (
    ApprovalRequest,
    ApprovalSubject,
    Describe,
    decided_by,
    document_hook,
    ensure_editable,
    ensure_not_in_review,
    ensure_not_own,
    submit_if_flow,
)
from crmkit.rules.approvals.describing import describe_stored
from crmkit.rules.permissions import guarded

__all__ = [
    "CREDIT_RESUBMISSION_DOCUMENT",
    "EXPENSE_CLAIM_APPROVAL",
    "EXPENSE_CLAIM_DOCUMENT",
    "REFUND_APPROVAL",
    "REFUND_DOCUMENT",
    "BillingApproval",
    "approve_claim",
    "claim_facts",
    "describe_override",
    "override_facts",
    "refund_decided",
    "refund_facts",
    "reject_claim",
    "release_held_document",
]

REFUND_DOCUMENT = "refund"
EXPENSE_CLAIM_DOCUMENT = "expense_claim"
CREDIT_RESUBMISSION_DOCUMENT = "credit_override_resubmission"

D = TypeVar("D", bound=Entity)


def refund_facts(refund: Refund) -> dict[str, Any]:
    """The facts a refund is routed on: its ``amount`` (the flow adds the requester's
    ``department``)."""
    return {"amount": refund.amount}


def claim_facts(claim: ExpenseClaim) -> dict[str, Any]:
    """The facts an expense claim is routed on: ``amount`` (the claim's total),
    ``needs_extra_approval`` (a line is over a limit asking for an extra stage: a flow
    stage conditioned on it plays the extra approval stage) and ``department`` (the
    claim's, else the claimant's)."""
    values: dict[str, Any] = {
        "amount": claim.total,
        "needs_extra_approval": claim.needs_extra_approval,
    }
    if claim.department_id is not None:
        values["department"] = claim.department_id
    return values


def override_facts(uow: UnitOfWork, override: CreditOverride) -> dict[str, Any]:
    """The facts a resubmitted credit override is routed on, from what it stored."""
    values: dict[str, Any] = {
        "amount": override.amount,
        "exposure": override.exposure,
        "round": override.round,
        "previous_request": override.previous_request_id,
    }
    for source in credit_documents():
        if source.document_type == override.document_type:
            held = source.held(uow, override.document_id)
            if held is not None:
                values["order_amount"] = held.amount
    if override.limit is not None:
        values["limit"] = override.limit
    return values


def describe_override(uow: UnitOfWork, document_id: UUID) -> ApprovalSubject | None:
    """A stored resubmitted credit override as approvals see it (None: not ours)."""
    override = uow.repository(CreditOverride).find(document_id)
    if override is None:
        return None
    facts = override_facts(uow, override)
    return ApprovalSubject(facts, "credit_override", override, override.requested_by)


@attrs.frozen
class BillingApproval(Generic[D]):
    """How a refund or expense claim goes through approval: into the tenant's flow for
    it when there is one, else decided by hand; the same steps for both, only these
    differ.

    Attributes:
        entity: the document's class.
        document_type: the approval document type (``"refund"``), also the document's
            permission resource.
        machine: the document's state machine.
        owner_field: who asked for the document; they may not approve it unless the
            tenant allows self-approval.
        title: the title an approval request shows for the document.
        facts: what the flow's conditions read from the document (a fresh submission
            and a stored document alike); a ``department`` among them is the flow's.
    """

    entity: type[D]
    document_type: str
    machine: Machine[Any]
    owner_field: str
    title: Callable[[D], str]
    facts: Callable[[D], dict[str, Any]]

    def route(self, uow: UnitOfWork, actor: Actor, document: D, now: datetime) -> bool:
        """Submit a just-requested document to the tenant's flow for its type, if any.

        The facts gain the submitter's department when the document names none.

        Returns:
            Whether a flow took the document (False: it waits to be decided by hand).

        Raises:
            NoApprover: a stage of the flow resolves to nobody (nothing is stored).
        """
        facts = self.facts(document)
        return submit_if_flow(
            uow,
            actor,
            now=now,
            document_type=self.document_type,
            document_id=document.id,
            title=self.title(document),
            facts=facts,
            department=facts.get("department"),
        )

    def describe(self) -> Describe:
        """The ``describe`` of :func:`register_approvable`: the stored document, its facts
        and who asked for it."""
        return describe_stored(
            self.entity, self.document_type, self.facts, owner_field=self.owner_field
        )

    def decide(self, crm: Crm, actor: Actor, document_id: UUID, trigger: str) -> D:
        """Fire ``trigger`` (``"approve"`` or ``"reject"``) on the stored document.

        Raises:
            NotFound: no such document.
            PermissionDenied: the actor may not ``approve`` it.
            DocumentLocked: an approval flow is deciding it, or approved it.
            SelfApprovalForbidden: the actor asked for it and may not approve their own.
            InvalidTransition: it is not waiting for a decision.
        """

        def work(uow: UnitOfWork) -> D:
            repo = uow.repository(self.entity)
            document = repo.get(document_id)
            _require(uow, actor, "approve", self.document_type, document)
            ensure_not_in_review(uow, document)
            ensure_editable(uow, self.document_type, document.id)
            if trigger == "approve":
                owner = getattr(document, self.owner_field)
                ensure_not_own(uow, actor, (owner,), f"{self.document_type} {document.id}")
            event = self.machine.fire(document, trigger, now=crm.now())
            repo.save(document)
            uow.outbox.add(event)
            return document

        return guarded(crm, actor, work)


REFUND_APPROVAL = BillingApproval(
    Refund,
    REFUND_DOCUMENT,
    REFUND_FLOW,
    "requested_by",
    title=lambda refund: refund.reason or str(refund.amount),
    facts=refund_facts,
)
EXPENSE_CLAIM_APPROVAL = BillingApproval(
    ExpenseClaim,
    EXPENSE_CLAIM_DOCUMENT,
    EXPENSE_CLAIM_FLOW,
    "claimant_id",
    title=lambda claim: str(claim.total),
    facts=claim_facts,
)


# -- hooks: called by the approval services inside the deciding transaction ------------------


def refund_decided(trigger: str) -> Callable[[UnitOfWork, ApprovalRequest], None]:
    """The hook that fires the refund's own ``trigger`` (approve, reject) on a decision."""
    return document_hook(
        Refund, lambda refund, _who, _comment, at: REFUND_FLOW.fire(refund, trigger, now=at)
    )


def approve_claim(claim: ExpenseClaim, _who: UUID, _comment: str, _at: datetime) -> None:
    """Approve a claim its flow approved."""
    # The flow's stages replace the claim's own extra stage: its last approval is final.
    while claim.state is not ClaimState.APPROVED:
        EXPENSE_CLAIM_FLOW.fire(claim, "approve")


def reject_claim(claim: ExpenseClaim, _who: UUID, _comment: str, _at: datetime) -> None:
    """Reject a claim its flow rejected, returned or saw withdrawn."""
    EXPENSE_CLAIM_FLOW.fire(claim, "reject")


def release_held_document(uow: UnitOfWork, request: ApprovalRequest) -> None:
    """Release the document a resubmitted override held, once its flow approved it."""
    override = uow.repository(CreditOverride).find(request.document_id)
    if override is None:
        return  # a host's own document of that type, submitted directly: not ours
    for source in credit_documents():
        if source.document_type == override.document_type:
            who, _comment, at = decided_by(request)
            source.release(uow, override.document_id, who, at)
