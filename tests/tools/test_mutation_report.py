"""tools/mutation.py scores a core from mutmut's statuses and the list of equivalents."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "mutation.py"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutation_tool", TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _scores(tmp_path: Path, statuses: dict[str, str], listed: str) -> int:
    tool = _tool()
    tool.WORK = tmp_path
    tool.EQUIVALENT = tmp_path / "equivalent.txt"
    tool.EQUIVALENT.write_text(listed, encoding="utf-8")
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "results.json").write_text(json.dumps(statuses), encoding="utf-8")
    return int(tool.report(["core"]))


M = "crmkit.kernel.money.x_round_figure__mutmut_"


def test_equivalents_leave_the_score_and_survivors_lower_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    statuses = {f"{M}{i}": "killed" for i in range(1, 9)} | {
        f"{M}9": "survived",
        f"{M}10": "survived",
    }
    code = _scores(tmp_path, statuses, f"# money\n{M}10 the same quantum\n")
    row = capsys.readouterr().out.splitlines()[1].split()
    assert row == ["crmkit.kernel.money", "10", "0", "1", "8", "1", "0", "88.9%"]
    assert code == 1  # below 90 %


def test_a_listed_equivalent_the_tests_kill_is_reported_stale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # After a change to the function the name points at another mutant.
    statuses = {f"{M}{i}": "killed" for i in range(1, 11)}
    code = _scores(tmp_path, statuses, f"{M}4 was the same quantum before the change\n")
    out = capsys.readouterr().out
    assert out.splitlines()[1].split()[3:5] == ["0", "10"]
    assert f"stale: {M}4 is listed as equivalent" in out
    assert code == 1
