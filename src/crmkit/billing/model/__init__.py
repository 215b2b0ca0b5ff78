"""The billing domain, one module per concept (see each module's opening text).

- :mod:`.terms` — payment-term templates and the pure ``schedule`` calculator;
- :mod:`.plans` — receivable and payable plans and their installments;
- :mod:`.receipts` — receipts and payments, their exchange rate and refunds;
- :mod:`.invoices` — invoices with a tax rate per line, red-letter voids;
- :mod:`.expenses` — expense claims, per-category limits per role;
- :mod:`.credit` — credit-limit decisions and the overrides asked for after a refusal;
- :mod:`.ledger` — the append-only, hash-chained ledger and idempotency records;
- :mod:`.flows` — the state machines of receipts, refunds, invoices and expense claims.

Each module's ``__all__`` is its public part; this package re-exports them all.
"""

from typing import TYPE_CHECKING

from crmkit.billing.model import credit as _credit
from crmkit.billing.model import expenses as _expenses
from crmkit.billing.model import flows as _flows
from crmkit.billing.model import invoices as _invoices
from crmkit.billing.model import ledger as _ledger
from crmkit.billing.model import plans as _plans
from crmkit.billing.model import receipts as _receipts
from crmkit.billing.model import terms as _terms
from crmkit.billing.model.credit import *  # noqa: F403
from crmkit.billing.model.expenses import *  # noqa: F403
from crmkit.billing.model.flows import *  # noqa: F403
from crmkit.billing.model.invoices import *  # noqa: F403
from crmkit.billing.model.ledger import *  # noqa: F403
from crmkit.billing.model.plans import *  # noqa: F403
from crmkit.billing.model.receipts import *  # noqa: F403
from crmkit.billing.model.terms import *  # noqa: F403

# mypy reads the star imports above (it cannot follow an __all__ built from other
# modules' lists, and would then hide every name); the interpreter gets the list.
if not TYPE_CHECKING:
    __all__ = [
        *_terms.__all__,
        *_plans.__all__,
        *_receipts.__all__,
        *_invoices.__all__,
        *_expenses.__all__,
        *_credit.__all__,
        *_ledger.__all__,
        *_flows.__all__,
    ]
