"""Tables of quotes, price lists, contracts and sales orders (migration 0008, branch ``pipeline``)."""

from __future__ import annotations

from crmkit.adapters.sql.mapping import map_entity
from crmkit.adapters.sql.tables import metadata, register
from crmkit.pipeline.model.contracts import Contract
from crmkit.pipeline.model.orders import SalesOrder
from crmkit.pipeline.model.pricing import PriceList
from crmkit.pipeline.model.quotes import Quote, SalesDocumentSettings

__all__ = [
    "CONTRACTS",
    "PRICE_LISTS",
    "QUOTES",
    "SALES_DOCUMENT_SETTINGS",
    "SALES_ORDERS",
]

PRICE_LISTS = register(
    map_entity(PriceList, "price_lists", metadata, indexes=[("currency", "valid_from")])
)
QUOTES = register(
    map_entity(
        Quote,
        "quotes",
        metadata,
        indexes=[("customer_id",), ("opportunity_id",), ("root_id", "revision"), ("status",)],
        unique=[("number", "revision")],
    )
)
CONTRACTS = register(
    map_entity(
        Contract,
        "contracts",
        metadata,
        # Reminder rules scan these date columns; the expiry job scans status + end_date.
        indexes=[
            ("customer_id",),
            ("status", "end_date"),
            ("end_date",),
            ("renewal_notice_on",),
            ("start_date",),
            ("signed_on",),
            ("owner_id",),
        ],
        unique=[("number",)],
    )
)
SALES_ORDERS = register(
    map_entity(
        SalesOrder,
        "sales_orders",
        metadata,
        indexes=[("customer_id", "status"), ("quote_id",), ("contract_id",), ("status",)],
        unique=[("number",)],
    )
)
SALES_DOCUMENT_SETTINGS = register(
    map_entity(SalesDocumentSettings, "sales_document_settings", metadata)
)
