"""The packages that hold use cases, found in the source tree rather than listed by hand.

Every package of crmkit is one, unless it is named below: a new area (``crmkit.stock``)
is scanned by the catalog's completeness test and imported, so its registrations run,
before the conformance and boundary suites enumerate the catalog. Deriving the list
from the tree and not from the catalog means an area that registered nothing is
scanned too, and its unregistered services are reported.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from types import ModuleType

import crmkit

#: Packages of crmkit that hold no use case, and why.
NOT_AREAS = {
    "crmkit.kernel": "stands alone below crmkit.crm: no function of it can take a Crm",
    "crmkit.adapters": "implements the ports; walking it would run Alembic's migration env",
}


def area_packages() -> tuple[str, ...]:
    """Every package directly under crmkit that may hold use cases, sorted."""
    found = (f"crmkit.{info.name}" for info in pkgutil.iter_modules(crmkit.__path__) if info.ispkg)
    return tuple(sorted(name for name in found if name not in NOT_AREAS))


def public_modules() -> Iterator[ModuleType]:
    """crmkit, the area packages and every non-private module below them, imported."""
    yield crmkit
    for name in area_packages():
        top = importlib.import_module(name)
        yield top
        for info in pkgutil.walk_packages(top.__path__, f"{name}."):
            if not any(part.startswith("_") for part in info.name.split(".")):
                yield importlib.import_module(info.name)


def import_areas() -> tuple[ModuleType, ...]:
    """Import every public module of every area, so each area's registrations have run.

    Returns:
        The modules, in the order they were imported.
    """
    return tuple(public_modules())
