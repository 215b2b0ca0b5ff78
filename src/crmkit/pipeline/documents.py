"""Sales-document use cases: price lists, quotes, contracts and sales orders.

Every function is one transaction. Creating a quote for an opportunity records
the ``quote`` document on it (the gate of the *proposal* stage) in the same
transaction; converting a quote writes the new contract or order, marks the quote
converted and takes a document number together, so a quote converted twice at the
same moment converts exactly once — the second attempt fails on the quote's
version check (or, retried, finds it converted).

Two seams wait for the rules colleagues are building:

- **Numbers** come from a ``numbers`` callable ``(uow, kind, at) -> str``. The
  default, :func:`rule_numbers`, uses the tenant's numbering rules
  inside the same unit of work (``QT-2026-00001``); the tenant's numbering rules
  plug in here.
- **Approval**: quotes over the discount threshold and (by default) every
  contract carry ``approval_required``; :func:`approve_quote` /
  :func:`approve_contract` record the decision. An approval flow calls those (or
  the domain methods from its hooks) once its last stage approves.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import attrs

from crmkit.billing.model.credit import (
    CreditCheck,
    HeldDocument,
    UnbilledDocument,
    register_credit_documents,
)
from crmkit.billing.services.credit import CreditLimitCheck
from crmkit.billing.services.overrides import ensure_override_editable
from crmkit.crm import Crm
from crmkit.customers.model import Customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import ConcurrencyConflict, NotFound, ValidationError, reason
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId
from crmkit.kernel.limits import expect_type, to_amount, to_member
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Order, Query
from crmkit.pipeline.approvals import (
    CONTRACT_DOCUMENT,
    CREDIT_OVERRIDE_DOCUMENT,
    QUOTE_DOCUMENT,
    route_contract,
    route_credit_override,
    route_quote,
)
from crmkit.pipeline.model.contracts import (
    Attachment,
    Contract,
    ContractCreated,
    ContractId,
    ContractKind,
    ContractStatus,
)
from crmkit.pipeline.model.opportunities import Opportunity
from crmkit.pipeline.model.orders import (
    OrderCreated,
    OrderStatus,
    SalesOrder,
    SalesOrderId,
)
from crmkit.pipeline.model.pricing import (
    DiscountRate,
    LineItem,
    PriceList,
    PriceListId,
    PriceListItem,
    choose_price_list,
    price_line,
)
from crmkit.pipeline.model.quotes import (
    ConversionKind,
    Quote,
    QuoteCreated,
    QuoteId,
    SalesDocumentSettings,
    sales_settings_id,
)
from crmkit.pipeline.services import refresh_quote_document
from crmkit.ports import UnitOfWork
from crmkit.rules.approvals import ensure_editable, ensure_not_in_review, ensure_not_own
from crmkit.rules.numbering import NumberingRule, Reset, next_number, numbering_rule_id
from crmkit.rules.permissions import grants_for, guarded, register_resource
from crmkit.rules.reminders.model import ReminderSource, register_source

__all__ = [
    "DEFAULT_PATTERNS",
    "CustomerCreditLimit",
    "DocumentNumbers",
    "LineRequest",
    "SalesOrderCredit",
    "approve_contract",
    "approve_quote",
    "attach_to_contract",
    "cancel_order",
    "complete_contract",
    "configure_sales_documents",
    "convert_quote_to_contract",
    "convert_quote_to_order",
    "create_contract",
    "create_order_from_contract",
    "create_quote",
    "decline_quote",
    "define_price_list",
    "expire_contracts",
    "quote_versions",
    "record_delivery",
    "reject_contract",
    "reject_quote",
    "release_credit_hold",
    "renew_contract",
    "revise_quote",
    "rule_numbers",
    "sign_contract",
    "submit_contract",
    "submit_quote",
    "terminate_contract",
]

# Contracts are what "30 days before a contract ends" reminder rules watch.
register_source(ReminderSource("contract", Contract, title_field="number"))

QUOTES, CONTRACTS, ORDERS, PRICING = "quote", "contract", "sales_order", "price_list"
# What each document carries of another field: lines add up to the total (so hiding the
# total hides them), the renewal notice day is the end date less the notice days, and an
# order keeps the customer's credit limit it was checked against.
register_resource(QUOTES, entity=Quote, derived={"lines": ("subtotal", "total")})
register_resource(
    CONTRACTS,
    entity=Contract,
    derived={"lines": ("amount",), "renewal_notice_on": ("end_date", "notice_days")},
)
register_resource(
    ORDERS,
    entity=SalesOrder,
    derived={"lines": ("total",), "credit_limit": ("customer:credit_limit",)},
)
# Tenant-wide: whoever holds "edit" on price lists sets prices, thresholds and notice days.
register_resource(
    PRICING, fields=("items", "discount_threshold", "notice_days"), operations=("view", "edit")
)


def _allow(
    uow: UnitOfWork, actor: Actor, operation: str, resource: str, record: object = None
) -> None:
    """Raise ``PermissionDenied`` unless the actor may do ``operation`` (on ``record``)."""
    grants = grants_for(uow, actor)
    if record is None:
        grants.require_operation(operation, resource)
    else:
        grants.require(operation, record, resource)


def _customer_and_deal(
    uow: UnitOfWork,
    actor: Actor,
    customer_id: uuid.UUID,
    opportunity_id: uuid.UUID | None,
    entity: str,
) -> tuple[Customer, Opportunity | None]:
    """The customer a new document is for and the deal it belongs to, both checked.

    The document copies what it reads from them and records itself on the deal, so the
    actor must be able to view the customer and edit the deal (another rep's customer
    or deal is not theirs to quote or contract).

    Raises:
        NotFound: no such customer (or it is in the recycle bin) or opportunity.
        PermissionDenied: the actor may not view the customer or edit the deal.
        ValidationError: the deal is another customer's.
    """
    grants = grants_for(uow, actor)
    customer = uow.repository(Customer).get(customer_id)
    if customer.deleted_at is not None:
        raise NotFound(entity="customer", id=customer_id)
    grants.require("view", customer, "customer")
    if opportunity_id is None:
        return customer, None
    deal = uow.repository(Opportunity).get(opportunity_id)
    grants.require("edit", deal, "opportunity")
    if deal.customer_id != customer.id:
        raise _invalid(entity, "opportunity_id", N_("the opportunity is with another customer"))
    return customer, deal


D = TypeVar("D", Quote, Contract)
E = TypeVar("E", Quote, Contract, SalesOrder)


def _load_for_change(
    uow: UnitOfWork,
    actor: Actor,
    entity_type: type[E],
    resource: str,
    record_id: uuid.UUID,
    operation: str = "edit",
) -> E:
    """Load a quote, contract or order that a service is about to change.

    Every service that changes one of them (or acts on it: converts, renews, calls
    off an order) loads it here: the actor's permission first, then the one review
    lock — while an approval flow decides the document, every change is refused with
    ``DocumentLocked`` before the document's own rules are asked.
    """
    record = uow.repository(entity_type).get(record_id)
    _allow(uow, actor, operation, resource, record)
    ensure_not_in_review(uow, record)
    return record


DocumentNumbers = Callable[[UnitOfWork, str, datetime], str]
"""Hands out the number of a new document: ``numbers(uow, kind, at)``; kinds are
``quote``, ``contract`` and ``sales_order``."""

_PREFIXES = {"quote": "QT", "contract": "CT", "sales_order": "SO"}


DEFAULT_PATTERNS = {
    "quote": "QT-{yyyy}-{seq:5}",
    "contract": "CT-{yyyy}-{seq:5}",
    "sales_order": "SO-{yyyy}-{seq:5}",
}


def rule_numbers(uow: UnitOfWork, kind: str, at: datetime) -> str:
    """Numbers from the tenant's numbering rule for ``kind`` (``quote``, ``contract``,
    ``sales_order``), taken in the caller's transaction so a rollback gives them back.

    A tenant that defined no rule gets ``QT-2026-00001`` style numbers: the first use
    stores that default rule (yearly reset), which an administrator may replace.
    """
    key = numbering_rule_id(uow.tenant_id, kind)
    uow.repository(NumberingRule).add_if_absent(
        NumberingRule(
            id=key,
            tenant_id=uow.tenant_id,
            doc_type=kind,
            reset=Reset.YEARLY,
            pattern=DEFAULT_PATTERNS.get(kind, f"{kind.upper()}-{{yyyy}}-{{seq:5}}"),
        )
    )
    return next_number(uow, kind, at)


def _invalid(entity: str, field: str, message: str, **params: Any) -> ValidationError:
    return ValidationError(entity=entity, field=field, reason=reason(message, **params))


def _settings(uow: UnitOfWork) -> SalesDocumentSettings:
    found = uow.repository(SalesDocumentSettings).find(sales_settings_id(uow.tenant_id))
    return found or SalesDocumentSettings(
        id=sales_settings_id(uow.tenant_id), tenant_id=uow.tenant_id
    )


def configure_sales_documents(
    crm: Crm,
    actor: Actor,
    *,
    discount_threshold: DiscountRate | None = None,
    contracts_need_approval: bool | None = None,
    notice_days: int | None = None,
) -> SalesDocumentSettings:
    """Set the tenant's discount threshold, contract approval and renewal notice days."""

    def work(uow: UnitOfWork) -> SalesDocumentSettings:
        _allow(uow, actor, "edit", PRICING)
        repo = uow.repository(SalesDocumentSettings)
        current = _settings(uow)
        changes: dict[str, Any] = {}
        if discount_threshold is not None:
            changes["discount_threshold"] = discount_threshold
        if contracts_need_approval is not None:
            changes["contracts_need_approval"] = contracts_need_approval
        if notice_days is not None:
            changes["notice_days"] = notice_days
        updated = attrs.evolve(current, **changes)
        return repo.save(updated) if current.version else repo.add(updated)

    return guarded(crm, actor, work)


def define_price_list(
    crm: Crm,
    actor: Actor,
    *,
    name: str,
    currency: str,
    items: Sequence[PriceListItem],
    valid_from: date,
    valid_to: date | None = None,
    customer_level: str | None = None,
) -> PriceList:
    """Store a price list (for every customer level unless ``customer_level`` is given).

    Raises:
        ValidationError: bad dates, a product listed twice, or a missing name.
        CurrencyMismatch: an item priced in another currency.
    """
    expect_type(name, str, field="name")
    expect_type(currency, str, field="currency")
    price_list = PriceList(
        id=PriceListId(crm.new_id()),
        tenant_id=actor.tenant_id,
        name=name,
        currency=currency,
        valid_from=valid_from,
        valid_to=valid_to,
        items=tuple(items),
        customer_level=customer_level,
    )

    def work(uow: UnitOfWork) -> PriceList:
        _allow(uow, actor, "edit", PRICING)
        return uow.repository(PriceList).add(price_list)

    return guarded(crm, actor, work)


# -- quotes ----------------------------------------------------------------------------------


@attrs.frozen
class LineRequest:
    """A line a rep asks for: a product from the price list, how many, and a discount.

    Attributes:
        product_code: the product on the price list.
        quantity: how many units (the volume tier follows from it).
        discount: the line discount, none by default.
        unit_price: a negotiated unit price instead of the list's.
        description: text instead of the list item's name.
    """

    product_code: str
    quantity: Decimal = attrs.field(converter=Decimal)
    discount: DiscountRate = attrs.field(factory=DiscountRate.none)
    unit_price: Money | None = None
    description: str | None = None


def _price(
    uow: UnitOfWork, customer: Customer, currency: str, on: date, requests: Sequence[LineRequest]
) -> tuple[PriceList, tuple[LineItem, ...]]:
    lists = uow.repository(PriceList).query(Query(where=F("currency").eq(currency)))
    price_list = choose_price_list(lists, customer.level, currency, on)
    lines = tuple(
        price_line(
            n,
            price_list,
            r.product_code,
            r.quantity,
            r.discount,
            unit_price=r.unit_price,
            description=r.description,
        )
        for n, r in enumerate(requests, start=1)
    )
    return price_list, lines


def _record_on_deal(uow: UnitOfWork, opportunity_id: uuid.UUID | None, kind: str) -> None:
    """Note a document kind on the deal, for its stage gates."""
    if opportunity_id is None:
        return
    repo = uow.repository(Opportunity)
    deal = repo.get(opportunity_id)
    if kind not in deal.documents:
        deal.documents = (*deal.documents, kind)
        repo.save(deal)


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
        _allow(uow, actor, "create", QUOTES)
        customer, deal = _customer_and_deal(uow, actor, customer_id, opportunity_id, "quote")
        requests, categories = _requests_for(deal, currency, lines)
        price_list, priced = _price(uow, customer, currency, now.date(), requests)
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
        _allow(uow, actor, "create", QUOTES, quote)
        quote.assess(_settings(uow).discount_threshold)
        uow.repository(Quote).add(quote)
        _record_on_deal(uow, opportunity_id, "quote")
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
        raise _invalid(
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
        tenant_id=quote.tenant_id,
        aggregate_id=quote.id,
        occurred_at=now,
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
        old = _load_for_change(uow, actor, Quote, QUOTES, quote_id)
        ensure_editable(uow, QUOTE_DOCUMENT, old.id)
        if expected_version is not None and old.version != expected_version:
            raise ConcurrencyConflict(entity="quote", id=quote_id, version=expected_version)
        priced, list_id = None, old.price_list_id
        if lines is not None:
            customer = uow.repository(Customer).get(old.customer_id)
            price_list, priced = _price(uow, customer, old.currency, now.date(), lines)
            list_id = price_list.id
        new, event = old.revise(
            QuoteId(crm.new_id()),
            now,
            lines=priced,
            total_discount=total_discount,
            valid_until=valid_until,
            threshold=_settings(uow).discount_threshold,
        )
        new.price_list_id = list_id
        new.owner_id = old.owner_id or actor.user_id
        repo.save(old)  # the version check: a quote is revised once
        repo.add(new)
        uow.outbox.add(event, _created(new, now))
        return new

    return guarded(crm, actor, work)


def _act_on(
    crm: Crm,
    actor: Actor,
    entity_type: type[D],
    resource: str,
    record_id: uuid.UUID,
    action: Callable[[UnitOfWork, D, datetime], DomainEvent | None],
    operation: str,
) -> D:
    """Load a document, check the actor may ``operation`` it, act, save, record the event."""

    def work(uow: UnitOfWork) -> D:
        repo = uow.repository(entity_type)
        record = _load_for_change(uow, actor, entity_type, resource, record_id, operation)
        event = action(uow, record, crm.now())
        repo.save(record)
        if event is not None:
            uow.outbox.add(event)
        return record

    return guarded(crm, actor, work)


def _on_quote(
    crm: Crm,
    actor: Actor,
    quote_id: uuid.UUID,
    action: Callable[[UnitOfWork, Quote, datetime], DomainEvent | None],
    operation: str = "edit",
) -> Quote:
    return _act_on(crm, actor, Quote, QUOTES, quote_id, action, operation)


def submit_quote(crm: Crm, actor: Actor, quote_id: uuid.UUID) -> Quote:
    """Finish a draft: approved at once within the discount threshold, else sent to approval.

    A quote that needs approval goes into the tenant's active ``"quote"`` approval
    flow in the same transaction when there is one (see :mod:`crmkit.pipeline.approvals`);
    otherwise it waits for :func:`approve_quote`.

    Raises:
        DocumentLocked: an approval flow is deciding the quote (nothing changes).
        InvalidTransition: the quote is not a draft.
        NoApprover: the flow's stage resolves to nobody (the quote stays a draft).
    """

    def work(uow: UnitOfWork) -> Quote:
        now = crm.now()
        repo = uow.repository(Quote)
        quote = _load_for_change(uow, actor, Quote, QUOTES, quote_id)
        if not quote.approval_required:
            event = quote.approve(actor.user_id, now)
            repo.save(quote)
            uow.outbox.add(*_one(event))
            return quote
        uow.outbox.add(*_one(quote.submit(now)))
        repo.save(quote)
        # The flow's hooks may approve it at once (no stage applies): read it back.
        return repo.get(quote_id) if route_quote(uow, actor, quote, now) else quote

    return guarded(crm, actor, work)


def approve_quote(crm: Crm, approver: Actor, quote_id: uuid.UUID) -> Quote:
    """The approver lets a quote over the discount threshold go out.

    Raises:
        DocumentLocked: an approval flow is deciding the quote.
        SelfApprovalForbidden: the approver owns the quote and the tenant does not allow
            self-approval (:func:`~crmkit.rules.approvals.configure_approvals`).
    """

    def approve(uow: UnitOfWork, quote: Quote, now: datetime) -> DomainEvent | None:
        ensure_editable(uow, QUOTE_DOCUMENT, quote.id)
        ensure_not_own(uow, approver, (quote.owner_id,), f"{QUOTES} {quote.number}")
        return quote.approve(approver.user_id, now)

    return _on_quote(crm, approver, quote_id, approve, "approve")


def reject_quote(crm: Crm, approver: Actor, quote_id: uuid.UUID, why: str) -> Quote:
    """The approver sends a quote back to draft (revise it, then submit again).

    Raises:
        DocumentLocked: an approval flow is deciding the quote.
    """

    def reject(uow: UnitOfWork, quote: Quote, now: datetime) -> DomainEvent | None:
        ensure_editable(uow, QUOTE_DOCUMENT, quote.id)
        return quote.reject(approver.user_id, why, now)

    return _on_quote(crm, approver, quote_id, reject, "approve")


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
        _allow(uow, actor, "view", QUOTES, first)
        query = Query(where=F("root_id").eq(first.root_id), order_by=(Order("revision"),))
        return repo.query(query)

    return guarded(crm, actor, work)


# -- credit ----------------------------------------------------------------------------------


# The order confirmation asks billing's one credit rule (exposure = open receivables +
# unbilled orders - unapplied credit); the alias keeps the name hosts already pass in.
CustomerCreditLimit = CreditLimitCheck


@attrs.frozen
class SalesOrderCredit:
    """What billing's credit rule needs to know about sales orders (registered below).

    Confirmed and completed orders commit the customer to pay their total until a
    receivable plan takes over; orders on credit hold are not commitments yet.
    """

    document_type: str = "sales_order"

    def unbilled(self, uow: UnitOfWork, customer_id: uuid.UUID) -> list[UnbilledDocument]:
        """The customer's confirmed and completed orders (billing drops planned ones)."""
        where = F("customer_id").eq(customer_id) & F("status").is_in(
            [OrderStatus.CONFIRMED, OrderStatus.COMPLETED]
        )
        return [
            UnbilledDocument(self.document_type, o.id, o.total, o.created_at.date())
            for o in uow.repository(SalesOrder).query(Query(where=where))
            if o.total is not None
        ]

    def held(self, uow: UnitOfWork, document_id: uuid.UUID) -> HeldDocument | None:
        """The order if it waits on credit hold."""
        order = uow.repository(SalesOrder).find(document_id)
        if order is None or order.status is not OrderStatus.ON_CREDIT_HOLD:
            return None
        assert order.total is not None
        return HeldDocument(
            self.document_type, order.id, order.customer_id, order.total, order.number,
            order.owner_id,
        )  # fmt: skip

    def release(self, uow: UnitOfWork, document_id: uuid.UUID, by: uuid.UUID, at: datetime) -> None:
        """Release the order after an approved (resubmitted) credit override."""
        repo = uow.repository(SalesOrder)
        order = repo.get(document_id)
        if order.status is not OrderStatus.ON_CREDIT_HOLD:
            return  # cancelled (or released by hand) while the override was decided
        event = order.release(by, at)
        repo.save(order)
        uow.outbox.add(*_one(event))


register_credit_documents(SalesOrderCredit())


# -- conversion ------------------------------------------------------------------------------


def _open_order(
    uow: UnitOfWork,
    crm: Crm,
    actor: Actor,
    now: datetime,
    credit: CreditCheck,
    numbers: DocumentNumbers,
    order_id: uuid.UUID | None = None,
    **fields: Any,
) -> SalesOrder:
    order = SalesOrder(
        id=SalesOrderId(order_id or crm.new_id()),
        tenant_id=actor.tenant_id,
        number=numbers(uow, "sales_order", now),
        created_at=now,
        owner_id=actor.user_id,
        **fields,
    )
    assert order.total is not None
    _allow(uow, actor, "create", ORDERS, order)
    order.apply_credit(credit.check(uow, order.customer_id, order.total, now.date()))
    uow.repository(SalesOrder).add(order)
    _record_on_deal(uow, order.opportunity_id, "sales_order")
    uow.outbox.add(
        OrderCreated(
            tenant_id=order.tenant_id,
            aggregate_id=order.id,
            occurred_at=now,
            number=order.number,
            total=order.total,
            on_hold=order.status is OrderStatus.ON_CREDIT_HOLD,
        )
    )
    if order.status is OrderStatus.ON_CREDIT_HOLD and route_credit_override(uow, actor, order, now):
        # A route no stage applies to releases the order inside the submission: reload.
        order = uow.repository(SalesOrder).get(order.id)
    return order


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

    def work(uow: UnitOfWork) -> SalesOrder:
        now = crm.now()
        repo = uow.repository(Quote)
        quote = _load_for_change(uow, actor, Quote, QUOTES, quote_id)
        order_id = crm.new_id()
        event = quote.convert(ConversionKind.SALES_ORDER, order_id, now.date(), now)
        # Save the quote first: of two concurrent conversions, only one passes this.
        repo.save(quote)
        order = _open_order(
            uow,
            crm,
            actor,
            now,
            credit or CustomerCreditLimit(),
            numbers,
            order_id,
            customer_id=quote.customer_id,
            currency=quote.currency,
            lines=quote.lines,
            total_discount=quote.total_discount,
            quote_id=quote.id,
            opportunity_id=quote.opportunity_id,
        )
        if event is not None:
            uow.outbox.add(event)
        return order

    return guarded(crm, actor, work)


def _new_contract(
    uow: UnitOfWork,
    crm: Crm,
    actor: Actor,
    now: datetime,
    numbers: DocumentNumbers,
    contract_id: uuid.UUID | None = None,
    **fields: Any,
) -> Contract:
    settings = _settings(uow)
    fields.setdefault("notice_days", settings.notice_days)
    fields.setdefault("owner_id", actor.user_id)
    contract = Contract(
        id=ContractId(contract_id or crm.new_id()),
        tenant_id=actor.tenant_id,
        number=numbers(uow, "contract", now),
        created_at=now,
        approval_required=settings.contracts_need_approval,
        **fields,
    )
    _allow(uow, actor, "create", CONTRACTS, contract)
    uow.repository(Contract).add(contract)
    uow.outbox.add(
        ContractCreated(
            tenant_id=contract.tenant_id,
            aggregate_id=contract.id,
            occurred_at=now,
            number=contract.number,
            kind=contract.kind.value,
            amount=contract.amount,
        )
    )
    return contract


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

    def work(uow: UnitOfWork) -> Contract:
        now = crm.now()
        repo = uow.repository(Quote)
        quote = _load_for_change(uow, actor, Quote, QUOTES, quote_id)
        contract_id = crm.new_id()
        event = quote.convert(ConversionKind.CONTRACT, contract_id, now.date(), now)
        repo.save(quote)
        assert quote.total is not None
        extra: dict[str, Any] = {} if notice_days is None else {"notice_days": notice_days}
        contract = _new_contract(
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
        _record_on_deal(uow, quote.opportunity_id, "contract")
        if event is not None:
            uow.outbox.add(event)
        return contract

    return guarded(crm, actor, work)


# -- contracts -------------------------------------------------------------------------------


def create_contract(
    crm: Crm,
    actor: Actor,
    *,
    kind: ContractKind,
    title: str,
    customer_id: uuid.UUID,
    amount: Money,
    start_date: date,
    end_date: date | None = None,
    signed_on: date | None = None,
    terms: str = "",
    payment_terms: str = "",
    notice_days: int | None = None,
    opportunity_id: uuid.UUID | None = None,
    numbers: DocumentNumbers = rule_numbers,
) -> Contract:
    """Draw up a contract directly (a purchase or service contract, or a sale without a quote).

    Raises:
        NotFound: no such customer or opportunity.
        PermissionDenied: the actor may not create contracts, view the customer or edit
            the deal.
        ValidationError: a missing title, a negative amount, inconsistent dates, or the
            opportunity is another customer's.
    """
    kind = to_member(ContractKind, kind, entity="contract", field="kind")
    amount = to_amount(amount, entity="contract", field="amount")
    expect_type(title, str, field="title")

    def work(uow: UnitOfWork) -> Contract:
        _allow(uow, actor, "create", CONTRACTS)
        _customer_and_deal(uow, actor, customer_id, opportunity_id, "contract")
        extra: dict[str, Any] = {} if notice_days is None else {"notice_days": notice_days}
        contract = _new_contract(
            uow,
            crm,
            actor,
            crm.now(),
            numbers,
            kind=kind,
            title=title,
            customer_id=customer_id,
            amount=amount,
            start_date=start_date,
            end_date=end_date,
            signed_on=signed_on,
            terms=terms,
            payment_terms=payment_terms,
            opportunity_id=opportunity_id,
            **extra,
        )
        _record_on_deal(uow, opportunity_id, "contract")
        return contract

    return guarded(crm, actor, work)


def _on_contract(
    crm: Crm,
    actor: Actor,
    contract_id: uuid.UUID,
    action: Callable[[UnitOfWork, Contract, datetime], DomainEvent | None],
    operation: str = "edit",
) -> Contract:
    return _act_on(crm, actor, Contract, CONTRACTS, contract_id, action, operation)


def submit_contract(crm: Crm, actor: Actor, contract_id: uuid.UUID) -> Contract:
    """Send a draft contract for approval.

    With an active ``"contract"`` approval flow the contract enters it in the same
    transaction (see :mod:`crmkit.pipeline.approvals`); otherwise it waits for
    :func:`approve_contract`.

    Raises:
        DocumentLocked: an approval flow is deciding the contract (nothing changes).
        InvalidTransition: the contract is not a draft.
        NoApprover: the flow's stage resolves to nobody (the contract stays a draft).
    """

    def work(uow: UnitOfWork) -> Contract:
        now = crm.now()
        repo = uow.repository(Contract)
        contract = _load_for_change(uow, actor, Contract, CONTRACTS, contract_id)
        uow.outbox.add(*_one(contract.submit(now)))
        repo.save(contract)
        # The flow's hooks may approve it at once (no stage applies): read it back.
        return repo.get(contract_id) if route_contract(uow, actor, contract, now) else contract

    return guarded(crm, actor, work)


def approve_contract(
    crm: Crm, approver: Actor, contract_id: uuid.UUID, *, signed_on: date | None = None
) -> Contract:
    """The approver lets the contract take effect (it becomes active).

    Raises:
        DocumentLocked: an approval flow is deciding the contract.
        SelfApprovalForbidden: the approver owns the contract and the tenant does not
            allow self-approval.
    """

    def approve(uow: UnitOfWork, contract: Contract, now: datetime) -> DomainEvent | None:
        ensure_editable(uow, CONTRACT_DOCUMENT, contract.id)
        ensure_not_own(uow, approver, (contract.owner_id,), f"{CONTRACTS} {contract.number}")
        event = contract.approve(approver.user_id, now)
        if signed_on is not None:
            contract.signed_on = signed_on
        return event

    return _on_contract(crm, approver, contract_id, approve, "approve")


def reject_contract(crm: Crm, approver: Actor, contract_id: uuid.UUID, why: str) -> Contract:
    """The approver sends the contract back to draft.

    Raises:
        DocumentLocked: an approval flow is deciding the contract.
    """

    def reject(uow: UnitOfWork, contract: Contract, now: datetime) -> DomainEvent | None:
        ensure_editable(uow, CONTRACT_DOCUMENT, contract.id)
        return contract.reject(approver.user_id, why, now)

    return _on_contract(crm, approver, contract_id, reject, "approve")


def sign_contract(
    crm: Crm, actor: Actor, contract_id: uuid.UUID, *, signed_on: date | None = None
) -> Contract:
    """Record the signature of a contract that needs no approval; it becomes active.

    Raises:
        DocumentLocked: an approval flow is deciding the contract (nothing changes).
    """
    return _on_contract(
        crm, actor, contract_id, lambda _u, c, now: c.sign(signed_on or now.date(), now)
    )


def complete_contract(crm: Crm, actor: Actor, contract_id: uuid.UUID) -> Contract:
    """Close an active contract as fulfilled.

    Raises:
        DocumentLocked: an approval flow is deciding the contract (nothing changes).
    """
    return _on_contract(crm, actor, contract_id, lambda _u, c, now: c.complete(now.date(), now))


def terminate_contract(crm: Crm, actor: Actor, contract_id: uuid.UUID, why: str) -> Contract:
    """End an active contract early, for a reason.

    Raises:
        DocumentLocked: an approval flow is deciding the contract (nothing changes).
    """
    expect_type(why, str, field="why")
    return _on_contract(
        crm, actor, contract_id, lambda _u, c, now: c.terminate(why, now.date(), now)
    )


def attach_to_contract(
    crm: Crm,
    actor: Actor,
    contract_id: uuid.UUID,
    *,
    name: str,
    media_type: str,
    size_bytes: int,
    storage_key: str,
) -> Contract:
    """Record a file attached to a contract (its bytes stay in the host's file store).

    Raises:
        DocumentLocked: an approval flow is deciding the contract (nothing changes).
    """
    for text in (name, media_type, storage_key):
        expect_type(text, str, field="attachment")
    expect_type(size_bytes, int, field="size_bytes")

    def attach(_uow: UnitOfWork, contract: Contract, now: datetime) -> None:
        contract.attach(Attachment(name, media_type, size_bytes, storage_key, now, actor.user_id))

    return _on_contract(crm, actor, contract_id, attach)


def expire_contracts(crm: Crm, tenant_id: TenantId, *, today: date | None = None) -> list[Contract]:
    """Mark active contracts whose end date has passed as expired (a daily job).

    Returns:
        The contracts this call expired.
    """

    def work(uow: UnitOfWork) -> list[Contract]:
        now = crm.now()
        day = today or now.date()
        repo = uow.repository(Contract)
        ended = F("status").eq(ContractStatus.ACTIVE) & F("end_date").lt(day)
        expired = []
        for contract in repo.query(Query(where=ended)):
            event = contract.expire(day, now)
            repo.save(contract)
            if event is not None:
                uow.outbox.add(event)
            expired.append(contract)
        return expired

    return crm.run(tenant_id, work)


def renew_contract(
    crm: Crm,
    actor: Actor,
    contract_id: uuid.UUID,
    *,
    start_date: date | None = None,
    end_date: date | None = None,
    amount: Money | None = None,
    numbers: DocumentNumbers = rule_numbers,
) -> Contract:
    """Create the renewal of a contract: a new draft linked to it, starting when it ends.

    Raises:
        DocumentLocked: an approval flow is deciding the contract (nothing changes).
        ValidationError: the contract was renewed already or never took effect.
        ConcurrencyConflict: someone renewed or changed it at the same moment.
    """

    def work(uow: UnitOfWork) -> Contract:
        now = crm.now()
        repo = uow.repository(Contract)
        old = _load_for_change(uow, actor, Contract, CONTRACTS, contract_id)
        new, event = old.renew(
            ContractId(crm.new_id()),
            numbers(uow, "contract", now),
            now,
            start_date=start_date,
            end_date=end_date,
            amount=amount,
            approval_required=_settings(uow).contracts_need_approval,
        )
        repo.save(old)
        repo.add(new)
        uow.outbox.add(
            event,
            ContractCreated(
                tenant_id=new.tenant_id,
                aggregate_id=new.id,
                occurred_at=now,
                number=new.number,
                kind=new.kind.value,
                amount=new.amount,
            ),
        )
        return new

    return guarded(crm, actor, work)


# -- orders ----------------------------------------------------------------------------------


def create_order_from_contract(
    crm: Crm,
    actor: Actor,
    contract_id: uuid.UUID,
    *,
    lines: Sequence[LineRequest] | None = None,
    credit: CreditCheck | None = None,
    numbers: DocumentNumbers = rule_numbers,
) -> SalesOrder:
    """Call off an order against an active sales contract.

    Without ``lines`` the order takes the contract's own lines; with them, the lines
    are priced from the list in effect today (a frame contract called off in parts).

    Raises:
        DocumentLocked: an approval flow is deciding the contract (nothing changes).
        ValidationError: the contract is not an active sales contract, or has no lines
            and none were given.
    """

    def work(uow: UnitOfWork) -> SalesOrder:
        now = crm.now()
        # Only "view" on the contract: calling off changes the order book, not the
        # contract — but not against a contract whose terms are still being approved.
        contract = _load_for_change(uow, actor, Contract, CONTRACTS, contract_id, "view")
        if contract.status is not ContractStatus.ACTIVE or contract.kind is ContractKind.PURCHASE:
            raise _invalid(
                "sales_order", "contract_id", N_("orders are called off active sales contracts")
            )
        discount = contract.total_discount
        if lines is not None:
            customer = uow.repository(Customer).get(contract.customer_id)
            _list, priced = _price(uow, customer, contract.amount.currency, now.date(), lines)
            discount = DiscountRate.none()
        elif contract.lines:
            priced = contract.lines
        else:
            raise _invalid("sales_order", "lines", N_("the contract has no lines; name them"))
        return _open_order(
            uow,
            crm,
            actor,
            now,
            credit or CustomerCreditLimit(),
            numbers,
            customer_id=contract.customer_id,
            currency=contract.amount.currency,
            lines=priced,
            total_discount=discount,
            contract_id=contract.id,
            opportunity_id=contract.opportunity_id,
        )

    return guarded(crm, actor, work)


def _on_order(
    crm: Crm,
    actor: Actor,
    order_id: uuid.UUID,
    action: Callable[[SalesOrder, datetime], list[DomainEvent]],
    operation: str = "edit",
) -> SalesOrder:
    def work(uow: UnitOfWork) -> SalesOrder:
        repo = uow.repository(SalesOrder)
        order = _load_for_change(uow, actor, SalesOrder, ORDERS, order_id, operation)
        events = action(order, crm.now())
        repo.save(order)
        uow.outbox.add(*events)
        return order

    return guarded(crm, actor, work)


def _one(event: DomainEvent | None) -> list[DomainEvent]:
    return [] if event is None else [event]


def record_delivery(
    crm: Crm,
    actor: Actor,
    order_id: uuid.UUID,
    quantities: Mapping[int, Decimal | str | int],
    *,
    delivered_on: date | None = None,
    reference: str = "",
) -> SalesOrder:
    """Record what went out, per line number; the delivery status follows.

    Raises:
        DocumentLocked: an approval flow is deciding the order's credit override.
        InvalidTransition: the order is on credit hold, cancelled or completed.
        ValidationError: an unknown line or more than is outstanding.
    """
    expect_type(quantities, Mapping, field="quantities")
    wanted = {line: Decimal(q) for line, q in quantities.items()}
    return _on_order(
        crm,
        actor,
        order_id,
        lambda order, now: order.record_delivery(
            wanted, delivered_on or now.date(), now, reference
        ),
    )


def release_credit_hold(crm: Crm, approver: Actor, order_id: uuid.UUID) -> SalesOrder:
    """Let an order over the customer's credit limit go ahead.

    With a ``"credit_override"`` approval flow the flow releases the order (see
    :mod:`crmkit.pipeline.approvals`); by hand it is refused while that request is in
    review or approved, and allowed again once the flow rejected or the request was
    withdrawn.

    Raises:
        DocumentLocked: the order's credit override is in an approval flow.
        InvalidTransition: the order is not on credit hold.
        SelfApprovalForbidden: the approver owns the order and the tenant does not allow
            self-approval.
    """

    def work(uow: UnitOfWork) -> SalesOrder:
        repo = uow.repository(SalesOrder)
        order = _load_for_change(uow, approver, SalesOrder, ORDERS, order_id, "approve")
        ensure_editable(uow, CREDIT_OVERRIDE_DOCUMENT, order_id)
        ensure_override_editable(uow, order_id)
        ensure_not_own(uow, approver, (order.owner_id,), f"{ORDERS} {order.number}")
        event = order.release(approver.user_id, crm.now())
        repo.save(order)
        uow.outbox.add(*_one(event))
        return order

    return guarded(crm, approver, work)


def cancel_order(crm: Crm, actor: Actor, order_id: uuid.UUID, why: str) -> SalesOrder:
    """Cancel an order nothing of which was delivered.

    Raises:
        DocumentLocked: an approval flow is deciding the order's credit override.
    """
    return _on_order(crm, actor, order_id, lambda order, now: _one(order.cancel(why, now)))
