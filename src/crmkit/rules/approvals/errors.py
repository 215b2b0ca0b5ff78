"""Errors of the approval flows, each a branch of crmkit's one error tree."""

from __future__ import annotations

from uuid import UUID

from crmkit.kernel.errors import CrmError, LimitExceeded, PermissionDenied
from crmkit.kernel.i18n import N_

__all__ = [
    "AlreadyDecided",
    "DocumentLocked",
    "NoApprover",
    "NotAnApprover",
    "SelfApprovalForbidden",
    "UrgeTooSoon",
]


class NotAnApprover(PermissionDenied):
    """The actor is not a pending approver of the request's current stage."""

    code = "not_an_approver"
    template = N_("{actor} is not waited on at stage {stage} of {resource}.")

    def __init__(self, *, actor: object, resource: str, stage: str) -> None:
        CrmError.__init__(
            self, actor=actor, operation="decide", resource=resource, stage=stage, field=None
        )


class SelfApprovalForbidden(PermissionDenied):
    """A submitter tried to approve (or be made approver of) their own document."""

    code = "self_approval_forbidden"
    template = N_("{actor} submitted {resource} and may not approve it.")

    def __init__(self, *, actor: object, resource: str) -> None:
        CrmError.__init__(self, actor=actor, operation="approve", resource=resource, field=None)


class AlreadyDecided(CrmError):
    """The approver has already decided this stage in this round."""

    code = "already_decided"
    template = N_("{actor} has already decided stage {stage} of {resource}.")

    def __init__(self, *, actor: object, resource: str, stage: str) -> None:
        super().__init__(actor=actor, resource=resource, stage=stage)


class NoApprover(CrmError):
    """A stage resolved to nobody (empty role, no manager, no department head)."""

    code = "no_approver"
    template = N_("Stage {stage} of flow {flow} has nobody to approve it.")

    def __init__(self, *, flow: str, stage: str) -> None:
        super().__init__(flow=flow, stage=stage)


class DocumentLocked(CrmError):
    """The document is in review or approved, so it cannot be edited."""

    code = "document_locked"
    template = N_("{document_type} {document_id} is {status} and cannot be edited.")

    def __init__(self, *, document_type: str, document_id: UUID, status: str) -> None:
        super().__init__(document_type=document_type, document_id=document_id, status=status)


class UrgeTooSoon(LimitExceeded):
    """The submitter urged again before the configured interval passed."""

    code = "urge_too_soon"
    template = N_("Urged too soon: wait {maximum} minutes between urges ({value} passed).")

    def __init__(self, *, value: int, maximum: int) -> None:
        super().__init__(limit="urge_interval", value=value, maximum=maximum)
