"""Billing read models and the ledger-head lock in SQL.

Aging, DSO and the collection forecast are aggregates computed by the database
over the installment and receipt tables, with the permission scope compiled into
the ``WHERE``: a million installments become one row per customer, owner and
currency. Bucket boundaries are turned into due-date cut-offs before the query
(``due_date >= :on - 30``), so the SQL is plain date comparison on every backend
and can use the ``(status, due_date)`` index.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from crmkit.adapters.sql.billing.tables import CLAIM_LINES, EXPENSE_CLAIMS, INSTALLMENTS, RECEIPTS
from crmkit.adapters.sql.compile import compile_expr
from crmkit.adapters.sql.mapping import ExactDecimal
from crmkit.billing.model.ledger import LedgerHead, head_id
from crmkit.billing.model.plans import Direction, InstallmentStatus
from crmkit.billing.model.receipts import ReceiptState
from crmkit.billing.queries import (
    COLLECTION_COLUMNS,
    COUNTED_CLAIMS,
    DSO_COLUMNS,
    EXPENSE_COLUMNS,
    AgingBuckets,
    AgingQuery,
    CollectionQuery,
    ExpenseQuery,
    LedgerHeads,
    aging_columns,
    counted_sums,
    dso_row,
    forecast_rows,
    to_minor,
)
from crmkit.kernel.query import TRUE, Expr
from crmkit.kernel.report import ReportTable

if TYPE_CHECKING:
    # Only for annotations: the unit of work needs the full schema, which imports this.
    from crmkit.adapters.sql.uow import SqlUnitOfWork

__all__ = ["QUERIES", "SqlAgingQuery", "SqlCollectionQuery", "SqlExpenseQuery", "SqlLedgerHeads"]

_OPEN = (InstallmentStatus.OPEN.value, InstallmentStatus.PARTIAL.value)


_EXACT = ExactDecimal()


def _money_sum(expr: Any, dialect: str) -> Any:
    total = sa.func.coalesce(sa.func.sum(expr), 0)
    if dialect == "sqlite":
        # SQLite stores millionths as integers: read sums back through the exact type.
        return sa.type_coerce(total, _EXACT)
    # PostgreSQL sums NUMERIC exactly and the driver returns Decimal already; skipping the
    # type's per-value tidying keeps a 20,000-row aging table from costing 0.2 s in Python.
    return sa.type_coerce(total, sa.Numeric(asdecimal=True))


class SqlAgingQuery(AgingQuery):
    """:class:`~crmkit.billing.queries.AgingQuery` as SQL aggregates."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow
        self._map = INSTALLMENTS
        self._t = self._map.table
        self._receipts = RECEIPTS.table

    def _rows(self, statement: sa.Select[Any]) -> list[Any]:
        return list(self._uow.execute(statement).fetchall())

    def _where(
        self, scope: Expr, direction: Direction, *extra: sa.ColumnElement[bool]
    ) -> sa.ColumnElement[bool]:
        t = self._t
        return sa.and_(
            t.c.tenant_id == self._uow.tenant_id,
            t.c.direction == direction.value,
            compile_expr(scope, self._map.column, self._uow.dialect),
            *extra,
        )

    def _aging(
        self, on: date, scope: Expr, buckets: AgingBuckets, direction: Direction
    ) -> ReportTable:
        t = self._t
        outstanding = t.c.amount_amount - t.c.paid_amount
        due = t.c.due_date
        conditions: list[sa.ColumnElement[bool]] = [sa.or_(due.is_(None), due >= on)]
        upper = on
        for cut in buckets.cutoffs(on):
            conditions.append(sa.and_(due < upper, due >= cut))
            upper = cut
        conditions.append(due < upper)
        d = self._uow.dialect
        sums = [_money_sum(sa.case((cond, outstanding), else_=0), d) for cond in conditions]
        statement = (
            sa.select(t.c.customer_id, t.c.owner_id, t.c.amount_currency, *sums)
            .where(self._where(scope, direction, t.c.status.in_(_OPEN)))
            .group_by(t.c.customer_id, t.c.owner_id, t.c.amount_currency)
        )
        rows = []
        for customer, owner, currency, *values in self._rows(statement):
            amounts = to_minor(currency, values)
            rows.append(
                (str(customer), str(owner or ""), currency, *amounts, sum(amounts, Decimal(0)))
            )
        rows.sort(key=lambda r: (r[0], r[1], r[2]))
        return ReportTable.of(aging_columns(buckets), rows)

    def _dso(self, on: date, days: int, scope: Expr, direction: Direction) -> ReportTable:
        t = self._t
        since = on - timedelta(days=days)
        open_ = t.c.status != InstallmentStatus.PAID.value
        window = sa.and_(t.c.raised_on > since, t.c.raised_on <= on)
        d = self._uow.dialect
        statement = (
            sa.select(
                t.c.amount_currency,
                _money_sum(sa.case((open_, t.c.amount_amount - t.c.paid_amount), else_=0), d),
                _money_sum(sa.case((window, t.c.amount_amount), else_=0), d),
            )
            .where(self._where(scope, direction, sa.or_(open_, window)))
            .group_by(t.c.amount_currency)
            .order_by(t.c.amount_currency)
        )
        return ReportTable.of(
            DSO_COLUMNS,
            [dso_row(c, Decimal(o), Decimal(r), days) for c, o, r in self._rows(statement)],
        )

    def _forecast(
        self, start: date, end: date, grain: str, scope: Expr, direction: Direction
    ) -> ReportTable:
        t, r = self._t, self._receipts
        is_open = t.c.status.in_(_OPEN)
        d = self._uow.dialect
        due = (
            sa.select(
                t.c.due_date,
                t.c.amount_currency,
                _money_sum(t.c.amount_amount - t.c.paid_amount, d),
            )
            .where(self._where(scope, direction, is_open, t.c.due_date <= end))
            .group_by(t.c.due_date, t.c.amount_currency)
        )
        customers = sa.select(t.c.customer_id).where(self._where(scope, direction, is_open))
        slips = (
            sa.select(r.c.received_on, r.c.settled_currency, _money_sum(r.c.settled_amount, d))
            .where(
                r.c.tenant_id == self._uow.tenant_id,
                r.c.state == ReceiptState.SLIP_RECEIVED.value,
                r.c.direction == direction.value,
                r.c.received_on <= end,
                r.c.customer_id.in_(customers),
            )
            .group_by(r.c.received_on, r.c.settled_currency)
        )
        return forecast_rows(
            [(day, c, to_minor(c, (a,))[0]) for day, c, a in self._rows(due)],
            [(day, c, to_minor(c, (a,))[0]) for day, c, a in self._rows(slips)],
            start,
            grain,
        )


class SqlLedgerHeads:
    """:class:`~crmkit.billing.queries.LedgerHeads`: the head row locked until commit."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def lock(self) -> LedgerHead:
        """See :meth:`LedgerHeads.lock`."""
        repo = self._uow.repository(LedgerHead)
        table = repo.mapping.table
        wanted = head_id(self._uow.tenant_id)
        # FOR UPDATE on PostgreSQL; SQLite renders none and serialises writers itself.
        statement = (
            sa.select(table)
            .where(table.c.tenant_id == self._uow.tenant_id, table.c.id == wanted)
            .with_for_update()
        )
        row = self._uow.execute(statement).first()
        if row is None:
            repo.add_if_absent(LedgerHead(id=wanted, tenant_id=self._uow.tenant_id))
            row = self._uow.execute(statement).one()
        head: LedgerHead = repo.mapping.from_row(row)
        return head


class SqlExpenseQuery:
    """:class:`~crmkit.billing.queries.ExpenseQuery`: claim lines summed by the database.

    The lines' own rows carry what is grouped and summed; the join to their claims
    brings the state and the fields the permission scope reads.
    """

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow
        self._claims = EXPENSE_CLAIMS
        self._lines = CLAIM_LINES.table

    def analysis(self, by: str, since: date, until: date, *, scope: Expr = TRUE) -> ReportTable:
        """See :meth:`ExpenseQuery.analysis`."""
        line, claim = self._lines, self._claims.table
        key = claim.c.claimant_id if by == "claimant_id" else line.c[by]
        tenant = self._uow.tenant_id
        statement: sa.Select[Any] = (
            sa.select(
                key,
                line.c.amount_currency,
                sa.func.count(),
                _money_sum(line.c.amount_amount, self._uow.dialect),
            )
            .select_from(
                line.join(
                    claim, sa.and_(claim.c.tenant_id == tenant, claim.c.id == line.c.claim_id)
                )
            )
            .where(
                line.c.tenant_id == tenant,
                line.c.spent_on >= since,
                line.c.spent_on <= until,
                claim.c.state.in_([s.value for s in COUNTED_CLAIMS]),
                compile_expr(scope, self._claims.column, self._uow.dialect),
            )
            .group_by(key, line.c.amount_currency)
        )
        found = list[Any](self._uow.execute(statement))
        return counted_sums(EXPENSE_COLUMNS, ((str(v or ""), c, n, a) for v, c, n, a in found))


class SqlCollectionQuery:
    """:class:`~crmkit.billing.queries.CollectionQuery`: receipts summed by the database."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow
        self._receipts = RECEIPTS

    def collected(self, since: date, until: date, *, scope: Expr = TRUE) -> ReportTable:
        """See :meth:`CollectionQuery.collected`."""
        receipt = self._receipts.table
        net = receipt.c.settled_amount - receipt.c.refunded_amount
        statement: sa.Select[Any] = (
            sa.select(
                receipt.c.customer_id,
                receipt.c.settled_currency,
                sa.func.count(),
                _money_sum(net, self._uow.dialect),
            )
            .where(
                receipt.c.tenant_id == self._uow.tenant_id,
                receipt.c.direction == Direction.RECEIVABLE.value,
                receipt.c.state == ReceiptState.CONFIRMED.value,
                receipt.c.confirmed_on >= since,
                receipt.c.confirmed_on <= until,
                compile_expr(scope, self._receipts.column, self._uow.dialect),
            )
            .group_by(receipt.c.customer_id, receipt.c.settled_currency)
        )
        found = list[Any](self._uow.execute(statement))
        return counted_sums(COLLECTION_COLUMNS, ((str(v), c, n, a) for v, c, n, a in found))


#: The ports these implement, for :mod:`crmkit.adapters.sql.tables` to register.
QUERIES: tuple[tuple[type[Any], Callable[[Any], Any]], ...] = (
    (AgingQuery, SqlAgingQuery),
    (CollectionQuery, SqlCollectionQuery),
    (ExpenseQuery, SqlExpenseQuery),
    (LedgerHeads, SqlLedgerHeads),
)
