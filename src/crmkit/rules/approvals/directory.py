"""The org chart an approval flow needs.

Routing "the submitter's manager" or "the head of the sales department" needs to
know who reports to whom. That is the :class:`crmkit.ports.Directory` port; by
default the approval services read it from crmkit's own org model
(:class:`crmkit.rules.permissions.OrgDirectory`), and a host may pass its own.
"""

from __future__ import annotations

from crmkit.ports import Directory
from crmkit.rules.directory import InMemoryDirectory

__all__ = ["ApprovalDirectory", "InMemoryDirectory"]

ApprovalDirectory = Directory
"""The directory approvals route by (the shared :class:`crmkit.ports.Directory`)."""
