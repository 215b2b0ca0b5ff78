"""Billing: the aging report of bench_billing on MariaDB.

The same installments and receipts, the same anchors (a raw Core query, pandas) as on
PostgreSQL and SQLite, in a module of their own.
"""

from __future__ import annotations

from bench.bench_billing import INSTALLMENTS, aging_cases
from bench.databases import mysql_engine
from bench.harness import Case

# The sizes live in bench_billing, whose cases these are.
SMOKE = {"bench_billing.INSTALLMENTS": 300, "bench_billing.RECEIPTS": 100}
NOTES = (
    f"**Billing aging on MariaDB (bench_billing_mariadb).** The aging cases of bench_billing "
    f"({INSTALLMENTS:,} installments) on MariaDB 10.11: amounts in DECIMAL(24,6), summed "
    "exactly by the server."
)


def cases() -> list[Case]:
    engine, drop = mysql_engine()
    return aging_cases(engine, "MariaDB", drop)
