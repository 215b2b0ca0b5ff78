"""The one place the customers area declares itself to the rest of crmkit.

- **Permission resources**: ``customer`` (with the pool and recycle-bin operations) and
  ``contact``.
- **Reminder sources**: customers and contacts (birthdays, ...), by name.
- **Custom fields**: customers offer them; their built-in field names are reserved.
- **Merge parts**: contacts, relations and history move with a merge (other areas add
  theirs from their own ``registrations``).
- **The service catalog**: what each public customer service reads and writes (see
  :mod:`crmkit.rules.permissions.catalog`).

The implementations live in ``model``, ``services`` and ``queries``; this module only
wires them, when :mod:`crmkit.customers` is imported.
"""

from __future__ import annotations

import attrs

from crmkit.customers.model.contacts import Contact
from crmkit.customers.model.custom_fields import CUSTOM, register_custom_entity
from crmkit.customers.model.customer import Customer
from crmkit.customers.model.history import ChangeRecord
from crmkit.customers.queries._readers import CONTACT as CONTACT_RESOURCE
from crmkit.customers.queries._readers import RESOURCE
from crmkit.customers.queries.exports import export_customers
from crmkit.customers.queries.merges import list_merges, merged_into
from crmkit.customers.queries.search_all import global_search
from crmkit.customers.queries.view import customer_360
from crmkit.customers.services import (
    add_contact,
    assign_customer,
    auto_assign_customer,
    check_customer_name,
    claim_customer,
    customer_history,
    define_assignment_rule,
    delete_customer,
    get_customer,
    get_pool_policy,
    list_contacts,
    list_customers,
    list_pool,
    list_recycle_bin,
    list_relations,
    match_caller,
    move_customer_stage,
    purge_customer,
    recall_customer,
    register_customer,
    relate_customers,
    release_customer,
    remove_contact,
    restore_customer,
    search_customers,
    set_pool_policy,
    set_primary_contact,
    transfer_customer,
    unrelate_customers,
    update_contact,
    update_customer,
    user_history,
)
from crmkit.customers.services.batch import batch_update_customers
from crmkit.customers.services.custom_fields import (
    change_custom_field,
    deactivate_custom_field,
    define_custom_field,
    list_custom_fields,
)
from crmkit.customers.services.importing import import_customers
from crmkit.customers.services.merge import merge_customers, undo_merge
from crmkit.customers.services.merge_parts import (
    _move_contacts,
    _move_relations,
    _undo_contacts,
    _undo_relations,
    register_merge_part,
    repoint_part,
)
from crmkit.kernel.i18n import N_
from crmkit.rules.permissions import register_resource
from crmkit.rules.permissions.catalog import Declaration, ServiceKind, register_service
from crmkit.rules.permissions.model import DEFAULT_OPERATIONS
from crmkit.rules.reminders.model import ReminderSource, register_source

# -- permission resources ---------------------------------------------------------------------

CUSTOMER_OPERATIONS = DEFAULT_OPERATIONS | {"release", "recall", "restore", "purge"}
LABELS = (N_("release"), N_("recall"), N_("restore"), N_("purge"))

register_resource(RESOURCE, entity=Customer, operations=CUSTOMER_OPERATIONS, open_fields={CUSTOM})
register_resource(CONTACT_RESOURCE, entity=Contact)

# -- reminder sources and custom fields ----------------------------------------------------------

register_source(ReminderSource("customer", Customer, title_field="name"))
register_source(ReminderSource("contact", Contact, title_field="name"))
register_custom_entity("customer", (f.name for f in attrs.fields(Customer)))

# -- merge parts: what moves with a merge, in this order, before other areas' parts -------------

register_merge_part("customers.contacts", _move_contacts, _undo_contacts)
register_merge_part("customers.relations", _move_relations, _undo_relations)
register_merge_part("customers.history", *repoint_part(ChangeRecord))

# -- the service catalog -----------------------------------------------------------------------

READ, LIST, REPORT, WRITE = (
    ServiceKind.READ,
    ServiceKind.LIST,
    ServiceKind.REPORT,
    ServiceKind.WRITE,
)
AREA = "crmkit.customers"
CUSTOMER = {"customer_id": "customer"}
CONTACT = {"contact_id": "contact"}

_TABLE: tuple[Declaration, ...] = (
    # one record
    (get_customer, READ, "customer", "view", CUSTOMER),
    (customer_360, READ, "customer", "view", CUSTOMER),
    (customer_history, READ, "customer", "view", CUSTOMER),
    (list_contacts, READ, "contact", "view", CUSTOMER),
    (list_relations, READ, "customer", "view", CUSTOMER),
    (list_merges, READ, "customer", "view", CUSTOMER),
    (merged_into, READ, "customer", "view", CUSTOMER),
    # many records
    (user_history, LIST, "customer", "view", {"user_id": "member"}),
    (list_customers, LIST, "customer", "view", {}),
    (search_customers, LIST, "customer", "view", {}),
    (match_caller, LIST, "customer", "view", {}),
    (global_search, LIST, "customer", "view", {}),
    (list_pool, LIST, "customer", "claim", {}),
    (list_recycle_bin, LIST, "customer", "delete", {}),
    (check_customer_name, LIST, "customer", "create", {}),
    (list_custom_fields, LIST, "custom_field", "view", {}),
    (get_pool_policy, READ, "pool_policy", "view", {}),
    # reports and exports
    (export_customers, REPORT, "customer", "export", {}),
    # writes
    (register_customer, WRITE, "customer", "create", {}),
    (update_customer, WRITE, "customer", "edit", CUSTOMER),
    (batch_update_customers, WRITE, "customer", "edit", {"customer_ids": "customer"}),
    (import_customers, WRITE, "customer", "import", {}),
    (delete_customer, WRITE, "customer", "delete", CUSTOMER),
    (restore_customer, WRITE, "customer", "restore", CUSTOMER),
    (purge_customer, WRITE, "customer", "purge", CUSTOMER),
    (claim_customer, WRITE, "customer", "claim", CUSTOMER),
    (assign_customer, WRITE, "customer", "assign", CUSTOMER),
    (auto_assign_customer, WRITE, "customer", "assign", CUSTOMER),
    (release_customer, WRITE, "customer", "release", CUSTOMER),
    (recall_customer, WRITE, "customer", "recall", CUSTOMER),
    (transfer_customer, WRITE, "customer", "transfer", CUSTOMER),
    (move_customer_stage, WRITE, "customer", "edit", CUSTOMER),
    (relate_customers, WRITE, "customer", "edit", {"from_id": "customer"}),
    (unrelate_customers, WRITE, "customer", "edit", {"relation_id": "relation"}),
    (merge_customers, WRITE, "customer", "edit", {"survivor_id": "customer"}),
    (undo_merge, WRITE, "customer", "edit", {"merge_id": "merge"}),
    (add_contact, WRITE, "contact", "create", CUSTOMER),
    (update_contact, WRITE, "contact", "edit", CONTACT),
    (set_primary_contact, WRITE, "contact", "edit", CONTACT),
    (remove_contact, WRITE, "contact", "delete", CONTACT),
    (define_custom_field, WRITE, "custom_field", "administer", {}),
    (change_custom_field, WRITE, "custom_field", "administer", {}),
    (deactivate_custom_field, WRITE, "custom_field", "administer", {}),
    (set_pool_policy, WRITE, "pool_policy", "administer", {}),
    (define_assignment_rule, WRITE, "assignment_rule", "administer", {}),
)
for service, kind, resource, operation, records in _TABLE:
    register_service(service, kind, resource, operation, records=records, package=AREA)
