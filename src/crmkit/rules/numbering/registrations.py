"""Where numbering declares itself: the memory counter, and its services for the catalog.

On the memory adapter the :class:`~crmkit.rules.numbering.services.SequenceCounter`
is :class:`~crmkit.rules.numbering.services.MemorySequenceCounter` (the SQL adapter
registers its own). Each public numbering service declares here what it reads and
writes; see :mod:`crmkit.rules.permissions.catalog`: the conformance suite probes every
service listed here on every backend, and a public ``(crm, actor, ...)`` function
of this package missing here fails the completeness test.
"""

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
