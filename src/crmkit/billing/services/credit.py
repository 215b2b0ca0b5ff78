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

    def work(uow: UnitOfWork) -> CreditDecision:
        customer = uow.repository(Customer).get(customer_id)
        limit = customer.credit_limit
        currency = limit.currency if limit is not None else amount.currency
        where = (
            F("customer_id").eq(customer_id)
            & F("direction").eq(Direction.RECEIVABLE)
            & F("status").is_in([InstallmentStatus.OPEN, InstallmentStatus.PARTIAL])
        )
        open_ = sum(
            (
                i.outstanding
                for i in uow.repository(Installment).query(Query(where=where))
                if i.amount.currency == currency
            ),
            Money.zero(currency),
        )
        allowed = limit is None or open_ + amount <= limit
        return CreditDecision(allowed, open_, amount, limit)

    return crm.run(actor.tenant_id, work)


def credit_check(crm: Crm) -> CreditCheck:
    """The :class:`CreditCheck` port bound to ``crm``, for the pipeline to call."""

    def check(actor: Actor, customer_id: UUID, amount: Money) -> CreditDecision:
        return check_credit(crm, actor, customer_id, amount)

    return check
