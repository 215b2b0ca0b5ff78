"""The credit-limit check the pipeline's order confirmation calls."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

import attrs

from crmkit.billing.model.plans import (
    Direction,
    Installment,
    InstallmentStatus,
)
from crmkit.crm import Crm
from crmkit.customers.model import Customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Query
from crmkit.ports import UnitOfWork

__all__ = [
    "CreditCheck",
    "CreditDecision",
    "check_credit",
    "credit_check",
    "credit_decision",
    "open_installments",
    "open_receivables",
]


# -- credit limits ----------------------------------------------------------------------------


@attrs.frozen
class CreditDecision:
    """The answer of the credit-limit check for a new order.

    Attributes:
        allowed: the order fits under the limit (or the customer has none).
        approval_required: it does not fit: confirming it needs an approval.
        open_receivables: what the customer owes now, in the limit's currency.
        amount: the new order's amount.
        limit: the customer's credit limit (``None``: unlimited).
    """

    allowed: bool
    open_receivables: Money
    amount: Money
    limit: Money | None

    @property
    def approval_required(self) -> bool:
        """True when the order may only be confirmed with an approval."""
        return not self.allowed


class CreditCheck(Protocol):
    """Port the pipeline's order confirmation calls before confirming an order."""

    def __call__(self, actor: Actor, customer_id: UUID, amount: Money) -> CreditDecision:
        """Whether ``amount`` more fits under the customer's credit limit."""
        ...


def check_credit(crm: Crm, actor: Actor, customer_id: UUID, amount: Money) -> CreditDecision:
    """Check a new order against the customer's credit limit.

    Open receivables in the limit's currency plus ``amount`` may not exceed
    ``Customer.credit_limit``; when they would, the decision says an approval is
    required (the approvals area will route it). Receivables in other currencies
    do not count against a limit in another currency.

    Raises:
        NotFound: no such customer.
        CurrencyMismatch: ``amount`` is in another currency than the limit.
    """

    return crm.run(actor.tenant_id, lambda uow: credit_decision(uow, customer_id, amount))


def open_installments(uow: UnitOfWork, customer_id: UUID) -> list[Installment]:
    """The customer's receivable installments not yet fully received."""
    where = (
        F("customer_id").eq(customer_id)
        & F("direction").eq(Direction.RECEIVABLE)
        & F("status").is_in([InstallmentStatus.OPEN, InstallmentStatus.PARTIAL])
    )
    return uow.repository(Installment).query(Query(where=where))


def open_receivables(uow: UnitOfWork, customer_id: UUID, currency: str) -> Money:
    """What the customer still owes in ``currency``, inside the caller's unit of work."""
    return sum(
        (
            i.outstanding
            for i in open_installments(uow, customer_id)
            if i.amount.currency == currency
        ),
        Money.zero(currency),
    )


def credit_decision(uow: UnitOfWork, customer_id: UUID, amount: Money) -> CreditDecision:
    """:func:`check_credit` inside the caller's unit of work (for other areas' services).

    Raises:
        NotFound: no such customer.
        CurrencyMismatch: ``amount`` is in another currency than the limit.
    """
    customer = uow.repository(Customer).get(customer_id)
    limit = customer.credit_limit
    currency = limit.currency if limit is not None else amount.currency
    open_ = open_receivables(uow, customer_id, currency)
    allowed = limit is None or open_ + amount <= limit
    return CreditDecision(allowed, open_, amount, limit)


def credit_check(crm: Crm) -> CreditCheck:
    """The :class:`CreditCheck` port bound to ``crm``, for the pipeline to call."""

    def check(actor: Actor, customer_id: UUID, amount: Money) -> CreditDecision:
        return check_credit(crm, actor, customer_id, amount)

    return check
