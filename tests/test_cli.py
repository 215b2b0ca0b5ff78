"""The ``crmkit`` command line: the demo runs end to end and the schema commands work."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crmkit.cli import main


def test_demo_creates_then_reuses_the_demo_tenant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "demo.sqlite"
    assert main(["demo", "--db", str(db)]) == 0
    first = capsys.readouterr().out
    assert "Created the demo tenant with 10 customers" in first
    assert "second save refused" in first
    assert "scan fired" in first
    assert main(["demo", "--db", str(db)]) == 0
    again = capsys.readouterr().out
    assert re.search(r"Reusing the demo tenant: 11 customers", again)
    assert "Funnel:" in again
    assert main(["demo", "--db", str(db), "--reset"]) == 0
    assert "Created the demo tenant" in capsys.readouterr().out


def test_db_upgrade_and_current(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "fresh.sqlite"
    assert main(["db", "current", "--url", str(db)]) == 0
    assert "at nothing — behind" in capsys.readouterr().out
    assert main(["db", "upgrade", "--url", str(db)]) == 0
    assert "upgraded to" in capsys.readouterr().out
    assert main(["db", "current", "--url", str(db)]) == 0
    assert "up to date" in capsys.readouterr().out
