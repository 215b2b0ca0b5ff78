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
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NewType

import attrs

from crmkit.kernel.errors import ValidationError, reason
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.machine import Machine, Transition
from crmkit.kernel.money import Money

__all__ = [
    "OPPORTUNITY",
    "Competitor",
    "Opportunity",
    "OpportunityId",
    "OpportunityLost",
    "OpportunityOpened",
    "OpportunityStatus",
    "OpportunityWon",
    "SalesProcess",
    "Stage",
    "StageChange",
    "StageChanged",
    "default_process",
]

OpportunityId = NewType("OpportunityId", uuid.UUID)
_ENTITY = N_("opportunity")


def _invalid(entity: str, field: str, message: str, **params: Any) -> ValidationError:
    return ValidationError(entity=entity, field=field, reason=reason(message, **params))


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
            raise _invalid("stage", "probability", N_("must be between 0 and 100"))


@attrs.define(eq=False)
class SalesProcess:
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
            raise _invalid("sales_process", "stages", N_("name at least one stage"))
        if len(set(codes)) != len(codes):
            raise _invalid("sales_process", "stages", N_("stage codes must be unique"))
        known = {f.name for f in attrs.fields(Opportunity)}
        for stage in self.stages:
            for field in stage.required_fields:
                if field not in known:
                    raise _invalid(
                        "sales_process",
                        "stages",
                        N_("{stage} requires unknown field {name}"),
                        stage=stage.code,
                        name=field,
                    )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SalesProcess) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def stage(self, code: str) -> Stage:
        """The stage named ``code``.

        Raises:
            ValidationError: the process has no such stage.
        """
        for stage in self.stages:
            if stage.code == code:
                return stage
        raise _invalid(
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


@attrs.define(eq=False)
class Opportunity:
    """A deal.

    Attributes:
        customer_id: who it is with.
        amount: expected value.
        process_id, stage, probability: where it stands in its sales process.
        expected_close: when it should close.
        status: open, won or lost; ``closed_at`` and ``lost_reason`` when closed.
        documents: kinds of documents attached so far (``quote``), for stage gates.
        stage_entered_at: when it entered its current stage.
    """

    entity_name = _ENTITY

    id: OpportunityId
    tenant_id: TenantId
    name: str
    customer_id: uuid.UUID
    amount: Money
    process_id: uuid.UUID
    stage: str
    probability: int
    created_at: datetime
    stage_entered_at: datetime
    owner_id: UserId | None = None
    department_id: uuid.UUID | None = None
    expected_close: date | None = None
    status: OpportunityStatus = OpportunityStatus.OPEN
    closed_at: datetime | None = None
    lost_reason: str | None = None
    campaign_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    competitors: tuple[Competitor, ...] = ()
    documents: tuple[str, ...] = ()
    version: int = 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opportunity) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def weighted_amount(self) -> Money:
        """Amount times probability, rounded to the currency's minor unit."""
        return (self.amount * Decimal(self.probability) / 100).round()

    def missing_for(self, stage: Stage) -> list[str]:
        """What the gate of ``stage`` still needs (field names and document kinds)."""
        missing = [f for f in stage.required_fields if getattr(self, f) in (None, "", ())]
        missing += [f"document:{d}" for d in stage.required_documents if d not in self.documents]
        return missing

    def move_to(
        self, process: SalesProcess, code: str, by: uuid.UUID | None, now: datetime
    ) -> tuple[StageChange, StageChanged]:
        """Enter stage ``code`` (forward or back), passing its gate.

        Raises:
            InvalidTransition: the deal is closed.
            ValidationError: unknown stage, or its gate is not met (lists what is missing).
        """
        OPPORTUNITY.fire(self, "move")
        target = process.stage(code)
        if code == self.stage:
            raise _invalid(_ENTITY, "stage", N_("is already {stage}"), stage=code)
        backwards = process.index(code) < process.index(self.stage)
        if not backwards:
            # Gates guard the way forward; going back never needs a document.
            for passed in process.stages[process.index(self.stage) + 1 : process.index(code) + 1]:
                missing = self.missing_for(passed)
                if missing:
                    raise _invalid(
                        _ENTITY,
                        "stage",
                        N_("{stage} needs {missing} first"),
                        stage=passed.code,
                        missing=", ".join(missing),
                    )
        change = StageChange(
            id=uuid.uuid5(self.id, f"{self.version}:{code}:{now.isoformat()}"),
            tenant_id=self.tenant_id,
            opportunity_id=self.id,
            from_stage=self.stage,
            to_stage=code,
            changed_at=now,
            changed_by=by,
            backwards=backwards,
        )
        event = StageChanged(
            tenant_id=self.tenant_id,
            aggregate_id=self.id,
            occurred_at=now,
            from_stage=self.stage,
            to_stage=code,
            backwards=backwards,
        )
        self.stage, self.probability, self.stage_entered_at = code, target.probability, now
        return change, event

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
            raise _invalid(
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
class OpportunityOpened(DomainEvent):
    """A deal was opened (or reopened) in ``stage``."""

    aggregate_type = "opportunity"

    stage: str


@attrs.frozen(kw_only=True)
class StageChanged(DomainEvent):
    """A deal moved between stages."""

    aggregate_type = "opportunity"

    from_stage: str
    to_stage: str
    backwards: bool = False


@attrs.frozen(kw_only=True)
class OpportunityWon(DomainEvent):
    """A deal was won."""

    aggregate_type = "opportunity"

    amount: Money


@attrs.frozen(kw_only=True)
class OpportunityLost(DomainEvent):
    """A deal was lost."""

    aggregate_type = "opportunity"

    reason: str


OPPORTUNITY: Machine[OpportunityStatus] = Machine(
    name="opportunity",
    states=OpportunityStatus,
    initial=OpportunityStatus.OPEN,
    state_attr="status",
    transitions=[
        # Stage moves happen only while open; the stage itself is the process's data.
        Transition("move", source=OpportunityStatus.OPEN, target=OpportunityStatus.OPEN),
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
