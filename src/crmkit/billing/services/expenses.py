"""Expense claims: draft, submit against the category limits, approve, reimburse; analysis."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from uuid import UUID

from crmkit.billing.model.expenses import (
    CategoryLimit,
    ClaimLine,
    ExpenseClaim,
    ExpenseClaimId,
    ExpenseLine,
    ExpensePolicy,
    check_limits,
    policy_id,
)
from crmkit.billing.model.flows import EXPENSE_CLAIM_FLOW
from crmkit.billing.model.ledger import EntryDraft, EntryKind, LedgerEntryId
from crmkit.billing.queries import EXPENSE_COLUMNS, EXPENSE_GROUPS, ExpenseQuery
from crmkit.billing.services._frame import EXPENSE_CLAIM, Post, _money_command, _require
from crmkit.billing.services.approvals import (
    EXPENSE_CLAIM_APPROVAL,
)
from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import PermissionDenied
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.limits import to_date
from crmkit.kernel.report import ReportTable
from crmkit.ports import UnitOfWork, queries
from crmkit.rules.approvals import ensure_not_in_review
from crmkit.rules.permissions import grants_for, guarded

__all__ = [
    "EXPENSE_COLUMNS",
    "approve_expense_claim",
    "draft_expense_claim",
    "expense_analysis",
    "reimburse_expense_claim",
    "reject_expense_claim",
    "set_expense_limits",
    "submit_expense_claim",
]

_GROUPS = EXPENSE_GROUPS


def set_expense_limits(crm: Crm, actor: Actor, limits: Sequence[CategoryLimit]) -> ExpensePolicy:
    """Replace the tenant's expense limits per category and role."""

    def work(uow: UnitOfWork) -> ExpensePolicy:
        if not grants_for(uow, actor).may_administer:
            raise PermissionDenied(
                actor=actor.name, operation="administer", resource="expense policy"
            )
        repo = uow.repository(ExpensePolicy)
        current = repo.find(policy_id(actor.tenant_id))
        if current is None:
            return repo.add(
                ExpensePolicy(
                    id=policy_id(actor.tenant_id), tenant_id=actor.tenant_id, limits=limits
                )
            )
        current.limits = tuple(limits)
        return repo.save(current)

    return guarded(crm, actor, work)


def draft_expense_claim(
    crm: Crm, actor: Actor, lines: Sequence[ExpenseLine], *, department_id: UUID | None = None
) -> ExpenseClaim:
    """Draft a claim of the actor's expenses.

    Raises:
        ValidationError: no lines, or lines in several currencies.
    """
    now = crm.now()
    claim = ExpenseClaim(
        id=ExpenseClaimId(crm.ids.new(now)),
        tenant_id=actor.tenant_id,
        claimant_id=actor.user_id,
        lines=lines,
        created_at=now,
        department_id=department_id,
    )

    def work(uow: UnitOfWork) -> ExpenseClaim:
        _require(uow, actor, "create", EXPENSE_CLAIM, claim)
        uow.repository(ClaimLine).add_many(ClaimLine.from_claim(claim))
        return uow.repository(ExpenseClaim).add(claim)

    return guarded(crm, actor, work)


def submit_expense_claim(
    crm: Crm, actor: Actor, claim_id: UUID, *, roles: Sequence[str]
) -> ExpenseClaim:
    """Submit a draft for approval, checking every line against the limits of ``roles``.

    Args:
        roles: the claimant's roles (from the permissions policy).

    Returns:
        The submitted claim; ``needs_extra_approval`` says whether it goes through the
        extra approval stage.

    Raises:
        LimitExceeded: a line is over a limit that refuses; the claim stays a draft.
        DocumentLocked: an approval flow is deciding the claim already.
        InvalidTransition: the claim is not a draft.
        PermissionDenied: the actor is not the claimant.
        NoApprover: the expense flow's stage resolves to nobody (the claim stays a draft).

    With an active ``"expense_claim"`` approval flow the claim enters it in the same
    transaction (see :mod:`crmkit.billing.services.approvals`); otherwise it waits for
    :func:`approve_expense_claim`.
    """

    def work(uow: UnitOfWork) -> ExpenseClaim:
        repo = uow.repository(ExpenseClaim)
        claim = repo.get(claim_id)
        _require(uow, actor, "submit", EXPENSE_CLAIM, claim)
        ensure_not_in_review(uow, claim)
        if claim.claimant_id != actor.user_id:
            raise PermissionDenied(actor=actor.name, operation="submit", resource="expense claim")
        policy = uow.repository(ExpensePolicy).find(policy_id(actor.tenant_id))
        claim.needs_extra_approval = check_limits(claim.lines, roles, policy)
        now = crm.now()
        event = EXPENSE_CLAIM_FLOW.fire(
            claim,
            "submit",
            now=now,
            payload={"total": claim.total, "needs_extra_approval": claim.needs_extra_approval},
        )
        claim.submitted_at = now
        repo.save(claim)
        uow.outbox.add(event)
        if EXPENSE_CLAIM_APPROVAL.route(uow, actor, claim, now):
            # A flow no stage applies to approves it at once: read it back.
            claim = repo.get(claim.id)
        return claim

    return guarded(crm, actor, work)


def approve_expense_claim(crm: Crm, actor: Actor, claim_id: UUID) -> ExpenseClaim:
    """Approve one stage of a claim by hand (tenants without an expense approval flow).

    A claim within its limits is approved at once; one over a limit that asks for an
    extra stage moves to ``extra_review`` first and needs a second approval.

    Raises:
        InvalidTransition: the claim is not waiting for approval.
        DocumentLocked: an approval flow is deciding the claim.
        SelfApprovalForbidden: the actor is the claimant and the tenant does not allow
            self-approval.
    """
    return EXPENSE_CLAIM_APPROVAL.decide(crm, actor, claim_id, "approve")


def reject_expense_claim(crm: Crm, actor: Actor, claim_id: UUID) -> ExpenseClaim:
    """Reject a submitted claim.

    Raises:
        InvalidTransition: the claim is not waiting for approval.
        DocumentLocked: an approval flow is deciding the claim.
    """
    return EXPENSE_CLAIM_APPROVAL.decide(crm, actor, claim_id, "reject")


def reimburse_expense_claim(
    crm: Crm, actor: Actor, claim_id: UUID, *, paid_on: date, idempotency_key: str
) -> ExpenseClaim:
    """Pay an approved claim back: a reimbursement entry in the ledger.

    Raises:
        DocumentLocked: an approval flow is still deciding the claim.
        InvalidTransition: the claim is not approved (or already reimbursed).
        IdempotencyConflict: the key was used for a different request.
    """
    payload = {"claim_id": claim_id, "paid_on": paid_on}

    def body(uow: UnitOfWork, post: Post) -> tuple[ExpenseClaim, list[UUID]]:
        repo = uow.repository(ExpenseClaim)
        claim = repo.get(claim_id)
        _require(uow, actor, "reimburse", EXPENSE_CLAIM, claim)
        ensure_not_in_review(uow, claim)
        event = EXPENSE_CLAIM_FLOW.fire(
            claim, "reimburse", now=crm.now(), payload={"amount": claim.total}
        )
        claim.reimbursed_on = paid_on
        repo.save(claim)
        post(
            [
                EntryDraft(
                    id=LedgerEntryId(crm.new_id()),
                    kind=EntryKind.REIMBURSEMENT,
                    amount=claim.total,
                    posted_on=paid_on,
                    customer_id=claim.claimant_id,
                    claim_id=claim.id,
                )
            ]
        )
        uow.outbox.add(event)
        return claim, [claim.id]

    def replay(uow: UnitOfWork, ids: tuple[UUID, ...]) -> ExpenseClaim:
        return uow.repository(ExpenseClaim).get(ids[0])

    return _money_command(
        crm,
        actor,
        "reimburse_expense",
        idempotency_key,
        payload,
        body,
        replay,
        access=("reimburse", EXPENSE_CLAIM),
    )


def expense_analysis(
    crm: Crm,
    actor: Actor,
    *,
    by: str,
    since: date,
    until: date,
) -> ReportTable:
    """Approved and reimbursed expenses spent in [since, until], per customer, opportunity,
    claimant or category, and currency — the cost side of a customer's margin.

    Args:
        by: ``"customer_id"``, ``"opportunity_id"``, ``"claimant_id"`` or ``"category"``.

    Raises:
        ValidationError: ``by`` is not one of those, or ``since``/``until`` is not a
            date (ISO text is read as one).
    """
    since = to_date(since, entity="expense analysis", field="since")
    until = to_date(until, entity="expense analysis", field="until")
    if by not in _GROUPS:
        raise invalid(
            "expense analysis",
            "by",
            N_("{by!r} is not one of {allowed}"),
            by=by,
            allowed=", ".join(_GROUPS),
        )

    def work(uow: UnitOfWork) -> ReportTable:
        visible = _require(uow, actor, "view", EXPENSE_CLAIM).scope("view", EXPENSE_CLAIM)
        port: ExpenseQuery = queries(uow, ExpenseQuery)
        return port.analysis(by, since, until, scope=visible)

    return guarded(crm, actor, work)
