"""Errors of the billing area, each a branch of crmkit's one error tree."""

from __future__ import annotations

from typing import Any

from crmkit.kernel.errors import (
    CrmError,
    InvalidTransition,
    LazyText,
    LimitExceeded,
    ValidationError,
)
from crmkit.kernel.i18n import N_

__all__ = [
    "LedgerCorrupted",
    "NothingToAllocate",
    "OverAllocation",
    "OverRefund",
    "RedLetterNotVoidable",
]


class OverAllocation(ValidationError):
    """An allocation would take more than a receipt has left or an installment still owes."""

    code = "over_allocation"
    template = N_("Cannot allocate {amount}: only {available} is {what}.")

    def __init__(self, *, amount: Any, available: Any, what: LazyText | str) -> None:
        CrmError.__init__(
            self, entity="allocation", field="amount", amount=amount, available=available, what=what
        )


class NothingToAllocate(OverAllocation):
    """A receipt was to be allocated but has no unallocated money left.

    Usually another clerk (or an earlier request) allocated it first, or it was
    refunded. A subclass of ``OverAllocation``: asking to allocate anything from a
    receipt with nothing left is the extreme case of asking for too much.
    """

    code = "nothing_to_allocate"
    template = N_(
        "Nothing is left to allocate on receipt {receipt}: of its {settled}, {allocated} "
        "is allocated already and {refunded} was refunded."
    )

    def __init__(self, *, receipt: str, settled: Any, allocated: Any, refunded: Any) -> None:
        CrmError.__init__(
            self,
            entity="allocation",
            field="amount",
            receipt=receipt,
            settled=settled,
            allocated=allocated,
            refunded=refunded,
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


class RedLetterNotVoidable(InvalidTransition):
    """A red-letter invoice was asked to be voided.

    A red letter (红字发票) is itself the reversal of an invoice: voiding it would
    bring the voided amount back as if it were invoiced again, which tax rules do not
    allow. To invoice the amount again, request and issue a new invoice.
    """

    code = "red_letter_not_voidable"
    template = N_(
        "Invoice {number} is the red letter of invoice {voids} and cannot be voided; "
        "to invoice the amount again, issue a new invoice."
    )

    def __init__(self, *, number: str, voids: str, state: str) -> None:
        CrmError.__init__(
            self, machine="invoice", state=state, trigger="void", number=number, voids=voids
        )
