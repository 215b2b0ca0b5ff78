"""Customer use cases: each function is one transaction, checked by the permission evaluator.

Every call compiles (or reuses) the actor's grants: reads need ``view`` on the
record and come back with the fields hidden from the actor set to ``None``;
lists are narrowed to the actor's ``view`` scope inside the query itself (so
counts and pages are right) and refuse filters or sort keys on hidden fields;
writes need ``create``/``edit`` on the record and refuse read-only or hidden
fields by name. Refusals raise ``PermissionDenied`` and land in the audit log.

Beyond the default operations the ``customer`` resource offers ``release``,
``recall``, ``restore`` and ``purge``. The public pool is reached through the
*operation*, not a data scope: pool customers have no owner, so an ``own`` or
``department`` scope could never reach them. Whoever holds ``claim`` on customers
sees the pool (:func:`list_pool`) and may claim from it; ``assign`` lets a manager
give pool customers to reps; ``release``/``recall``/``transfer``/``delete``/
``restore``/``purge`` are checked against the record like ``edit``.

Contacts follow their customer: reading them needs ``view`` on the customer, writing
them ``edit`` on it; field rules on the ``contact`` resource hide or protect single
contact fields. Every write records its field changes in the change history
(:mod:`crmkit.customers.model.history`) in the same transaction.

One module per aggregate family: :mod:`.master` (register, update, find),
:mod:`.contacts`, :mod:`.relations`, :mod:`.ownership` (the public pool, assignment,
transfer), :mod:`.recycle_bin`, :mod:`.history` (follow-ups and the change history),
:mod:`.custom_fields`, :mod:`.batch`, :mod:`.importing`, and :mod:`.merge` with the
parts a merge moves (:mod:`.merge_parts`). Private helpers shared by them live in
:mod:`._common`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmkit.customers.services import batch as _batch
from crmkit.customers.services import contacts as _contacts
from crmkit.customers.services import custom_fields as _custom_fields
from crmkit.customers.services import history as _history
from crmkit.customers.services import importing as _importing
from crmkit.customers.services import master as _master
from crmkit.customers.services import merge as _merge
from crmkit.customers.services import merge_parts as _merge_parts
from crmkit.customers.services import ownership as _ownership
from crmkit.customers.services import recycle_bin as _recycle_bin
from crmkit.customers.services import relations as _relations
from crmkit.customers.services._common import (
    contact_reader,
    customer_reader,
    readable_where,
)
from crmkit.customers.services.batch import *  # noqa: F403
from crmkit.customers.services.contacts import *  # noqa: F403
from crmkit.customers.services.custom_fields import *  # noqa: F403
from crmkit.customers.services.history import *  # noqa: F403
from crmkit.customers.services.importing import *  # noqa: F403
from crmkit.customers.services.master import *  # noqa: F403
from crmkit.customers.services.merge import *  # noqa: F403
from crmkit.customers.services.merge_parts import *  # noqa: F403
from crmkit.customers.services.ownership import *  # noqa: F403
from crmkit.customers.services.recycle_bin import *  # noqa: F403
from crmkit.customers.services.relations import *  # noqa: F403

# mypy reads the star imports above (it cannot follow an __all__ built from other
# modules' lists, and would then hide every name); the interpreter gets the list.
if not TYPE_CHECKING:
    __all__ = [
        *_batch.__all__,
        *_contacts.__all__,
        *_custom_fields.__all__,
        *_history.__all__,
        *_importing.__all__,
        *_master.__all__,
        *_merge.__all__,
        *_merge_parts.__all__,
        *_ownership.__all__,
        *_recycle_bin.__all__,
        *_relations.__all__,
        "contact_reader",
        "customer_reader",
        "readable_where",
    ]
