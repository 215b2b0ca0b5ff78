"""The worked example in docs/billing.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "billing.md"


def test_the_worked_example_in_the_billing_page_runs() -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## A worked example in CNY and USD", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    exec(compile(code.group(1), str(DOC), "exec"), {"__name__": "billing_doc"})
