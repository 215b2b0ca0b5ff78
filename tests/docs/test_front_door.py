"""The front door (README, docs home, package metadata, docstrings) claims only what ships.

A reader deciding whether to adopt crmkit reads the README and the package description
first; naming an area or an integration that does not exist yet sends them looking for
it. Each claim below is allowed exactly when the code that backs it is in the package,
so the test keeps passing on its own the day the area lands.
"""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

# A claim, the words that make it, and the module that must exist for it to be true.
CLAIMS = {
    "a stock / inventory area": (r"\b(stock|inventory|warehouses?)\b", "crmkit.stock"),
    "a service / ticket area": (
        r"\b(service(?=[,;.]|\s+area|\s+desk|\s+tickets?)|tickets?\b|after-sales)|售后|工单",
        "crmkit.service",
    ),
    "a Flask example or integration": (r"\bFlask (example|integration|extension)", "crmkit.flask"),
}
# Pages where the words mean something else: the kernel guide's state-machine example
# is a made-up ticket, and the benchmarks race a "ticket machine" against transitions.
UNRELATED = {"docs/kernel.md", "docs/performance.md"}
# Outside the front door, "stock" and "service" are everyday words (the stock email
# notifier, a service contract); there only a promise of a future area counts.
PROMISE = r"\b(stock|service|inventory)\s+area\b|\btickets?\b|\bFlask (example|integration)"


def _texts() -> dict[str, tuple[str, bool]]:
    """Text by place, and whether the place is the front door."""
    texts = {
        "README.md": ((ROOT / "README.md").read_text(encoding="utf-8"), True),
        "docs/index.md": ((ROOT / "docs" / "index.md").read_text(encoding="utf-8"), True),
        "pyproject description": (PYPROJECT["project"]["description"], True),
    }
    for path in sorted((ROOT / "src" / "crmkit").rglob("*.py")):
        texts[str(path.relative_to(ROOT))] = (path.read_text(encoding="utf-8"), False)
    for path in sorted((ROOT / "docs").glob("*.md")):
        texts.setdefault(str(path.relative_to(ROOT)), (path.read_text(encoding="utf-8"), False))
    return {where: text for where, text in texts.items() if where not in UNRELATED}


def _shipped(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@pytest.mark.parametrize("claim", sorted(CLAIMS))
def test_no_text_claims_an_area_that_does_not_ship(claim: str) -> None:
    pattern, module = CLAIMS[claim]
    if _shipped(module):
        return
    found: dict[str, list[str]] = {}
    for where, (text, front) in _texts().items():
        promises = PROMISE if not front else pattern
        words = {
            m.group(0)
            for m in re.finditer(promises, text, re.IGNORECASE)
            if re.search(pattern, m.group(0), re.IGNORECASE)
        }
        if words:
            found[where] = sorted(words)
    assert found == {}


def _imported(name: str) -> bool:
    # An import, or a SQLAlchemy driver named in a URL (postgresql+psycopg://).
    pattern = re.compile(rf"^\s*(import|from)\s+{re.escape(name)}\b|\+{re.escape(name)}:", re.M)
    for folder in ("src", "examples", "bench"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".ipynb") and pattern.search(path.read_text("utf-8")):
                return True
    return False


@pytest.mark.parametrize(
    "extra", sorted(set(PYPROJECT["project"]["optional-dependencies"]) - {"dev"})
)
def test_every_extra_is_used_by_the_package_or_its_examples(extra: str) -> None:
    for requirement in PYPROJECT["project"]["optional-dependencies"][extra]:
        distribution = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)  # type: ignore[union-attr]
        assert _imported(distribution.lower().replace("-", "_")), (extra, requirement)
