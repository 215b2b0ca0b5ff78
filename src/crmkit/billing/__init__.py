"""Billing: receivable and payable plans, receipts and allocation, refunds, the ledger, aging.

Hosts call the use cases in :mod:`crmkit.billing.services`; the domain values are
re-exported here. See ``docs/billing.md`` for a worked example in CNY and USD.
"""

from typing import TYPE_CHECKING

from crmkit.billing import errors as _errors
from crmkit.billing import model as _model
from crmkit.billing import registrations as _registrations  # noqa: F401  (declares the area)
from crmkit.billing import services as _services
from crmkit.billing.errors import *  # noqa: F403
from crmkit.billing.model import *  # noqa: F403
from crmkit.billing.queries import AgingBuckets as AgingBuckets
from crmkit.billing.queries import AgingQuery as AgingQuery
from crmkit.billing.services import *  # noqa: F403

# mypy reads the star imports above (it cannot follow an __all__ built from other
# modules' lists, and would then hide every name); the interpreter gets the list.
# The services re-export the credit values of the model they answer with: listed once.
if not TYPE_CHECKING:
    __all__ = list(
        dict.fromkeys(
            [
                *_errors.__all__,
                *_model.__all__,
                *_services.__all__,
                "AgingBuckets",
                "AgingQuery",
            ]
        )
    )
