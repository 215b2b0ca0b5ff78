"""The examples in the docs are programs: run them so the docs never rot.

Every fenced ```python block of a page runs, in page order, in one namespace per
page (so a later block may use what an earlier one defined), inside a fresh
temporary directory (so ``sqlite:///crm.sqlite`` lands there). A failing block is
reported with the page's own line numbers. Blocks fenced with any other language
(``sh``, ``text``, ``mermaid``) are not run.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

# Pages whose examples must run. Each must hold at least one python block, so a fence
# renamed by accident (```py, ```Python) cannot silently switch its examples off.
REQUIRED = [
    ROOT / "README.md",
    DOCS / "getting-started.md",
    DOCS / "architecture.md",
    DOCS / "kernel.md",
    DOCS / "storage.md",
]
# Every other page's python examples run too (area guides, added as areas land).
PAGES = REQUIRED + sorted(
    page
    for page in DOCS.glob("*.md")
    if page not in REQUIRED and "```python" in page.read_text(encoding="utf-8")
)

_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```python[ \t]*\n(?P<code>.*?)^(?P=indent)```[ \t]*$", re.M | re.S
)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """Each ```python block as (line number of its first code line, dedented code)."""
    blocks = []
    for match in _FENCE.finditer(text):
        first_line = text.count("\n", 0, match.start("code")) + 1
        indent = match.group("indent")
        lines = match.group("code").splitlines()
        code = "\n".join(line.removeprefix(indent) for line in lines)
        blocks.append((first_line, code))
    return blocks


def test_blocks_are_found_with_their_line_numbers() -> None:
    text = "# t\n\n```python\nx = 1\n```\n\n```sh\nmake\n```\n\n    ```python\n    y = x\n    ```\n"
    assert python_blocks(text) == [(4, "x = 1"), (12, "y = x")]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_example_on_the_page_runs(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocks = python_blocks(page.read_text(encoding="utf-8"))
    assert blocks or page not in REQUIRED, f"{page.name} has no ```python examples"
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_example_{page.stem.replace('-', '_')}"}
    for first_line, code in blocks:
        # Pad with blank lines so a traceback names the line in the Markdown file.
        source = "\n" * (first_line - 1) + code
        exec(compile(source, str(page), "exec"), namespace)


def _mermaid_blocks(text: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"^```mermaid\n(.*?)^```$", text, re.M | re.S)]


def test_the_kernel_page_shows_the_reminder_machine_as_it_is_declared() -> None:
    from crmkit.rules.reminders.model import FIRING

    diagrams = _mermaid_blocks((DOCS / "kernel.md").read_text(encoding="utf-8"))
    assert FIRING.to_mermaid() in diagrams


# Names on the architecture page that are not code: the entry-point group storage
# plugins register under, and the example area of "How to add an area".
_NOT_CODE = {"crmkit.storage", "crmkit.stock"}
_DOTTED = re.compile(r"\bcrmkit(?:\.[a-z_]+)+")
# The sequence diagram names modules without the "crmkit." prefix, to fit its boxes.
_SHORT = re.compile(r"\b(?:customers|billing|pipeline|rules|adapters|crm)(?:\.[a-z_]+)+")


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            if not hasattr(target, name):
                return False
            target = getattr(target, name)
        return True
    return False


def test_every_module_the_architecture_page_names_exists() -> None:
    # The diagrams and the rooms live in the prose, not generated from the code, so a
    # module moved or renamed must fail here rather than leave the page describing it.
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    named = set(_DOTTED.findall(text))
    for diagram in _mermaid_blocks(text):
        named |= {f"crmkit.{short}" for short in _SHORT.findall(diagram)}
    missing = sorted(n for n in named - _NOT_CODE if not _resolves(n))
    assert not missing, f"docs/architecture.md names what the code does not have: {missing}"
