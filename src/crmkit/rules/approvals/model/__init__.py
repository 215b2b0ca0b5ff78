"""The approval domain, one module per concept."""

from crmkit.rules.approvals.model import flows as _flows
from crmkit.rules.approvals.model.flows import *  # noqa: F403

__all__ = [*_flows.__all__]
