"""A small benchmark harness: subject vs anchor, medians and their ratio.

A bench module (``bench/bench_*.py``) defines ``cases() -> list[Case]`` and ``SMOKE``,
the tiny sizes a smoke run uses (see :func:`smoke_sizes`). Each case
times ``subject`` and ``anchor`` alternately ``repeat`` times in the same process
(so a noisy neighbour hits both alike), reports the median time per operation and
``ratio = subject / anchor`` (below 1 means crmkit is faster). Results are merged
into ``bench/results.json`` and rendered into ``docs/performance.md``.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
REPORT = ROOT / "docs" / "performance.md"


@attrs.frozen
class Case:
    """One measurement: ``subject`` (crmkit) against ``anchor`` doing the same work.

    Attributes:
        name: what is measured, e.g. "Money add".
        anchor_name: the named anchor, e.g. "py-moneyed".
        ops: operations one call performs (for per-operation times).
        subject: crmkit's callable; set-up belongs outside it.
        anchor: the anchor's callable.
        goal: the target in words, e.g. "ratio <= 0.25 (4x faster)".
        goal_ratio: the ratio the goal asks for (subject / anchor must be at most this).
        repeat: how many timed calls of each.
        teardown: called once after timing.
    """

    name: str
    anchor_name: str
    ops: int
    subject: Callable[[], object]
    anchor: Callable[[], object]
    goal: str = ""
    goal_ratio: float | None = None
    repeat: int = 5
    teardown: Callable[[], object] | None = None


@contextlib.contextmanager
def smoke_sizes(module: ModuleType) -> Iterator[None]:
    """Run ``module``'s cases at the tiny sizes it declares, for a smoke run.

    Every bench module declares ``SMOKE``: a dict from the names of its size
    constants (``N``, ``BATCH``, ...) to small values, ``{}`` when it is small already;
    ``"bench_billing.INSTALLMENTS"`` names a constant of a sibling module whose cases
    it runs. Inside the block those module globals hold the small values (derived
    constants must be listed too); afterwards the declared sizes are back.

    Raises:
        AttributeError: the module declares no ``SMOKE`` (a new bench must say how to
            run it small, or ``make test`` would run it at full size), or names a
            constant that does not exist.
    """
    sizes: dict[str, Any] | None = getattr(module, "SMOKE", None)
    if sizes is None:
        raise AttributeError(
            f"{module.__name__} declares no SMOKE: name its size constants and tiny values"
        )
    package = module.__name__.rpartition(".")[0]
    targets: list[tuple[ModuleType, str, Any]] = []
    for key, value in sizes.items():
        owner_name, _, name = key.rpartition(".")
        owner = importlib.import_module(f"{package}.{owner_name}") if owner_name else module
        if not hasattr(owner, name):
            raise AttributeError(f"{module.__name__}.SMOKE: {owner.__name__} has no {name}")
        targets.append((owner, name, value))
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in targets]
    for owner, name, value in targets:
        setattr(owner, name, value)
    try:
        yield
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)


def _time_once(fn: Callable[[], object]) -> float:
    gc.collect()
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def run_case(case: Case) -> dict[str, Any]:
    """Time one case; returns a row for the report."""
    subject_times: list[float] = []
    anchor_times: list[float] = []
    try:
        for _ in range(case.repeat):
            subject_times.append(_time_once(case.subject))
            anchor_times.append(_time_once(case.anchor))
    finally:
        if case.teardown is not None:
            case.teardown()
    subject = statistics.median(subject_times) / case.ops
    anchor = statistics.median(anchor_times) / case.ops
    ratio = subject / anchor
    met = None if case.goal_ratio is None else ratio <= case.goal_ratio
    return {
        "name": case.name,
        "anchor": case.anchor_name,
        "ops": case.ops,
        "subject_us": subject * 1e6,
        "anchor_us": anchor * 1e6,
        "ratio": ratio,
        "goal": case.goal,
        "met": met,
    }


def _fmt_us(value: float) -> str:
    return f"{value:,.3f}" if value < 10 else f"{value:,.1f}"


def render(results: dict[str, dict[str, Any]], machine: str, command: str) -> str:
    """The performance page: one row per case, in module order."""
    lines = [
        "# Performance",
        "",
        "Every figure is a ratio against a named anchor run in the same process, on the",
        "same data, alternating runs so machine noise hits both alike. A ratio below 1",
        "means crmkit is faster than the anchor. Times are medians per operation.",
        "",
        f"Reproduce with `{command}` (figures below: {machine}).",
        "",
        "`make test` runs every benchmark module once at a tiny size",
        "(`python -m bench --smoke`, at the sizes each module declares in `SMOKE`), so a",
        "benchmark that stops working fails the tests; those runs record nothing. A new",
        "`bench/bench_*.py` is picked up by both, and must declare its `SMOKE` sizes.",
        "",
        "| benchmark | anchor | crmkit µs/op | anchor µs/op | ratio | goal | met |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for module in sorted(results):
        for row in results[module]["rows"]:
            met = {True: "yes", False: "**no**", None: "n/a"}[row["met"]]
            lines.append(
                f"| {row['name']} | {row['anchor']} | {_fmt_us(row['subject_us'])} | "
                f"{_fmt_us(row['anchor_us'])} | {row['ratio']:.3f} | {row['goal']} | {met} |"
            )
    notes = [results[m]["notes"] for m in sorted(results) if results[m].get("notes")]
    if notes:
        lines += ["", "## Notes", ""]
        for note in notes:
            lines += [note, ""]
    return "\n".join(lines).rstrip() + "\n"


def record(module: str, rows: list[dict[str, Any]], notes: str = "") -> None:
    """Merge one module's rows into results.json and rewrite docs/performance.md."""
    results: dict[str, dict[str, Any]] = {}
    if RESULTS.exists():
        results = json.loads(RESULTS.read_text(encoding="utf-8"))
    results[module] = {"rows": rows, "notes": notes}
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    machine = (
        f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}"
    )
    REPORT.write_text(render(results, machine, "make bench"), encoding="utf-8")
