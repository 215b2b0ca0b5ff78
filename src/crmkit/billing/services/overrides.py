"""Credit overrides asked for again after a refusal.

An order over its customer's credit limit waits on credit hold and goes to the
tenant's ``"credit_override"`` approval flow. When the flow rejects (or returns, or
the request is withdrawn), the order stays on hold; the salesperson may then ask
again — perhaps for less credit because the customer agreed to prepay part, perhaps
with a better reason. :func:`resubmit_credit_override` records that new request as a
:class:`~crmkit.billing.model.credit.CreditOverride`, linked to the request it
follows, and submits it to the same flow under the document type
``"credit_override_resubmission"``, with fresh credit figures. The flow's last
approval releases the order (see :mod:`crmkit.billing.services.approvals`); a refusal leaves
it on hold, to be asked again or cancelled.
"""

from __future__ import annotations

from uuid import UUID

from crmkit.billing.model.credit import (
    CreditDocuments,
    CreditOverride,
    CreditOverrideId,
    credit_documents,
)
from crmkit.billing.services.approvals import CREDIT_RESUBMISSION_DOCUMENT, override_facts
from crmkit.billing.services.credit import credit_decision
from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import PermissionDenied
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.limits import to_amount
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Order, Query
from crmkit.ports import UnitOfWork
from crmkit.rules.approvals import (
    ApprovalRequest,
    DocumentLocked,
    RequestStatus,
    active_flow,
    approval_of,
    submit_in,
)
from crmkit.rules.permissions import grants_for, guarded
from crmkit.rules.permissions.access import load_named
from crmkit.rules.permissions.directory import OrgDirectory

__all__ = [
    "CREDIT_OVERRIDE_DOCUMENT",
    "credit_overrides",
    "ensure_override_editable",
    "resubmission_requests",
    "resubmit_credit_override",
]

CREDIT_OVERRIDE_DOCUMENT = "credit_override"
"""The document type of a held order's first override request (and of the flow)."""

CREDIT_OVERRIDE = "credit_override"
"""The permission resource of resubmitted overrides (owned by who asked; see
:mod:`crmkit.billing.registrations`)."""

_CLOSED = (RequestStatus.REJECTED, RequestStatus.RETURNED, RequestStatus.WITHDRAWN)


def _history(uow: UnitOfWork, document_id: UUID) -> list[CreditOverride]:
    query = Query(where=F("document_id").eq(document_id), order_by=(Order("round"),))
    return uow.repository(CreditOverride).query(query)


def _latest_request(
    uow: UnitOfWork, document_id: UUID, history: list[CreditOverride]
) -> ApprovalRequest | None:
    if history:
        return approval_of(uow, CREDIT_RESUBMISSION_DOCUMENT, history[-1].id)
    return approval_of(uow, CREDIT_OVERRIDE_DOCUMENT, document_id)


def resubmission_requests(uow: UnitOfWork, document_id: UUID) -> list[tuple[str, UUID]]:
    """The latest resubmitted override of a held document, as a ``(type, id)`` request
    reference (empty when none was resubmitted): while it is in review, the held
    document is as locked as under its first override request."""
    history = _history(uow, document_id)
    return [(CREDIT_RESUBMISSION_DOCUMENT, history[-1].id)] if history else []


def ensure_override_editable(uow: UnitOfWork, document_id: UUID) -> None:
    """Refuse a manual release while a resubmitted override is in review (or approved).

    Raises:
        DocumentLocked: the latest resubmission's request is in review or approved.
    """
    history = _history(uow, document_id)
    if not history:
        return
    request = approval_of(uow, CREDIT_RESUBMISSION_DOCUMENT, history[-1].id)
    if request is not None and request.is_locked:
        raise DocumentLocked(
            document_type=CREDIT_RESUBMISSION_DOCUMENT,
            document_id=history[-1].id,
            status=request.status.value,
        )


def _source(document_type: str) -> CreditDocuments:
    for source in credit_documents():
        if source.document_type == document_type:
            return source
    raise invalid(
        "credit override",
        "document_type",
        N_("no area holds {document_type} documents on credit"),
        document_type=document_type,
    )


def resubmit_credit_override(
    crm: Crm,
    actor: Actor,
    document_id: UUID,
    *,
    reason: str,
    amount: Money | None = None,
    document_type: str = "sales_order",
) -> CreditOverride:
    """Ask again for a credit override the approval flow refused.

    Args:
        document_id: the order on credit hold.
        reason: why it should be approved this time (required; shown to approvers).
        amount: the credit asked for, at most the order total (default: the total).
        document_type: the held document's type (sales orders by default).

    Returns:
        The new request, linked to the one it follows (``previous_request_id``).

    Raises:
        ValidationError: the document is not on credit hold, no override was ever
            requested for it, the tenant has no active ``"credit_override"`` flow,
            the reason is blank or the amount is not in (0, order total].
        DocumentLocked: the previous request is still in review, or was approved.
        PermissionDenied: the actor neither submitted the previous request nor owns
            the document.
        NoApprover: a stage of the flow resolves to nobody (nothing is stored).
    """
    amount = None if amount is None else to_amount(amount, entity="credit override", field="amount")
    if not reason.strip():
        raise invalid("credit override", "reason", N_("say why it should be approved now"))

    def work(uow: UnitOfWork) -> CreditOverride:
        now = crm.now()
        # Permission first: whether a stranger's document is on hold is not theirs to learn.
        load_named(uow, grants_for(uow, actor), document_type, document_id, "view")
        source = _source(document_type)
        held = source.held(uow, document_id)
        if held is None:
            raise invalid("credit override", "document_id", N_("the document is not on hold"))
        history = _history(uow, document_id)
        previous = _latest_request(uow, document_id, history)
        if previous is None:
            raise invalid(
                "credit override", "document_id", N_("no credit override was requested for it")
            )
        if previous.status not in _CLOSED:
            raise DocumentLocked(
                document_type=previous.document_type,
                document_id=previous.document_id,
                status=previous.status.value,
            )
        if actor.user_id not in (previous.submitter_id, held.owner_id):
            raise PermissionDenied(
                actor=actor.name, operation="resubmit", resource=CREDIT_OVERRIDE_DOCUMENT
            )
        flow = active_flow(uow, CREDIT_OVERRIDE_DOCUMENT)
        if flow is None:
            raise invalid(
                "credit override",
                "document_id",
                N_("there is no active credit-override flow: release the order by hand"),
            )
        asked = held.amount if amount is None else amount
        if asked.currency != held.amount.currency or not asked.is_positive or asked > held.amount:
            raise invalid(
                "credit override",
                "amount",
                N_("must be above zero and at most {total}"),
                total=held.amount,
            )
        decision = credit_decision(uow, held.customer_id, held.amount, on=now.date())
        override = CreditOverride(
            id=CreditOverrideId(crm.ids.new(now)),
            tenant_id=actor.tenant_id,
            document_type=document_type,
            document_id=document_id,
            customer_id=held.customer_id,
            round=(history[-1].round if history else 1) + 1,
            amount=asked,
            reason=reason,
            exposure=decision.exposure,
            limit=decision.limit,
            previous_request_id=previous.id,
            requested_at=now,
            requested_by=actor.user_id,
        )
        uow.repository(CreditOverride).add(override)
        directory = OrgDirectory(uow)
        facts = override_facts(uow, override)
        department = directory.department_of(actor.tenant_id, actor.user_id)
        if department is not None:
            facts["department"] = department
        submit_in(
            uow,
            actor,
            now=now,
            document_type=CREDIT_RESUBMISSION_DOCUMENT,
            document_id=override.id,
            title=f"{held.number} #{override.round}" if held.number else str(asked),
            facts=facts,
            flow=flow,
            directory=directory,
            comment=reason,
        )
        return override

    return guarded(crm, actor, work)


def credit_overrides(crm: Crm, actor: Actor, document_id: UUID) -> list[CreditOverride]:
    """The resubmitted override requests of a held document, oldest first.

    Each one's approval request is ``approval_of(uow, "credit_override_resubmission",
    override.id)``; the first request is the document's own ``"credit_override"`` one.
    The actor sees the requests their ``credit_override`` view scope allows (their own
    by default).
    """

    def work(uow: UnitOfWork) -> list[CreditOverride]:
        visible = grants_for(uow, actor).scope("view", CREDIT_OVERRIDE)
        query = Query(where=F("document_id").eq(document_id) & visible, order_by=(Order("round"),))
        return uow.repository(CreditOverride).query(query)

    return guarded(crm, actor, work)
