"""Permission use cases: administering the policy, and checking it inside other use cases.

Checking, from another area's service::

    def work(uow):
        grants = grants_for(uow, actor)            # compiled once, cached per epoch
        customer = uow.repository(Customer).get(customer_id)
        grants.require("edit", customer)           # PermissionDenied with the reasons
        grants.check_writable("customer", changes)
        ...
    return guarded(crm, actor, work)               # crm.run + audit log of denials

A denial is raised inside the use case's transaction, which then rolls back;
:func:`guarded` records it in the audit log in a transaction of its own, so the
log keeps every refusal while the refused work leaves nothing behind.

One module per concern: :mod:`.org` (first administrators, departments, members),
:mod:`.roles` (roles and the matrix import), :mod:`.sharing`, :mod:`.ownership`, and
:mod:`.checks` ("may I?", "why not?"). The mechanism they and the read models share
sits below both, beside :mod:`crmkit.rules.permissions.access`:
:mod:`crmkit.rules.permissions.policy_cache` (the actor's compiled grants, cached per
policy epoch) and :mod:`crmkit.rules.permissions.guard` (the audit log of refusals,
and the administrator's check); ``grants_for``, ``guarded`` and the rest are
re-exported here, where hosts have always found them.
"""

from __future__ import annotations

from crmkit.rules.permissions.guard import guarded, record_denial
from crmkit.rules.permissions.policy_cache import grants_for, invalidate_cache, load_policy
from crmkit.rules.permissions.services.checks import check_access, explain_access
from crmkit.rules.permissions.services.org import (
    bootstrap_super_admin,
    bootstrap_tenant,
    define_department,
    move_department,
    set_member,
)
from crmkit.rules.permissions.services.ownership import transfer_ownership
from crmkit.rules.permissions.services.roles import define_role, delete_role, import_matrix
from crmkit.rules.permissions.services.sharing import (
    define_sharing_rule,
    delete_sharing_rule,
    share_record,
    unshare_record,
)

__all__ = [
    "bootstrap_super_admin",
    "bootstrap_tenant",
    "check_access",
    "define_department",
    "define_role",
    "define_sharing_rule",
    "delete_role",
    "delete_sharing_rule",
    "explain_access",
    "grants_for",
    "guarded",
    "import_matrix",
    "invalidate_cache",
    "load_policy",
    "move_department",
    "record_denial",
    "set_member",
    "share_record",
    "transfer_ownership",
    "unshare_record",
]
