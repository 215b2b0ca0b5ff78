"""The packages re-export their rooms with ``from room import *``: safe only if each room says what it exports.

A star import takes a module's ``__all__`` when it has one and every public name when
it has none, so a room without ``__all__`` would leak ``attrs``, ``UUID`` and its
helpers into the package a host imports. Each name is written once, in its room's
``__all__``; the package's ``__all__`` is built from the rooms'.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import crmkit

SRC = Path(crmkit.__file__).parent


def _package_of(init: Path) -> str:
    return ".".join(("crmkit", *init.parent.relative_to(SRC).parts))


def star_imports() -> list[tuple[str, str]]:
    """Every ``(package, room)`` where a crmkit ``__init__.py`` star-imports a room."""
    found = []
    for init in sorted(SRC.rglob("__init__.py")):
        for node in ast.walk(ast.parse(init.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
                assert node.module is not None, init
                assert node.level == 0, init
                found.append((_package_of(init), node.module))
    return found


def test_the_packages_star_import_their_rooms() -> None:
    assert ("crmkit.billing", "crmkit.billing.services") in star_imports()


@pytest.mark.parametrize(("package", "room"), star_imports())
def test_every_star_imported_room_lists_what_it_exports(package: str, room: str) -> None:
    module = importlib.import_module(room)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{room} has no __all__, so {package} re-exports everything in it"
    missing = [name for name in exported if not hasattr(module, name)]
    assert not missing, f"{room}.__all__ names what it does not hold: {missing}"
    listed = set(getattr(importlib.import_module(package), "__all__", ()))
    assert set(exported) <= listed, f"{package}.__all__ leaves out {sorted(set(exported) - listed)}"
