"""Quotes: priced offers to a customer, revised in versions, converted when accepted.

A rep quotes a customer from a price list (see :mod:`~crmkit.pipeline.model.pricing`):
lines with quantities, line discounts and one total discount. When the discount
goes past the tenant's threshold the quote must be **approved** before it can go
out; within the threshold it is approved on the spot. Customers haggle, so a
quote is **revised**: a revision is a new quote with the next version number,
linked to the one it replaces, which becomes ``superseded`` — only the latest
version of a quote family is ever live. An approved quote the customer accepts
is **converted** ("pushed down") into a contract or a sales order, exactly once;
a quote the customer turns down is ``declined``.

.. code-block:: text

    draft --approve [within threshold]--> approved --convert--> converted
    draft --submit--> in_approval --approve--> approved --decline--> declined
    in_approval --reject--> draft          (draft | in_approval | approved) --supersede--> superseded
    approved --unapprove [反审核 in the approval flow]--> draft

Document numbers come from the tenant's numbering rules
(:mod:`crmkit.rules.numbering`); see :func:`crmkit.pipeline.services.rule_numbers`.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import NewType

import attrs

from crmkit.kernel.entity import Entity
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
from crmkit.pipeline.model.pricing import DiscountRate, LineItem, Totals, check_line_numbers, totals

__all__ = [
    "QUOTE",
    "ConversionKind",
    "Quote",
    "QuoteApproved",
    "QuoteConverted",
    "QuoteCreated",
    "QuoteDeclined",
    "QuoteEvent",
    "QuoteId",
    "QuoteRejected",
    "QuoteStatus",
    "QuoteSubmitted",
    "QuoteSuperseded",
    "QuoteUnapproved",
    "SalesDocumentSettings",
    "approval_reasons",
    "sales_settings_id",
]

QuoteId = NewType("QuoteId", uuid.UUID)
_ENTITY = N_("quote")
_SETTINGS = uuid.UUID("c1d2b6f0-5e0b-4b71-a7a5-3e9f0c8d6a52")


class QuoteStatus(enum.Enum):
    """Where a quote stands (see the module docstring for the moves)."""

    DRAFT = "draft"
    IN_APPROVAL = "in_approval"
    APPROVED = "approved"
    CONVERTED = "converted"
    DECLINED = "declined"
    SUPERSEDED = "superseded"


class ConversionKind(enum.Enum):
    """What an accepted quote became."""

    CONTRACT = "contract"
    SALES_ORDER = "sales_order"


def sales_settings_id(tenant_id: TenantId) -> uuid.UUID:
    """Each tenant has one sales-document settings record with this id."""
    return uuid.uuid5(_SETTINGS, str(tenant_id))


@attrs.define(eq=False)
class SalesDocumentSettings:
    """The tenant's rules for quotes and contracts.

    Attributes:
        discount_threshold: a quote whose effective discount, or any line's discount,
            goes past this rate needs approval.
        contracts_need_approval: contracts go through approval before they take effect.
        notice_days: default days before a contract's end that its renewal notice falls.
    """

    entity_name = N_("sales document settings")

    id: uuid.UUID
    tenant_id: TenantId
    discount_threshold: DiscountRate = attrs.field(factory=lambda: DiscountRate("0.10"))
    contracts_need_approval: bool = True
    notice_days: int = 30
    version: int = 0

    def __attrs_post_init__(self) -> None:
        if self.notice_days < 0:
            raise invalid(
                "sales_document_settings", "notice_days", N_("must be a whole number of at least 0")
            )


def approval_reasons(
    lines: Sequence[LineItem], money: Totals, threshold: DiscountRate
) -> tuple[str, ...]:
    """Why a set of lines needs approval under ``threshold`` (empty: it does not).

    Both the discount of any single line and the effective discount of the whole
    document count: a 30% line hidden in a large quote is still a 30% line.
    """
    found = [
        f"line {line.line_no}: {line.discount} > {threshold}"
        for line in lines
        if line.discount.rate > threshold.rate
    ]
    effective = money.effective_discount
    if effective.rate > threshold.rate:
        found.append(f"total: {effective} > {threshold}")
    return tuple(found)


def _within_threshold(quote: Quote) -> bool:
    return not quote.approval_required


@attrs.define(eq=False)
class Quote(ApprovalDecisions, Entity):
    """One version of a quote.

    Attributes:
        number: the document number, shared by every version of the family.
        revision: 1 for the first version, 2 for the first revision, ...
        root_id: the first version's id (the family); ``previous_id`` the version it revised.
        customer_id, opportunity_id: whom it is for and the deal it belongs to.
        price_list_id: the list it was priced from (None when priced by hand).
        lines, total_discount: what is offered; ``subtotal`` and ``total`` are derived.
        valid_until: the last day the customer may accept it.
        approval_required, approval_reasons: whether (and why) it needs approval.
        converted_kind, converted_id: what it was converted into.
    """

    entity_name = _ENTITY

    id: QuoteId
    tenant_id: TenantId
    number: str
    customer_id: uuid.UUID
    currency: str
    lines: tuple[LineItem, ...]
    valid_until: date
    created_at: datetime
    revision: int = 1
    root_id: uuid.UUID | None = None
    previous_id: uuid.UUID | None = None
    opportunity_id: uuid.UUID | None = None
    price_list_id: uuid.UUID | None = None
    owner_id: UserId | None = None
    total_discount: DiscountRate = attrs.field(factory=DiscountRate.none)
    subtotal: Money | None = None
    total: Money | None = None
    status: QuoteStatus = QuoteStatus.DRAFT
    approval_required: bool = False
    approval_reasons: tuple[str, ...] = ()
    decided_by: uuid.UUID | None = None
    converted_kind: ConversionKind | None = None
    converted_id: uuid.UUID | None = None
    notes: str = ""
    version: int = 0

    def __attrs_post_init__(self) -> None:
        if not self.lines:
            raise invalid(_ENTITY, "lines", N_("a quote needs at least one line"))
        check_line_numbers(_ENTITY, self.lines)
        money = self.totals  # also checks every line is in the quote's currency
        self.subtotal, self.total = money.subtotal, money.total
        if self.root_id is None:
            self.root_id = self.id

    @property
    def approval_document_type(self) -> str:
        """The document type quotes are submitted for approval under."""
        return "quote"

    @property
    def totals(self) -> Totals:
        """Subtotal, total discount and total, computed from the lines."""
        return totals(self.lines, self.total_discount, self.currency)

    def assess(self, threshold: DiscountRate) -> None:
        """Decide whether this quote needs approval under the tenant's ``threshold``."""
        self.approval_reasons = approval_reasons(self.lines, self.totals, threshold)
        self.approval_required = bool(self.approval_reasons)

    def is_expired(self, today: date) -> bool:
        """Whether the customer can no longer accept it."""
        return today > self.valid_until

    def submit(self, now: datetime) -> DomainEvent | None:
        """Send the quote for approval."""
        return QUOTE.fire(self, "submit", now=now, payload={"reasons": self.approval_reasons})

    def approve(self, by: uuid.UUID | None, now: datetime) -> DomainEvent | None:
        """Approve: by the approver when in approval, or at once when within the threshold.

        Raises:
            GuardFailed: a draft that needs approval cannot be approved directly.
        """
        event = QUOTE.fire(self, "approve", now=now, payload={"total": self.total})
        self.decided_by = by
        return event

    def decline(self, why: str, now: datetime) -> DomainEvent | None:
        """The customer turned it down."""
        return QUOTE.fire(self, "decline", now=now, payload={"reason": why})

    def revise(
        self,
        new_id: QuoteId,
        now: datetime,
        *,
        lines: Sequence[LineItem] | None = None,
        total_discount: DiscountRate | None = None,
        valid_until: date | None = None,
        threshold: DiscountRate,
    ) -> tuple[Quote, DomainEvent]:
        """Make the next version (a draft) and supersede this one.

        Returns:
            The new version and the event recording the supersession.

        Raises:
            InvalidTransition: this version is no longer live (converted, declined,
                or already revised).
        """
        event = QUOTE.fire(
            self, "supersede", now=now, payload={"by_id": new_id, "revision": self.revision + 1}
        )
        assert event is not None
        successor = attrs.evolve(
            self,
            id=new_id,
            lines=tuple(lines) if lines is not None else self.lines,
            total_discount=total_discount or self.total_discount,
            valid_until=valid_until or self.valid_until,
            created_at=now,
            revision=self.revision + 1,
            previous_id=self.id,
            status=QuoteStatus.DRAFT,
            decided_by=None,
            version=0,
        )
        successor.assess(threshold)
        return successor, event

    def convert(
        self, kind: ConversionKind, into: uuid.UUID, today: date, now: datetime
    ) -> DomainEvent | None:
        """Record that the accepted quote became a contract or an order.

        Raises:
            ValidationError: the quote expired before it was accepted.
            InvalidTransition: it is not approved (or was converted already).
        """
        if self.is_expired(today):
            raise invalid(
                _ENTITY,
                "valid_until",
                N_("expired on {day}; revise it first"),
                day=self.valid_until,
            )
        event = QUOTE.fire(self, "convert", now=now, payload={"kind": kind.value, "into_id": into})
        self.converted_kind, self.converted_id = kind, into
        return event


@attrs.frozen(kw_only=True)
class QuoteEvent(DomainEvent):
    """Base of the events of a :class:`Quote` (its ``aggregate_id``)."""

    aggregate_type = "quote"


@attrs.frozen(kw_only=True)
class QuoteCreated(QuoteEvent):
    """A quote (or a new version of one) was drawn up."""

    number: str
    revision: int
    total: Money
    approval_required: bool


@attrs.frozen(kw_only=True)
class QuoteSubmitted(QuoteEvent):
    """A quote went to approval."""

    reasons: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class QuoteApproved(QuoteEvent):
    """A quote may go out to the customer."""

    total: Money | None = None


@attrs.frozen(kw_only=True)
class QuoteRejected(QuoteEvent, DocumentRejected):
    """The approver sent a quote back to draft."""


@attrs.frozen(kw_only=True)
class QuoteUnapproved(QuoteEvent, DocumentUnapproved):
    """The approval of a quote was revoked (反审核) by ``by``; it is a draft again."""


@attrs.frozen(kw_only=True)
class QuoteDeclined(QuoteEvent):
    """The customer turned a quote down."""

    reason: str


@attrs.frozen(kw_only=True)
class QuoteSuperseded(QuoteEvent):
    """A newer version (``by_id``) replaced this quote."""

    by_id: uuid.UUID
    revision: int


@attrs.frozen(kw_only=True)
class QuoteConverted(QuoteEvent):
    """An accepted quote became a contract or a sales order."""

    kind: str
    into_id: uuid.UUID


_LIVE = (QuoteStatus.DRAFT, QuoteStatus.IN_APPROVAL, QuoteStatus.APPROVED)

QUOTE: Machine[QuoteStatus] = Machine(
    name="quote",
    states=QuoteStatus,
    initial=QuoteStatus.DRAFT,
    final={QuoteStatus.CONVERTED, QuoteStatus.DECLINED, QuoteStatus.SUPERSEDED},
    state_attr="status",
    transitions=[
        *approval_transitions(
            draft=QuoteStatus.DRAFT,
            in_approval=QuoteStatus.IN_APPROVAL,
            approved=QuoteStatus.APPROVED,
            submitted=QuoteSubmitted,
            approved_event=QuoteApproved,
            rejected=QuoteRejected,
            unapproved=QuoteUnapproved,
        ),
        # Within the discount threshold a draft needs no approver.
        Transition(
            "approve",
            source=QuoteStatus.DRAFT,
            target=QuoteStatus.APPROVED,
            guard=Guard("within discount threshold", _within_threshold),
            event=QuoteApproved,
        ),
        Transition(
            "decline",
            source=QuoteStatus.APPROVED,
            target=QuoteStatus.DECLINED,
            event=QuoteDeclined,
        ),
        Transition(
            "convert",
            source=QuoteStatus.APPROVED,
            target=QuoteStatus.CONVERTED,
            event=QuoteConverted,
        ),
        Transition("supersede", source=_LIVE, target=QuoteStatus.SUPERSEDED, event=QuoteSuperseded),
    ],
)
Quote.approval_machine = QUOTE
