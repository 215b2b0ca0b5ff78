"""The pipeline's model, one module per aggregate family (see each module's opening text).

- :mod:`.leads` and :mod:`.scoring` — leads from entry to conversion, and their scores;
- :mod:`.opportunities` — sales processes, stages and the deals that move through them;
- :mod:`.pricing` — price lists, discounts and priced lines;
- :mod:`.quotes`, :mod:`.contracts` and :mod:`.orders` — the sales documents, and
  :mod:`.documents` — the approval moves quotes and contracts share;
- :mod:`.activities` — activities and follow-up plans;
- :mod:`.campaigns` and :mod:`.sequences` — marketing spend and follow-up cadences;
- :mod:`.targets` — targets, the customer pyramid and commission plans;
- :mod:`.settings` — the tenant's pipeline settings.

Each module's ``__all__`` is its public part; this package re-exports them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmkit.pipeline.model import activities as _activities
from crmkit.pipeline.model import campaigns as _campaigns
from crmkit.pipeline.model import contracts as _contracts
from crmkit.pipeline.model import documents as _documents
from crmkit.pipeline.model import leads as _leads
from crmkit.pipeline.model import opportunities as _opportunities
from crmkit.pipeline.model import orders as _orders
from crmkit.pipeline.model import pricing as _pricing
from crmkit.pipeline.model import quotes as _quotes
from crmkit.pipeline.model import scoring as _scoring
from crmkit.pipeline.model import sequences as _sequences
from crmkit.pipeline.model import settings as _settings
from crmkit.pipeline.model import targets as _targets
from crmkit.pipeline.model.activities import *  # noqa: F403
from crmkit.pipeline.model.campaigns import *  # noqa: F403
from crmkit.pipeline.model.contracts import *  # noqa: F403
from crmkit.pipeline.model.documents import *  # noqa: F403
from crmkit.pipeline.model.leads import *  # noqa: F403
from crmkit.pipeline.model.opportunities import *  # noqa: F403
from crmkit.pipeline.model.orders import *  # noqa: F403
from crmkit.pipeline.model.pricing import *  # noqa: F403
from crmkit.pipeline.model.quotes import *  # noqa: F403
from crmkit.pipeline.model.scoring import *  # noqa: F403
from crmkit.pipeline.model.sequences import *  # noqa: F403
from crmkit.pipeline.model.settings import *  # noqa: F403
from crmkit.pipeline.model.targets import *  # noqa: F403

# mypy reads the star imports above (it cannot follow an __all__ built from other
# modules' lists, and would then hide every name); the interpreter gets the list.
if not TYPE_CHECKING:
    __all__ = [
        *_activities.__all__,
        *_campaigns.__all__,
        *_contracts.__all__,
        *_documents.__all__,
        *_leads.__all__,
        *_opportunities.__all__,
        *_orders.__all__,
        *_pricing.__all__,
        *_quotes.__all__,
        *_scoring.__all__,
        *_sequences.__all__,
        *_settings.__all__,
        *_targets.__all__,
    ]
