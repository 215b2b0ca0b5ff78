"""Plugins through entry points, loaded only when the host asks.

Third-party packages extend crmkit by declaring entry points in these groups:

- ``crmkit.storage``: a name that is also a URL scheme (``crmkit.connect("mystore://...")``),
  pointing at a callable ``factory(url: str) -> Storage``;
- ``crmkit.notifiers``: a channel name pointing at a ``Notifier`` class or factory;
- ``crmkit.rules``: named rule sets an area may look up.

Nothing is imported at ``import crmkit`` time; a group is read when first used.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import Any

__all__ = ["GROUPS", "available", "load"]

GROUPS = ("crmkit.storage", "crmkit.notifiers", "crmkit.rules")


def available(group: str) -> dict[str, EntryPoint]:
    """The entry points installed in ``group``, by name (later distributions win ties)."""
    if group not in GROUPS:
        raise ValueError(f"unknown plugin group {group!r}; crmkit reads {', '.join(GROUPS)}")
    return {ep.name: ep for ep in entry_points(group=group)}


def load(group: str, name: str) -> Any:
    """Import and return the object entry point ``name`` of ``group`` points at.

    Raises:
        LookupError: no installed distribution provides it (the message lists what is).
    """
    found = available(group)
    if name not in found:
        have = ", ".join(sorted(found)) or "none installed"
        raise LookupError(f"no {group} plugin named {name!r} (available: {have})")
    return found[name].load()
