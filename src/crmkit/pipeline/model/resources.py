"""The names under which the pipeline's records are permission resources.

Grants, field rules and the service catalog name a resource by these strings; the
records they stand for are declared in :mod:`crmkit.pipeline.registrations`.
"""

from __future__ import annotations

__all__ = [
    "ACTIVITIES",
    "COMMISSIONS",
    "CONTRACTS",
    "DEALS",
    "LEADS",
    "ORDERS",
    "PLANS",
    "PRICING",
    "QUOTES",
    "SETTINGS",
    "TARGETS",
]

LEADS, DEALS = "lead", "opportunity"
QUOTES, CONTRACTS, ORDERS, PRICING = "quote", "contract", "sales_order", "price_list"
ACTIVITIES, PLANS = "activity", "follow_up_plan"
# Pseudo-records: one per member or department, to scope who sees whose figures.
TARGETS, COMMISSIONS = "target", "commission"
# Tenant-wide configuration: processes, reasons, targets, campaigns and sequences.
SETTINGS = "pipeline_settings"
