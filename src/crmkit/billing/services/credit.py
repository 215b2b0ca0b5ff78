"""The credit-limit check the pipeline's order confirmation calls.

Two paths, on purpose:

- **Deciding** (:func:`credit_decision`, :func:`open_receivables` inside another
  area's unit of work — the order confirmation's default check) counts *every* open
  receivable of the customer: a limit protects the company, whoever's deals the debt
  sits on.
- **Showing** (:func:`check_credit`, a user asking) decides the same way, but the
  exposure figure it hands back counts only the installments the caller may view
  (their permission scope on ``installment``); ``complete`` says whether that figure
  is the whole exposure. A rep thus learns that an order needs approval without
  learning what other reps' customers owe.
"""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

import attrs

from crmkit.billing.model.plans import (
    Direction,
    Installment,
    InstallmentStatus,
)
from crmkit.billing.services._frame import INSTALLMENT
from crmkit.crm import Crm
from crmkit.customers.model import Customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.money import Money
from crmkit.kernel.query import TRUE, Expr, F, Query
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import grants_for, guarded

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
        open_receivables: what the customer owes now, in the limit's currency (from
            :func:`check_credit`: only what the caller may view).
        amount: the new order's amount.
        limit: the customer's credit limit (``None``: unlimited).
        complete: ``open_receivables`` is the whole exposure the decision counted
            (False: part of it lies outside the caller's permission scope).
    """

    allowed: bool
    open_receivables: Money
    amount: Money
    limit: Money | None
    complete: bool = True

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
    """Check a new order against the customer's credit limit, for a user to see.

    Open receivables in the limit's currency plus ``amount`` may not exceed
    ``Customer.credit_limit``; when they would, the decision says an approval is
    required (a ``"credit_override"`` approval flow routes it when the order is
    created). Receivables in other currencies do not count against a limit in another
    currency. ``allowed`` counts every open receivable, exactly as the order
    confirmation does; the ``open_receivables`` figure returned counts only the
    installments the actor may view, and ``complete`` is False when some were left out.

    Raises:
        NotFound: no such customer.
        CurrencyMismatch: ``amount`` is in another currency than the limit.
    """

    def work(uow: UnitOfWork) -> CreditDecision:
        decision = credit_decision(uow, customer_id, amount)
        visible = grants_for(uow, actor).scope("view", INSTALLMENT)
        currency = decision.open_receivables.currency
        shown = _in(currency, open_installments(uow, customer_id, scope=visible))
        # Compare with everything rather than query the complement (NOT over NULLs).
        every = _in(currency, open_installments(uow, customer_id))
        return attrs.evolve(
            decision,
            open_receivables=sum((i.outstanding for i in shown), Money.zero(currency)),
            complete=len(shown) == len(every),
        )

    return guarded(crm, actor, work)


def open_installments(
    uow: UnitOfWork, customer_id: UUID, *, scope: Expr = TRUE
) -> list[Installment]:
    """The customer's receivable installments not yet fully received.

    Args:
        scope: narrows the installments (a permission scope); the default counts all.
    """
    return uow.repository(Installment).query(Query(where=_open_where(customer_id) & scope))


def _in(currency: str, installments: list[Installment]) -> list[Installment]:
    return [i for i in installments if i.amount.currency == currency]


def _open_where(customer_id: UUID) -> Expr:
    return (
        F("customer_id").eq(customer_id)
        & F("direction").eq(Direction.RECEIVABLE)
        & F("status").is_in([InstallmentStatus.OPEN, InstallmentStatus.PARTIAL])
    )


def open_receivables(
    uow: UnitOfWork, customer_id: UUID, currency: str, *, scope: Expr = TRUE
) -> Money:
    """What the customer still owes in ``currency``, inside the caller's unit of work.

    Args:
        scope: narrows the installments counted; the default (everything) is what a
            credit decision must use.
    """
    owed = _in(currency, open_installments(uow, customer_id, scope=scope))
    return sum((i.outstanding for i in owed), Money.zero(currency))


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
    """The :class:`CreditCheck` port bound to ``crm``, for the pipeline to call.

    It answers as :func:`check_credit` does: the decision counts everything, the
    exposure figure only what the calling actor may view.
    """

    def check(actor: Actor, customer_id: UUID, amount: Money) -> CreditDecision:
        return check_credit(crm, actor, customer_id, amount)

    return check
