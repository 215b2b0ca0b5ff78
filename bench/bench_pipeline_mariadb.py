"""Pipeline analytics: the funnel and forecast of bench_pipeline on MariaDB.

The same 1,000,000 opportunities and the same anchors (a hand-written GROUP BY and a
pandas groupby) as the SQLite and PostgreSQL cases, in a module of their own.
"""

from __future__ import annotations

from bench import bench_pipeline
from bench.databases import mysql_engine
from bench.harness import Case

# The sizes live in bench_pipeline, whose cases these are.
SMOKE = {"bench_pipeline.N": 300}
NOTES = (
    "**Pipeline analytics on MariaDB (bench_pipeline_mariadb).** The cases of "
    "bench_pipeline on MariaDB 10.11 (amounts in DECIMAL(24,6), InnoDB defaults)."
)


def cases() -> list[Case]:
    engine, drop = mysql_engine()
    return bench_pipeline._cases(engine, "MariaDB", drop)
