"""Stateful invariant: committed numbers are exactly 1..n in every period, whatever happens."""

from __future__ import annotations

import contextlib
import uuid
from collections import defaultdict
from datetime import timedelta

from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from crmkit import Crm
from crmkit.adapters.memory import MemoryStorage
from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import FixedClock
from crmkit.kernel.ids import TenantId, UserId
from crmkit.ports import UnitOfWork
from crmkit.rules.numbering import define_numbering_rule, next_number, next_numbers
from crmkit.rules.permissions import bootstrap_tenant
from tests.rules.numbering.documents import NumberedDoc


class Abort(Exception):
    pass


class Numbering(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = FixedClock("2026-01-15T03:00:00Z")
        self.crm = Crm(MemoryStorage(), clock=self.clock)
        self.actor = Actor(TenantId(uuid.uuid4()), UserId(uuid.uuid4()), "admin")
        bootstrap_tenant(self.crm, self.actor.tenant_id, self.actor.user_id, "admin")
        define_numbering_rule(self.crm, self.actor, "contract", "HT{yyyy}{mm}-{seq:3}", "monthly")

    def _store(self, numbers: list[str], abort: bool) -> None:
        def work(uow: UnitOfWork) -> None:
            for number in numbers or [next_number(uow, "contract", self.crm.now())]:
                uow.repository(NumberedDoc).add(
                    NumberedDoc(id=self.crm.new_id(), tenant_id=self.actor.tenant_id, number=number)
                )
            if abort:
                raise Abort

        with contextlib.suppress(Abort):
            self.crm.run(self.actor.tenant_id, work)

    @rule()
    def create_one(self) -> None:
        self._store([], abort=False)

    @rule()
    def create_one_and_roll_back(self) -> None:
        self._store([], abort=True)

    @rule()
    def create_a_batch(self) -> None:
        def work(uow: UnitOfWork) -> None:
            for number in next_numbers(uow, "contract", self.crm.now(), 3):
                uow.repository(NumberedDoc).add(
                    NumberedDoc(id=self.crm.new_id(), tenant_id=self.actor.tenant_id, number=number)
                )

        self.crm.run(self.actor.tenant_id, work)

    @rule()
    def next_month(self) -> None:
        self.clock.set(self.clock.now() + timedelta(days=31))

    @invariant()
    def every_period_is_numbered_one_to_n(self) -> None:
        docs = self.crm.run(self.actor.tenant_id, lambda uow: uow.repository(NumberedDoc).query())
        by_period: dict[str, list[int]] = defaultdict(list)
        for doc in docs:
            prefix, seq = doc.number.split("-")
            by_period[prefix].append(int(seq))
        for values in by_period.values():
            assert sorted(values) == list(range(1, len(values) + 1))


TestNumbering = Numbering.TestCase
TestNumbering.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
