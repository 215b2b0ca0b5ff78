"""Two dispatcher workers on PostgreSQL never claim the same message."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from crmkit import Crm
from crmkit.adapters.notify import notification_store
from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import FixedClock
from crmkit.rules.notifications import Dispatcher, DispatchReport, queue_message
from tests.adapters.notify.fakes import RecordingNotifier

MESSAGES = 400


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"], indirect=True)
def test_two_workers_deliver_every_message_exactly_once(
    make_crm: Callable[[], Crm], actor: Actor, clock: FixedClock
) -> None:
    crm = make_crm()

    def queue(uow) -> None:  # type: ignore[no-untyped-def]
        for n in range(MESSAGES):
            queue_message(
                uow,
                channel="sms",
                recipient=f"+86138{n:08d}",
                subject="",
                body=f"message {n}",
                now=clock.now(),
                aggregate_id=crm.new_id(),
            )

    crm.run(actor.tenant_id, queue)
    receiver = RecordingNotifier("sms")
    barrier = threading.Barrier(2)
    reports: list[DispatchReport] = []

    def worker() -> None:
        dispatcher = Dispatcher(
            notification_store(make_crm().storage),
            [receiver],
            batch=25,
            tenant_id=actor.tenant_id,
        )
        barrier.wait()
        reports.append(dispatcher.dispatch_pending(clock.now()))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(r.routed for r in reports) == MESSAGES
    assert sum(r.delivered for r in reports) == MESSAGES
    assert len(receiver.received) == len(receiver.unique) == MESSAGES
