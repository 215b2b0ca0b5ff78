"""Report how many public services the generated boundary test drove in this run."""

from __future__ import annotations

import sys

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    boundary = sys.modules.get("tests.adapters.test_boundary_all")
    if boundary is None or not (boundary.DRIVEN or boundary.BY_CONSTRUCTION):
        return
    terminalreporter.write_line(
        f"input boundary: {len(boundary.DRIVEN)} of {len(boundary.SERVICES)} registered "
        f"services driven with generated values; {len(boundary.BY_CONSTRUCTION)} covered by "
        "construction (no user-level parameter): " + ", ".join(sorted(boundary.BY_CONSTRUCTION))
    )
