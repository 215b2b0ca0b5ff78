"""Batched saves keep every aggregate's version check: a batch allocation that read a
receipt someone else changed meanwhile fails whole, on every storage."""

from __future__ import annotations

from datetime import date

import pytest

from crmkit import Crm
from crmkit.billing import Installment, Receipt, allocate_receipts, get_receipt, record_receipt
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import ConcurrencyConflict
from crmkit.kernel.money import Money
from tests.billing.builders import make_customer, make_plan


def test_save_many_refuses_a_stale_aggregate_and_names_it(crm: Crm, actor: Actor) -> None:
    view = make_plan(crm, actor)
    items = crm.run(actor.tenant_id, lambda uow: uow.repository(Installment).query())
    assert len(items) == 3
    fresh = crm.run(actor.tenant_id, lambda uow: uow.repository(Installment).get(items[1].id))
    fresh.label = "changed by a colleague"
    crm.run(actor.tenant_id, lambda uow: uow.repository(Installment).save(fresh))
    for item in items:
        item.label = "batch"
    with pytest.raises(ConcurrencyConflict) as stale:
        crm.run(actor.tenant_id, lambda uow: uow.repository(Installment).save_many(items))
    assert stale.value.id == items[1].id
    after = crm.run(actor.tenant_id, lambda uow: uow.repository(Installment).query())
    assert sorted(i.label for i in after) == sorted(
        ["changed by a colleague", *(i.label for i in after if i.id != items[1].id)]
    )
    assert all(i.label != "batch" for i in after)  # nothing of the batch was kept
    assert view.plan.total == Money("100000.00", "CNY")


def test_save_many_bumps_every_version(crm: Crm, actor: Actor) -> None:
    who = make_customer(crm, actor).id
    make_plan(crm, actor, customer_id=who)
    receipts = [
        record_receipt(
            crm,
            actor,
            customer_id=who,
            amount=Money("1000", "CNY"),
            received_on=date(2026, 2, 1),
            idempotency_key=f"r{n}",
        )
        for n in range(3)
    ]
    versions = [r.version for r in receipts]
    allocate_receipts(crm, actor, [r.id for r in receipts], idempotency_key="b")
    after = [get_receipt(crm, actor, r.id) for r in receipts]
    assert [r.version for r in after] == [v + 1 for v in versions]
    assert all(isinstance(r, Receipt) and r.allocated == Money("1000", "CNY") for r in after)
