"""``python -m bench [name ...]``: run bench/bench_*.py (all, or those named) and report."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from bench.harness import record, run_case


def main(argv: list[str]) -> int:
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
    print(header)
    print("-" * len(header))
    for name in wanted:
        module = importlib.import_module(f"bench.{name}")
        rows = []
        for case in module.cases():
            row = run_case(case)
            rows.append(row)
            flag = {True: "met", False: "MISSED", None: ""}[row["met"]]
            print(
                f"{row['name']:44} {row['anchor']:28} {row['subject_us']:11.3f} "
                f"{row['anchor_us']:11.3f} {row['ratio']:7.3f}  {row['goal']} {flag}",
                flush=True,
            )
        record(name, rows, getattr(module, "NOTES", ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
