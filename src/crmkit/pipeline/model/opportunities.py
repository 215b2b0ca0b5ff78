"""Opportunities: deals moving through the stages of a sales process.

A tenant declares its sales processes as data: ordered stages, each with a
default win probability and **gates** — fields that must be filled and documents
that must exist before a deal may enter it ("a quote before *proposal*"). An
opportunity moves forward or back (going back is allowed and recorded), and
ends won or lost (with a reason). Every stage change is a :class:`StageChange`
row with the instant, so time-in-stage, velocity and stage-to-stage conversion
are measurable.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NewType

import attrs

from crmkit.customers.model.search_keys import search_keys
from crmkit.kernel.entity import Entity
from crmkit.kernel.errors import CurrencyMismatch
from crmkit.kernel.event_origin import origin
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.invalid import invalid
from crmkit.kernel.limits import to_amount, to_date
from crmkit.kernel.machine import Machine, Transition
from crmkit.kernel.money import Money
from crmkit.pipeline.model.pricing import LineItem, check_line_numbers
from crmkit.rules.permissions.model import derived_from

__all__ = [
    "OPPORTUNITY",
    "Competitor",
    "Opportunity",
    "OpportunityEvent",
    "OpportunityId",
    "OpportunityLinesChanged",
    "OpportunityLost",
    "OpportunityOpened",
    "OpportunityStatus",
    "OpportunityWon",
    "SalesProcess",
    "Stage",
    "StageChange",
    "StageChanged",
    "default_process",
    "lines_total",
]

OpportunityId = NewType("OpportunityId", uuid.UUID)
_ENTITY = N_("opportunity")


@attrs.frozen
class Stage:
    """One stage of a sales process.

    Attributes:
        code: stable identifier stored on opportunities (``proposal``).
        name: label shown to people.
        probability: default win probability in percent (0..100).
        required_fields: opportunity fields that must be set before entering.
        required_documents: document kinds (``quote``) that must exist before entering.
    """

    code: str
    name: str
    probability: int
    required_fields: tuple[str, ...] = ()
    required_documents: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.probability <= 100:
            raise invalid("stage", "probability", N_("must be between 0 and 100"))


@attrs.define(eq=False)
class SalesProcess(Entity):
    """A named, ordered list of open stages; won and lost close every process."""

    entity_name = N_("sales process")

    id: uuid.UUID
    tenant_id: TenantId
    name: str
    stages: tuple[Stage, ...]
    version: int = 0

    def __attrs_post_init__(self) -> None:
        codes = [s.code for s in self.stages]
        if not codes:
            raise invalid("sales_process", "stages", N_("name at least one stage"))
        if len(set(codes)) != len(codes):
            raise invalid("sales_process", "stages", N_("stage codes must be unique"))
        known = {f.name for f in attrs.fields(Opportunity)}
        for stage in self.stages:
            for field in stage.required_fields:
                if field not in known:
                    raise invalid(
                        "sales_process",
                        "stages",
                        N_("{stage} requires unknown field {name}"),
                        stage=stage.code,
                        name=field,
                    )

    def stage(self, code: str) -> Stage:
        """The stage named ``code``.

        Raises:
            ValidationError: the process has no such stage.
        """
        for stage in self.stages:
            if stage.code == code:
                return stage
        raise invalid(
            _ENTITY,
            "stage",
            N_("{stage} is not a stage of {process}"),
            stage=code,
            process=self.name,
        )

    def index(self, code: str) -> int:
        """Position of a stage (0 = first)."""
        return self.stages.index(self.stage(code))


def default_process(tenant_id: TenantId, process_id: uuid.UUID) -> SalesProcess:
    """A common five-stage B2B process (10% / 25% / 50% / 75%, then won or lost)."""
    return SalesProcess(
        id=process_id,
        tenant_id=tenant_id,
        name="standard",
        stages=(
            Stage("initial", "初步接洽 Initial contact", 10),
            Stage("needs", "需求分析 Needs analysis", 25, required_fields=("expected_close",)),
            Stage("proposal", "方案报价 Proposal", 50, required_documents=("quote",)),
            Stage("negotiation", "商务谈判 Negotiation", 75),
        ),
    )


class OpportunityStatus(enum.Enum):
    """Open deals sit in a stage; closed ones are won or lost."""

    OPEN = "open"
    WON = "won"
    LOST = "lost"


@attrs.frozen
class Competitor:
    """A competitor on one deal: who, their price, strengths and weaknesses."""

    name: str
    price: Money | None = None
    strengths: str = ""
    weaknesses: str = ""


def _refresh_keys(instance: Any, _attribute: Any, name: str) -> str:
    keys = search_keys(name)
    object.__setattr__(instance, "pinyin_full", keys.pinyin_full)
    object.__setattr__(instance, "pinyin_initials", keys.pinyin_initials)
    return name


def _deal_amount(value: Any) -> Money:
    # What a form sends is taken or refused by name (a bare 100 has no currency).
    return to_amount(value, entity=_ENTITY, field="amount")


def _close_date(value: Any) -> date | None:
    if value is None or type(value) is date:
        return value
    return to_date(value, entity=_ENTITY, field="expected_close")


@attrs.define(eq=False)
class Opportunity(Entity):
    """A deal.

    Attributes:
        customer_id: who it is with.
        amount: expected value.
        process_id, stage, probability: where it stands in its sales process.
        expected_close: when it should close.
        status: open, won or lost; ``closed_at`` and ``lost_reason`` when closed.
        documents: kinds of documents attached so far (``quote``), for stage gates.
        stage_entered_at: when it entered its current stage.
        lines: the products the deal is about (product code, name, category, quantity,
            unit, unit price, discount; each line's net computed exactly). While it has
            lines, ``amount`` is their sum and cannot be set by hand — as Salesforce
            derives an opportunity's Amount from its products. A deal without lines
            keeps an amount of its own.
        pinyin_full, pinyin_initials: the pinyin of the name, for the search box
            (see ``crmkit.customers.model.search_keys``); read-only, refreshed with the name.
    """

    entity_name = _ENTITY

    id: OpportunityId
    tenant_id: TenantId
    name: str = attrs.field(on_setattr=_refresh_keys)
    customer_id: uuid.UUID
    amount: Money = attrs.field(converter=_deal_amount)
    process_id: uuid.UUID
    stage: str
    probability: int
    created_at: datetime
    stage_entered_at: datetime
    owner_id: UserId | None = None
    department_id: uuid.UUID | None = None
    expected_close: date | None = attrs.field(default=None, converter=_close_date)
    status: OpportunityStatus = OpportunityStatus.OPEN
    closed_at: datetime | None = None
    lost_reason: str | None = None
    campaign_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    competitors: tuple[Competitor, ...] = ()
    documents: tuple[str, ...] = ()
    lines: tuple[LineItem, ...] = ()
    version: int = 0
    # Derived from the name, stored and indexed for the search box.
    pinyin_full: str = attrs.field(init=False, default="", metadata=derived_from("name"))
    pinyin_initials: str = attrs.field(init=False, default="", metadata=derived_from("name"))

    def __attrs_post_init__(self) -> None:
        _refresh_keys(self, None, self.name)
        if self.lines:
            _check_lines(self.lines, self.amount.currency)
            if self.amount != lines_total(self.lines, self.amount.currency):
                raise invalid(
                    _ENTITY,
                    "amount",
                    N_("{amount} differs from its lines' total {total}"),
                    amount=self.amount,
                    total=lines_total(self.lines, self.amount.currency),
                )

    @property
    def weighted_amount(self) -> Money:
        """Amount times probability, rounded to the currency's minor unit."""
        return (self.amount * Decimal(self.probability) / 100).round()

    def set_lines(self, lines: Sequence[LineItem], now: datetime) -> OpportunityLinesChanged:
        """Replace the deal's product lines; with any line, the amount becomes their total.

        Removing the last line leaves the amount at the total it had, to be kept or set
        by hand again.

        Raises:
            InvalidTransition: the deal is closed (a won amount is what commission paid on).
            ValidationError: duplicate line numbers.
            CurrencyMismatch: a line is not in the deal's currency.
        """
        OPPORTUNITY.fire(self, "revise")
        kept = tuple(sorted(lines, key=lambda line: line.line_no))
        if kept:
            _check_lines(kept, self.amount.currency)
            self.amount = lines_total(kept, self.amount.currency)
        self.lines = kept
        return OpportunityLinesChanged(
            **origin(self, now),
            amount=self.amount,
            lines=len(kept),
        )

    def set_amount(self, amount: Money) -> None:
        """Set the expected value of a deal that has no product lines.

        Raises:
            InvalidTransition: the deal is closed.
            ValidationError: the deal has lines (its amount is their total), or the
                amount is negative or in another currency than its lines would be.
        """
        amount = to_amount(amount, entity=_ENTITY, field="amount")
        OPPORTUNITY.fire(self, "revise")
        if self.lines:
            raise invalid(
                _ENTITY, "amount", N_("is the total of the deal's product lines; edit the lines")
            )
        if amount.is_negative:
            raise invalid(_ENTITY, "amount", N_("must not be negative"))
        self.amount = amount

    def category_mix(self) -> list[tuple[str | None, Decimal]]:
        """The net of the deal's lines per product category (``None``: uncategorised),
        ordered by category — the weights a per-category commission splits the deal by."""
        net: dict[str | None, Decimal] = {}
        for line in self.lines:
            net[line.category] = net.get(line.category, Decimal(0)) + line.net.amount
        return sorted(net.items(), key=lambda cw: cw[0] or "")

    def missing_for(self, stage: Stage) -> list[str]:
        """What the gate of ``stage`` still needs (field names and document kinds)."""
        missing = [f for f in stage.required_fields if getattr(self, f) in (None, "", ())]
        missing += [f"document:{d}" for d in stage.required_documents if d not in self.documents]
        return missing

    def move_to(self, process: SalesProcess, code: str, now: datetime) -> StageChanged:
        """Enter stage ``code`` (forward or back), passing its gate.

        The service that saves the deal records its :class:`StageChange` row, for this
        move as for winning, losing and reopening.

        Raises:
            InvalidTransition: the deal is closed.
            ValidationError: unknown stage, or its gate is not met (lists what is missing).
        """
        OPPORTUNITY.fire(self, "move")
        target = process.stage(code)
        if code == self.stage:
            raise invalid(_ENTITY, "stage", N_("is already {stage}"), stage=code)
        backwards = process.index(code) < process.index(self.stage)
        if not backwards:
            # Gates guard the way forward; going back never needs a document.
            for passed in process.stages[process.index(self.stage) + 1 : process.index(code) + 1]:
                missing = self.missing_for(passed)
                if missing:
                    raise invalid(
                        _ENTITY,
                        "stage",
                        N_("{stage} needs {missing} first"),
                        stage=passed.code,
                        missing=", ".join(missing),
                    )
        event = StageChanged(
            **origin(self, now),
            from_stage=self.stage,
            to_stage=code,
            backwards=backwards,
        )
        self.stage, self.probability, self.stage_entered_at = code, target.probability, now
        return event

    def win(self, now: datetime) -> OpportunityWon:
        """Close as won (probability 100)."""
        event = OPPORTUNITY.fire(self, "win", now=now, payload={"amount": self.amount})
        assert isinstance(event, OpportunityWon)
        self.probability, self.closed_at = 100, now
        return event

    def lose(self, why: str, allowed: Iterable[str], now: datetime) -> OpportunityLost:
        """Close as lost with a reason from the tenant's list.

        Raises:
            ValidationError: the reason is not on the list.
        """
        if why not in set(allowed):
            raise invalid(
                _ENTITY, "lost_reason", N_("{why} is not on the list of loss reasons"), why=why
            )
        event = OPPORTUNITY.fire(self, "lose", now=now, payload={"reason": why})
        assert isinstance(event, OpportunityLost)
        self.probability, self.closed_at, self.lost_reason = 0, now, why
        return event

    def reopen(self, process: SalesProcess, now: datetime) -> OpportunityOpened:
        """Take a closed deal up again in its last stage, at that stage's probability."""
        event = OPPORTUNITY.fire(self, "reopen", now=now, payload={"stage": self.stage})
        assert isinstance(event, OpportunityOpened)
        self.closed_at, self.lost_reason, self.stage_entered_at = None, None, now
        self.probability = process.stage(self.stage).probability
        return event


def lines_total(lines: Iterable[LineItem], currency: str) -> Money:
    """The sum of the lines' nets (each already rounded to the minor unit), exactly."""
    return sum((line.net for line in lines), Money.zero(currency))


def _check_lines(lines: Sequence[LineItem], currency: str) -> None:
    check_line_numbers(_ENTITY, lines)
    for line in lines:
        if line.currency != currency:
            raise CurrencyMismatch(left=currency, right=line.currency)


@attrs.define(eq=False)
class StageChange:
    """One move of an opportunity between stages (the basis of velocity reports)."""

    entity_name = N_("stage change")

    id: uuid.UUID
    tenant_id: TenantId
    opportunity_id: uuid.UUID
    from_stage: str | None
    to_stage: str
    changed_at: datetime
    changed_by: uuid.UUID | None = None
    backwards: bool = False
    version: int = 0


@attrs.frozen(kw_only=True)
class OpportunityEvent(DomainEvent):
    """Base of the events of an :class:`Opportunity` (its ``aggregate_id``)."""

    aggregate_type = "opportunity"


@attrs.frozen(kw_only=True)
class OpportunityOpened(OpportunityEvent):
    """A deal was opened (or reopened) in ``stage``."""

    stage: str


@attrs.frozen(kw_only=True)
class StageChanged(OpportunityEvent):
    """A deal moved between stages."""

    from_stage: str
    to_stage: str
    backwards: bool = False


@attrs.frozen(kw_only=True)
class OpportunityLinesChanged(OpportunityEvent):
    """A deal's product lines were replaced; ``amount`` is what the deal is now worth."""

    amount: Money
    lines: int


@attrs.frozen(kw_only=True)
class OpportunityWon(OpportunityEvent):
    """A deal was won."""

    amount: Money


@attrs.frozen(kw_only=True)
class OpportunityLost(OpportunityEvent):
    """A deal was lost."""

    reason: str


OPPORTUNITY: Machine[OpportunityStatus] = Machine(
    name="opportunity",
    states=OpportunityStatus,
    initial=OpportunityStatus.OPEN,
    state_attr="status",
    transitions=[
        # Stage moves happen only while open; the stage itself is the process's data.
        Transition("move", source=OpportunityStatus.OPEN, target=OpportunityStatus.OPEN),
        # Products and amount change only while the deal is open.
        Transition("revise", source=OpportunityStatus.OPEN, target=OpportunityStatus.OPEN),
        Transition(
            "win", source=OpportunityStatus.OPEN, target=OpportunityStatus.WON, event=OpportunityWon
        ),
        Transition(
            "lose",
            source=OpportunityStatus.OPEN,
            target=OpportunityStatus.LOST,
            event=OpportunityLost,
        ),
        Transition(
            "reopen",
            source=(OpportunityStatus.WON, OpportunityStatus.LOST),
            target=OpportunityStatus.OPEN,
            event=OpportunityOpened,
        ),
    ],
)
