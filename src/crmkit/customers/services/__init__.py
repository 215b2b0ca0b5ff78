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

from crmkit.customers.services._common import (
    contact_reader,
    customer_reader,
    readable_where,
)
from crmkit.customers.services.batch import (
    BatchResult,
    batch_update_customers,
)
from crmkit.customers.services.contacts import (
    add_contact,
    list_contacts,
    remove_contact,
    set_primary_contact,
    update_contact,
)
from crmkit.customers.services.custom_fields import (
    change_custom_field,
    deactivate_custom_field,
    define_custom_field,
    list_custom_fields,
)
from crmkit.customers.services.history import (
    customer_history,
    record_follow_up,
    user_history,
)
from crmkit.customers.services.importing import (
    DuplicateRow,
    ImportReport,
    import_customers,
)
from crmkit.customers.services.master import (
    CallerMatch,
    check_customer_name,
    get_customer,
    list_customers,
    match_caller,
    register_customer,
    search_customers,
    update_customer,
)
from crmkit.customers.services.merge import (
    merge_customers,
    undo_merge,
)
from crmkit.customers.services.merge_parts import (
    MergePart,
    register_merge_part,
    repoint_part,
)
from crmkit.customers.services.ownership import (
    assign_customer,
    auto_assign_customer,
    claim_customer,
    define_assignment_rule,
    get_pool_policy,
    list_pool,
    move_customer_stage,
    recall_customer,
    release_customer,
    return_expired_to_pool,
    set_pool_policy,
    transfer_customer,
)
from crmkit.customers.services.recycle_bin import (
    delete_customer,
    list_recycle_bin,
    purge_customer,
    restore_customer,
)
from crmkit.customers.services.relations import (
    list_relations,
    relate_customers,
    unrelate_customers,
)

__all__ = [
    "BatchResult",
    "CallerMatch",
    "DuplicateRow",
    "ImportReport",
    "MergePart",
    "add_contact",
    "assign_customer",
    "auto_assign_customer",
    "batch_update_customers",
    "change_custom_field",
    "check_customer_name",
    "claim_customer",
    "contact_reader",
    "customer_history",
    "customer_reader",
    "deactivate_custom_field",
    "define_assignment_rule",
    "define_custom_field",
    "delete_customer",
    "get_customer",
    "get_pool_policy",
    "import_customers",
    "list_contacts",
    "list_custom_fields",
    "list_customers",
    "list_pool",
    "list_recycle_bin",
    "list_relations",
    "match_caller",
    "merge_customers",
    "move_customer_stage",
    "purge_customer",
    "readable_where",
    "recall_customer",
    "record_follow_up",
    "register_customer",
    "register_merge_part",
    "relate_customers",
    "release_customer",
    "remove_contact",
    "repoint_part",
    "restore_customer",
    "return_expired_to_pool",
    "search_customers",
    "set_pool_policy",
    "set_primary_contact",
    "transfer_customer",
    "undo_merge",
    "unrelate_customers",
    "update_contact",
    "update_customer",
    "user_history",
]
