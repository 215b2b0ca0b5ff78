"""Contracts: what was signed, its key dates, and its life from draft to the end.

A contract is a sales contract (we sell), a purchase contract (we buy) or a
service contract (maintenance, support). It carries an amount, terms, the lines
it was agreed on (when it came from a quote) and metadata of its attachments
(the scanned, signed PDF lives in the host's file store; crmkit keeps its name,
type, size and key). Its **key dates** — signing, start, end and the renewal
notice date (``notice_days`` before the end) — are what reminder rules watch:
"remind the owner 30 days before a contract ends".

A contract goes through approval when the tenant requires it, then is
``active`` until it is completed, terminated early (with a reason) or expires
at its end date. **Renewal** creates a new draft contract linked to the old
one (``renewed_from_id`` / ``renewed_by_id``), starting the day after it ends.

.. code-block:: text

    draft --submit--> in_approval --approve--> active --complete--> completed
    draft --sign [no approval needed]--> active --terminate--> terminated
    in_approval --reject--> draft                active --expire [past end]--> expired
    active --unapprove [反审核 in the approval flow]--> draft
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, timedelta
from typing import NewType

import attrs

from crmkit.kernel.entity import Entity
from crmkit.kernel.errors import CurrencyMismatch
from crmkit.kernel.event_origin import origin
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.invalid import invalid
from crmkit.kernel.machine import Guard, Machine, Transition
from crmkit.kernel.money import Money
from crmkit.pipeline.model.documents import (
    ApprovalDecisions,
    DocumentRejected,
    DocumentUnapproved,
    approval_transitions,
)
from crmkit.pipeline.model.pricing import DiscountRate, LineItem, totals

__all__ = [
    "CONTRACT",
    "Attachment",
    "Contract",
    "ContractApproved",
    "ContractClosed",
    "ContractCreated",
    "ContractEvent",
    "ContractId",
    "ContractKind",
    "ContractRejected",
    "ContractRenewed",
    "ContractSigned",
    "ContractStatus",
    "ContractSubmitted",
    "ContractUnapproved",
]

ContractId = NewType("ContractId", uuid.UUID)
_ENTITY = N_("contract")


class ContractKind(enum.Enum):
    """Which way the money flows, or what the contract covers."""

    SALES = "sales"
    PURCHASE = "purchase"
    SERVICE = "service"


class ContractStatus(enum.Enum):
    """Where a contract stands (see the module docstring for the moves)."""

    DRAFT = "draft"
    IN_APPROVAL = "in_approval"
    ACTIVE = "active"
    COMPLETED = "completed"
    TERMINATED = "terminated"
    EXPIRED = "expired"


@attrs.frozen
class Attachment:
    """Metadata of a file attached to a contract; the bytes live in the host's store.

    Attributes:
        name: the file name shown to people.
        media_type: e.g. ``application/pdf``.
        size_bytes: its size.
        storage_key: where the host keeps it (a path, an object-store key).
        added_at, added_by: when and by whom it was attached.
    """

    name: str
    media_type: str
    size_bytes: int
    storage_key: str
    added_at: datetime
    added_by: uuid.UUID | None = None

    def __attrs_post_init__(self) -> None:
        if not self.name.strip() or not self.storage_key.strip():
            raise invalid(
                _ENTITY, "attachments", N_("an attachment needs a name and a storage key")
            )
        if self.size_bytes < 0:
            raise invalid(_ENTITY, "attachments", N_("a file size must not be negative"))


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def _same_term(start: date, end: date, new_start: date) -> date:
    """The end of a term as long as ``start..end`` beginning on ``new_start``.

    A term of whole months (a year, a quarter) stays whole months, so a contract for
    2026-03-01..2027-02-28 renews for 2027-03-01..2028-02-29, not one day short.
    """
    after = end + timedelta(days=1)
    months = (after.year - start.year) * 12 + after.month - start.month
    if months > 0 and _add_months(start, months) == after:
        return _add_months(new_start, months) - timedelta(days=1)
    return new_start + (end - start)


def _needs_no_approval(contract: Contract) -> bool:
    return not contract.approval_required


def _past_end(contract: Contract, *, today: date) -> bool:
    return contract.end_date is not None and today > contract.end_date


@attrs.define(eq=False)
class Contract(ApprovalDecisions, Entity):
    """A contract.

    Attributes:
        number: the document number.
        kind: sales, purchase or service.
        customer_id: the other party (a customer; for purchase contracts, the supplier's record).
        amount: the contract value (the total of ``lines`` when it has lines).
        signed_on, start_date, end_date: key dates; ``end_date`` None for open-ended.
        notice_days: how many days before ``end_date`` the renewal notice falls.
        renewal_notice_on: ``end_date - notice_days`` (stored, so reminder rules can watch it).
        terms, payment_terms: the agreed text.
        lines, total_discount: the priced lines it was agreed on, if any.
        approval_required: whether it must be approved before it takes effect.
        quote_id, opportunity_id: where it came from.
        renewed_from_id, renewed_by_id: the chain of renewals.
        attachments: file metadata.
        closed_on, termination_reason: when and why it ended.
    """

    entity_name = _ENTITY

    id: ContractId
    tenant_id: TenantId
    number: str
    kind: ContractKind
    title: str
    customer_id: uuid.UUID
    amount: Money
    start_date: date
    created_at: datetime
    end_date: date | None = None
    signed_on: date | None = None
    notice_days: int = 30
    renewal_notice_on: date | None = None
    owner_id: UserId | None = None
    terms: str = ""
    payment_terms: str = ""
    lines: tuple[LineItem, ...] = ()
    total_discount: DiscountRate = attrs.field(factory=DiscountRate.none)
    status: ContractStatus = ContractStatus.DRAFT
    approval_required: bool = True
    quote_id: uuid.UUID | None = None
    opportunity_id: uuid.UUID | None = None
    renewed_from_id: uuid.UUID | None = None
    renewed_by_id: uuid.UUID | None = None
    attachments: tuple[Attachment, ...] = ()
    decided_by: uuid.UUID | None = None
    closed_on: date | None = None
    termination_reason: str | None = None
    version: int = 0

    def __attrs_post_init__(self) -> None:
        if not self.title.strip():
            raise invalid(_ENTITY, "title", N_("is required"))
        if self.amount.is_negative:
            raise invalid(_ENTITY, "amount", N_("must not be negative"))
        if self.end_date is not None and self.end_date < self.start_date:
            raise invalid(_ENTITY, "end_date", N_("must not be before start_date"))
        if self.notice_days < 0:
            raise invalid(_ENTITY, "notice_days", N_("must be a whole number of at least 0"))
        if self.lines:
            agreed = totals(self.lines, self.total_discount, self.amount.currency).total
            if agreed != self.amount:
                raise invalid(
                    _ENTITY,
                    "amount",
                    N_("{amount} differs from its lines' total {total}"),
                    amount=self.amount,
                    total=agreed,
                )
        for line in self.lines:
            if line.currency != self.amount.currency:
                raise CurrencyMismatch(left=self.amount.currency, right=line.currency)
        self.renewal_notice_on = (
            None if self.end_date is None else self.end_date - timedelta(days=self.notice_days)
        )

    @property
    def approval_document_type(self) -> str:
        """The document type contracts are submitted for approval under."""
        return "contract"

    def submit(self, now: datetime) -> DomainEvent | None:
        """Send the contract for approval."""
        return CONTRACT.fire(self, "submit", now=now, payload={"amount": self.amount})

    def approve(self, by: uuid.UUID | None, now: datetime) -> DomainEvent | None:
        """The approver lets it take effect; it becomes active."""
        event = CONTRACT.fire(self, "approve", now=now)
        self.decided_by = by
        return event

    def sign(self, signed_on: date, now: datetime) -> DomainEvent | None:
        """Record the signature; a contract that needs no approval becomes active.

        Raises:
            GuardFailed: the contract needs approval first (``submit`` it).
        """
        event = CONTRACT.fire(self, "sign", now=now, payload={"signed_on": signed_on})
        self.signed_on = signed_on
        return event

    def complete(self, today: date, now: datetime) -> DomainEvent | None:
        """Both sides did what they promised."""
        event = CONTRACT.fire(self, "complete", now=now, payload={"outcome": "completed"})
        self.closed_on = today
        return event

    def terminate(self, why: str, today: date, now: datetime) -> DomainEvent | None:
        """End it early, for a reason.

        Raises:
            ValidationError: no reason given.
        """
        if not why.strip():
            raise invalid(_ENTITY, "termination_reason", N_("is required"))
        event = CONTRACT.fire(self, "terminate", now=now, payload={"outcome": "terminated"})
        self.closed_on, self.termination_reason = today, why
        return event

    def expire(self, today: date, now: datetime) -> DomainEvent | None:
        """Its end date passed without it being completed or renewed.

        Raises:
            GuardFailed: the end date has not passed.
        """
        event = CONTRACT.fire(self, "expire", now=now, today=today, payload={"outcome": "expired"})
        self.closed_on = today
        return event

    def renew(
        self,
        new_id: ContractId,
        number: str,
        now: datetime,
        *,
        start_date: date | None = None,
        end_date: date | None = None,
        amount: Money | None = None,
        approval_required: bool = True,
    ) -> tuple[Contract, DomainEvent]:
        """Create the next contract of the chain, as a draft linked to this one.

        By default it starts the day after this one ends and runs as long (a term of
        whole months stays whole months); amount and terms carry over unless given.

        Raises:
            ValidationError: this contract was renewed already, is not yet in force,
                or has no end date and no new dates were given.
        """
        if self.renewed_by_id is not None:
            raise invalid(_ENTITY, "renewed_by_id", N_("was renewed already"))
        if self.status in (ContractStatus.DRAFT, ContractStatus.IN_APPROVAL):
            raise invalid(_ENTITY, "status", N_("only a contract that took effect can be renewed"))
        if start_date is None:
            if self.end_date is None:
                raise invalid(_ENTITY, "end_date", N_("an open-ended contract needs the new dates"))
            start_date = self.end_date + timedelta(days=1)
        if end_date is None and self.end_date is not None:
            end_date = _same_term(self.start_date, self.end_date, start_date)
        new_amount = amount or self.amount
        successor = Contract(
            id=new_id,
            tenant_id=self.tenant_id,
            number=number,
            kind=self.kind,
            title=self.title,
            customer_id=self.customer_id,
            amount=new_amount,
            start_date=start_date,
            end_date=end_date,
            created_at=now,
            notice_days=self.notice_days,
            owner_id=self.owner_id,
            terms=self.terms,
            payment_terms=self.payment_terms,
            # Lines priced for the old term do not bind the new amount.
            lines=self.lines if new_amount == self.amount else (),
            total_discount=self.total_discount
            if new_amount == self.amount
            else DiscountRate.none(),
            approval_required=approval_required,
            opportunity_id=self.opportunity_id,
            renewed_from_id=self.id,
        )
        self.renewed_by_id = new_id
        event = ContractRenewed(
            **origin(self, now),
            renewal_id=new_id,
            start_date=start_date,
            end_date=end_date,
        )
        return successor, event

    def attach(self, attachment: Attachment) -> None:
        """Add a file's metadata (a second file of the same storage key replaces the first)."""
        kept = tuple(a for a in self.attachments if a.storage_key != attachment.storage_key)
        self.attachments = (*kept, attachment)


@attrs.frozen(kw_only=True)
class ContractEvent(DomainEvent):
    """Base of the events of a :class:`Contract` (its ``aggregate_id``)."""

    aggregate_type = "contract"


@attrs.frozen(kw_only=True)
class ContractCreated(ContractEvent):
    """A contract was drawn up."""

    number: str
    kind: str
    amount: Money


@attrs.frozen(kw_only=True)
class ContractSubmitted(ContractEvent):
    """A contract went to approval."""

    amount: Money


@attrs.frozen(kw_only=True)
class ContractApproved(ContractEvent):
    """A contract was approved and took effect."""


@attrs.frozen(kw_only=True)
class ContractRejected(ContractEvent, DocumentRejected):
    """The approver sent a contract back to draft."""


@attrs.frozen(kw_only=True)
class ContractUnapproved(ContractEvent, DocumentUnapproved):
    """The approval of a contract was revoked (反审核) by ``by``; it is a draft again."""


@attrs.frozen(kw_only=True)
class ContractSigned(ContractEvent):
    """A contract that needed no approval was signed and took effect."""

    signed_on: date


@attrs.frozen(kw_only=True)
class ContractClosed(ContractEvent):
    """A contract ended: ``completed``, ``terminated`` or ``expired``."""

    outcome: str


@attrs.frozen(kw_only=True)
class ContractRenewed(ContractEvent):
    """A contract was renewed by a new one."""

    renewal_id: uuid.UUID
    start_date: date
    end_date: date | None = None


CONTRACT: Machine[ContractStatus] = Machine(
    name="contract",
    states=ContractStatus,
    initial=ContractStatus.DRAFT,
    final={ContractStatus.COMPLETED, ContractStatus.TERMINATED, ContractStatus.EXPIRED},
    state_attr="status",
    transitions=[
        *approval_transitions(
            draft=ContractStatus.DRAFT,
            in_approval=ContractStatus.IN_APPROVAL,
            approved=ContractStatus.ACTIVE,
            submitted=ContractSubmitted,
            approved_event=ContractApproved,
            rejected=ContractRejected,
            unapproved=ContractUnapproved,
        ),
        Transition(
            "sign",
            source=ContractStatus.DRAFT,
            target=ContractStatus.ACTIVE,
            guard=Guard("needs no approval", _needs_no_approval),
            event=ContractSigned,
        ),
        Transition(
            "complete",
            source=ContractStatus.ACTIVE,
            target=ContractStatus.COMPLETED,
            event=ContractClosed,
        ),
        Transition(
            "terminate",
            source=ContractStatus.ACTIVE,
            target=ContractStatus.TERMINATED,
            event=ContractClosed,
        ),
        Transition(
            "expire",
            source=ContractStatus.ACTIVE,
            target=ContractStatus.EXPIRED,
            guard=Guard("past its end date", _past_end),
            event=ContractClosed,
        ),
    ],
)
Contract.approval_machine = CONTRACT
