"""The refusals the pipeline's services raise, in one place for a host to catch.

The pipeline needs no error classes of its own: each refusal is a branch of
crmkit's one error tree (:mod:`crmkit.kernel.errors`) or, for documents in an
approval flow, of the approvals area's (:mod:`crmkit.rules.approvals`). Each
service's ``Raises`` section says which of these it raises and when.
"""

from __future__ import annotations

from crmkit.kernel.errors import (
    ConcurrencyConflict,
    CurrencyMismatch,
    GuardFailed,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from crmkit.rules.approvals.errors import DocumentLocked, NoApprover, SelfApprovalForbidden

__all__ = [
    "ConcurrencyConflict",
    "CurrencyMismatch",
    "DocumentLocked",
    "GuardFailed",
    "InvalidTransition",
    "NoApprover",
    "NotFound",
    "PermissionDenied",
    "SelfApprovalForbidden",
    "ValidationError",
]
