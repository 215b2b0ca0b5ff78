"""Permissions: who may do what to which records, and see which of their fields.

A serious CRM answers four questions for every read and write, and crmkit keeps
the answers as data (the tenant's *policy*), evaluated by the pure evaluator of
this package (:mod:`.compile`, :mod:`.reach`, :mod:`.grants`, :mod:`.fields`):

1. **Who is this?** A *member* of a tenant: a user placed in a *department*
   (departments form a tree of any depth), with a *manager* (the reporting
   chain, which need not follow the tree), holding *roles*. Roles are per tenant:
   the same person can be a rep in one tenant and an administrator in another.
2. **May they do this kind of thing at all?** A role holds *grants*: for a
   *resource* type (``customer``, ``opportunity``, ...) and an *operation*
   (``view``, ``edit``, ``export``, ...), a *data scope* that says which records
   the grant reaches: their own, their own and their reports' (the manager chain),
   their department, their department and its sub-departments, the whole tenant,
   or a custom filter over record fields. The owner of a record always reaches it
   when they hold the operation at all.
3. **Which records beyond that?** *Shares*: one record shared with a user, a role
   or a department (read or edit), and *sharing rules* ("customers in region East
   are visible to the East sales team") that share every record matching a
   condition. Shares widen the records an operation reaches; they never grant an
   operation the actor's roles lack (the object permission comes first, as in
   every CRM that gets this right).
4. **Which fields?** *Field rules* per role, resource and field: hidden,
   read-only or editable (the default). With several roles the most permissive
   rule wins, like grants: roles only ever add.

Resources and their operations and fields are declared in a :class:`Registry`
(each area registers its aggregates), so a grant naming an unknown resource,
operation or field is refused when it is defined, not when it is checked.

Two administrator levels have fixed limits: a *tenant administrator* manages the
policy of their own tenant and reaches every record and field in it; a
*super-administrator* (a member of the platform tenant) may administer any
tenant's policy but sees no business data unless also a member of that tenant.

The package holds one module per concept:

- :mod:`.resources` — resource types, their operations and fields, derived fields;
- :mod:`.filters` — custom scopes and sharing conditions as stored data;
- :mod:`.roles` — grants with their data scope, field rules, roles;
- :mod:`.org` — departments, members, administrator levels;
- :mod:`.sharing` — record shares and sharing rules;
- :mod:`.history` — ownership transfers, the audit log of refusals, the policy epoch;
- :mod:`.policy` — a tenant's policy snapshot and its org-chart walks;
- :mod:`.compile` — compiling one member's grants from the policy;
- :mod:`.reach` — row scope: sets for one record, a filter expression for lists;
- :mod:`.fields` — field rules at read and write time, redaction;
- :mod:`.grants` — the compiled grants and their decisions (:mod:`.decisions`);
- :mod:`.matrix` — the permission matrix as a table, and its checks.
"""

from crmkit.rules.permissions.model.compile import compile_grants
from crmkit.rules.permissions.model.decisions import Decision, Reason
from crmkit.rules.permissions.model.filters import PLACEHOLDERS, expr_from_data, expr_to_data
from crmkit.rules.permissions.model.grants import Grants
from crmkit.rules.permissions.model.history import Denial, OwnershipTransfer, PolicyEpoch
from crmkit.rules.permissions.model.matrix import (
    MatrixIssue,
    MatrixReport,
    MatrixRow,
    check_matrix,
    from_csv,
    matrix_rows,
    to_csv,
    to_grid,
)
from crmkit.rules.permissions.model.org import PLATFORM_TENANT, AdminLevel, Department, Member
from crmkit.rules.permissions.model.policy import Policy
from crmkit.rules.permissions.model.resources import (
    DEFAULT_OPERATIONS,
    EDIT_OPERATIONS,
    READ_OPERATIONS,
    Registry,
    ResourceSpec,
    derived_from,
    register_resource,
    registry,
)
from crmkit.rules.permissions.model.roles import FieldAccess, FieldRule, Grant, Role, Scope
from crmkit.rules.permissions.model.sharing import Access, GranteeKind, RecordShare, SharingRule

__all__ = [
    "DEFAULT_OPERATIONS",
    "EDIT_OPERATIONS",
    "PLACEHOLDERS",
    "PLATFORM_TENANT",
    "READ_OPERATIONS",
    "Access",
    "AdminLevel",
    "Decision",
    "Denial",
    "Department",
    "FieldAccess",
    "FieldRule",
    "Grant",
    "GranteeKind",
    "Grants",
    "MatrixIssue",
    "MatrixReport",
    "MatrixRow",
    "Member",
    "OwnershipTransfer",
    "Policy",
    "PolicyEpoch",
    "Reason",
    "RecordShare",
    "Registry",
    "ResourceSpec",
    "Role",
    "Scope",
    "SharingRule",
    "check_matrix",
    "compile_grants",
    "derived_from",
    "expr_from_data",
    "expr_to_data",
    "from_csv",
    "matrix_rows",
    "register_resource",
    "registry",
    "to_csv",
    "to_grid",
]
