"""Errors of the customers area (each a subclass of the kernel's error tree)."""

from __future__ import annotations

from crmkit.kernel.errors import CrmError, InvalidTransition, LimitExceeded, ValidationError
from crmkit.kernel.i18n import N_

__all__ = [
    "CooldownActive",
    "HierarchyCycle",
    "HoldingLimitReached",
    "NotInPool",
]


class NotInPool(InvalidTransition):
    """The customer is not in the public pool (someone else claimed it first)."""

    code = "not_in_pool"
    template = N_("{machine}: the customer is no longer in the public pool (it is {state}).")


class HoldingLimitReached(LimitExceeded):
    """A rep already holds as many customers as the pool policy allows."""

    code = "holding_limit_reached"
    template = N_("{limit}: the rep already holds {value} customers, the limit is {maximum}.")


class CooldownActive(CrmError):
    """A former owner tries to reclaim a customer before the cool-down is over."""

    code = "cooldown_active"
    template = N_("The former owner may claim this customer again from {until}.")

    def __init__(self, *, until: object) -> None:
        super().__init__(until=until)


class HierarchyCycle(ValidationError):
    """A parent/subsidiary relation would make a company its own ancestor."""

    code = "hierarchy_cycle"
