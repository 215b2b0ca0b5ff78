"""Stateful invariant: committed numbers are exactly 1..n in every period, whatever happens.

The machine runs on every backend: the SQL counter is a different implementation (one
upsert) from the memory one, and a mistake in it (an upsert adding 1 instead of the batch
size) shows only there.
"""

from __future__ import annotations

import contextlib
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from crmkit import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import FixedClock
from crmkit.kernel.ids import TenantId, UserId
from crmkit.ports import UnitOfWork
from crmkit.rules.numbering import define_numbering_rule, next_number, next_numbers
from crmkit.rules.permissions import bootstrap_tenant
from tests.rules.numbering.documents import NumberedDoc, ensure_table


class Abort(Exception):
    pass


class Numbering(RuleBasedStateMachine):
    def __init__(self, make_crm: Callable[[], Crm], clock: FixedClock) -> None:
        super().__init__()
        # Every run starts in January of a fresh tenant (the storage is shared on SQL).
        clock.set(FixedClock("2026-01-15T03:00:00Z").now())
        self.clock = clock
        self.crm = make_crm()
        ensure_table(self.crm)
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

    @rule(size=st.integers(min_value=1, max_value=4))
    def create_a_batch(self, size: int) -> None:
        def work(uow: UnitOfWork) -> None:
            for number in next_numbers(uow, "contract", self.crm.now(), size):
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


def test_committed_numbers_are_one_to_n_in_every_period(
    make_crm: Callable[[], Crm], clock: FixedClock, backend: str
) -> None:
    examples = 40 if backend == "memory" else 12
    run_state_machine_as_test(
        lambda: Numbering(make_crm, clock),
        settings=settings(max_examples=examples, stateful_step_count=25, deadline=None),
    )
