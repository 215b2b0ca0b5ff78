"""Billing: allocating 100,000 receipts in one batch, oldest due first, on PostgreSQL.

Subject: ``allocate_receipts`` — one transaction that loads the receipts and their
customers' open installments, allocates oldest due first, saves every changed
installment and receipt under its version check, appends one hash-chained ledger
entry per allocation and one outbox event per receipt.

Anchor: the same allocation written by hand with SQLAlchemy Core on the same tables
(another tenant, the same data): select the receipts and the open installments,
walk them in Python, ``executemany`` the installment and receipt updates and insert
the ledger rows with a SHA-256 chain. It skips what a library must do on top —
permission checks, idempotency record, version checks, typed entities, events — so
the ratio is the price of those.

Here with one open installment per customer; ``bench_allocation_growth`` runs the same
case on a smaller batch with one and with several open installments per customer, to
show how the work grows with them (both at 100,000 do not fit the five-minute budget
of one bench run on the shared two-core machine).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import uuid
from decimal import Decimal
from typing import Any

import pendulum
import sqlalchemy as sa

from bench.databases import pg_engine
from bench.harness import Case
from crmkit import Crm, connect
from crmkit.adapters.sql.tables import mapping_for
from crmkit.billing import (
    Direction,
    Installment,
    LedgerEntry,
    Receipt,
    ReceiptState,
    allocate_receipts,
)
from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import FixedClock
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.money import Money
from crmkit.rules.permissions import bootstrap_tenant

BATCH = int(os.environ.get("CRMKIT_BENCH_ALLOCATION", "100000"))
SMOKE = {"BATCH": 20}
ON = dt.date(2026, 3, 2)
NOTES = (
    f"**Allocation (bench_allocation).** {BATCH:,} receipts of {BATCH:,} customers "
    "allocated oldest due first in one transaction on PostgreSQL, one open installment "
    "of 100.00 per customer and receipts of 130.00 (the 30.00 left stays unallocated "
    "credit). The anchor does the same reads, arithmetic and writes (installments, "
    "receipts, SHA-256-chained ledger rows) by hand with SQLAlchemy Core on the same "
    "tables, for another tenant with the same data; it skips permissions, the "
    "idempotency record, version checks, typed entities and outbox events. One timed "
    "run of each (the data is consumed), so the figures are single measurements. Rows "
    "per second = 1,000,000 / crmkit µs/op."
)
_NOW = pendulum.datetime(2026, 3, 1, tz="UTC")


def _load(crm: Crm, tenant: TenantId, batch: int, per_customer: int, seed: int) -> list[uuid.UUID]:
    rng = random.Random(seed)
    customers = [uuid.uuid4() for _ in range(batch)]
    owner = uuid.uuid4()
    chunk = 50_000
    for start in range(0, len(customers), chunk // per_customer):
        part = customers[start : start + chunk // per_customer]
        items = [
            Installment(
                id=uuid.uuid4(),  # type: ignore[arg-type]
                tenant_id=tenant,
                plan_id=uuid.uuid4(),  # type: ignore[arg-type]
                direction=Direction.RECEIVABLE,
                document_type="contract",
                document_id=uuid.uuid4(),
                customer_id=c,
                owner_id=owner,  # type: ignore[arg-type]
                seq=n + 1,
                label="HT",
                amount=Money("100.00", "CNY"),
                due_date=ON - dt.timedelta(days=rng.randrange(300)),
                raised_on=ON - dt.timedelta(days=330),
            )
            for c in part
            for n in range(per_customer)
        ]
        crm.run(tenant, lambda uow, items=items: uow.repository(Installment).add_many(items))
    receipts = [
        Receipt(
            id=uuid.uuid4(),  # type: ignore[arg-type]
            tenant_id=tenant,
            direction=Direction.RECEIVABLE,
            customer_id=c,
            amount=Money("130.00", "CNY"),
            settled=Money("130.00", "CNY"),
            rate=Decimal(1),
            received_on=ON,
            created_at=_NOW,
            state=ReceiptState.CONFIRMED,
        )
        for c in customers
    ]
    for start in range(0, len(receipts), chunk):
        part_r = receipts[start : start + chunk]
        crm.run(tenant, lambda uow, r=part_r: uow.repository(Receipt).add_many(r))
    return [r.id for r in receipts]


def _core_allocation(
    engine: sa.Engine, tenant: TenantId, receipt_ids: list[uuid.UUID], head: dict[str, Any]
) -> int:
    """Oldest-due-first allocation written by hand with SQLAlchemy Core.

    ``head`` carries the anchor's chain (last ``seq`` and ``hash``) from run to run.
    """
    inst = mapping_for(Installment).table
    rec = mapping_for(Receipt).table
    ledger = mapping_for(LedgerEntry).table
    with engine.begin() as conn:
        receipts = []
        for start in range(0, len(receipt_ids), 10_000):
            receipts += conn.execute(
                sa.select(rec.c.id, rec.c.customer_id, rec.c.settled_amount, rec.c.allocated_amount)
                .where(rec.c.tenant_id == tenant, rec.c.id.in_(receipt_ids[start : start + 10_000]))
            ).all()  # fmt: skip
        customers = sorted({r.customer_id for r in receipts})
        open_: dict[uuid.UUID, list[list[Any]]] = {}
        for start in range(0, len(customers), 10_000):
            rows = conn.execute(
                sa.select(inst.c.id, inst.c.customer_id, inst.c.amount_amount, inst.c.paid_amount)
                .where(
                    inst.c.tenant_id == tenant,
                    inst.c.customer_id.in_(customers[start : start + 10_000]),
                    inst.c.status.in_(["open", "partial"]),
                )
                .order_by(inst.c.customer_id, inst.c.due_date, inst.c.seq)
            )  # fmt: skip
            for row in rows:
                open_.setdefault(row.customer_id, []).append(list(row))
        changed: dict[uuid.UUID, list[Any]] = {}
        receipt_updates, entries = [], []
        prev, seq = head["hash"], head["seq"]
        for rid, customer, settled, allocated in receipts:
            left = settled - allocated
            for item in open_.get(customer, []):
                if left <= 0:
                    break
                share = min(left, item[2] - item[3])
                if share <= 0:
                    continue
                item[3] += share
                left -= share
                changed[item[0]] = item
                seq += 1
                digest = hashlib.sha256(
                    f"{prev}|{seq}|{rid}|{item[0]}|{share}".encode()
                ).hexdigest()
                entries.append(
                    {
                        "tenant_id": tenant, "id": uuid.uuid4(), "seq": seq,
                        "kind": "allocation", "amount_amount": share, "amount_currency": "CNY",
                        "occurred_at": _NOW, "posted_on": ON, "customer_id": customer,
                        "command": "allocate_batch", "idempotency_key": "core",
                        "prev_hash": prev, "hash": digest, "receipt_id": rid,
                        "installment_id": item[0], "version": 1,
                    }
                )  # fmt: skip
                prev = digest
            receipt_updates.append({"r": rid, "a": settled - left})
        conn.execute(
            inst.update()
            .where(inst.c.tenant_id == tenant, inst.c.id == sa.bindparam("i"))
            .values(
                paid_amount=sa.bindparam("p"),
                status=sa.bindparam("s"),
                version=inst.c.version + 1,
            ),
            [
                {"i": i, "p": paid, "s": "paid" if paid == amount else "partial"}
                for i, _c, amount, paid in changed.values()
            ],
        )
        conn.execute(
            rec.update()
            .where(rec.c.tenant_id == tenant, rec.c.id == sa.bindparam("r"))
            .values(allocated_amount=sa.bindparam("a"), version=rec.c.version + 1),
            receipt_updates,
        )
        conn.execute(ledger.insert(), entries)
    head["hash"], head["seq"] = prev, seq
    return len(entries)


def allocation_case(batch: int, per_customer: int, repeat: int = 1) -> Case:
    """``allocate_receipts`` of ``batch`` receipts against the Core anchor, ``repeat``
    timed runs of each (every run gets receipts of its own)."""
    engine, drop = pg_engine()
    crm: Crm = connect(engine, migrate=False, clock=FixedClock("2026-03-02T02:00:00Z"))
    mine, theirs = TenantId(uuid.uuid4()), TenantId(uuid.uuid4())
    actor = Actor(mine, UserId(uuid.uuid4()), "finance")
    bootstrap_tenant(crm, mine, actor.user_id)
    subject_ids = _load(crm, mine, batch * repeat, per_customer, seed=per_customer)
    anchor_ids = _load(crm, theirs, batch * repeat, per_customer, seed=per_customer)
    with engine.begin() as conn:
        # The tables read, not the whole database (which may hold other schemas).
        for entity in (Installment, Receipt, LedgerEntry):
            conn.exec_driver_sql(f"ANALYZE {mapping_for(entity).table.name}")
    written: dict[str, int] = {"crmkit": 0, "core": 0}
    mine_runs = iter([subject_ids[n : n + batch] for n in range(0, len(subject_ids), batch)])
    their_runs = iter([anchor_ids[n : n + batch] for n in range(0, len(anchor_ids), batch)])
    keys = iter(range(10**6))
    chain_head: dict[str, Any] = {"seq": 0, "hash": "0" * 64}

    def in_one_batch() -> None:
        ids = next(mine_runs)
        entries = allocate_receipts(crm, actor, ids, idempotency_key=f"b{next(keys)}")
        written["crmkit"] += len(entries)

    def by_hand() -> None:
        written["core"] += _core_allocation(engine, theirs, next(their_runs), chain_head)

    def check_and_drop() -> None:
        drop()
        # Both sides did the same allocations before the figures are believed.
        assert written["crmkit"] == written["core"], written

    return Case(
        name=f"allocate {batch:,} receipts, {per_customer} open installment(s)/customer",
        anchor_name="raw SQLAlchemy Core",
        ops=batch,
        subject=in_one_batch,
        anchor=by_hand,
        goal="report",
        repeat=repeat,
        teardown=check_and_drop,
    )


def cases() -> list[Case]:
    return [allocation_case(BATCH, 1)]
