"""Billing read models: aging, DSO, the collection forecast and expense analysis.

Each analytic is a method of the :class:`AgingQuery` port and returns a
:class:`~crmkit.kernel.report.ReportTable`. The SQL adapter implements it with
aggregate queries inside the database
(:mod:`crmkit.adapters.sql.billing.queries`); :class:`MemoryAgingQuery` does the
same arithmetic in Python for the memory adapter, and a differential test keeps
the two in agreement. Every method takes a ``scope`` filter over installments
(``owner_id``, ``department_id``, ``customer_id``, ...) — the permission
evaluator's expression — so a rep's aging table shows only what the rep may see.
Amounts are grouped per currency, never mixed.

Aging buckets by days overdue on the report day: *not due* (due today or later,
or no due date yet), then one bucket per bound — by default 1-30, 31-60, 61-90,
91-180 — and *over 180*. The bounds are configurable.

Expense analysis (:class:`ExpenseQuery`) sums the lines of approved and reimbursed
expense claims spent in a period, per customer, opportunity, claimant or category and
currency; its ``scope`` is over expense claims. :class:`MemoryExpenseQuery` reads the
claims' own lines; the SQL adapter sums the claim-line records
(:class:`~crmkit.billing.model.expenses.ClaimLine`) joined to their claims.
"""

from __future__ import annotations

import abc
import functools
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol

import attrs

from crmkit.billing.model.expenses import ClaimState, ExpenseClaim
from crmkit.billing.model.ledger import LedgerHead, head_id
from crmkit.billing.model.plans import Direction, Installment, InstallmentStatus
from crmkit.billing.model.receipts import Receipt, ReceiptState
from crmkit.kernel.errors import ValidationError, reason
from crmkit.kernel.i18n import N_
from crmkit.kernel.money import ROUNDING, minor_unit, round_figure
from crmkit.kernel.query import TRUE, Expr, F, Query
from crmkit.kernel.report import ReportTable
from crmkit.ports import UnitOfWork

__all__ = [
    "COLLECTION_COLUMNS",
    "COUNTED_CLAIMS",
    "DEFAULT_BUCKETS",
    "DSO_COLUMNS",
    "EXPENSE_COLUMNS",
    "EXPENSE_GROUPS",
    "FORECAST_COLUMNS",
    "AgingBuckets",
    "AgingQuery",
    "CollectionQuery",
    "ExpenseQuery",
    "LedgerHeads",
    "MemoryAgingQuery",
    "MemoryCollectionQuery",
    "MemoryExpenseQuery",
    "MemoryLedgerHeads",
    "aging_columns",
    "counted_sums",
    "dso_row",
    "forecast_rows",
    "period_of",
    "to_minor",
]

DSO_COLUMNS = ("currency", "outstanding", "raised", "days", "dso")
FORECAST_COLUMNS = ("period", "currency", "due", "slips")
EXPENSE_COLUMNS = ("key", "currency", "lines", "amount")
COLLECTION_COLUMNS = ("customer_id", "currency", "receipts", "collected")
EXPENSE_GROUPS = ("customer_id", "opportunity_id", "claimant_id", "category")
COUNTED_CLAIMS = (ClaimState.APPROVED, ClaimState.REIMBURSED)
"""The claim states expense analysis counts: money the company has agreed to spend."""
OVERDUE = "overdue"
"""The forecast period holding what fell due before the forecast starts."""


def _check_bounds(_instance: Any, _attribute: Any, bounds: tuple[int, ...]) -> None:
    if not bounds or any(b <= 0 for b in bounds) or list(bounds) != sorted(set(bounds)):
        raise ValidationError(
            entity="aging",
            field="bounds",
            reason=reason(N_("bucket bounds must be increasing whole days above zero")),
        )


@attrs.frozen
class AgingBuckets:
    """Aging buckets as upper bounds in days overdue: ``(30, 60, 90, 180)`` by default.

    The buckets are *not due*, ``1-30``, ``31-60``, ``61-90``, ``91-180`` and
    ``over_180``.
    """

    bounds: tuple[int, ...] = attrs.field(
        default=(30, 60, 90, 180), converter=tuple, validator=_check_bounds
    )

    @property
    def labels(self) -> tuple[str, ...]:
        """Column names of the buckets, in order."""
        names = ["not_due"]
        low = 1
        for bound in self.bounds:
            names.append(f"{low}-{bound}")
            low = bound + 1
        names.append(f"over_{self.bounds[-1]}")
        return tuple(names)

    def index(self, days_overdue: int) -> int:
        """The bucket of an installment ``days_overdue`` days past due (0 = not due)."""
        if days_overdue <= 0:
            return 0
        for at, bound in enumerate(self.bounds, start=1):
            if days_overdue <= bound:
                return at
        return len(self.bounds) + 1

    def cutoffs(self, on: date) -> list[date]:
        """The earliest due date of each overdue bucket on ``on`` (for SQL ``CASE``)."""
        return [on - timedelta(days=bound) for bound in self.bounds]


DEFAULT_BUCKETS = AgingBuckets()
"""Not due, 1-30, 31-60, 61-90, 91-180 and over 180 days."""


@functools.cache
def _quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_unit(currency))


def to_minor(currency: str, values: Iterable[Any]) -> list[Decimal]:
    """Sums as Decimals written at the currency's minor unit (exact: they are sums of
    amounts at that unit), so SQL and Python print the same ``"700.00"``."""
    quantum = _quantum(currency)
    return [Decimal(value).quantize(quantum, rounding=ROUNDING) for value in values]


def counted_sums(
    columns: tuple[str, ...], groups: Iterable[tuple[str, str, Any, Any]]
) -> ReportTable:
    """A report of ``(key, currency, count, amount)`` groups, by key and currency.

    Counts become ints and amounts are given at their currency's minor unit, so the
    memory and SQL read models that group this way return equal tables.
    """
    rows = [
        (key, currency, int(n), to_minor(currency, [amount])[0])
        for key, currency, n, amount in groups
    ]
    rows.sort(key=lambda r: (r[0], r[1]))
    return ReportTable.of(columns, rows)


def aging_columns(buckets: AgingBuckets) -> tuple[str, ...]:
    """The columns of an aging table with ``buckets``."""
    return ("customer_id", "owner_id", "currency", *buckets.labels, "total")


def dso_row(currency: str, outstanding: Any, raised: Any, days: int) -> tuple[Any, ...]:
    """One DSO row: outstanding / raised in the window x days, one decimal (0 if none raised).

    The sums are written at the currency's minor unit first.
    """
    outstanding, raised = to_minor(currency, (outstanding, raised))
    dso = Decimal(0) if not raised else outstanding / raised * days
    return (currency, outstanding, raised, days, round_figure(dso, 1))


def period_of(day: date, grain: str) -> str:
    """The forecast period of ``day``: ``"2026-W10"`` (ISO week) or ``"2026-03"``."""
    if grain == "week":
        year, week, _ = day.isocalendar()
        return f"{year:04d}-W{week:02d}"
    if grain == "month":
        return f"{day.year:04d}-{day.month:02d}"
    raise ValidationError(
        entity="forecast",
        field="grain",
        reason=reason(N_("{grain!r} is not 'week' or 'month'"), grain=grain),
    )


def forecast_rows(
    due_by_day: Iterable[tuple[date | None, str, Decimal]],
    slips_by_day: Iterable[tuple[date, str, Decimal]],
    start: date,
    grain: str,
) -> ReportTable:
    """Fold per-day sums into forecast periods.

    Args:
        due_by_day: (due date, currency, outstanding) for open installments due up to the
            end of the forecast; dates before ``start`` go to the ``overdue`` period.
        slips_by_day: (slip date, currency, amount) of slips not yet confirmed; they are
            expected in their own period, or the first one when older.
        start: the first day of the forecast.
        grain: ``"week"`` or ``"month"``.

    Returns:
        Rows of (period, currency, due, slips) ordered by period and currency.
    """
    groups: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for day, currency, amount in due_by_day:
        period = OVERDUE if day is None or day < start else period_of(day, grain)
        groups[(period, currency)][0] += amount
    for day, currency, amount in slips_by_day:
        groups[(period_of(max(day, start), grain), currency)][1] += amount
    rows = [(p, c, due, slips) for (p, c), (due, slips) in groups.items()]
    # "overdue" sorts before every "2026-..." period.
    rows.sort(key=lambda r: ("" if r[0] == OVERDUE else r[0], r[1]))
    return ReportTable.of(FORECAST_COLUMNS, rows)


class AgingQuery(abc.ABC):
    """Read model of receivables (or payables), run where the data is.

    Each public method states its signature, defaults and argument checks here, once,
    so no storage can take or refuse other arguments than another; it then calls a
    hook (``_aging``, ``_dso``, ``_forecast``) that each storage implements with the
    arguments already checked.
    """

    def aging(
        self,
        on: date,
        *,
        scope: Expr = TRUE,
        buckets: AgingBuckets = DEFAULT_BUCKETS,
        direction: Direction = Direction.RECEIVABLE,
    ) -> ReportTable:
        """Outstanding amounts per customer, owner and currency in aging buckets on ``on``."""
        return self._aging(on, scope, buckets, direction)

    def dso(
        self,
        on: date,
        *,
        days: int = 90,
        scope: Expr = TRUE,
        direction: Direction = Direction.RECEIVABLE,
    ) -> ReportTable:
        """Days sales outstanding per currency: what is outstanding on ``on`` divided by
        what was raised in the ``days`` before it, times ``days``."""
        return self._dso(on, days, scope, direction)

    def forecast(
        self,
        start: date,
        end: date,
        *,
        grain: str = "week",
        scope: Expr = TRUE,
        direction: Direction = Direction.RECEIVABLE,
    ) -> ReportTable:
        """Expected collections per period in [start, end]: outstanding installments by due
        date (older ones under ``overdue``) and remittance slips not yet confirmed.

        Raises:
            ValidationError: ``grain`` is not ``"week"`` or ``"month"``.
        """
        period_of(start, grain)  # refuse an unknown grain before any work
        return self._forecast(start, end, grain, scope, direction)

    @abc.abstractmethod
    def _aging(
        self, on: date, scope: Expr, buckets: AgingBuckets, direction: Direction
    ) -> ReportTable:
        """:meth:`aging` on this storage."""

    @abc.abstractmethod
    def _dso(self, on: date, days: int, scope: Expr, direction: Direction) -> ReportTable:
        """:meth:`dso` on this storage."""

    @abc.abstractmethod
    def _forecast(
        self, start: date, end: date, grain: str, scope: Expr, direction: Direction
    ) -> ReportTable:
        """:meth:`forecast` on this storage, ``grain`` known to be valid."""


class MemoryAgingQuery(AgingQuery):
    """:class:`AgingQuery` over the memory adapter's rows."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def _open(self, scope: Expr, direction: Direction) -> list[Installment]:
        where = (
            scope
            & F("direction").eq(direction)
            & F("status").is_in([InstallmentStatus.OPEN, InstallmentStatus.PARTIAL])
        )
        return self._uow.repository(Installment).query(Query(where=where))

    def _aging(
        self, on: date, scope: Expr, buckets: AgingBuckets, direction: Direction
    ) -> ReportTable:
        width = len(buckets.labels)
        groups: dict[tuple[str, str, str], list[Decimal]] = defaultdict(
            lambda: [Decimal(0)] * width
        )
        for item in self._open(scope, direction):
            key = (str(item.customer_id), str(item.owner_id or ""), item.amount.currency)
            groups[key][buckets.index(item.days_overdue(on))] += item.outstanding.amount
        rows = []
        for key, values in sorted(groups.items()):
            amounts = to_minor(key[2], values)
            rows.append((*key, *amounts, sum(amounts, Decimal(0))))
        return ReportTable.of(aging_columns(buckets), rows)

    def _dso(self, on: date, days: int, scope: Expr, direction: Direction) -> ReportTable:
        since = on - timedelta(days=days)
        outstanding: dict[str, Decimal] = defaultdict(Decimal)
        raised: dict[str, Decimal] = defaultdict(Decimal)
        where = scope & F("direction").eq(direction)
        for item in self._uow.repository(Installment).query(Query(where=where)):
            currency = item.amount.currency
            if item.status is not InstallmentStatus.PAID:
                outstanding[currency] += item.outstanding.amount
            if since < item.raised_on <= on:
                raised[currency] += item.amount.amount
        currencies = sorted(set(outstanding) | set(raised))
        return ReportTable.of(
            DSO_COLUMNS,
            [dso_row(c, outstanding[c], raised[c], days) for c in currencies],
        )

    def _forecast(
        self, start: date, end: date, grain: str, scope: Expr, direction: Direction
    ) -> ReportTable:
        due: dict[tuple[date | None, str], Decimal] = defaultdict(Decimal)
        customers: set[Any] = set()
        for item in self._open(scope, direction):
            customers.add(item.customer_id)
            if item.due_date is not None and item.due_date <= end:
                due[(item.due_date, item.amount.currency)] += item.outstanding.amount
        slips: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
        pending = F("state").eq(ReceiptState.SLIP_RECEIVED) & F("direction").eq(direction)
        for receipt in self._uow.repository(Receipt).query(Query(where=pending)):
            if receipt.customer_id in customers and receipt.received_on <= end:
                slips[(receipt.received_on, receipt.currency)] += receipt.settled.amount
        return forecast_rows(
            [(d, c, to_minor(c, (a,))[0]) for (d, c), a in due.items()],
            [(d, c, to_minor(c, (a,))[0]) for (d, c), a in slips.items()],
            start,
            grain,
        )


class LedgerHeads(Protocol):
    """Port: lock the tenant's ledger head for the rest of the transaction.

    Appends to a tenant's hash chain must happen one after the other, or two
    writers would both link to the same previous entry. The SQL implementation
    locks the head row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite already
    serialises writers); the memory one relies on the version check at commit.
    """

    def lock(self) -> LedgerHead:
        """The head, created at ``GENESIS`` on first use, locked until commit."""
        ...


class MemoryLedgerHeads:
    """:class:`LedgerHeads` for the memory adapter."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def lock(self) -> LedgerHead:
        """See :meth:`LedgerHeads.lock`."""
        repo = self._uow.repository(LedgerHead)
        found = repo.find(head_id(self._uow.tenant_id))
        if found is not None:
            return found
        return repo.add(LedgerHead(id=head_id(self._uow.tenant_id), tenant_id=self._uow.tenant_id))


class ExpenseQuery(Protocol):
    """Port: expense analysis, as one aggregate query."""

    def analysis(self, by: str, since: date, until: date, *, scope: Expr = TRUE) -> ReportTable:
        """Lines of approved and reimbursed claims spent in [since, until], grouped.

        Args:
            by: one of :data:`EXPENSE_GROUPS` (``claimant_id`` is the claim's).
            scope: narrows the claims (a permission scope on ``expense_claim``).

        Returns:
            :data:`EXPENSE_COLUMNS` rows — key (the group's value as text, ``""`` when
            the line names none), currency, number of lines, amount at the currency's
            minor unit — sorted by key and currency.
        """
        ...


class MemoryExpenseQuery:
    """:class:`ExpenseQuery` over the memory adapter's claims."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def analysis(self, by: str, since: date, until: date, *, scope: Expr = TRUE) -> ReportTable:
        """See :meth:`ExpenseQuery.analysis`."""
        where = scope & F("state").is_in(list(COUNTED_CLAIMS))
        groups: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 2)
        for claim in self._uow.repository(ExpenseClaim).query(Query(where=where)):
            for line in claim.lines:
                if not since <= line.spent_on <= until:
                    continue
                value = claim.claimant_id if by == "claimant_id" else getattr(line, by)
                bucket = groups[(str(value or ""), line.amount.currency)]
                bucket[0] += 1
                bucket[1] += line.amount.amount
        return counted_sums(EXPENSE_COLUMNS, ((k, c, n, a) for (k, c), (n, a) in groups.items()))


class CollectionQuery(Protocol):
    """Port: money collected per customer, as one aggregate query."""

    def collected(self, since: date, until: date, *, scope: Expr = TRUE) -> ReportTable:
        """Confirmed receivable receipts confirmed in [since, until], per customer.

        What a receipt collected is its settled amount less what was refunded from it.

        Args:
            scope: narrows the receipts (a permission scope on ``receipt``).

        Returns:
            :data:`COLLECTION_COLUMNS` rows — customer id as text, settlement currency,
            number of receipts, amount at the currency's minor unit — sorted by
            customer and currency.
        """
        ...


def _collected_where(since: date, until: date, scope: Expr) -> Expr:
    return (
        scope
        & F("direction").eq(Direction.RECEIVABLE.value)
        & F("state").eq(ReceiptState.CONFIRMED.value)
        & F("confirmed_on").ge(since)
        & F("confirmed_on").le(until)
    )


class MemoryCollectionQuery:
    """:class:`CollectionQuery` over the memory adapter's receipts."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def collected(self, since: date, until: date, *, scope: Expr = TRUE) -> ReportTable:
        """See :meth:`CollectionQuery.collected`."""
        groups: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 2)
        where = _collected_where(since, until, scope)
        for receipt in self._uow.repository(Receipt).query(Query(where=where)):
            bucket = groups[(str(receipt.customer_id), receipt.settled.currency)]
            bucket[0] += 1
            bucket[1] += receipt.settled.amount - receipt.refunded.amount
        return counted_sums(COLLECTION_COLUMNS, ((k, c, n, a) for (k, c), (n, a) in groups.items()))
