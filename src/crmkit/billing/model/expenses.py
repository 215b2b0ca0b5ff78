"""Expenses and reimbursements: what reps spend on customers, and paying it back.

A rep takes a client to dinner, flies to a site visit, sends a sample: each is an
*expense line* with a category, an amount, the day it was spent, the customer
(and opportunity) it was for, and the receipt photo's metadata. Lines are
bundled into an :class:`ExpenseClaim`, which is submitted for approval, approved
or rejected, and finally *reimbursed* by a payment recorded in the billing ledger.

Tenants cap what a role may claim per line and category (:class:`CategoryLimit`):
a line over the cap is either refused outright or sends the claim through an
extra approval stage, as the limit says. Because every line names its customer
and opportunity, expenses add up to a cost per customer, per deal, per rep and
per category — the cost side of a customer's margin.
"""

from __future__ import annotations

import enum
import functools
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, NewType
from uuid import UUID

import attrs

from crmkit.kernel.entity import Entity
from crmkit.kernel.errors import LimitExceeded
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.invalid import invalid
from crmkit.kernel.money import Money

__all__ = [
    "Attachment",
    "CategoryLimit",
    "ClaimLine",
    "ClaimState",
    "ExpenseClaim",
    "ExpenseClaimEvent",
    "ExpenseClaimId",
    "ExpenseClaimReimbursed",
    "ExpenseClaimSubmitted",
    "ExpenseLine",
    "ExpensePolicy",
    "OverLimit",
    "check_limits",
    "claim_line_id",
    "policy_id",
]

ExpenseClaimId = NewType("ExpenseClaimId", UUID)
_POLICIES = uuid.UUID("5d7c3b8a-9e21-4f64-b0d2-7a4c1e9f2b36")


_invalid = functools.partial(invalid, "expense claim")


@attrs.frozen
class Attachment:
    """Metadata of a receipt photo or invoice scan (the file itself lives in the host's store)."""

    file_name: str
    content_type: str
    size: int
    storage_key: str
    sha256: str = ""


def _check_amount(_instance: Any, _attribute: Any, value: Money) -> None:
    if not value.is_positive or not value.is_rounded:
        raise _invalid("amount", N_("must be above zero, at the currency's minor unit"))


@attrs.frozen
class ExpenseLine:
    """One expense: what category, how much, when, and for which customer or deal."""

    category: str
    amount: Money = attrs.field(validator=_check_amount)
    spent_on: date
    description: str = ""
    customer_id: UUID | None = None
    opportunity_id: UUID | None = None
    attachment: Attachment | None = None


class OverLimit(enum.Enum):
    """What happens to a line over its category limit."""

    REFUSE = "refuse"
    EXTRA_APPROVAL = "extra_approval"


@attrs.frozen
class CategoryLimit:
    """The most a holder of ``role`` may claim per line of ``category``."""

    category: str
    role: str
    maximum: Money
    over: OverLimit = OverLimit.REFUSE


def _limits(values: Iterable[CategoryLimit]) -> tuple[CategoryLimit, ...]:
    return tuple(values)


def policy_id(tenant_id: TenantId) -> UUID:
    """The id of a tenant's one expense policy."""
    return uuid.uuid5(_POLICIES, str(tenant_id))


@attrs.define(eq=False)
class ExpensePolicy:
    """A tenant's expense limits per category and role."""

    entity_name = N_("expense policy")

    id: UUID
    tenant_id: TenantId
    limits: tuple[CategoryLimit, ...] = attrs.field(default=(), converter=_limits)
    version: int = 0


def check_limits(
    lines: Sequence[ExpenseLine], roles: Sequence[str], policy: ExpensePolicy | None
) -> bool:
    """Check every line against the limits of the claimant's roles.

    With several roles the most generous limit applies (roles only ever add); a
    category without a limit for any of the roles is not capped.

    Returns:
        True when some line needs the extra approval stage.

    Raises:
        LimitExceeded: a line is over a limit that refuses.
    """
    if policy is None:
        return False
    extra = False
    for line in lines:
        applicable = [
            limit
            for limit in policy.limits
            if limit.category == line.category
            and limit.role in roles
            and limit.maximum.currency == line.amount.currency
        ]
        if not applicable:
            continue
        best = max(applicable, key=lambda limit: (limit.maximum, limit.over.value))
        if line.amount <= best.maximum:
            continue
        if best.over is OverLimit.REFUSE:
            raise LimitExceeded(
                limit=f"expense.{line.category}", value=str(line.amount), maximum=str(best.maximum)
            )
        extra = True
    return extra


class ClaimState(enum.Enum):
    """An expense claim's life."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    EXTRA_REVIEW = "extra_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    REIMBURSED = "reimbursed"


def _lines(values: Iterable[ExpenseLine]) -> tuple[ExpenseLine, ...]:
    return tuple(values)


def _check_lines(_instance: Any, _attribute: Any, lines: tuple[ExpenseLine, ...]) -> None:
    if not lines:
        raise _invalid("lines", N_("a claim needs at least one line"))
    currencies = {line.amount.currency for line in lines}
    if len(currencies) > 1:
        raise _invalid("lines", N_("all lines of a claim must be in one currency"))


@attrs.define(eq=False)
class ExpenseClaim(Entity):
    """A bundle of expense lines one person claims back.

    Attributes:
        id: the claim's id.
        tenant_id: the owning tenant.
        claimant_id: who spent the money and gets it back.
        department_id: the claimant's department (scopes and reports).
        lines: the expenses.
        created_at: when it was drafted (UTC).
        state: draft, submitted, extra review, approved, rejected or reimbursed.
        needs_extra_approval: a line is over a limit that asks for an extra stage.
        submitted_at: when it was submitted.
        reimbursed_on: the day it was paid back.
        version: optimistic-locking counter.
    """

    entity_name = N_("expense claim")

    id: ExpenseClaimId
    tenant_id: TenantId
    claimant_id: UserId
    lines: tuple[ExpenseLine, ...] = attrs.field(converter=_lines, validator=_check_lines)
    created_at: datetime = attrs.field(kw_only=True)
    department_id: UUID | None = None
    state: ClaimState = ClaimState.DRAFT
    needs_extra_approval: bool = False
    submitted_at: datetime | None = None
    reimbursed_on: date | None = None
    version: int = 0

    @property
    def total(self) -> Money:
        """The sum of the lines."""
        return sum((line.amount for line in self.lines), Money.zero(self.lines[0].amount.currency))


@attrs.define(eq=False)
class ClaimLine(Entity):
    """One line of an expense claim as a record of its own, written when the claim is
    drafted (a claim's lines never change afterwards).

    The claim keeps its lines too; these records exist so that expense analysis can
    sum lines where they are stored, per customer, deal, rep or category, instead of
    loading every claim.

    Attributes:
        id: derived from the claim and the line's position (:func:`claim_line_id`).
        claim_id: the claim; its state and scope fields decide what counts.
        line_no: 1, 2, ... in the claim's order.
        category, amount, spent_on, customer_id, opportunity_id: copied from the line.
    """

    entity_name = N_("expense line")

    id: UUID
    tenant_id: TenantId
    claim_id: ExpenseClaimId
    line_no: int
    category: str
    amount: Money
    spent_on: date
    customer_id: UUID | None = None
    opportunity_id: UUID | None = None
    version: int = 0

    @classmethod
    def from_claim(cls, claim: ExpenseClaim) -> list[ClaimLine]:
        """The line records of ``claim``."""
        return [
            cls(
                id=claim_line_id(claim.id, n),
                tenant_id=claim.tenant_id,
                claim_id=claim.id,
                line_no=n,
                category=line.category,
                amount=line.amount,
                spent_on=line.spent_on,
                customer_id=line.customer_id,
                opportunity_id=line.opportunity_id,
            )
            for n, line in enumerate(claim.lines, start=1)
        ]


def claim_line_id(claim_id: UUID, line_no: int) -> UUID:
    """The id of line ``line_no`` of a claim (stable, so a backfill finds the same one)."""
    return uuid.uuid5(claim_id, str(line_no))


@attrs.frozen(kw_only=True)
class ExpenseClaimEvent(DomainEvent):
    """Base of the events of a :class:`ExpenseClaim` (its ``aggregate_id``)."""

    aggregate_type = "expense_claim"


@attrs.frozen(kw_only=True)
class ExpenseClaimSubmitted(ExpenseClaimEvent):
    """A claim was submitted for approval."""

    total: Money
    needs_extra_approval: bool


@attrs.frozen(kw_only=True)
class ExpenseClaimReimbursed(ExpenseClaimEvent):
    """A claim was paid back to the claimant."""

    amount: Money
