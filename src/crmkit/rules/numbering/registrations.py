"""What each public numbering service reads and writes, declared once for the catalog.

See :mod:`crmkit.rules.permissions.catalog`: the conformance suite probes every
service listed here on every backend, and a public ``(crm, actor, ...)`` function
of this package missing here fails the completeness test.
"""

from __future__ import annotations

from crmkit.rules.numbering.services import (
    define_numbering_rule,
    get_numbering_rule,
    list_numbering_rules,
)
from crmkit.rules.permissions.catalog import ServiceKind, register_service

AREA = "crmkit.rules.numbering"

register_service(
    define_numbering_rule, ServiceKind.WRITE, "numbering_rule", "administer", package=AREA
)
register_service(get_numbering_rule, ServiceKind.READ, "numbering_rule", package=AREA)
register_service(list_numbering_rules, ServiceKind.LIST, "numbering_rule", package=AREA)
