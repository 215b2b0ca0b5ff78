"""Each public permission service, declared for :mod:`crmkit.rules.permissions.catalog`."""

from __future__ import annotations

from crmkit.rules.permissions.catalog import (
    ServiceKind,
    exempt_service,
    register_service,
)
from crmkit.rules.permissions.guard import administer
from crmkit.rules.permissions.queries import (
    export_matrix,
    list_denials,
    ownership_history,
    policy_overview,
)
from crmkit.rules.permissions.services import (
    check_access,
    define_department,
    define_role,
    define_sharing_rule,
    delete_role,
    delete_sharing_rule,
    explain_access,
    guarded,
    import_matrix,
    move_department,
    record_denial,
    set_member,
    share_record,
    transfer_ownership,
    unshare_record,
)

AREA = "crmkit.rules.permissions"
RECORD = {"record_id": "customer"}  # any registered resource; the suite names a customer

for service, kind, operation, records in (
    (define_department, ServiceKind.WRITE, "administer", {}),
    (move_department, ServiceKind.WRITE, "administer", {}),
    (set_member, ServiceKind.WRITE, "administer", {}),
    (define_role, ServiceKind.WRITE, "administer", {}),
    (delete_role, ServiceKind.WRITE, "administer", {}),
    (define_sharing_rule, ServiceKind.WRITE, "administer", {}),
    (delete_sharing_rule, ServiceKind.WRITE, "administer", {}),
    (import_matrix, ServiceKind.WRITE, "administer", {}),
    (export_matrix, ServiceKind.REPORT, "administer", {}),
    (policy_overview, ServiceKind.REPORT, "administer", {}),
    (list_denials, ServiceKind.REPORT, "administer", {}),
):
    register_service(service, kind, "policy", operation, records=records, package=AREA)

register_service(share_record, ServiceKind.WRITE, "customer", "share", records=RECORD, package=AREA)
register_service(
    unshare_record,
    ServiceKind.WRITE,
    "customer",
    "share",
    records={"share_id": "share"},
    package=AREA,
)
register_service(
    transfer_ownership, ServiceKind.WRITE, "customer", "transfer", records=RECORD, package=AREA
)
register_service(ownership_history, ServiceKind.READ, "customer", records=RECORD, package=AREA)
# "May I?" and "why not?" answer about the caller's own access; they never show the record.
register_service(check_access, ServiceKind.LIST, "customer", records=RECORD, package=AREA)
register_service(explain_access, ServiceKind.LIST, "customer", records=RECORD, package=AREA)

exempt_service(guarded, "runs another service's unit of work; checks nothing itself")
exempt_service(record_denial, "writes an audit entry for a refusal another service raised")
exempt_service(administer, "runs a policy service's unit of work; its check is the services'")
