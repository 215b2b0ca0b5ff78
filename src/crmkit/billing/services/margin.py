"""Margin per customer: money collected from each customer less what was spent on it.

A sales manager asks which customers are worth their cost. :func:`customer_margin`
answers on a cash basis for a period: the confirmed receipts of each customer (less
refunds paid from them) against the approved and reimbursed expense lines booked to
that customer, per currency. Both sides are aggregate queries in the database, each
narrowed to the reader's ``view`` scope on receipts and on expense claims. crmkit keeps
no cost of goods, so this is the margin over selling expenses.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from crmkit.billing.queries import CollectionQuery, ExpenseQuery
from crmkit.billing.services._frame import EXPENSE_CLAIM, RECEIPT, _require
from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.limits import to_date
from crmkit.kernel.report import ReportTable
from crmkit.ports import UnitOfWork, queries
from crmkit.rules.permissions import guarded

__all__ = ["MARGIN_COLUMNS", "customer_margin"]

MARGIN_COLUMNS = ("customer_id", "currency", "collected", "expenses", "margin")


def customer_margin(crm: Crm, actor: Actor, *, since: date, until: date) -> ReportTable:
    """Per customer and currency: collected, expenses and their difference in [since, until].

    Receipts count by the day the money was confirmed; expense lines by the day they
    were spent. A customer with only one side has zero on the other. Rows are sorted
    by customer and currency; amounts are at the currency's minor unit.

    Raises:
        PermissionDenied: the actor may view no receipts or no expense claims (a margin
            without one side would mislead).
        ValidationError: ``since`` or ``until`` is not a date (ISO text is read as one).
    """
    since = to_date(since, entity="customer margin", field="since")
    until = to_date(until, entity="customer margin", field="until")

    def work(uow: UnitOfWork) -> ReportTable:
        receipts = _require(uow, actor, "view", RECEIPT).scope("view", RECEIPT)
        claims = _require(uow, actor, "view", EXPENSE_CLAIM).scope("view", EXPENSE_CLAIM)
        collected: CollectionQuery = queries(uow, CollectionQuery)
        spent: ExpenseQuery = queries(uow, ExpenseQuery)
        sides: dict[tuple[str, str], list[Decimal]] = {}
        for customer, currency, _n, amount in collected.collected(since, until, scope=receipts):
            sides.setdefault((customer, currency), [Decimal(0), Decimal(0)])[0] += amount
        for key, currency, _n, amount in spent.analysis("customer_id", since, until, scope=claims):
            if key:  # lines booked to no customer are overhead, not a customer's cost
                sides.setdefault((key, currency), [Decimal(0), Decimal(0)])[1] += amount
        rows = [
            (customer, currency, money_in, money_out, money_in - money_out)
            for (customer, currency), (money_in, money_out) in sorted(sides.items())
        ]
        return ReportTable.of(MARGIN_COLUMNS, rows)

    return guarded(crm, actor, work)
