"""Pipeline: leads, scoring, sales processes, opportunities, quotes, contracts, orders,
activities, campaigns and follow-up sequences, targets and commission, and their analytics.

The public API is the model (:mod:`crmkit.pipeline.model`), the use cases
(:mod:`crmkit.pipeline.services`), the read models and reports
(:mod:`crmkit.pipeline.queries`), the refusals to catch
(:mod:`crmkit.pipeline.errors`), all re-exported here. Importing this package also
declares the area to the rest of crmkit (:mod:`crmkit.pipeline.registrations`).
"""

from typing import TYPE_CHECKING

from crmkit.customers.model.dedup import DuplicatePolicy as DuplicatePolicy
from crmkit.pipeline import errors as _errors
from crmkit.pipeline import model as _model
from crmkit.pipeline import queries as _queries
from crmkit.pipeline import registrations as _registrations  # noqa: F401  (declares the area)
from crmkit.pipeline import services as _services
from crmkit.pipeline.errors import *  # noqa: F403
from crmkit.pipeline.model import *  # noqa: F403
from crmkit.pipeline.queries import *  # noqa: F403
from crmkit.pipeline.services import *  # noqa: F403

# mypy reads the star imports above (it cannot follow an __all__ built from the
# model's, which it does not see); the interpreter gets the list.
if not TYPE_CHECKING:
    __all__ = [
        "DuplicatePolicy",
        *_model.__all__,
        *_services.__all__,
        *_queries.__all__,
        *_errors.__all__,
    ]
