"""Search: the pinyin search of bench_search on MariaDB at the same size.

The same customers, the same queries and the same ``LIKE '%x%'`` anchor as the SQLite
and PostgreSQL cases of ``bench_search``, kept in a module of their own so a MariaDB
figure can be measured without re-running the others.
"""

from __future__ import annotations

import uuid

from attrs import evolve

from bench import bench_search
from bench.databases import mysql_engine
from bench.harness import Case
from crmkit.kernel.ids import TenantId

# The sizes live in bench_search, whose case this is.
SMOKE = {"bench_search.SEARCH_N": 300}
NOTES = ""


def cases() -> list[Case]:
    global NOTES
    engine, drop = mysql_engine()
    customers = bench_search._customers(TenantId(uuid.uuid4()), bench_search.SEARCH_N)
    case, note = bench_search._search_case(engine, "MariaDB", customers)
    NOTES = (
        "**Search on MariaDB (bench_search_mariadb).** The search case of bench_search on "
        "MariaDB 10.11 (utf8mb4, binary collation on the key columns, InnoDB defaults); " + note
    )
    return [evolve(case, teardown=drop)]
