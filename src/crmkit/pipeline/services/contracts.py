"""Contract use cases: drawn up directly or from a quote, approved or signed, then
completed, terminated, expired or renewed.

Every function is one transaction. By default every contract carries
``approval_required`` (the tenant may turn it off with
:func:`~crmkit.pipeline.services.configure_sales_documents`): submitting one enters
the tenant's approval flow when it has one, else :func:`approve_contract` records the
decision; a contract that needs no approval takes effect when it is signed.
"""

from __future__ import annotations

import functools
import uuid
from datetime import date, datetime
from typing import Any

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.event_origin import origin
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.ids import TenantId
from crmkit.kernel.limits import to_amount, to_member
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Query
from crmkit.pipeline.model.contracts import (
    Attachment,
    Contract,
    ContractCreated,
    ContractId,
    ContractKind,
    ContractStatus,
)
from crmkit.pipeline.model.resources import CONTRACTS
from crmkit.pipeline.services.approvals import (
    CONTRACT_DOCUMENT,
    route_contract,
)
from crmkit.pipeline.services.documents import (
    DocumentNumbers,
    act_on,
    allow,
    approve_by_hand,
    customer_and_deal,
    document_settings,
    load_for_change,
    record_on_deal,
    reject_by_hand,
    rule_numbers,
    submit_to_flow,
)
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import guarded

__all__ = [
    "approve_contract",
    "attach_to_contract",
    "complete_contract",
    "create_contract",
    "expire_contracts",
    "reject_contract",
    "renew_contract",
    "sign_contract",
    "submit_contract",
    "terminate_contract",
]


def new_contract(
    uow: UnitOfWork,
    crm: Crm,
    actor: Actor,
    now: datetime,
    numbers: DocumentNumbers,
    contract_id: uuid.UUID | None = None,
    **fields: Any,
) -> Contract:
    settings = document_settings(uow)
    fields.setdefault("notice_days", settings.notice_days)
    fields.setdefault("owner_id", actor.user_id)
    contract = Contract(
        id=ContractId(contract_id or crm.new_id()),
        tenant_id=actor.tenant_id,
        number=numbers(uow, "contract", now),
        created_at=now,
        approval_required=settings.contracts_need_approval,
        **fields,
    )
    allow(uow, actor, "create", CONTRACTS, contract)
    uow.repository(Contract).add(contract)
    uow.outbox.add(_created(contract, now))
    return contract


def _created(contract: Contract, now: datetime) -> ContractCreated:
    return ContractCreated(
        **origin(contract, now),
        number=contract.number,
        kind=contract.kind.value,
        amount=contract.amount,
    )


def create_contract(
    crm: Crm,
    actor: Actor,
    *,
    kind: ContractKind,
    title: str,
    customer_id: uuid.UUID,
    amount: Money,
    start_date: date,
    end_date: date | None = None,
    signed_on: date | None = None,
    terms: str = "",
    payment_terms: str = "",
    notice_days: int | None = None,
    opportunity_id: uuid.UUID | None = None,
    numbers: DocumentNumbers = rule_numbers,
) -> Contract:
    """Draw up a contract directly (a purchase or service contract, or a sale without a quote).

    Raises:
        NotFound: no such customer or opportunity.
        PermissionDenied: the actor may not create contracts, view the customer or edit
            the deal.
        ValidationError: a missing title, a negative amount, inconsistent dates, or the
            opportunity is another customer's.
    """
    kind = to_member(ContractKind, kind, entity="contract", field="kind")
    amount = to_amount(amount, entity="contract", field="amount")

    def work(uow: UnitOfWork) -> Contract:
        allow(uow, actor, "create", CONTRACTS)
        customer_and_deal(uow, actor, customer_id, opportunity_id, "contract")
        extra: dict[str, Any] = {} if notice_days is None else {"notice_days": notice_days}
        contract = new_contract(
            uow,
            crm,
            actor,
            crm.now(),
            numbers,
            kind=kind,
            title=title,
            customer_id=customer_id,
            amount=amount,
            start_date=start_date,
            end_date=end_date,
            signed_on=signed_on,
            terms=terms,
            payment_terms=payment_terms,
            opportunity_id=opportunity_id,
            **extra,
        )
        record_on_deal(uow, opportunity_id, "contract")
        return contract

    return guarded(crm, actor, work)


_on_contract = functools.partial(act_on, Contract, CONTRACTS)


def submit_contract(crm: Crm, actor: Actor, contract_id: uuid.UUID) -> Contract:
    """Send a draft contract for approval.

    With an active ``"contract"`` approval flow the contract enters it in the same
    transaction (see :mod:`crmkit.pipeline.services.approvals`); otherwise it waits for
    :func:`approve_contract`.

    Raises:
        DocumentLocked: an approval flow is deciding the contract (nothing changes).
        InvalidTransition: the contract is not a draft.
        NoApprover: the flow's stage resolves to nobody (the contract stays a draft).
    """

    def work(uow: UnitOfWork) -> Contract:
        contract = load_for_change(uow, actor, Contract, CONTRACTS, contract_id)
        return submit_to_flow(uow, actor, contract, route_contract, crm.now())

    return guarded(crm, actor, work)


def approve_contract(
    crm: Crm, approver: Actor, contract_id: uuid.UUID, *, signed_on: date | None = None
) -> Contract:
    """The approver lets the contract take effect (it becomes active).

    Raises:
        DocumentLocked: an approval flow is deciding the contract.
        SelfApprovalForbidden: the approver owns the contract and the tenant does not
            allow self-approval.
    """

    def approve(uow: UnitOfWork, contract: Contract, now: datetime) -> DomainEvent | None:
        event = approve_by_hand(uow, approver, CONTRACT_DOCUMENT, CONTRACTS, contract, now)
        if signed_on is not None:
            contract.signed_on = signed_on
        return event

    return _on_contract(crm, approver, contract_id, approve, "approve")


def reject_contract(crm: Crm, approver: Actor, contract_id: uuid.UUID, why: str) -> Contract:
    """The approver sends the contract back to draft.

    Raises:
        DocumentLocked: an approval flow is deciding the contract.
    """
    return reject_by_hand(Contract, CONTRACTS, CONTRACT_DOCUMENT, crm, approver, contract_id, why)


def sign_contract(
    crm: Crm, actor: Actor, contract_id: uuid.UUID, *, signed_on: date | None = None
) -> Contract:
    """Record the signature of a contract that needs no approval; it becomes active.

    Raises:
        DocumentLocked: an approval flow is deciding the contract (nothing changes).
    """
    return _on_contract(
        crm, actor, contract_id, lambda _u, c, now: c.sign(signed_on or now.date(), now)
    )


def complete_contract(crm: Crm, actor: Actor, contract_id: uuid.UUID) -> Contract:
    """Close an active contract as fulfilled.

    Raises:
        DocumentLocked: an approval flow is deciding the contract (nothing changes).
    """
    return _on_contract(crm, actor, contract_id, lambda _u, c, now: c.complete(now.date(), now))


def terminate_contract(crm: Crm, actor: Actor, contract_id: uuid.UUID, why: str) -> Contract:
    """End an active contract early, for a reason.

    Raises:
        DocumentLocked: an approval flow is deciding the contract (nothing changes).
    """
    return _on_contract(
        crm, actor, contract_id, lambda _u, c, now: c.terminate(why, now.date(), now)
    )


def attach_to_contract(
    crm: Crm,
    actor: Actor,
    contract_id: uuid.UUID,
    *,
    name: str,
    media_type: str,
    size_bytes: int,
    storage_key: str,
) -> Contract:
    """Record a file attached to a contract (its bytes stay in the host's file store).

    Raises:
        DocumentLocked: an approval flow is deciding the contract (nothing changes).
    """

    def attach(_uow: UnitOfWork, contract: Contract, now: datetime) -> None:
        contract.attach(Attachment(name, media_type, size_bytes, storage_key, now, actor.user_id))

    return _on_contract(crm, actor, contract_id, attach)


def expire_contracts(crm: Crm, tenant_id: TenantId, *, today: date | None = None) -> list[Contract]:
    """Mark active contracts whose end date has passed as expired (a daily job).

    Returns:
        The contracts this call expired.
    """

    def work(uow: UnitOfWork) -> list[Contract]:
        now = crm.now()
        day = today or now.date()
        repo = uow.repository(Contract)
        ended = F("status").eq(ContractStatus.ACTIVE) & F("end_date").lt(day)
        expired = []
        for contract in repo.query(Query(where=ended)):
            event = contract.expire(day, now)
            repo.save(contract)
            uow.outbox.add(event)
            expired.append(contract)
        return expired

    return crm.run(tenant_id, work)


def renew_contract(
    crm: Crm,
    actor: Actor,
    contract_id: uuid.UUID,
    *,
    start_date: date | None = None,
    end_date: date | None = None,
    amount: Money | None = None,
    numbers: DocumentNumbers = rule_numbers,
) -> Contract:
    """Create the renewal of a contract: a new draft linked to it, starting when it ends.

    Raises:
        DocumentLocked: an approval flow is deciding the contract (nothing changes).
        PermissionDenied: the actor may not create a contract for this customer.
        ValidationError: the contract was renewed already or never took effect.
        ConcurrencyConflict: someone renewed or changed it at the same moment.
    """

    def work(uow: UnitOfWork) -> Contract:
        now = crm.now()
        repo = uow.repository(Contract)
        old = load_for_change(uow, actor, Contract, CONTRACTS, contract_id)
        new, event = old.renew(
            ContractId(crm.new_id()),
            numbers(uow, "contract", now),
            now,
            start_date=start_date,
            end_date=end_date,
            amount=amount,
            approval_required=document_settings(uow).contracts_need_approval,
        )
        # The renewal is a new contract: the right to edit the old one is not enough.
        allow(uow, actor, "create", CONTRACTS, new)
        repo.save(old)
        repo.add(new)
        uow.outbox.add(event, _created(new, now))
        return new

    return guarded(crm, actor, work)
