"""Approval use cases."""

from crmkit.rules.approvals.services import submission as _submission
from crmkit.rules.approvals.services.submission import *  # noqa: F403

__all__ = [*_submission.__all__]
