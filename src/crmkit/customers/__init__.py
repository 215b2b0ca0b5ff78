"""Customers: the customer master, contacts, relations, the public pool, history and
the recycle bin, with their use cases.

The public API is what :mod:`.model`, :mod:`.services`, :mod:`.queries` and
:mod:`.errors` export; importing this package also runs :mod:`.registrations`, which
declares the area to the rest of crmkit (permission resources, the service catalog,
reminder sources, merge parts).
"""

from typing import TYPE_CHECKING

from crmkit.customers import errors as _errors
from crmkit.customers import model as _model
from crmkit.customers import queries as _queries
from crmkit.customers import registrations as _registrations  # noqa: F401  (wiring only)
from crmkit.customers import services as _services
from crmkit.customers.errors import *  # noqa: F403
from crmkit.customers.model import *  # noqa: F403
from crmkit.customers.queries import *  # noqa: F403
from crmkit.customers.services import *  # noqa: F403

# mypy reads the star imports above (it cannot follow an __all__ built from the
# model's, which it does not see); the interpreter gets the list.
if not TYPE_CHECKING:
    __all__ = [*_model.__all__, *_services.__all__, *_queries.__all__, *_errors.__all__]
