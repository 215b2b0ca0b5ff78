"""Quotes and contracts in the tenant's approval flows.

A quote over the discount threshold, or a contract that needs approval, waits in
``in_approval``. When the tenant has one active approval flow for ``"quote"`` or
``"contract"``, submitting the document also submits it to that flow in the same
transaction, with the facts the flow's conditions read: ``amount`` (Money),
``discount`` (Decimal, the effective discount) and ``department`` (the submitter's
department id, when the org chart knows it).

The hooks registered here run inside the flow's deciding transaction: the last
approval approves the quote (or activates the contract); a rejection, return or
withdrawal sends it back to draft, to be revised and submitted again, and so does
unapproving (反审核) an approved one — a quote already converted or declined, or a
contract already ended, cannot be unapproved (the unapproval is refused whole). While the
request is in review no service changes the document
(:func:`~crmkit.rules.approvals.ensure_not_in_review`); once approved its content
stays locked (:func:`~crmkit.rules.approvals.ensure_editable`). Without a flow the manual
:func:`~crmkit.pipeline.services.approve_quote` / ``approve_contract`` apply.

A sales order put on credit hold is a credit-limit override request
(``"credit_override"``): with an active flow for that type the order is submitted
when it is created, with the facts ``amount`` (the order total), ``exposure`` (what
the customer owed before it), ``limit`` and ``department``. The flow's last approval
releases the hold exactly as :func:`~crmkit.pipeline.services.release_credit_hold`
does, in the deciding transaction, with the last approver as ``released_by``. A
rejection, return or withdrawal leaves the order on hold: nothing was delivered, so
the salesperson may cancel it, or, once the customer has paid down, someone allowed
to ``approve`` orders releases it by hand. While the request (or a resubmitted one)
is in review nothing changes the order — cancelling, delivering and releasing all
refuse with ``DocumentLocked`` (withdraw the request first); once approved the
manual release still refuses.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from crmkit.kernel.actor import Actor
from crmkit.pipeline.model.contracts import Contract
from crmkit.pipeline.model.orders import OrderStatus, SalesOrder
from crmkit.pipeline.model.quotes import Quote
from crmkit.ports import UnitOfWork
from crmkit.rules.approvals import (
    ApprovalRequest,
    decided_by,
    submit_if_flow,
)

__all__ = [
    "CONTRACT_DOCUMENT",
    "CREDIT_OVERRIDE_DOCUMENT",
    "QUOTE_DOCUMENT",
    "credit_override_approved",
    "route_contract",
    "route_credit_override",
    "route_quote",
]

QUOTE_DOCUMENT = "quote"
CONTRACT_DOCUMENT = "contract"
CREDIT_OVERRIDE_DOCUMENT = "credit_override"


def _quote_facts(quote: Quote) -> dict[str, Any]:
    totals = quote.totals
    return {"amount": totals.total, "discount": totals.effective_discount.rate}


def _contract_facts(contract: Contract) -> dict[str, Any]:
    return {"amount": contract.amount, "discount": contract.total_discount.rate}


def _override_facts(order: SalesOrder) -> dict[str, Any]:
    values: dict[str, Any] = {"amount": order.total}
    if order.open_receivables is not None:
        values["exposure"] = order.open_receivables
    if order.credit_limit is not None:
        values["limit"] = order.credit_limit
    return values


def _route(
    uow: UnitOfWork,
    actor: Actor,
    now: datetime,
    document_type: str,
    document: Quote | Contract | SalesOrder,
    facts: dict[str, Any],
) -> bool:
    return submit_if_flow(
        uow,
        actor,
        now=now,
        document_type=document_type,
        document_id=document.id,
        title=document.number,
        facts=facts,
    )


def route_quote(uow: UnitOfWork, actor: Actor, quote: Quote, now: datetime) -> bool:
    """Submit a quote already saved ``in_approval`` to the tenant's quote flow, if any.

    Returns:
        Whether a flow took the quote (False: it waits for :func:`approve_quote`).

    Raises:
        NoApprover: a stage of the flow resolves to nobody (nothing is stored).
    """
    return _route(uow, actor, now, QUOTE_DOCUMENT, quote, _quote_facts(quote))


def route_contract(uow: UnitOfWork, actor: Actor, contract: Contract, now: datetime) -> bool:
    """Submit a contract already saved ``in_approval`` to the tenant's contract flow, if any.

    Returns:
        Whether a flow took the contract (False: it waits for ``approve_contract``).

    Raises:
        NoApprover: a stage of the flow resolves to nobody (nothing is stored).
    """
    return _route(uow, actor, now, CONTRACT_DOCUMENT, contract, _contract_facts(contract))


def route_credit_override(uow: UnitOfWork, actor: Actor, order: SalesOrder, now: datetime) -> bool:
    """Submit an order just put on credit hold (and already added) to the tenant's
    ``"credit_override"`` flow, if it has one.

    Facts: ``amount`` (the order total), ``exposure`` (the customer's open receivables
    the credit check counted, without this order), ``limit`` (the credit limit, left out
    when the check reported none) and the submitter's ``department``. A route no stage
    applies to releases the order at once (the hook runs inside this call).

    Returns:
        Whether a flow took the order (False: it waits for ``release_credit_hold``).

    Raises:
        NoApprover: a stage of the flow resolves to nobody (nothing is stored).
    """
    return _route(uow, actor, now, CREDIT_OVERRIDE_DOCUMENT, order, _override_facts(order))


# -- hooks: called by the approval services inside the deciding transaction ------------------


def credit_override_approved(uow: UnitOfWork, request: ApprovalRequest) -> None:
    """Release the order on hold once its ``"credit_override"`` request is approved."""
    order = uow.repository(SalesOrder).find(request.document_id)
    if order is None:
        return  # a host's own "credit_override" document, submitted directly: not ours
    who, _comment, at = decided_by(request)
    release_held_order(uow, order, who, at)


def release_held_order(uow: UnitOfWork, order: SalesOrder, by: uuid.UUID, at: datetime) -> None:
    """Release an order after an approved credit override, if it is still on credit hold.

    An order cancelled (after a withdrawal, or by a host directly) or released by hand
    while the override was decided is never revived. The move is the order's own
    ``release`` transition, the same as :func:`~crmkit.pipeline.services.release_credit_hold`.
    """
    if order.status is not OrderStatus.ON_CREDIT_HOLD:
        return
    event = order.release(by, at)
    uow.repository(SalesOrder).save(order)
    uow.outbox.add(event)
