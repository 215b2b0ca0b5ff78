"""Installments feed reminder rules; two clerks racing on one receipt on PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import date

import pytest

from crmkit import Crm
from crmkit.billing import (
    balance_mismatches,
    get_receipt,
    ledger_entries,
    record_receipt,
    verify_ledger,
)
from crmkit.billing.services import allocate_receipt
from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import FixedClock
from crmkit.kernel.errors import ConcurrencyConflict
from crmkit.kernel.money import Money
from crmkit.rules.reminders import (
    Recipients,
    TriggerKind,
    define_reminder_rule,
    scan_due_reminders,
)
from tests.billing.builders import make_plan


def test_installments_remind_owner_and_finance_3_days_before_and_1_7_30_days_after(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    clock.set("2026-02-25T02:00:00Z")  # 10:00 in Shanghai, three days before it is due
    finance = uuid.uuid4()
    view = make_plan(
        crm, actor, owner_id=actor.user_id, signed=date(2026, 2, 28), delivered=None, accepted=None
    )
    define_reminder_rule(
        crm,
        actor,
        name="receivable due",
        trigger=TriggerKind.DATE_FIELD,
        resource="installment",
        field="due_date",
        offsets_days=(-3, 1, 7, 30),
        only_when=(("status", "open"),),
        subject="{title} due {date}",
        recipients=(Recipients.owner(), Recipients.named(finance)),
    )
    soon = scan_due_reminders(crm, actor.tenant_id)
    assert {f.recipient_id for f in soon} == {actor.user_id, finance}
    assert {f.subject for f in soon} == {f"{view.installments[0].label} due 2026-02-25"}
    clock.set("2026-03-01T02:00:00Z")
    overdue = scan_due_reminders(crm, actor.tenant_id)  # 1 day overdue
    assert {f.subject[-10:] for f in overdue} == {"2026-03-01"}
    assert len(overdue) == 2
    clock.set("2026-03-07T02:00:00Z")
    assert len(scan_due_reminders(crm, actor.tenant_id)) == 2  # 7 days overdue
    receipt = record_receipt(
        crm,
        actor,
        customer_id=view.plan.customer_id,
        amount=Money("30000", "CNY"),
        received_on=date(2026, 3, 8),
        idempotency_key="r",
    )
    allocate_receipt(crm, actor, receipt.id, idempotency_key="a")
    clock.set("2026-03-30T02:00:00Z")
    assert scan_due_reminders(crm, actor.tenant_id) == []  # paid: no 30-day reminder


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"], indirect=True)
def test_two_clerks_allocating_one_receipt_at_once_one_wins_one_conflicts(
    make_crm: Callable[[], Crm], actor: Actor
) -> None:
    setup = make_crm()
    view = make_plan(setup, actor)
    receipt = record_receipt(
        setup,
        actor,
        customer_id=view.plan.customer_id,
        amount=Money("40000", "CNY"),
        received_on=date(2026, 2, 1),
        idempotency_key="r",
    )
    seen = receipt.version  # both clerks opened the receipt at this version
    clerks = [make_crm(), make_crm()]
    start = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def clerk(n: int) -> None:
        start.wait()
        try:
            outcomes[n] = allocate_receipt(
                clerks[n],
                actor,
                receipt.id,
                idempotency_key=f"clerk-{n}",
                expected_version=seen,
            )
        except ConcurrencyConflict as conflict:
            outcomes[n] = conflict

    threads = [threading.Thread(target=clerk, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    conflicts = [o for o in outcomes if isinstance(o, ConcurrencyConflict)]
    wins = [o for o in outcomes if isinstance(o, list)]
    assert len(conflicts) == 1
    assert len(wins) == 1
    assert get_receipt(setup, actor, receipt.id).allocated == Money("40000", "CNY")
    assert len(ledger_entries(setup, actor)) == 1 + len(wins[0])  # type: ignore[arg-type]
    assert balance_mismatches(setup, actor) == []
    assert verify_ledger(setup, actor).ok


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"], indirect=True)
def test_concurrent_receipts_of_one_tenant_keep_one_unbroken_chain(
    make_crm: Callable[[], Crm], actor: Actor
) -> None:
    setup = make_crm()
    view = make_plan(setup, actor)
    handles = [make_crm() for _ in range(4)]
    start = threading.Barrier(len(handles))

    def clerk(n: int) -> None:
        start.wait()
        for k in range(5):
            record_receipt(
                handles[n],
                actor,
                customer_id=view.plan.customer_id,
                amount=Money("10", "CNY"),
                received_on=date(2026, 2, 1),
                idempotency_key=f"{n}-{k}",
            )

    threads = [threading.Thread(target=clerk, args=(n,)) for n in range(len(handles))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    check = verify_ledger(setup, actor)
    assert check.ok
    assert check.checked == 20
