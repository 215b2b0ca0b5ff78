"""The event classes an area's model declares, read from its modules."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from crmkit.kernel.events import DomainEvent


def events_declared_in(package: ModuleType) -> dict[str, type[DomainEvent]]:
    """Every event class defined (not imported) in a module of ``package``, by name.

    Read from the package rather than the process-wide registry, which holds every
    area's events and those tests declare.
    """
    found = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, DomainEvent)
                and value.__module__ == module.__name__
            ):
                found[value.__name__] = value
    return found
