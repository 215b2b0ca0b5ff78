"""Numbering rules: ``HT-{yyyy}{mm}-{seq:4}`` per document type and tenant, gap-free.

Define a rule once (:func:`define_numbering_rule`), then take numbers with
:func:`next_number` inside the unit of work that stores the document.
"""

from crmkit.rules.numbering import model as _model
from crmkit.rules.numbering import registrations as _registrations  # noqa: F401  (the service catalog)
from crmkit.rules.numbering import services as _services
from crmkit.rules.numbering.model import *  # noqa: F403
from crmkit.rules.numbering.services import *  # noqa: F403

__all__: list[str] = []
__all__ += _model.__all__
__all__ += _services.__all__
