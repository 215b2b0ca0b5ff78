"""The one credit-limit check: billing decides, the pipeline's order confirmation asks.

The rule is :func:`~crmkit.billing.model.credit.decide_credit` (see
:mod:`crmkit.billing.model.credit` for the formula); the figures come from here:

- **Deciding** (:func:`credit_decision` inside another area's unit of work, and
  :class:`CreditLimitCheck`, the order confirmation's default check) counts *every*
  open receivable, unbilled order and unapplied credit of the customer: a limit
  protects the company, whoever's deals the debt sits on.
- **Showing** (:func:`check_credit`, a user asking) decides the same way, but the
  receivables it hands back count only the installments the caller may view (their
  permission scope on ``installment``); ``complete`` says whether the figures are
  the whole exposure. A rep thus learns that an order needs approval without
  learning what other reps' customers owe. Only someone who may view the customer
  asks at all, and field rules apply: a hidden ``credit_limit`` shows as ``None``, and
  hidden installment amounts count nothing (``complete`` is then False).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from uuid import UUID

import attrs

from crmkit.billing.model.credit import (
    CreditCheck,
    CreditDecision,
    convert_all,
    credit_documents,
    decide_credit,
)
from crmkit.billing.model.plans import (
    Direction,
    Installment,
    InstallmentStatus,
    Plan,
)
from crmkit.billing.model.receipts import Receipt, ReceiptState
from crmkit.billing.services._frame import CUSTOMER, INSTALLMENT, _viewable_customer
from crmkit.crm import Crm
from crmkit.customers.model import Customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.limits import to_amount, to_date
from crmkit.kernel.money import Money
from crmkit.kernel.query import FALSE, TRUE, Expr, F, Query
from crmkit.kernel.rates import ExchangeRates
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import grants_for, guarded

__all__ = [
    "CreditCheck",
    "CreditDecision",
    "CreditLimitCheck",
    "check_credit",
    "credit_check",
    "credit_decision",
    "open_installments",
    "open_receivables",
    "unbilled_orders",
]


def open_installments(
    uow: UnitOfWork, customer_id: UUID, *, scope: Expr = TRUE
) -> list[Installment]:
    """The customer's receivable installments not yet fully received.

    Args:
        scope: narrows the installments (a permission scope); the default counts all.
    """
    return uow.repository(Installment).query(Query(where=_open_where(customer_id) & scope))


def _open_where(customer_id: UUID) -> Expr:
    return (
        F("customer_id").eq(customer_id)
        & F("direction").eq(Direction.RECEIVABLE)
        & F("status").is_in([InstallmentStatus.OPEN, InstallmentStatus.PARTIAL])
    )


def open_receivables(
    uow: UnitOfWork, customer_id: UUID, currency: str, *, scope: Expr = TRUE
) -> Money:
    """What the customer still owes on installments in ``currency`` (no conversion).

    Args:
        scope: narrows the installments counted; the default (everything) is what a
            credit decision must use.
    """
    owed = open_installments(uow, customer_id, scope=scope)
    return sum((i.outstanding for i in owed if i.amount.currency == currency), Money.zero(currency))


def unbilled_orders(uow: UnitOfWork, customer_id: UUID) -> list[Money]:
    """The totals of the customer's confirmed documents no receivable plan covers yet.

    The documents come from the areas registered with
    :func:`~crmkit.billing.model.credit.register_credit_documents` (the pipeline's
    sales orders); a document with a receivable plan counts through its installments
    only, never twice.
    """
    sources = credit_documents()
    if not sources:
        return []
    plans = uow.repository(Plan).query(
        Query(where=F("customer_id").eq(customer_id) & F("direction").eq(Direction.RECEIVABLE))
    )
    planned = {(p.document_type, p.document_id) for p in plans}
    return [
        document.amount
        for source in sources
        for document in source.unbilled(uow, customer_id)
        if (document.document_type, document.document_id) not in planned
    ]


def _unapplied_credit(uow: UnitOfWork, customer_id: UUID) -> list[Money]:
    where = (
        F("customer_id").eq(customer_id)
        & F("direction").eq(Direction.RECEIVABLE)
        & F("state").eq(ReceiptState.CONFIRMED)
    )
    receipts = uow.repository(Receipt).query(Query(where=where))
    return [r.unallocated for r in receipts if r.unallocated.is_positive]


def credit_decision(
    uow: UnitOfWork,
    customer_id: UUID,
    amount: Money,
    *,
    on: date,
    rates: ExchangeRates | None = None,
) -> CreditDecision:
    """The credit decision inside the caller's unit of work (for other areas' services).

    Every figure is converted to the limit's currency at the rate of ``on``.

    Args:
        on: the day of the check (the exchange-rate date).
        rates: the exchange-rate history; without it only amounts already in the
            limit's currency can be counted, and any other makes the decision ask for
            an approval (``unconverted`` names their currencies).

    Raises:
        NotFound: no such customer.
    """
    customer = uow.repository(Customer).get(customer_id)
    limit = customer.credit_limit
    currency = limit.currency if limit is not None else amount.currency
    owed, missing_owed = convert_all(
        (i.outstanding for i in open_installments(uow, customer_id)), currency, rates, on
    )
    unbilled, missing_unbilled = convert_all(unbilled_orders(uow, customer_id), currency, rates, on)
    credit, missing_credit = convert_all(_unapplied_credit(uow, customer_id), currency, rates, on)
    new, missing_new = convert_all([amount], currency, rates, on)
    return decide_credit(
        limit=limit,
        amount=new,
        open_receivables=owed,
        unbilled_orders=unbilled,
        unapplied_credit=credit,
        unconverted=(*missing_owed, *missing_unbilled, *missing_credit, *missing_new),
    )


@attrs.frozen
class CreditLimitCheck:
    """The default :class:`CreditCheck` of the order confirmation: :func:`credit_decision`.

    Attributes:
        rates: the exchange-rate history used to convert amounts in other currencies
            than the customer's limit.
    """

    rates: ExchangeRates | None = None

    def check(self, uow: UnitOfWork, customer_id: UUID, amount: Money, on: date) -> CreditDecision:
        """Decide on ``amount`` more for ``customer_id`` on day ``on``."""
        return credit_decision(uow, customer_id, amount, on=on, rates=self.rates)


def check_credit(
    crm: Crm,
    actor: Actor,
    customer_id: UUID,
    amount: Money,
    *,
    rates: ExchangeRates | None = None,
    on: date | None = None,
) -> CreditDecision:
    """Check a new order against the customer's credit limit, for a user to see.

    Exposure (open receivables + unbilled orders - unapplied credit) plus ``amount``
    may not exceed ``Customer.credit_limit``; when it would, the decision says an
    approval is required (a ``"credit_override"`` approval flow routes it when the
    order is created). ``allowed`` counts everything, exactly as the order
    confirmation does; the ``open_receivables`` figure returned counts only the
    installments the actor may view, and ``complete`` is False when some were left
    out.

    Field rules apply to what is shown: when the actor's role hides the customer's
    ``credit_limit`` the decision's ``limit`` is ``None`` (``allowed`` and
    ``approval_required`` still answer), and when it hides installment ``amount`` no
    installment is counted in ``open_receivables`` (``complete`` is False).

    Args:
        rates, on: see :func:`credit_decision` (``on`` defaults to today).

    Raises:
        NotFound: no such customer.
        PermissionDenied: the actor may not view the customer (or is no member).
    """
    amount = to_amount(amount, entity="credit check", field="amount")
    on = None if on is None else to_date(on, entity="credit check", field="on")

    def work(uow: UnitOfWork) -> CreditDecision:
        day = on or crm.now().date()
        grants = grants_for(uow, actor)
        _viewable_customer(uow, grants, customer_id)
        decision = credit_decision(uow, customer_id, amount, on=day, rates=rates)
        visible = grants.scope("view", INSTALLMENT)
        if "amount" in grants.hidden_fields(INSTALLMENT):
            visible = FALSE
        currency = decision.open_receivables.currency
        shown = open_installments(uow, customer_id, scope=visible)
        # Compare with everything rather than query the complement (NOT over NULLs).
        every = open_installments(uow, customer_id)
        owed, _missing = convert_all((i.outstanding for i in shown), currency, rates, day)
        limit = None if "credit_limit" in grants.hidden_fields(CUSTOMER) else decision.limit
        return attrs.evolve(
            decision, open_receivables=owed, complete=len(shown) == len(every), limit=limit
        )

    return guarded(crm, actor, work)


def credit_check(
    crm: Crm, *, rates: ExchangeRates | None = None
) -> Callable[[Actor, UUID, Money], CreditDecision]:
    """:func:`check_credit` bound to ``crm``, for a host screen to call with an actor.

    It answers as :func:`check_credit` does: the decision counts everything, the
    receivables figure only what the calling actor may view.
    """

    def check(actor: Actor, customer_id: UUID, amount: Money) -> CreditDecision:
        return check_credit(crm, actor, customer_id, amount, rates=rates)

    return check
