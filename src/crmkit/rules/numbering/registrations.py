"""Where numbering declares itself: the memory sequence counter (the SQL adapter
registers its own) and each public numbering service for
:mod:`crmkit.rules.permissions.catalog`."""

from __future__ import annotations

from crmkit.ports import register_queries
from crmkit.rules.numbering.services import (
    MemorySequenceCounter,
    SequenceCounter,
    define_numbering_rule,
    get_numbering_rule,
    list_numbering_rules,
)
from crmkit.rules.permissions.catalog import ServiceKind, register_service

AREA = "crmkit.rules.numbering"

register_queries("memory", SequenceCounter, MemorySequenceCounter)

register_service(
    define_numbering_rule, ServiceKind.WRITE, "numbering_rule", "administer", package=AREA
)
register_service(get_numbering_rule, ServiceKind.READ, "numbering_rule", package=AREA)
register_service(list_numbering_rules, ServiceKind.LIST, "numbering_rule", package=AREA)
