"""The ledger's checks and the billing analytics (aging, DSO, forecast)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from crmkit.billing.model.ledger import (
    LedgerCheck,
    LedgerEntry,
    LedgerHead,
    head_id,
    rebuild_balances,
    verify_chain,
)
from crmkit.billing.model.plans import (
    Direction,
    Installment,
)
from crmkit.billing.model.receipts import (
    Receipt,
    Refund,
)
from crmkit.billing.queries import AgingBuckets, AgingQuery
from crmkit.billing.services._frame import CUSTOMER, INSTALLMENT, RECEIPT, _require
from crmkit.crm import Crm
from crmkit.customers.model import Customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.limits import DATE_MIN, to_date, to_member
from crmkit.kernel.money import Money
from crmkit.kernel.query import TRUE, Expr, F, Order, Query
from crmkit.kernel.report import ReportTable
from crmkit.ports import UnitOfWork, queries
from crmkit.rules.permissions import guarded
from crmkit.rules.permissions.model import Grants
from crmkit.rules.permissions.reader import aggregate, report_scope

__all__ = [
    "aging_report",
    "balance_mismatches",
    "collection_forecast",
    "days_sales_outstanding",
    "ledger_entries",
    "verify_ledger",
]


# -- ledger -----------------------------------------------------------------------------------


def _all_entries(uow: UnitOfWork) -> list[LedgerEntry]:
    return uow.repository(LedgerEntry).query(Query(order_by=(Order("seq"),)))


def ledger_entries(
    crm: Crm,
    actor: Actor,
    *,
    receipt_id: UUID | None = None,
    installment_id: UUID | None = None,
) -> list[LedgerEntry]:
    """Ledger entries in chain order, optionally only those of a receipt or installment.

    Only entries about a customer the actor may view, or about a receipt they may view,
    are returned: the ledger is the tenant's, but what it says about a customer is as
    private as the customer.

    Raises:
        PermissionDenied: the actor may not view receipts at all.
    """
    where: Expr = TRUE
    if receipt_id is not None:
        where = where & F("receipt_id").eq(receipt_id)
    if installment_id is not None:
        where = where & F("installment_id").eq(installment_id)

    def work(uow: UnitOfWork) -> list[LedgerEntry]:
        grants = _require(uow, actor, "view", RECEIPT)
        entries = uow.repository(LedgerEntry).query(Query(where=where, order_by=(Order("seq"),)))
        return _visible_entries(uow, grants, entries)

    return guarded(crm, actor, work)


def _visible_entries(
    uow: UnitOfWork, grants: Grants, entries: list[LedgerEntry]
) -> list[LedgerEntry]:
    """The entries whose customer (or receipt) the reader may view."""
    if grants.scope("view", CUSTOMER) == TRUE:
        return entries
    # Checked per customer and receipt the entries name, never over the whole tenant.
    named = {e.customer_id for e in entries if e.customer_id is not None}
    customers = uow.repository(Customer).get_many(sorted(named))
    seen: set[UUID] = {c.id for c in customers if grants.can("view", c, CUSTOMER)}
    others = {e.receipt_id for e in entries if e.customer_id not in seen and e.receipt_id}
    receipts = uow.repository(Receipt).get_many(sorted(others))
    seen |= {r.id for r in receipts if grants.can("view", r, RECEIPT)}
    return [e for e in entries if e.customer_id in seen or e.receipt_id in seen]


def verify_ledger(crm: Crm, actor: Actor) -> LedgerCheck:
    """Check the tenant's hash chain: every entry unaltered, none missing, none reordered."""

    def work(uow: UnitOfWork) -> LedgerCheck:
        _require(uow, actor, "view", RECEIPT)
        head = uow.repository(LedgerHead).find(head_id(actor.tenant_id))
        return verify_chain(_all_entries(uow), head)

    return guarded(crm, actor, work)


def balance_mismatches(crm: Crm, actor: Actor) -> list[UUID]:
    """Ids of installments, receipts and refunds whose cached balances differ from the
    balances rebuilt from the ledger (empty when everything agrees)."""

    def work(uow: UnitOfWork) -> list[UUID]:
        _require(uow, actor, "view", RECEIPT)
        rebuilt = rebuild_balances(_all_entries(uow))
        wrong: list[UUID] = []
        for item in uow.repository(Installment).query():
            if item.paid != rebuilt.installment_paid.get(item.id, Money.zero(item.paid.currency)):
                wrong.append(item.id)
        for receipt in uow.repository(Receipt).query():
            zero = Money.zero(receipt.currency)
            confirmed = receipt.settled if receipt.is_confirmed else zero
            if (
                confirmed != rebuilt.receipt_confirmed.get(receipt.id, zero)
                or receipt.allocated != rebuilt.receipt_allocated.get(receipt.id, zero)
                or receipt.refunded != rebuilt.receipt_refunded.get(receipt.id, zero)
            ):
                wrong.append(receipt.id)
        for refund in uow.repository(Refund).query():
            if refund.paid != rebuilt.refund_paid.get(refund.id, Money.zero(refund.paid.currency)):
                wrong.append(refund.id)
        return wrong

    return guarded(crm, actor, work)


# -- analytics --------------------------------------------------------------------------------


def _aging(uow: UnitOfWork, actor: Actor, scope: Expr) -> tuple[AgingQuery, Expr, Grants]:
    """The aging port, ``scope`` narrowed to the installments the actor may view, and the
    actor's grants (to omit the measures over fields hidden from them).

    Raises:
        PermissionDenied: no view grant on installments, or ``scope`` filters on a field
            hidden from the actor.
    """
    grants = _require(uow, actor, "view", INSTALLMENT)
    port: AgingQuery = queries(uow, AgingQuery)
    return port, report_scope(grants, INSTALLMENT, scope), grants


# The installment fields each report column is computed from (see ``aggregate``): what is
# outstanding reads the amount and what was paid; a currency is the amount's.
_OUTSTANDING = ("amount", "paid")
_DSO_SOURCES = {
    "currency": ("amount",),
    "outstanding": _OUTSTANDING,
    "raised": ("amount",),
    "dso": _OUTSTANDING,
}
_FORECAST_SOURCES = {"period": ("due_date",), "currency": ("amount",), "due": _OUTSTANDING}


def _aging_sources(buckets: AgingBuckets) -> dict[str, tuple[str, ...]]:
    sources: dict[str, tuple[str, ...]] = {
        "customer_id": ("customer_id",),
        "owner_id": ("owner_id",),
        "currency": ("amount",),
        "total": _OUTSTANDING,
    }
    sources.update((label, _OUTSTANDING) for label in buckets.labels)
    return sources


def aging_report(
    crm: Crm,
    actor: Actor,
    on: date,
    *,
    scope: Expr = TRUE,
    buckets: AgingBuckets | None = None,
    direction: Direction = Direction.RECEIVABLE,
) -> ReportTable:
    """Outstanding receivables (or payables) per customer, owner and currency in aging
    buckets on ``on``: only installments the actor may view, further narrowed by
    ``scope`` (any filter over installment fields).

    Amounts over an installment field hidden from the actor are omitted (``None``; the
    rows stay), as every report does (see
    :func:`crmkit.rules.permissions.reader.aggregate`).

    Raises:
        PermissionDenied: no view grant on installments, or ``scope`` filters on a
            hidden field.
    """
    direction = to_member(Direction, direction, entity="aging report", field="direction")
    chosen = buckets or AgingBuckets()
    on = to_date(on, entity="aging report", field="on")

    def work(uow: UnitOfWork) -> ReportTable:
        port, where, grants = _aging(uow, actor, scope)
        table = port.aging(on, scope=where, buckets=chosen, direction=direction)
        return aggregate(grants, INSTALLMENT, table, _aging_sources(chosen))

    return guarded(crm, actor, work)


def days_sales_outstanding(
    crm: Crm, actor: Actor, on: date, *, days: int = 90, scope: Expr = TRUE
) -> ReportTable:
    """DSO per currency over the ``days`` before ``on``, limited to ``scope`` (figures over
    fields hidden from the actor omitted, as in :func:`aging_report`).

    Raises:
        ValidationError: ``on`` is not a date within the limits, or the window of
            ``days`` before it is negative or reaches before them.
    """
    on = to_date(on, entity="days sales outstanding", field="on")
    if isinstance(days, int) and not 0 <= days <= (on - DATE_MIN).days:
        # The window's first day must be a date crmkit stores (and computable at all).
        raise invalid(
            "days sales outstanding",
            "days",
            N_("must be between 0 and {maximum}"),
            maximum=(on - DATE_MIN).days,
        )

    def work(uow: UnitOfWork) -> ReportTable:
        port, where, grants = _aging(uow, actor, scope)
        return aggregate(grants, INSTALLMENT, port.dso(on, days=days, scope=where), _DSO_SOURCES)

    return guarded(crm, actor, work)


def collection_forecast(
    crm: Crm,
    actor: Actor,
    start: date,
    end: date,
    *,
    grain: str = "week",
    scope: Expr = TRUE,
) -> ReportTable:
    """Expected collections per week or month: installments due and slips received.

    Raises:
        ValidationError: ``start`` or ``end`` is not a date (ISO text is read as one).
    """
    start = to_date(start, entity="collection forecast", field="start")
    end = to_date(end, entity="collection forecast", field="end")

    def work(uow: UnitOfWork) -> ReportTable:
        port, where, grants = _aging(uow, actor, scope)
        table = port.forecast(start, end, grain=grain, scope=where)
        return aggregate(grants, INSTALLMENT, table, _FORECAST_SOURCES)

    return guarded(crm, actor, work)
