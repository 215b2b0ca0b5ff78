"""``python -m bench [--smoke] [--json] [name ...]``: run bench/bench_*.py (all, or those
named) and report.

A full run times every case and writes ``bench/results.json`` and
``docs/performance.md``. ``--smoke`` runs each case once at the tiny sizes the module
declares in ``SMOKE`` (see :func:`bench.harness.smoke_sizes`) and records nothing:
``make test`` does that for every module, so no benchmark rots unnoticed. ``--json``
prints each module's rows as one JSON line instead of the table.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import sys
from pathlib import Path

import attrs

from bench.harness import record, run_case, smoke_sizes


def main(argv: list[str]) -> int:
    smoke = "--smoke" in argv
    as_json = "--json" in argv
    argv = [a for a in argv if a not in ("--smoke", "--json")]
    here = Path(__file__).resolve().parent
    names = sorted(p.stem for p in here.glob("bench_*.py"))
    wanted = [n if n.startswith("bench_") else f"bench_{n}" for n in argv] or names
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; have {', '.join(names)}")
        return 2
    header = (
        f"{'benchmark':44} {'anchor':28} {'crmkit µs':>11} {'anchor µs':>11} {'ratio':>7}  goal"
    )
    if not as_json:
        print(header)
        print("-" * len(header))
    for name in wanted:
        module = importlib.import_module(f"bench.{name}")
        rows = []
        with smoke_sizes(module) if smoke else contextlib.nullcontext():
            cases = module.cases()
            if smoke:
                cases = [attrs.evolve(case, repeat=1) for case in cases]
            for case in cases:
                row = run_case(case)
                rows.append(row)
                if as_json:
                    continue
                flag = {True: "met", False: "MISSED", None: ""}[row["met"]]
                print(
                    f"{row['name']:44} {row['anchor']:28} {row['subject_us']:11.3f} "
                    f"{row['anchor_us']:11.3f} {row['ratio']:7.3f}  {row['goal']} {flag}",
                    flush=True,
                )
        if as_json:
            print(json.dumps({"module": name, "rows": rows}, ensure_ascii=False), flush=True)
        if not smoke:  # tiny sizes say nothing about speed: never recorded
            record(name, rows, getattr(module, "NOTES", ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
