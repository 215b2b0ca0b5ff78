"""Saving 100,000 customers on MariaDB vs raw SQLAlchemy Core: bench_storage's case there.

Both sides go through PyMySQL's executemany, which sends an INSERT with many VALUES
rows per statement: the fastest load MariaDB takes without ``LOAD DATA LOCAL INFILE``,
which servers commonly disable (``local_infile=OFF``) and which needs a file.
"""

from __future__ import annotations

from attrs import evolve

from bench import bench_storage
from bench.databases import mysql_engine
from bench.harness import Case

# The size lives in bench_storage, whose case this is.
SMOKE = {"bench_storage.N": 1_100}
NOTES = (
    "**Storage on MariaDB (bench_storage_mariadb).** bench_storage's case on MariaDB 10.11 "
    "on loopback, in its own database: the adapter's `add_many` against Core `executemany`, "
    "both sent by PyMySQL as multi-row INSERTs."
)


def cases() -> list[Case]:
    engine, drop = mysql_engine()
    return [
        evolve(
            bench_storage._pair(engine, "MariaDB (multi-row INSERT)", "≤ 1.5", 1.5),
            teardown=drop,
        )
    ]
