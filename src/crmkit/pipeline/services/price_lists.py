"""Price lists and the tenant's sales-document settings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import attrs

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.pipeline.model.pricing import (
    DiscountRate,
    PriceList,
    PriceListId,
    PriceListItem,
)
from crmkit.pipeline.model.quotes import (
    SalesDocumentSettings,
)
from crmkit.pipeline.model.resources import PRICING
from crmkit.pipeline.services.documents import allow, document_settings
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import guarded

__all__ = [
    "configure_sales_documents",
    "define_price_list",
]


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
        allow(uow, actor, "edit", PRICING)
        repo = uow.repository(SalesDocumentSettings)
        current = document_settings(uow)
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
        allow(uow, actor, "edit", PRICING)
        return uow.repository(PriceList).add(price_list)

    return guarded(crm, actor, work)
