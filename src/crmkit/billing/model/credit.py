"""Credit limits: how much a customer may owe us before a new order needs an approval.

A customer's **credit exposure** is what the company stands to lose if the customer
stopped paying today, counted in the currency of its credit limit:

.. code-block:: text

    exposure = open receivables        (outstanding receivable installments)
             + unbilled orders         (confirmed orders no receivable plan covers yet)
             - unapplied credit        (confirmed money received and not yet allocated)

A new order fits when ``exposure + order amount <= credit limit``; otherwise it
needs an approval (a credit override). Amounts in other currencies are converted
at the rate in effect on the day of the check; an amount whose rate is unknown
cannot be judged, so the decision then asks for an approval rather than guess.

Billing owns this one rule, but the documents that create exposure before they are
billed (sales orders) live in areas that build on billing. Those areas register a
:class:`CreditDocuments` source here (:func:`register_credit_documents`), the same
way areas register approval hooks: billing asks every source for its unbilled
documents, and for a held document when a credit override is resubmitted, without
ever importing the area.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import NewType, Protocol
from uuid import UUID

import attrs

from crmkit.kernel.entity import Entity
from crmkit.kernel.errors import RateNotFound
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.money import Money
from crmkit.kernel.rates import ExchangeRates
from crmkit.ports import UnitOfWork

__all__ = [
    "CreditCheck",
    "CreditDecision",
    "CreditDocuments",
    "CreditOverride",
    "CreditOverrideId",
    "HeldDocument",
    "UnbilledDocument",
    "convert_all",
    "credit_documents",
    "decide_credit",
    "register_credit_documents",
]

CreditOverrideId = NewType("CreditOverrideId", UUID)


@attrs.frozen(kw_only=True)
class CreditDecision:
    """The answer of the credit-limit check for one customer and one new amount.

    Every figure is in the limit's currency (the amount's own currency when the
    customer has no limit).

    Attributes:
        allowed: the amount fits under the limit (or the customer has none).
        amount: the new order's amount, converted to the limit's currency.
        limit: the customer's credit limit (``None``: unlimited).
        open_receivables: outstanding receivable installments.
        unbilled_orders: confirmed orders no receivable plan covers yet.
        unapplied_credit: confirmed money received and not yet allocated.
        complete: the figures are the whole exposure (False: :func:`check_credit`
            left out what lies outside the caller's permission scope; ``allowed``
            still counts everything).
        unconverted: currencies of amounts that could not be converted (no rate on
            file): they make ``allowed`` False.
    """

    allowed: bool
    amount: Money
    limit: Money | None
    open_receivables: Money
    unbilled_orders: Money = attrs.field()
    unapplied_credit: Money = attrs.field()
    complete: bool = True
    unconverted: tuple[str, ...] = ()

    @unbilled_orders.default
    def _no_unbilled(self) -> Money:
        return Money.zero(self.open_receivables.currency)

    @unapplied_credit.default
    def _no_credit(self) -> Money:
        return Money.zero(self.open_receivables.currency)

    @property
    def exposure(self) -> Money:
        """Receivables plus unbilled orders minus unapplied credit, before this amount."""
        return self.open_receivables + self.unbilled_orders - self.unapplied_credit

    @property
    def approval_required(self) -> bool:
        """True when the order may only be confirmed with an approval."""
        return not self.allowed


def decide_credit(
    *,
    limit: Money | None,
    amount: Money,
    open_receivables: Money,
    unbilled_orders: Money | None = None,
    unapplied_credit: Money | None = None,
    unconverted: Iterable[str] = (),
) -> CreditDecision:
    """The credit rule itself, on figures already in the limit's currency.

    Raises:
        CurrencyMismatch: a figure is in another currency than the limit.
    """
    currency = open_receivables.currency
    unbilled = unbilled_orders if unbilled_orders is not None else Money.zero(currency)
    credit = unapplied_credit if unapplied_credit is not None else Money.zero(currency)
    missing = tuple(sorted(set(unconverted)))
    exposure = open_receivables + unbilled - credit
    allowed = limit is None or (not missing and exposure + amount <= limit)
    return CreditDecision(
        allowed=allowed,
        amount=amount,
        limit=limit,
        open_receivables=open_receivables,
        unbilled_orders=unbilled,
        unapplied_credit=credit,
        unconverted=missing,
    )


class CreditCheck(Protocol):
    """Port the order confirmation calls before confirming an order.

    It runs inside the order's own unit of work (bound to the tenant), so the figures
    it reads are consistent with the order being written.
    """

    def check(self, uow: UnitOfWork, customer_id: UUID, amount: Money, on: date) -> CreditDecision:
        """Decide on ``amount`` more for ``customer_id`` on day ``on``."""
        ...


@attrs.frozen
class UnbilledDocument:
    """A document that commits the customer to pay but has no receivable plan yet.

    Attributes:
        document_type, document_id: what it is, as a receivable plan would name it.
        amount: what the customer will owe for it.
        on: the day it was confirmed (its exchange rate date is the check's day).
    """

    document_type: str
    document_id: UUID
    amount: Money
    on: date | None = None


@attrs.frozen
class HeldDocument:
    """A document waiting for a credit override.

    Attributes:
        document_type, document_id: the held document.
        customer_id: whose credit it is over.
        amount: the document's total.
        number: its number, for the approval's title.
        owner_id: the salesperson responsible for it.
    """

    document_type: str
    document_id: UUID
    customer_id: UUID
    amount: Money
    number: str = ""
    owner_id: UUID | None = None


class CreditDocuments(Protocol):
    """What an area that builds on billing tells the credit rule about its documents."""

    @property
    def document_type(self) -> str:
        """The type name its documents carry on receivable plans (``"sales_order"``)."""
        ...

    def unbilled(self, uow: UnitOfWork, customer_id: UUID) -> list[UnbilledDocument]:
        """The customer's confirmed documents (plan or no plan: billing filters)."""
        ...

    def held(self, uow: UnitOfWork, document_id: UUID) -> HeldDocument | None:
        """The document if it waits on credit hold, else None."""
        ...

    def release(self, uow: UnitOfWork, document_id: UUID, by: UUID, at: datetime) -> None:
        """Release the held document after an approved credit override."""
        ...


_SOURCES: dict[str, CreditDocuments] = {}


def register_credit_documents(source: CreditDocuments) -> None:
    """Register (or replace) the credit source of one document type."""
    _SOURCES[source.document_type] = source


def credit_documents() -> list[CreditDocuments]:
    """Every registered credit source."""
    return list(_SOURCES.values())


@attrs.define(eq=False)
class CreditOverride(Entity):
    """A resubmitted credit-override request for a document on credit hold.

    The first request for a held order is the order's own approval request; after it
    is rejected (or returned, or withdrawn) the salesperson may ask again, with a new
    amount or reason. Each new request is one :class:`CreditOverride`, its own
    approval request, linked to the one it follows.

    Attributes:
        document_type, document_id: the held document.
        customer_id: whose credit limit it is over.
        round: 2 for the first resubmission, 3 for the next, ...
        amount: the credit asked for (the document's total unless the salesperson
            asked for less, e.g. after a partial prepayment was agreed).
        reason: why it should be approved this time.
        exposure, limit: the credit figures when it was resubmitted.
        previous_request_id: the approval request it follows (rejected or closed).
        requested_by: the salesperson.
    """

    entity_name = N_("credit override")

    id: CreditOverrideId
    tenant_id: TenantId
    document_type: str
    document_id: UUID
    customer_id: UUID
    round: int
    amount: Money
    reason: str
    exposure: Money
    previous_request_id: UUID
    requested_at: datetime
    requested_by: UserId | None = None
    limit: Money | None = None
    version: int = 0


def convert_all(
    amounts: Iterable[Money], to: str, rates: ExchangeRates | None, on: date
) -> tuple[Money, tuple[str, ...]]:
    """Sum ``amounts`` in ``to``, converting at the rate of ``on``.

    Returns:
        The sum, and the currencies that had no rate (left out of the sum).
    """
    total = Money.zero(to)
    missing: set[str] = set()
    for money in amounts:
        if money.currency == to:
            total += money
        elif rates is None:
            missing.add(money.currency)
        else:
            try:
                total += rates.convert(money, to, on=on)
            except RateNotFound:
                missing.add(money.currency)
    return total, tuple(sorted(missing))
