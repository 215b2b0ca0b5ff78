"""Quote use cases: drawn up from the price list, revised, approved, converted.

Every function is one transaction. Creating a quote for an opportunity records
the ``quote`` document on it (the gate of the *proposal* stage) in the same
transaction; converting a quote writes the new contract or order, marks the quote
converted and takes a document number together, so a quote converted twice at the
same moment converts exactly once — the second attempt fails on the quote's
version check (or, retried, finds it converted).

Quotes over the discount threshold carry ``approval_required``: submitting one
enters the tenant's approval flow when it has one (see
:mod:`crmkit.pipeline.services.approvals`), else :func:`approve_quote` records the
decision.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import attrs

from crmkit.billing.model.credit import (
    CreditCheck,
)
from crmkit.crm import Crm
from crmkit.customers.model import Customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import ConcurrencyConflict
from crmkit.kernel.event_origin import origin
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.query import F, Order, Query
from crmkit.pipeline.model.contracts import (
    Contract,
    ContractKind,
)
from crmkit.pipeline.model.opportunities import Opportunity
from crmkit.pipeline.model.orders import (
    SalesOrder,
)
from crmkit.pipeline.model.pricing import (
    DiscountRate,
)
from crmkit.pipeline.model.quotes import (
    ConversionKind,
    Quote,
    QuoteCreated,
    QuoteId,
)
from crmkit.pipeline.model.resources import QUOTES
from crmkit.pipeline.services.approvals import (
    QUOTE_DOCUMENT,
    route_quote,
)
from crmkit.pipeline.services.contracts import new_contract
from crmkit.pipeline.services.documents import (
    DocumentNumbers,
    LineRequest,
    act_on,
    allow,
    approve_by_hand,
    customer_and_deal,
    document_settings,
    load_for_change,
    price_requests,
    record_on_deal,
    reject_by_hand,
    rule_numbers,
    submit_to_flow,
)
from crmkit.pipeline.services.opportunities import refresh_quote_document
from crmkit.pipeline.services.orders import open_order
from crmkit.ports import UnitOfWork
from crmkit.rules.approvals import ensure_editable
from crmkit.rules.permissions import guarded

__all__ = [
    "approve_quote",
    "convert_quote_to_contract",
    "convert_quote_to_order",
    "create_quote",
    "decline_quote",
    "quote_versions",
    "reject_quote",
    "revise_quote",
    "submit_quote",
]


def create_quote(
    crm: Crm,
    actor: Actor,
    *,
    customer_id: uuid.UUID,
    currency: str,
    lines: Sequence[LineRequest] | None = None,
    opportunity_id: uuid.UUID | None = None,
    total_discount: DiscountRate | None = None,
    valid_until: date | None = None,
    valid_days: int = 30,
    notes: str = "",
    numbers: DocumentNumbers = rule_numbers,
) -> Quote:
    """Draw up a quote priced from the price list for the customer's level and currency.

    Given an opportunity, the quote belongs to it and the deal records a ``quote``
    document (so it may enter the *proposal* stage) in the same transaction. Without
    ``lines`` the quote starts from the deal's product lines: the same products,
    quantities, unit prices, discounts, names and categories (each product must be on
    the price list, which the quote records).

    Raises:
        NotFound: no such customer or opportunity.
        PermissionDenied: the actor may not create quotes, view the customer or edit the
            deal.
        ValidationError: no price list covers the customer today, a product is not on
            it, the opportunity is another customer's, a line is invalid, or no lines
            were given and the deal has none (or is in another currency).
    """

    def work(uow: UnitOfWork) -> Quote:
        now = crm.now()
        allow(uow, actor, "create", QUOTES)
        customer, deal = customer_and_deal(uow, actor, customer_id, opportunity_id, "quote")
        requests, categories = _requests_for(deal, currency, lines)
        price_list, priced = price_requests(uow, customer, currency, now.date(), requests)
        if categories:
            priced = tuple(
                attrs.evolve(line, category=category)
                for line, category in zip(priced, categories, strict=True)
            )
        quote = Quote(
            id=QuoteId(crm.new_id()),
            tenant_id=actor.tenant_id,
            number=numbers(uow, "quote", now),
            customer_id=customer.id,
            currency=currency,
            lines=priced,
            valid_until=valid_until or now.date() + timedelta(days=valid_days),
            created_at=now,
            opportunity_id=opportunity_id,
            price_list_id=price_list.id,
            owner_id=actor.user_id,
            total_discount=total_discount or DiscountRate.none(),
            notes=notes,
        )
        allow(uow, actor, "create", QUOTES, quote)
        quote.assess(document_settings(uow).discount_threshold)
        uow.repository(Quote).add(quote)
        record_on_deal(uow, opportunity_id, "quote")
        uow.outbox.add(_created(quote, now))
        return quote

    return guarded(crm, actor, work)


def _requests_for(
    deal: Opportunity | None, currency: str, lines: Sequence[LineRequest] | None
) -> tuple[Sequence[LineRequest], list[str | None]]:
    """The lines to price, and (from a deal's lines) the category of each."""
    if lines is not None:
        return lines, []
    if deal is None or not deal.lines or deal.amount.currency != currency:
        raise invalid(
            "quote", "lines", N_("give the lines, or a deal in {currency} with lines"),
            currency=currency,
        )  # fmt: skip
    requests = [
        LineRequest(
            line.product_code,
            line.quantity,
            line.discount,
            unit_price=line.unit_price,
            description=line.description,
        )
        for line in deal.lines
    ]
    return requests, [line.category for line in deal.lines]


def _created(quote: Quote, now: datetime) -> QuoteCreated:
    assert quote.total is not None
    return QuoteCreated(
        **origin(quote, now),
        number=quote.number,
        revision=quote.revision,
        total=quote.total,
        approval_required=quote.approval_required,
    )


def revise_quote(
    crm: Crm,
    actor: Actor,
    quote_id: uuid.UUID,
    *,
    lines: Sequence[LineRequest] | None = None,
    total_discount: DiscountRate | None = None,
    valid_until: date | None = None,
    expected_version: int | None = None,
) -> Quote:
    """Make the next version of a live quote; the old one becomes ``superseded``.

    New lines are priced from the list in effect today; without ``lines`` the old
    lines carry over. The new version is a draft and is assessed for approval again.

    Raises:
        InvalidTransition: the quote was converted, declined or already revised.
        DocumentLocked: the quote is in review (or approved) in an approval flow.
        ConcurrencyConflict: someone changed it since ``expected_version``.
    """

    def work(uow: UnitOfWork) -> Quote:
        now = crm.now()
        repo = uow.repository(Quote)
        old = load_for_change(uow, actor, Quote, QUOTES, quote_id)
        ensure_editable(uow, QUOTE_DOCUMENT, old.id)
        if expected_version is not None and old.version != expected_version:
            raise ConcurrencyConflict(entity="quote", id=quote_id, version=expected_version)
        priced, list_id = None, old.price_list_id
        if lines is not None:
            customer = uow.repository(Customer).get(old.customer_id)
            price_list, priced = price_requests(uow, customer, old.currency, now.date(), lines)
            list_id = price_list.id
        new, event = old.revise(
            QuoteId(crm.new_id()),
            now,
            lines=priced,
            total_discount=total_discount,
            valid_until=valid_until,
            threshold=document_settings(uow).discount_threshold,
        )
        new.price_list_id = list_id
        new.owner_id = old.owner_id or actor.user_id
        repo.save(old)  # the version check: a quote is revised once
        repo.add(new)
        uow.outbox.add(event, _created(new, now))
        return new

    return guarded(crm, actor, work)


_on_quote = functools.partial(act_on, Quote, QUOTES)


def submit_quote(crm: Crm, actor: Actor, quote_id: uuid.UUID) -> Quote:
    """Finish a draft: approved at once within the discount threshold, else sent to approval.

    A quote that needs approval goes into the tenant's active ``"quote"`` approval
    flow in the same transaction when there is one (see :mod:`crmkit.pipeline.services.approvals`);
    otherwise it waits for :func:`approve_quote`.

    Raises:
        DocumentLocked: an approval flow is deciding the quote (nothing changes).
        InvalidTransition: the quote is not a draft.
        NoApprover: the flow's stage resolves to nobody (the quote stays a draft).
    """

    def work(uow: UnitOfWork) -> Quote:
        now = crm.now()
        repo = uow.repository(Quote)
        quote = load_for_change(uow, actor, Quote, QUOTES, quote_id)
        if not quote.approval_required:
            event = quote.approve(actor.user_id, now)
            repo.save(quote)
            uow.outbox.add(event)
            return quote
        return submit_to_flow(uow, actor, quote, route_quote, now)

    return guarded(crm, actor, work)


def approve_quote(crm: Crm, approver: Actor, quote_id: uuid.UUID) -> Quote:
    """The approver lets a quote over the discount threshold go out.

    Raises:
        DocumentLocked: an approval flow is deciding the quote.
        SelfApprovalForbidden: the approver owns the quote and the tenant does not allow
            self-approval (:func:`~crmkit.rules.approvals.configure_approvals`).
    """

    def approve(uow: UnitOfWork, quote: Quote, now: datetime) -> DomainEvent | None:
        return approve_by_hand(uow, approver, QUOTE_DOCUMENT, QUOTES, quote, now)

    return _on_quote(crm, approver, quote_id, approve, "approve")


def reject_quote(crm: Crm, approver: Actor, quote_id: uuid.UUID, why: str) -> Quote:
    """The approver sends a quote back to draft (revise it, then submit again).

    Raises:
        DocumentLocked: an approval flow is deciding the quote.
    """
    return reject_by_hand(Quote, QUOTES, QUOTE_DOCUMENT, crm, approver, quote_id, why)


def decline_quote(crm: Crm, actor: Actor, quote_id: uuid.UUID, why: str) -> Quote:
    """Record that the customer turned the quote down.

    Its deal's ``quote`` document goes with it unless another of the deal's quotes
    still stands, so a stage gate asking for a quote no longer passes on it.

    Raises:
        DocumentLocked: an approval flow is deciding the quote (nothing changes).
    """

    def decline(uow: UnitOfWork, quote: Quote, now: datetime) -> DomainEvent | None:
        event = quote.decline(why, now)
        if quote.opportunity_id is not None:
            deals = uow.repository(Opportunity)
            deal = deals.get(quote.opportunity_id)
            if refresh_quote_document(uow, deal, now.date(), quote):
                deals.save(deal)
        return event

    return _on_quote(crm, actor, quote_id, decline)


def quote_versions(crm: Crm, actor: Actor, quote_id: uuid.UUID) -> list[Quote]:
    """Every version of the quote's family, first to latest."""

    def work(uow: UnitOfWork) -> list[Quote]:
        repo = uow.repository(Quote)
        first = repo.get(quote_id)
        allow(uow, actor, "view", QUOTES, first)
        query = Query(where=F("root_id").eq(first.root_id), order_by=(Order("revision"),))
        return repo.query(query)

    return guarded(crm, actor, work)


def convert_quote_to_order(
    crm: Crm,
    actor: Actor,
    quote_id: uuid.UUID,
    *,
    credit: CreditCheck | None = None,
    numbers: DocumentNumbers = rule_numbers,
) -> SalesOrder:
    """Turn an approved quote into a sales order, checking the customer's credit.

    Over the credit limit the order is created ``on_credit_hold``.

    Raises:
        DocumentLocked: an approval flow is deciding the quote (nothing changes).
        InvalidTransition: the quote is not approved, or was converted already.
        ValidationError: the quote expired.
        ConcurrencyConflict: another conversion of the same quote won.
    """

    def make(uow: UnitOfWork, quote: Quote, order_id: uuid.UUID, now: datetime) -> SalesOrder:
        return open_order(
            uow,
            crm,
            actor,
            now,
            credit,
            numbers,
            order_id,
            customer_id=quote.customer_id,
            currency=quote.currency,
            lines=quote.lines,
            total_discount=quote.total_discount,
            quote_id=quote.id,
            opportunity_id=quote.opportunity_id,
        )

    return _convert(crm, actor, quote_id, ConversionKind.SALES_ORDER, make)


def convert_quote_to_contract(
    crm: Crm,
    actor: Actor,
    quote_id: uuid.UUID,
    *,
    start_date: date,
    end_date: date | None = None,
    kind: ContractKind = ContractKind.SALES,
    title: str | None = None,
    terms: str = "",
    payment_terms: str = "",
    notice_days: int | None = None,
    numbers: DocumentNumbers = rule_numbers,
) -> Contract:
    """Turn an approved quote into a draft contract with the quote's lines and total.

    Raises:
        DocumentLocked: an approval flow is deciding the quote (nothing changes).
        InvalidTransition: the quote is not approved, or was converted already.
        ValidationError: the quote expired, or the dates are inconsistent.
        ConcurrencyConflict: another conversion of the same quote won.
    """

    def make(uow: UnitOfWork, quote: Quote, contract_id: uuid.UUID, now: datetime) -> Contract:
        assert quote.total is not None
        extra: dict[str, Any] = {} if notice_days is None else {"notice_days": notice_days}
        contract = new_contract(
            uow,
            crm,
            actor,
            now,
            numbers,
            contract_id,
            kind=kind,
            title=title or f"{quote.number}",
            customer_id=quote.customer_id,
            amount=quote.total,
            start_date=start_date,
            end_date=end_date,
            terms=terms,
            payment_terms=payment_terms,
            lines=quote.lines,
            total_discount=quote.total_discount,
            quote_id=quote.id,
            opportunity_id=quote.opportunity_id,
            **extra,
        )
        record_on_deal(uow, quote.opportunity_id, "contract")
        return contract

    return _convert(crm, actor, quote_id, ConversionKind.CONTRACT, make)


_Made = TypeVar("_Made", SalesOrder, Contract)


def _convert(
    crm: Crm,
    actor: Actor,
    quote_id: uuid.UUID,
    kind: ConversionKind,
    make: Callable[[UnitOfWork, Quote, uuid.UUID, datetime], _Made],
) -> _Made:
    """Convert an approved quote and ``make`` what it became, in one transaction."""

    def work(uow: UnitOfWork) -> _Made:
        now = crm.now()
        quote = load_for_change(uow, actor, Quote, QUOTES, quote_id)
        into_id = crm.new_id()
        event = quote.convert(kind, into_id, now.date(), now)
        # Save the quote first: of two concurrent conversions, only one passes this.
        uow.repository(Quote).save(quote)
        made = make(uow, quote, into_id, now)
        uow.outbox.add(event)
        return made

    return guarded(crm, actor, work)
