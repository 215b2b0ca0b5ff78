"""Report how many public services the conformance suite exercised in this run."""

from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.rules.permissions import test_conformance

    if test_conformance.EXERCISED:
        terminalreporter.write_line(
            f"permission conformance: {len(test_conformance.EXERCISED)} of "
            f"{len(test_conformance.SERVICES)} registered services exercised"
        )
