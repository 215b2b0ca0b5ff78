"""Errors of the billing area, each a branch of crmkit's one error tree."""

from __future__ import annotations

from typing import Any

from crmkit.kernel.errors import CrmError, LazyText, LimitExceeded, ValidationError
from crmkit.kernel.i18n import N_

__all__ = ["LedgerCorrupted", "OverAllocation", "OverRefund"]


class OverAllocation(ValidationError):
    """An allocation would take more than a receipt has left or an installment still owes."""

    code = "over_allocation"
    template = N_("Cannot allocate {amount}: only {available} is {what}.")

    def __init__(self, *, amount: Any, available: Any, what: LazyText | str) -> None:
        CrmError.__init__(
            self, entity="allocation", field="amount", amount=amount, available=available, what=what
        )


class OverRefund(LimitExceeded):
    """A refund would return more money than was received and is still unallocated."""

    code = "over_refund"
    template = N_("Cannot refund {value}: at most {maximum} can be refunded.")

    def __init__(self, *, value: Any, maximum: Any) -> None:
        super().__init__(limit="refund", value=value, maximum=maximum)


class LedgerCorrupted(CrmError):
    """``verify_ledger`` found entries that were altered, removed or reordered."""

    code = "ledger_corrupted"
    template = N_("The billing ledger failed verification: {problems} problem(s).")

    def __init__(self, *, problems: int) -> None:
        super().__init__(problems=problems)
