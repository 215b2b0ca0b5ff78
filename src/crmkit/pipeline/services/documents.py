"""What the sales documents' use cases share: numbers, line requests and their
pricing, the customer and deal a new document is for, and loading one to change it.

**Numbers** come from a ``numbers`` callable ``(uow, kind, at) -> str``. The
default, :func:`rule_numbers`, takes the next number of the tenant's numbering rule
inside the same unit of work (``QT-2026-00001``), so a rollback gives it back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TypeVar

import attrs

from crmkit.crm import Crm
from crmkit.customers.model import Customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import NotFound
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Query
from crmkit.pipeline.model.contracts import (
    Contract,
)
from crmkit.pipeline.model.opportunities import Opportunity
from crmkit.pipeline.model.orders import (
    SalesOrder,
)
from crmkit.pipeline.model.pricing import (
    DiscountRate,
    LineItem,
    PriceList,
    choose_price_list,
    price_line,
)
from crmkit.pipeline.model.quotes import (
    Quote,
    SalesDocumentSettings,
    sales_settings_id,
)
from crmkit.pipeline.services._common import Action, act_on_record, load_checked
from crmkit.ports import UnitOfWork
from crmkit.rules.approvals import ensure_editable, ensure_not_in_review, ensure_not_own
from crmkit.rules.numbering import NumberingRule, Reset, next_number, numbering_rule_id
from crmkit.rules.permissions import grants_for

__all__ = [
    "DEFAULT_PATTERNS",
    "DocumentNumbers",
    "LineRequest",
    "rule_numbers",
]


def allow(
    uow: UnitOfWork, actor: Actor, operation: str, resource: str, record: object = None
) -> None:
    """Raise ``PermissionDenied`` unless the actor may do ``operation`` (on ``record``)."""
    grants = grants_for(uow, actor)
    if record is None:
        grants.require_operation(operation, resource)
    else:
        grants.require(operation, record, resource)


def customer_and_deal(
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
        raise invalid(entity, "opportunity_id", N_("the opportunity is with another customer"))
    return customer, deal


D = TypeVar("D", Quote, Contract)


E = TypeVar("E", Quote, Contract, SalesOrder)


def load_for_change(
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
    record = load_checked(uow, actor, entity_type, resource, record_id, operation)
    ensure_not_in_review(uow, record)
    return record


DocumentNumbers = Callable[[UnitOfWork, str, datetime], str]
"""Hands out the number of a new document: ``numbers(uow, kind, at)``; kinds are
``quote``, ``contract`` and ``sales_order``."""


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


def document_settings(uow: UnitOfWork) -> SalesDocumentSettings:
    """The tenant's sales-document settings (the defaults until they are configured)."""
    found = uow.repository(SalesDocumentSettings).find(sales_settings_id(uow.tenant_id))
    return found or SalesDocumentSettings(
        id=sales_settings_id(uow.tenant_id), tenant_id=uow.tenant_id
    )


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


def price_requests(
    uow: UnitOfWork, customer: Customer, currency: str, on: date, requests: Sequence[LineRequest]
) -> tuple[PriceList, tuple[LineItem, ...]]:
    """Price the requested lines from the customer's price list in effect ``on``."""
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


def record_on_deal(uow: UnitOfWork, opportunity_id: uuid.UUID | None, kind: str) -> None:
    """Note a document kind on the deal, for its stage gates."""
    if opportunity_id is None:
        return
    repo = uow.repository(Opportunity)
    deal = repo.get(opportunity_id)
    if kind not in deal.documents:
        deal.documents = (*deal.documents, kind)
        repo.save(deal)


def act_on(
    entity_type: type[E],
    resource: str,
    crm: Crm,
    actor: Actor,
    record_id: uuid.UUID,
    action: Action[E],
    operation: str = "edit",
) -> E:
    """Load a document for change (:func:`load_for_change`), act, save, record the events.

    The document's type and resource come first, so each kind binds them once
    (``functools.partial(act_on, Quote, QUOTES)``).
    """
    return act_on_record(
        entity_type, resource, crm, actor, record_id, action, operation, load_for_change
    )


def submit_to_flow(
    uow: UnitOfWork,
    actor: Actor,
    record: D,
    route: Callable[[UnitOfWork, Actor, D, datetime], bool],
    now: datetime,
) -> D:
    """Submit a document loaded for change, and into its approval flow when there is one."""
    repo = uow.repository(type(record))
    uow.outbox.add(record.submit(now))
    repo.save(record)
    # The flow's hooks may approve it at once (no stage applies): read it back.
    return repo.get(record.id) if route(uow, actor, record, now) else record


def approve_by_hand(
    uow: UnitOfWork, approver: Actor, document_type: str, resource: str, record: D, now: datetime
) -> DomainEvent | None:
    """The approver's own decision on a submitted quote or contract, outside a flow.

    Raises:
        DocumentLocked: an approval flow is deciding the document.
        SelfApprovalForbidden: the approver owns it and the tenant does not allow
            self-approval.
    """
    ensure_editable(uow, document_type, record.id)
    ensure_not_own(uow, approver, (record.owner_id,), f"{resource} {record.number}")
    return record.approve(approver.user_id, now)


def reject_by_hand(
    entity_type: type[D],
    resource: str,
    document_type: str,
    crm: Crm,
    approver: Actor,
    record_id: uuid.UUID,
    why: str,
) -> D:
    """The approver sends a submitted quote or contract back to draft, outside a flow.

    Raises:
        DocumentLocked: an approval flow is deciding the document.
    """

    def reject(uow: UnitOfWork, record: D, now: datetime) -> DomainEvent | None:
        ensure_editable(uow, document_type, record.id)
        return record.reject(approver.user_id, why, now)

    return act_on(entity_type, resource, crm, approver, record_id, reject, "approve")
