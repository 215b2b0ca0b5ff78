"""Billing: how batch allocation grows with the open installments of each customer.

The case of ``bench_allocation`` (``allocate_receipts`` against the same allocation
by hand with SQLAlchemy Core) on a batch of 5,000 receipts, with 1, 5 and 10 open
installments per customer: each receipt pays one installment and part of the next,
so the work per receipt grows with what must be loaded and sorted, not with what is
paid.
"""

from __future__ import annotations

import os

from bench.bench_allocation import allocation_case
from bench.harness import Case

BATCH = int(os.environ.get("CRMKIT_BENCH_GROWTH_BATCH", "5000"))
DEPTHS = (1, 5, 10)
SMOKE = {"BATCH": 10}
NOTES = (
    f"**Allocation growth (bench_allocation_growth).** The allocation case on {BATCH:,} "
    f"receipts with {', '.join(map(str, DEPTHS))} open installments per customer (three "
    "timed runs each, medians): compare crmkit µs/op down the rows to see the growth per "
    "open installment."
)


def cases() -> list[Case]:
    return [allocation_case(BATCH, depth, repeat=3) for depth in DEPTHS]
