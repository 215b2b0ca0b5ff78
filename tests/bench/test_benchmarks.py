"""Every benchmark runs, at a tiny size, in every test run: none can rot unnoticed.

One case per ``bench/bench_*.py`` (found on disk, so a new bench is covered without
anyone adding it here): ``python -m bench --smoke --json <name>`` in a child process
(bench modules register their own tables and reminder sources, which must not leak
into this process), each case once at the sizes the module declares in ``SMOKE``,
nothing recorded. No time is asserted — only that every case ran and produced its
figures. Benchmarks on PostgreSQL work in this test run's own schema, on MariaDB in its
own database, SQLite files go to the test's temporary folder.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
BENCHES = sorted(p.stem for p in (ROOT / "bench").glob("bench_*.py"))


def _uses_postgresql(name: str) -> bool:
    """Whether the bench (or a bench it builds on) opens a PostgreSQL schema."""
    source = (ROOT / "bench" / f"{name}.py").read_text(encoding="utf-8")
    builds_on = [b for b in BENCHES if b != name and f"bench.{b} import" in source]
    return "pg_engine" in source or any(_uses_postgresql(b) for b in builds_on)


def _uses_mysql(name: str) -> bool:
    """Whether the bench (or a bench it builds on) opens a MySQL/MariaDB database."""
    source = (ROOT / "bench" / f"{name}.py").read_text(encoding="utf-8")
    builds_on = [b for b in BENCHES if b != name and f"bench.{b} import" in source]
    return "mysql_engine" in source or any(_uses_mysql(b) for b in builds_on)


def test_the_benchmarks_are_found() -> None:
    assert "bench_reminders" in BENCHES
    assert len(BENCHES) >= 10


@pytest.mark.parametrize("name", BENCHES)
def test_every_benchmark_runs_at_a_tiny_size_and_produces_its_figures(
    name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    env = {**os.environ, "CRMKIT_BENCH_SCRATCH": str(tmp_path), "PYTHONPATH": str(ROOT)}
    if _uses_postgresql(name):
        engine: sa.Engine = request.getfixturevalue("pg_engine")  # skips without a server
        with engine.connect() as conn:
            env["CRMKIT_BENCH_PG_SCHEMA"] = conn.exec_driver_sql("SELECT current_schema()").scalar()
    if _uses_mysql(name):
        mysql: sa.Engine = request.getfixturevalue("mysql_engine")  # skips without a server
        env["CRMKIT_BENCH_MYSQL_DATABASE"] = str(mysql.url.database)
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--json", name],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"{name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("{")]
    report = json.loads(line)
    assert report["module"] == name
    assert report["rows"], f"{name} produced no cases"
    for row in report["rows"]:
        assert row["name"]
        assert row["anchor"]
        for figure in ("subject_us", "anchor_us", "ratio"):
            assert math.isfinite(row[figure]), (name, row)
            assert row[figure] > 0, (name, row)


def test_a_smoke_run_records_nothing(tmp_path: Path) -> None:
    results = (ROOT / "bench" / "results.json").read_bytes()
    page = (ROOT / "docs" / "performance.md").read_bytes()
    env = {**os.environ, "CRMKIT_BENCH_SCRATCH": str(tmp_path), "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--json", "money"], cwd=ROOT, env=env, check=True,
        capture_output=True,
    )  # fmt: skip
    assert (ROOT / "bench" / "results.json").read_bytes() == results
    assert (ROOT / "docs" / "performance.md").read_bytes() == page
