"""The frame every money command runs in: ledger head lock, idempotency, entries."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from crmkit.billing.model.ledger import (
    EntryDraft,
    EntryKind,
    IdempotencyRecord,
    LedgerEntry,
    LedgerEntryId,
    LedgerHead,
    chain,
    idempotency_id,
    payload_hash,
)
from crmkit.billing.model.receipts import (
    Receipt,
)
from crmkit.billing.queries import LedgerHeads
from crmkit.crm import Crm
from crmkit.customers.model import Customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import (
    IdempotencyConflict,
    NotFound,
)
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.money import Money
from crmkit.ports import UnitOfWork, queries
from crmkit.rules.permissions import grants_for, guarded
from crmkit.rules.permissions.model import Grants

R = TypeVar("R")

# The billing resources grants name (registered, with their operations, by
# crmkit.billing.registrations).
PLAN = "billing_plan"
INSTALLMENT = "installment"
RECEIPT = "receipt"
REFUND = "refund"
INVOICE = "invoice"
EXPENSE_CLAIM = "expense_claim"
CUSTOMER = "customer"  # registered by the customers area


def _require(
    uow: UnitOfWork, actor: Actor, operation: str, resource: str, record: Any = None
) -> Grants:
    """Check the actor may do ``operation`` on ``resource`` (on ``record`` when given).

    Raises:
        PermissionDenied: with the decision saying why.
    """
    grants = grants_for(uow, actor)
    if record is None:
        grants.require_operation(operation, resource)
    else:
        grants.require(operation, record, resource)
    return grants


def _viewable_customer(
    uow: UnitOfWork, grants: Grants, customer_id: UUID, operation: str = "view"
) -> Customer:
    """The live customer ``customer_id``, after checking the actor may ``operation`` it.

    Money commands and reads that name a customer go through here, so a receipt, a
    credit figure or a plan never attaches to (or tells about) a customer the actor
    cannot see.

    Raises:
        NotFound: no such customer, or it is in the recycle bin.
        PermissionDenied: the actor may not ``operation`` the customer.
    """
    customer = uow.repository(Customer).get(customer_id)
    if customer.deleted_at is not None:
        raise NotFound(entity="customer", id=customer_id)
    grants.require(operation, customer, CUSTOMER)
    return customer


Post = Callable[[Sequence[EntryDraft]], list[LedgerEntry]]


# -- the money-command frame -----------------------------------------------------------------


def _money_command(
    crm: Crm,
    actor: Actor,
    command: str,
    key: str,
    payload: Mapping[str, Any],
    body: Callable[[UnitOfWork, Post], tuple[R, Sequence[UUID]]],
    replay: Callable[[UnitOfWork, tuple[UUID, ...]], R],
    *,
    access: tuple[str, str],
) -> R:
    """Run a money command once per idempotency key, appending its ledger entries.

    ``access`` is the (operation, resource) the actor must hold at all; bodies check
    the records they load. Refusals are written to the permissions' audit log.
    """
    if not isinstance(key, str):
        raise invalid(command, "idempotency_key", N_("must be text"))
    if not key or not key.strip():
        raise invalid(command, "idempotency_key", N_("is required"))
    digest = payload_hash(payload)

    def work(uow: UnitOfWork) -> R:
        now = crm.now()
        _require(uow, actor, *access)
        head = queries(uow, LedgerHeads).lock()
        records = uow.repository(IdempotencyRecord)
        record_id = idempotency_id(actor.tenant_id, command, key, actor.user_id)
        found = records.find(record_id)
        if found is not None:
            if found.payload_hash != digest:
                raise IdempotencyConflict(key=key)
            return replay(uow, found.result_ids)
        start = head.seq

        def post(drafts: Sequence[EntryDraft]) -> list[LedgerEntry]:
            entries = chain(
                head,
                drafts,
                now=now,
                command=command,
                idempotency_key=key,
                actor_id=actor.user_id,
            )
            uow.repository(LedgerEntry).add_many(entries)
            return entries

        result, result_ids = body(uow, post)
        if head.seq != start:
            uow.repository(LedgerHead).save(head)
        records.add(
            IdempotencyRecord(
                id=record_id,
                tenant_id=actor.tenant_id,
                command=command,
                key=key,
                payload_hash=digest,
                created_at=now,
                result_ids=result_ids,
            )
        )
        return result

    return guarded(crm, actor, work)


def _entries_by_id(uow: UnitOfWork, ids: tuple[UUID, ...]) -> list[LedgerEntry]:
    found: dict[UUID, LedgerEntry] = {e.id: e for e in uow.repository(LedgerEntry).get_many(ids)}
    return [found[i] for i in ids if i in found]


def _draft(
    kind: EntryKind,
    amount: Money,
    on: date,
    receipt: Receipt,
    *,
    entry_id: UUID,
    installment_id: UUID | None = None,
    refund_id: UUID | None = None,
    reverses: UUID | None = None,
) -> EntryDraft:
    return EntryDraft(
        id=LedgerEntryId(entry_id),
        kind=kind,
        amount=amount,
        posted_on=on,
        customer_id=receipt.customer_id,
        receipt_id=receipt.id,
        installment_id=installment_id,
        refund_id=refund_id,
        reverses=reverses,
    )


def _replay_receipt(uow: UnitOfWork, ids: tuple[UUID, ...]) -> Receipt:
    return uow.repository(Receipt).get(ids[0])
