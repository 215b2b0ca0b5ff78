"""Hypothesis state machine over opportunity moves: stage history and probability hold.

A deal in a randomly drawn sales process (random stages, probabilities and gates) is
moved forward through gates, back, won, lost and reopened, with documents attached and
time passing in between. After every step, read back from storage:

- the probability is the current stage's default (100 when won, 0 when lost);
- the stage history is one chain: it opens from nothing, each change starts where the
  previous one ended, and the last ends where the deal stands;
- time in stage is never negative: history instants never go back, and the current
  stage was entered no later than now, at the instant its history row says.

A refused move (closed deal, same stage, unmet gate) changes nothing.
"""

from __future__ import annotations

import itertools
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from crmkit import Crm, connect
from crmkit.adapters.memory import MemoryStorage
from crmkit.customers import register_customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import FixedClock
from crmkit.kernel.errors import InvalidTransition, ValidationError
from crmkit.kernel.ids import RandomIdGenerator, TenantId, UserId
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Order, Query
from crmkit.pipeline import (
    Opportunity,
    OpportunityStatus,
    Stage,
    StageChange,
    attach_document,
    configure_pipeline,
    define_sales_process,
    lose_opportunity,
    move_opportunity,
    open_opportunity,
    reopen_opportunity,
    win_opportunity,
)
from crmkit.rules.permissions import bootstrap_tenant

DOCUMENTS = ("quote", "proposal")
LOSS_REASONS = ("price", "timing")


@st.composite
def stages(draw: st.DrawFn) -> list[Stage]:
    """A process of 2..5 stages with random default probabilities and gates."""
    count = draw(st.integers(2, 5))
    return [
        Stage(
            f"s{i}",
            f"Stage {i}",
            draw(st.integers(0, 100)),
            required_fields=draw(st.sampled_from([(), ("expected_close",)])),
            required_documents=tuple(draw(st.sets(st.sampled_from(DOCUMENTS)))),
        )
        for i in range(count)
    ]


_SQLITE: sa.Engine | None = None


def _sqlite_engine() -> sa.Engine:
    # One migrated SQLite file for the whole run; each example works in a fresh tenant.
    global _SQLITE
    if _SQLITE is None:
        from crmkit.adapters.sql.engine import create_engine
        from crmkit.adapters.sql.migrate import upgrade

        path = Path(tempfile.mkdtemp(prefix="crmkit-opp-")) / "machine.db"
        _SQLITE = create_engine(f"sqlite:///{path}")
        upgrade(_SQLITE)
    return _SQLITE


class OpportunityMoves(RuleBasedStateMachine):
    """Drives one deal through the services and checks the invariants after each step."""

    backend = "memory"

    def __init__(self) -> None:
        super().__init__()
        self.clock = FixedClock("2026-03-02T09:00:00Z")
        if self.backend == "memory":
            self.crm = Crm(
                MemoryStorage(), clock=self.clock, ids=RandomIdGenerator(), sleep=lambda _: None
            )
        else:
            self.crm = connect(
                _sqlite_engine(), clock=self.clock, ids=RandomIdGenerator(), migrate=False
            )
        tenant = TenantId(uuid.uuid4())
        self.actor = Actor(tenant_id=tenant, user_id=UserId(uuid.uuid4()), name="admin")
        bootstrap_tenant(self.crm, tenant, self.actor.user_id, self.actor.name)
        configure_pipeline(self.crm, self.actor, loss_reasons=LOSS_REASONS)
        self.documents: set[str] = set()
        self.has_close_date = False

    @initialize(process=stages(), close_date=st.booleans(), start=st.integers(0, 4))
    def open_deal(self, process: list[Stage], close_date: bool, start: int) -> None:
        self.stages = process
        self.process = define_sales_process(self.crm, self.actor, "random", process)
        customer = register_customer(self.crm, self.actor, name="深圳腾达电子")
        self.has_close_date = close_date
        # Opening directly in a later stage is allowed and passes no gate.
        self.deal_id = open_opportunity(
            self.crm,
            self.actor,
            customer_id=customer.id,
            name="ERP rollout",
            amount=Money("480000", "CNY"),
            process_id=self.process.id,
            expected_close=self.clock.now().date().add(months=3) if close_date else None,
            stage=process[min(start, len(process) - 1)].code,
        ).id

    # -- reading back ---------------------------------------------------------------------

    def deal(self) -> Opportunity:
        return self.crm.run(
            self.actor.tenant_id, lambda uow: uow.repository(Opportunity).get(self.deal_id)
        )

    def history(self) -> list[StageChange]:
        query = Query(where=F("opportunity_id").eq(self.deal_id), order_by=(Order("changed_at"),))
        return self.crm.run(
            self.actor.tenant_id, lambda uow: uow.repository(StageChange).query(query)
        )

    def index(self, code: str) -> int:
        return [s.code for s in self.stages].index(code)

    def gate_blocks(self, current: str, target: str) -> bool:
        """Whether a forward move from ``current`` to ``target`` meets an unmet gate."""
        passed = self.stages[self.index(current) + 1 : self.index(target) + 1]
        return any(
            (stage.required_fields and not self.has_close_date)
            or not set(stage.required_documents) <= self.documents
            for stage in passed
        )

    def tick(self, seconds: int) -> None:
        # Every change happens at a later instant, so history orders strictly by time.
        self.clock.advance(seconds=seconds)

    def refused(self, action: Any, error: type[Exception]) -> None:
        """Run ``action``, which must raise ``error`` and change nothing."""
        before, changes = self.deal(), len(self.history())
        with pytest.raises(error):
            action()
        after = self.deal()
        assert (after.stage, after.status, after.version) == (
            before.stage,
            before.status,
            before.version,
        )
        assert len(self.history()) == changes

    # -- rules ----------------------------------------------------------------------------

    @rule(position=st.integers(0, 4), seconds=st.integers(1, 10**6))
    def move(self, position: int, seconds: int) -> None:
        self.tick(seconds)
        deal = self.deal()
        code = self.stages[min(position, len(self.stages) - 1)].code

        def act() -> Opportunity:
            return move_opportunity(self.crm, self.actor, self.deal_id, code)

        if deal.status is not OpportunityStatus.OPEN:
            self.refused(act, InvalidTransition)
        elif code == deal.stage or (
            self.index(code) > self.index(deal.stage) and self.gate_blocks(deal.stage, code)
        ):
            self.refused(act, ValidationError)
        else:
            # Going back never needs anything; forward with every gate met must pass.
            assert act().stage == code

    @rule(kind=st.sampled_from(DOCUMENTS), seconds=st.integers(1, 10**6))
    def attach(self, kind: str, seconds: int) -> None:
        self.tick(seconds)
        if self.deal().status is OpportunityStatus.OPEN:
            attach_document(self.crm, self.actor, self.deal_id, kind)
            self.documents.add(kind)

    @rule(seconds=st.integers(1, 10**6))
    def win(self, seconds: int) -> None:
        self.tick(seconds)
        if self.deal().status is OpportunityStatus.OPEN:
            assert win_opportunity(self.crm, self.actor, self.deal_id).probability == 100
        else:
            self.refused(
                lambda: win_opportunity(self.crm, self.actor, self.deal_id), InvalidTransition
            )

    @rule(why=st.sampled_from(LOSS_REASONS), seconds=st.integers(1, 10**6))
    def lose(self, why: str, seconds: int) -> None:
        self.tick(seconds)
        if self.deal().status is OpportunityStatus.OPEN:
            assert lose_opportunity(self.crm, self.actor, self.deal_id, why).probability == 0
        else:
            self.refused(
                lambda: lose_opportunity(self.crm, self.actor, self.deal_id, why),
                InvalidTransition,
            )

    @rule(seconds=st.integers(1, 10**6))
    def lose_for_an_unlisted_reason(self, seconds: int) -> None:
        self.tick(seconds)
        if self.deal().status is OpportunityStatus.OPEN:
            self.refused(
                lambda: lose_opportunity(self.crm, self.actor, self.deal_id, "astrology"),
                ValidationError,
            )

    @rule(seconds=st.integers(1, 10**6))
    def reopen(self, seconds: int) -> None:
        self.tick(seconds)
        if self.deal().status is OpportunityStatus.OPEN:
            self.refused(
                lambda: reopen_opportunity(self.crm, self.actor, self.deal_id), InvalidTransition
            )
        else:
            before = self.deal().stage
            assert reopen_opportunity(self.crm, self.actor, self.deal_id).stage == before

    # -- invariants -----------------------------------------------------------------------

    @invariant()
    def probability_is_the_stage_default(self) -> None:
        deal = self.deal()
        expected = {
            OpportunityStatus.WON: 100,
            OpportunityStatus.LOST: 0,
            OpportunityStatus.OPEN: self.stages[self.index(deal.stage)].probability,
        }[deal.status]
        assert deal.probability == expected, (deal.status, deal.stage, deal.probability)

    @invariant()
    def stage_history_is_one_chain(self) -> None:
        deal, history = self.deal(), self.history()
        assert history[0].from_stage is None
        for previous, change in itertools.pairwise(history):
            assert change.from_stage == previous.to_stage
            assert change.from_stage != change.to_stage
        where = deal.stage if deal.status is OpportunityStatus.OPEN else deal.status.value
        assert history[-1].to_stage == where

    @invariant()
    def time_in_stage_is_never_negative(self) -> None:
        deal, history = self.deal(), self.history()
        for previous, change in itertools.pairwise(history):
            assert change.changed_at >= previous.changed_at
        assert deal.stage_entered_at <= self.clock.now()
        if deal.status is OpportunityStatus.OPEN:
            # The open stage was entered when its last history row says.
            assert deal.stage_entered_at == history[-1].changed_at


class OpportunityMovesOnSqlite(OpportunityMoves):
    """The machine again on SQLite: the invariants must survive the round trip."""

    backend = "sqlite"


OpportunityMoves.TestCase.settings = settings(
    max_examples=60, stateful_step_count=20, deadline=None
)
test_opportunity_moves_keep_their_invariants = OpportunityMoves.TestCase

OpportunityMovesOnSqlite.TestCase.settings = settings(
    max_examples=15, stateful_step_count=15, deadline=None
)
test_opportunity_moves_keep_their_invariants_on_sqlite = OpportunityMovesOnSqlite.TestCase
