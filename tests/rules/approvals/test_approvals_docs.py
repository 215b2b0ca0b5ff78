"""The approvals page's examples run (the shared docs test does not list this page yet)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.test_docs_examples import python_blocks

PAGE = Path(__file__).resolve().parents[3] / "docs" / "approvals.md"


def test_the_approvals_page_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = python_blocks(PAGE.read_text(encoding="utf-8"))
    assert blocks
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "docs_example_approvals"}
    for first_line, code in blocks:
        exec(compile("\n" * (first_line - 1) + code, str(PAGE), "exec"), namespace)
