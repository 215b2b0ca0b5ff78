"""Tables of the approval flows (migration branch ``approvals``) and the SQL inbox counts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from crmkit.adapters.sql.compile import compile_expr
from crmkit.adapters.sql.mapping import map_entity
from crmkit.adapters.sql.tables import metadata, register
from crmkit.kernel.query import Expr
from crmkit.ports import register_queries
from crmkit.rules.approvals.model import (
    ApprovalFlow,
    ApprovalRequest,
    ApprovalSettings,
    ApprovalTask,
)
from crmkit.rules.approvals.queries import InboxCounts

if TYPE_CHECKING:  # uow imports this module (through tables.py): no import cycle at run time
    from crmkit.adapters.sql.uow import SqlUnitOfWork

__all__ = [
    "APPROVAL_FLOWS",
    "APPROVAL_REQUESTS",
    "APPROVAL_SETTINGS",
    "APPROVAL_TASKS",
    "SqlInboxCounts",
]

APPROVAL_FLOWS = register(
    map_entity(ApprovalFlow, "approval_flows", metadata, indexes=[("document_type", "active")])
)
APPROVAL_REQUESTS = register(
    map_entity(
        ApprovalRequest,
        "approval_requests",
        metadata,
        # The overdue scan reads (status, alert_due_at); "my submissions" reads submitter.
        indexes=[("status", "alert_due_at"), ("submitter_id", "submitted_at")],
        unique=[("document_type", "document_id")],
    )
)
APPROVAL_TASKS = register(
    map_entity(
        ApprovalTask,
        "approval_tasks",
        metadata,
        indexes=[("approver_id", "waiting_since"), ("request_id",)],
    )
)

APPROVAL_SETTINGS = register(map_entity(ApprovalSettings, "approval_settings", metadata))


class SqlInboxCounts:
    """:class:`~crmkit.rules.approvals.queries.InboxCounts` as one ``GROUP BY``."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def by_document_type(self, where: Expr) -> dict[str, int]:
        """Counts per document type."""
        table = APPROVAL_TASKS.table
        statement = (
            sa.select(table.c.document_type, sa.func.count().label("n"))
            .where(
                table.c.tenant_id == self._uow.tenant_id,
                compile_expr(where, APPROVAL_TASKS.column, self._uow.dialect),
            )
            .group_by(table.c.document_type)
        )
        return {row.document_type: int(row.n) for row in self._uow.execute(statement)}


register_queries("sql", InboxCounts, SqlInboxCounts)
