"""Numbering rules: ``HT-{yyyy}{mm}-{seq:4}`` per document type and tenant, gap-free.

Define a rule once (:func:`define_numbering_rule`), then take numbers with
:func:`next_number` inside the unit of work that stores the document.
"""

from crmkit.rules.numbering import registrations as _registrations  # noqa: F401  (the service catalog)
from crmkit.rules.numbering.model import (
    NumberCounter,
    NumberingRule,
    NumberPattern,
    Reset,
    counter_id,
    local_time,
    numbering_rule_id,
)
from crmkit.rules.numbering.services import (
    MemorySequenceCounter,
    SequenceCounter,
    define_numbering_rule,
    get_numbering_rule,
    list_numbering_rules,
    next_number,
    next_numbers,
    preview_number,
)

__all__ = [
    "MemorySequenceCounter",
    "NumberCounter",
    "NumberPattern",
    "NumberingRule",
    "Reset",
    "SequenceCounter",
    "counter_id",
    "define_numbering_rule",
    "get_numbering_rule",
    "list_numbering_rules",
    "local_time",
    "next_number",
    "next_numbers",
    "numbering_rule_id",
    "preview_number",
]
