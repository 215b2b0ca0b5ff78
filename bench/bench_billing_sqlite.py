"""Billing: the aging report on a SQLite file vs a raw SQLAlchemy Core query and pandas.

The cases of ``bench_billing`` on the embedded default database: the same data, the
same anchors.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from bench.bench_billing import INSTALLMENTS, aging_cases
from bench.databases import sqlite_engine
from bench.harness import Case

# The sizes live in bench_billing, whose cases these are.
SMOKE = {"bench_billing.INSTALLMENTS": 300, "bench_billing.RECEIPTS": 100}
NOTES = (
    f"**Billing aging on SQLite (bench_billing_sqlite).** The aging cases of bench_billing "
    f"({INSTALLMENTS:,} installments) on a SQLite file: SQLite has no NUMERIC type, so "
    "amounts are stored as integer millionths and both crmkit and the Core anchor read "
    "the sums back through the exact decimal type."
)


def cases() -> list[Case]:
    engine = sqlite_engine("aging")
    folder = Path(str(engine.url.database)).parent

    def remove() -> None:
        engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)

    return aging_cases(engine, "SQLite", remove)
