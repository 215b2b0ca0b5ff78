"""Money arithmetic: crmkit's ``Money`` against py-moneyed and against bare ``Decimal``."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import moneyed

from bench.harness import Case
from crmkit.kernel.money import Money

OPS = 100_000
SMOKE = {"OPS": 200}

NOTES = (
    "Money benchmarks time 100,000 additions (a running total plus a fixed amount) and "
    "100,000 multiplications by a Decimal factor, in CNY, in one Python loop per call; the "
    "loop is the same for every side. py-moneyed (`moneyed.Money`) is the anchor a host "
    "would otherwise use; bare `Decimal` is the floor (no currency check, no object to "
    "build) and is reported, not targeted. crmkit's results skip the attrs converter and "
    "validator (both operands were valid) but still check the currency on every add. "
    "The pure-Python floor is one Python-level dunder call plus building a two-slot "
    "object (about 0.2 µs here), while py-moneyed 3.0 takes about 0.45 µs, so the 4x "
    "goal would need compiled code."
)

_FACTOR = Decimal("1.0825")


def _add_loop(total: Any, step: Any) -> Callable[[], object]:
    def run() -> object:
        running = total
        for _ in range(OPS):
            running = running + step
        return running

    return run


def _multiply_loop(amount: Any) -> Callable[[], object]:
    def run() -> object:
        result = amount
        for _ in range(OPS):
            result = amount * _FACTOR
        return result

    return run


def cases() -> list[Case]:
    """The Money cases: add and multiply against py-moneyed, add against Decimal."""
    start, step = Decimal("1234.50"), Decimal("0.01")
    return [
        Case(
            name="Money add",
            anchor_name="py-moneyed",
            ops=OPS,
            subject=_add_loop(Money(start, "CNY"), Money(step, "CNY")),
            anchor=_add_loop(moneyed.Money(start, "CNY"), moneyed.Money(step, "CNY")),
            goal="≤ 0.25 (4x faster than py-moneyed)",
            goal_ratio=0.25,
        ),
        Case(
            name="Money multiply by Decimal",
            anchor_name="py-moneyed",
            ops=OPS,
            subject=_multiply_loop(Money(start, "CNY")),
            anchor=_multiply_loop(moneyed.Money(start, "CNY")),
            goal="≤ 0.25 (4x faster than py-moneyed)",
            goal_ratio=0.25,
        ),
        Case(
            name="Money add",
            anchor_name="Decimal (no currency)",
            ops=OPS,
            subject=_add_loop(Money(start, "CNY"), Money(step, "CNY")),
            anchor=_add_loop(start, step),
            goal="report only: the floor",
        ),
    ]
