"""Receivable and payable plans: what a customer owes us, and what we owe a supplier.

A signed contract or a confirmed sales order creates a *receivable*: money the
customer will pay, usually not at once but in *installments* on agreed dates
(30% on signing, 60% on delivery, ...). Purchase orders and purchase contracts
create the mirror image, a *payable*, paid to a supplier in installments too. A
:class:`Plan` holds the document it comes from (referenced generically by type and
id, so contracts and orders from the pipeline plug in without billing importing
them) and its total; each :class:`Installment` is its own record with an amount and
a due date, so two clerks can work on different installments at once, and the
aging report and reminders read installments directly.

Every installment shows what has been *paid* (confirmed money allocated to it),
what is *outstanding* (``amount - paid``) and whether it is *overdue* on a given
day. ``paid`` is a cached balance: the ledger's allocation entries are the truth
and :func:`~crmkit.billing.model.ledger.rebuild_balances` recomputes it from them.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any, NewType, TypedDict
from uuid import UUID

import attrs

from crmkit.kernel.entity import Entity
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.invalid import invalid
from crmkit.kernel.limits import to_amount
from crmkit.kernel.money import Money

__all__ = [
    "Direction",
    "DocumentFields",
    "DocumentRef",
    "Installment",
    "InstallmentId",
    "InstallmentStatus",
    "Plan",
    "PlanId",
    "document_fields",
    "plan_id_for",
]

PlanId = NewType("PlanId", UUID)
InstallmentId = NewType("InstallmentId", UUID)

_PLANS = uuid.UUID("6f1d1c3e-2b67-4c1a-8f0e-0c8d3a7b9e41")


class Direction(enum.Enum):
    """Which way the money flows: in from a customer, or out to a supplier."""

    RECEIVABLE = "receivable"
    PAYABLE = "payable"


def _document_total(value: Any) -> Money:
    return to_amount(value, entity="billing plan", field="total")


@attrs.frozen
class DocumentRef:
    """The business document a plan, an invoice or a receipt allocation belongs to.

    Attributes:
        document_type: ``"contract"``, ``"sales_order"``, ``"purchase_order"``, ...
        document_id: the document's id in its own area.
        customer_id: the counterparty (customer for receivables, supplier for payables).
        owner_id: the user responsible for collecting (or paying).
        total: the document total; installments add up to exactly this.
        department_id: the owner's department, for permission scopes and reports.
        number: the document's human-readable number, used in labels and reminders.
    """

    document_type: str
    document_id: UUID
    customer_id: UUID
    owner_id: UserId | None
    total: Money = attrs.field(converter=_document_total)
    department_id: UUID | None = None
    number: str = ""


class DocumentFields(TypedDict):
    """What a plan and each of its installments copy from their document."""

    direction: Direction
    document_type: str
    document_id: UUID
    customer_id: UUID
    owner_id: UserId | None
    department_id: UUID | None


def document_fields(direction: Direction, document: DocumentRef) -> DocumentFields:
    """The fields a plan for ``document`` and each of its installments carry.

    Installments repeat them so aging, scopes and reminders filter installments
    without loading the plan; both constructors unpack this one copy.
    """
    return DocumentFields(
        direction=direction,
        document_type=document.document_type,
        document_id=document.document_id,
        customer_id=document.customer_id,
        owner_id=document.owner_id,
        department_id=document.department_id,
    )


def plan_id_for(tenant_id: TenantId, direction: Direction, document: DocumentRef) -> PlanId:
    """The one plan id of a document: a second plan for it collides instead of doubling it."""
    key = f"{tenant_id}|{direction.value}|{document.document_type}|{document.document_id}"
    return PlanId(uuid.uuid5(_PLANS, key))


@attrs.define(eq=False)
class Plan(Entity):
    """A receivable or payable plan for one document.

    Attributes:
        id: derived from the document (see :func:`plan_id_for`).
        tenant_id: the owning tenant.
        direction: receivable or payable.
        document_type, document_id, customer_id, owner_id, department_id, number:
            copied from the :class:`DocumentRef`.
        total: the document total; the installments add up to it exactly.
        terms_name: the payment terms it was generated from.
        created_at: when the plan was made (UTC).
        version: optimistic-locking counter.
    """

    entity_name = N_("billing plan")

    id: PlanId
    tenant_id: TenantId
    direction: Direction
    document_type: str
    document_id: UUID
    customer_id: UUID
    total: Money
    created_at: datetime
    owner_id: UserId | None = None
    department_id: UUID | None = None
    number: str = ""
    terms_name: str = ""
    version: int = 0


class InstallmentStatus(enum.Enum):
    """Where an installment stands, derived from its paid balance."""

    OPEN = "open"
    PARTIAL = "partial"
    PAID = "paid"


@attrs.define(eq=False)
class Installment(Entity):
    """One installment of a plan: an amount due on a date, and what has been paid.

    Attributes:
        id: the installment's id.
        tenant_id: the owning tenant.
        plan_id: its plan.
        direction, document_type, document_id, customer_id, owner_id, department_id:
            copied from the plan so aging, scopes and reminders read one table.
        seq: 1, 2, 3, ... within the plan (oldest-due-first allocation breaks ties by it).
        label: e.g. ``"HT-001 #1 on signing"``; reminders use it as the title.
        amount: what is due, at the currency's minor unit.
        due_date: when it falls due; ``None`` while its milestone has no date.
        raised_on: the day the plan was made (DSO counts it as a sale of that day).
        milestone, days: the due date is ``days`` after ``milestone`` (from the terms).
        paid: confirmed money allocated to it (cached from the ledger).
        status: open, partial or paid (follows ``paid``).
        version: optimistic-locking counter.
    """

    entity_name = N_("installment")

    id: InstallmentId
    tenant_id: TenantId
    plan_id: PlanId
    direction: Direction
    document_type: str
    document_id: UUID
    customer_id: UUID
    seq: int
    label: str
    amount: Money
    due_date: date | None
    raised_on: date
    owner_id: UserId | None = None
    department_id: UUID | None = None
    milestone: str = "signing"
    days: int = 0
    paid: Money = attrs.field()
    status: InstallmentStatus = InstallmentStatus.OPEN
    version: int = 0

    @paid.default
    def _no_payment(self) -> Money:
        return Money.zero(self.amount.currency)

    @property
    def outstanding(self) -> Money:
        """What is still owed: ``amount - paid``."""
        return self.amount - self.paid

    def is_overdue(self, on: date) -> bool:
        """True when something is still owed and the due date has passed on ``on``."""
        return self.due_date is not None and self.due_date < on and self.outstanding.is_positive

    def days_overdue(self, on: date) -> int:
        """Days past the due date on ``on`` (0 when not due or undated)."""
        if self.due_date is None or self.due_date >= on:
            return 0
        return (on - self.due_date).days

    def apply_payment(self, delta: Money) -> None:
        """Add ``delta`` (negative to take a payment back) to ``paid``.

        Raises:
            ValidationError: ``paid`` would drop below zero or rise above the amount.
        """
        paid = self.paid + delta
        if paid.is_negative or paid > self.amount:
            raise invalid(
                "installment",
                "paid",
                N_("{paid} is outside 0..{amount}"),
                paid=str(paid),
                amount=str(self.amount),
            )
        self.paid = paid
        self.status = _status(paid, self.amount)

    def reschedule(self, due_date: date | None) -> None:
        """Set the due date (when its milestone, e.g. delivery, happens)."""
        self.due_date = due_date


def _status(paid: Money, amount: Money) -> InstallmentStatus:
    if paid.is_zero:
        return InstallmentStatus.OPEN
    return InstallmentStatus.PAID if paid == amount else InstallmentStatus.PARTIAL
