"""Campaigns: trade shows, ads and mailings that spawn leads — and what they earned.

A campaign has a channel, dates, a budget and its actual cost. Leads and
opportunities carry the campaign they came from, so the return on a campaign is
measurable: leads produced, opportunities opened, revenue won, and
``ROI = (won revenue - actual cost) / actual cost``.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date

import attrs

from crmkit.kernel.entity import Entity
from crmkit.kernel.errors import CurrencyMismatch
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId
from crmkit.kernel.invalid import invalid
from crmkit.kernel.money import Money

__all__ = ["Campaign", "CampaignStatus"]


class CampaignStatus(enum.Enum):
    """Where a campaign stands."""

    PLANNED = "planned"
    RUNNING = "running"
    FINISHED = "finished"
    CANCELLED = "cancelled"


@attrs.define(eq=False)
class Campaign(Entity):
    """A marketing campaign.

    Attributes:
        channel: how it reaches people (``trade_show``, ``email``, ``sms``, ``ads``, ...).
        budget, actual_cost: planned and spent money, in one currency.
    """

    entity_name = N_("campaign")

    id: uuid.UUID
    tenant_id: TenantId
    name: str
    channel: str
    budget: Money
    actual_cost: Money
    starts_on: date | None = None
    ends_on: date | None = None
    status: CampaignStatus = CampaignStatus.PLANNED
    version: int = 0

    def __attrs_post_init__(self) -> None:
        if self.budget.currency != self.actual_cost.currency:
            raise CurrencyMismatch(left=self.budget.currency, right=self.actual_cost.currency)
        if self.budget.is_negative or self.actual_cost.is_negative:
            raise invalid("campaign", "budget", N_("must not be negative"))
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise invalid(
                "campaign",
                "ends_on",
                N_("{end} is before {start}"),
                end=self.ends_on,
                start=self.starts_on,
            )
