"""Quotes and contracts in the tenant's approval flows.

A quote over the discount threshold, or a contract that needs approval, waits in
``in_approval``. When the tenant has one active approval flow for ``"quote"`` or
``"contract"``, submitting the document also submits it to that flow in the same
transaction, with the facts the flow's conditions read: ``amount`` (Money),
``discount`` (Decimal, the effective discount) and ``department`` (the submitter's
department id, when the org chart knows it).

The hooks registered here run inside the flow's deciding transaction: the last
approval approves the quote (or activates the contract); a rejection, return or
withdrawal sends it back to draft, to be revised and submitted again. While the
request is in review or approved the document is locked
(:func:`~crmkit.rules.approvals.ensure_editable`). Without a flow the manual
:func:`~crmkit.pipeline.documents.approve_quote` / ``approve_contract`` apply.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crmkit.kernel.actor import Actor
from crmkit.pipeline.model.contracts import Contract
from crmkit.pipeline.model.quotes import Quote
from crmkit.ports import UnitOfWork
from crmkit.rules.approvals import (
    ApprovalRequest,
    active_flow,
    decided_by,
    register_approvable,
    submit_in,
)
from crmkit.rules.permissions.directory import OrgDirectory

__all__ = [
    "CONTRACT_DOCUMENT",
    "QUOTE_DOCUMENT",
    "register_document_hooks",
    "route_contract",
    "route_quote",
]

QUOTE_DOCUMENT = "quote"
CONTRACT_DOCUMENT = "contract"


def _facts(uow: UnitOfWork, actor: Actor, **values: Any) -> dict[str, Any]:
    department = OrgDirectory(uow).department_of(actor.tenant_id, actor.user_id)
    if department is not None:
        values["department"] = department
    return values


def route_quote(uow: UnitOfWork, actor: Actor, quote: Quote, now: datetime) -> bool:
    """Submit a quote already saved ``in_approval`` to the tenant's quote flow, if any.

    Returns:
        Whether a flow took the quote (False: it waits for :func:`approve_quote`).

    Raises:
        NoApprover: a stage of the flow resolves to nobody (nothing is stored).
    """
    flow = active_flow(uow, QUOTE_DOCUMENT)
    if flow is None:
        return False
    totals = quote.totals
    submit_in(
        uow,
        actor,
        flow=flow,
        now=now,
        document_type=QUOTE_DOCUMENT,
        document_id=quote.id,
        title=quote.number,
        facts=_facts(uow, actor, amount=totals.total, discount=totals.effective_discount.rate),
    )
    return True


def route_contract(uow: UnitOfWork, actor: Actor, contract: Contract, now: datetime) -> bool:
    """Submit a contract already saved ``in_approval`` to the tenant's contract flow, if any.

    Returns:
        Whether a flow took the contract (False: it waits for ``approve_contract``).

    Raises:
        NoApprover: a stage of the flow resolves to nobody (nothing is stored).
    """
    flow = active_flow(uow, CONTRACT_DOCUMENT)
    if flow is None:
        return False
    submit_in(
        uow,
        actor,
        flow=flow,
        now=now,
        document_type=CONTRACT_DOCUMENT,
        document_id=contract.id,
        title=contract.number,
        facts=_facts(uow, actor, amount=contract.amount, discount=contract.total_discount.rate),
    )
    return True


# -- hooks: called by the approval services inside the deciding transaction ------------------


def _quote_approved(uow: UnitOfWork, request: ApprovalRequest) -> None:
    repo = uow.repository(Quote)
    quote = repo.find(request.document_id)
    if quote is None:
        return  # a host's own "quote" document, submitted directly: not ours to change
    who, _comment, at = decided_by(request)
    event = quote.approve(who, at)
    repo.save(quote)
    if event is not None:
        uow.outbox.add(event)


def _quote_closed(uow: UnitOfWork, request: ApprovalRequest) -> None:
    repo = uow.repository(Quote)
    quote = repo.find(request.document_id)
    if quote is None:
        return  # a host's own "quote" document, submitted directly: not ours to change
    who, comment, at = decided_by(request)
    event = quote.reject(who, comment, at)
    repo.save(quote)
    if event is not None:
        uow.outbox.add(event)


def _contract_approved(uow: UnitOfWork, request: ApprovalRequest) -> None:
    repo = uow.repository(Contract)
    contract = repo.find(request.document_id)
    if contract is None:
        return  # a host's own "contract" document, submitted directly: not ours to change
    who, _comment, at = decided_by(request)
    event = contract.approve(who, at)
    repo.save(contract)
    if event is not None:
        uow.outbox.add(event)


def _contract_closed(uow: UnitOfWork, request: ApprovalRequest) -> None:
    repo = uow.repository(Contract)
    contract = repo.find(request.document_id)
    if contract is None:
        return  # a host's own "contract" document, submitted directly: not ours to change
    who, comment, at = decided_by(request)
    event = contract.reject(who, comment, at)
    repo.save(contract)
    if event is not None:
        uow.outbox.add(event)


def register_document_hooks() -> None:
    """(Re-)register the quote and contract hooks with the approvals area.

    Called on import; call it again if something replaced the hooks of ``"quote"``
    or ``"contract"`` (the registry keeps one set per document type).
    """
    # An approved quote or contract has no way back to draft in its own state machine,
    # so unapproval (反审核) only unlocks the request; see docs/pipeline-documents.md.
    register_approvable(QUOTE_DOCUMENT, on_approved=_quote_approved, on_closed=_quote_closed)
    register_approvable(
        CONTRACT_DOCUMENT, on_approved=_contract_approved, on_closed=_contract_closed
    )


register_document_hooks()
