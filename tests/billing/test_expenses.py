"""Expense claims: limits per category and role, the extra approval stage, reimbursement."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from crmkit import Crm
from crmkit.billing import (
    Attachment,
    CategoryLimit,
    ClaimState,
    EntryKind,
    ExpenseLine,
    OverLimit,
    approve_expense_claim,
    draft_expense_claim,
    expense_analysis,
    ledger_entries,
    reimburse_expense_claim,
    reject_expense_claim,
    set_expense_limits,
    submit_expense_claim,
    verify_ledger,
)
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import InvalidTransition, LimitExceeded, PermissionDenied
from crmkit.kernel.ids import UserId
from crmkit.kernel.money import Money


def cny(text: str) -> Money:
    return Money(text, "CNY")


CUSTOMER = uuid.UUID(int=7)
DEAL = uuid.UUID(int=8)


def dinner(amount: str) -> ExpenseLine:
    return ExpenseLine(
        "meals",
        cny(amount),
        date(2026, 2, 10),
        "dinner with 张总",
        customer_id=CUSTOMER,
        opportunity_id=DEAL,
        attachment=Attachment("fapiao.jpg", "image/jpeg", 48_213, "s3://receipts/fapiao.jpg"),
    )


LIMITS = [
    CategoryLimit("meals", "rep", cny("500"), OverLimit.EXTRA_APPROVAL),
    CategoryLimit("meals", "manager", cny("2000"), OverLimit.EXTRA_APPROVAL),
    CategoryLimit("gifts", "rep", cny("200"), OverLimit.REFUSE),
]


def test_a_claim_within_limits_is_approved_then_reimbursed_through_the_ledger(
    crm: Crm, actor: Actor
) -> None:
    set_expense_limits(crm, actor, LIMITS)
    claim = draft_expense_claim(crm, actor, [dinner("480"), dinner("20.50")])
    submitted = submit_expense_claim(crm, actor, claim.id, roles=["rep"])
    assert (submitted.state, submitted.needs_extra_approval) == (ClaimState.SUBMITTED, False)
    assert approve_expense_claim(crm, actor, claim.id).state is ClaimState.APPROVED
    paid = reimburse_expense_claim(
        crm, actor, claim.id, paid_on=date(2026, 2, 20), idempotency_key="reimb-1"
    )
    assert paid.state is ClaimState.REIMBURSED
    (entry,) = ledger_entries(crm, actor)
    assert (entry.kind, entry.amount, entry.claim_id) == (
        EntryKind.REIMBURSEMENT,
        cny("500.50"),
        claim.id,
    )
    assert verify_ledger(crm, actor).ok
    with pytest.raises(InvalidTransition):
        reimburse_expense_claim(
            crm, actor, claim.id, paid_on=date(2026, 2, 20), idempotency_key="reimb-2"
        )


def test_a_line_over_a_soft_limit_needs_an_extra_approval_stage(crm: Crm, actor: Actor) -> None:
    set_expense_limits(crm, actor, LIMITS)
    claim = draft_expense_claim(crm, actor, [dinner("800")])
    assert submit_expense_claim(crm, actor, claim.id, roles=["rep"]).needs_extra_approval
    assert approve_expense_claim(crm, actor, claim.id).state is ClaimState.EXTRA_REVIEW
    assert approve_expense_claim(crm, actor, claim.id).state is ClaimState.APPROVED
    manager_claim = draft_expense_claim(crm, actor, [dinner("800")])
    # With several roles the most generous limit applies.
    submitted = submit_expense_claim(crm, actor, manager_claim.id, roles=["rep", "manager"])
    assert not submitted.needs_extra_approval


def test_a_line_over_a_hard_limit_is_refused_and_the_claim_stays_a_draft(
    crm: Crm, actor: Actor
) -> None:
    set_expense_limits(crm, actor, LIMITS)
    gift = ExpenseLine("gifts", cny("200.01"), date(2026, 2, 10), "tea set")
    claim = draft_expense_claim(crm, actor, [gift])
    with pytest.raises(LimitExceeded) as refused:
        submit_expense_claim(crm, actor, claim.id, roles=["rep"])
    assert refused.value.limit == "expense.gifts"
    assert "200.01" in str(refused.value)
    reject = draft_expense_claim(crm, actor, [dinner("10")])
    submit_expense_claim(crm, actor, reject.id, roles=["rep"])
    assert reject_expense_claim(crm, actor, reject.id).state is ClaimState.REJECTED


def test_only_the_claimant_submits_a_claim(crm: Crm, actor: Actor) -> None:
    claim = draft_expense_claim(crm, actor, [dinner("10")])
    someone = Actor(actor.tenant_id, UserId(uuid.uuid4()), "Li Na")
    with pytest.raises(PermissionDenied):
        submit_expense_claim(crm, someone, claim.id, roles=["rep"])


def test_expenses_add_up_per_customer_deal_rep_and_category(crm: Crm, actor: Actor) -> None:
    for amounts in (["100", "50"], ["30"]):
        claim = draft_expense_claim(crm, actor, [dinner(a) for a in amounts])
        submit_expense_claim(crm, actor, claim.id, roles=[])
        approve_expense_claim(crm, actor, claim.id)
    draft_expense_claim(crm, actor, [dinner("999")])  # never submitted: not counted
    window = {"since": date(2026, 2, 1), "until": date(2026, 2, 28)}
    by_customer = expense_analysis(crm, actor, by="customer_id", **window).to_dicts()
    assert by_customer == [
        {"key": str(CUSTOMER), "currency": "CNY", "lines": 3, "amount": Decimal("180.00")}
    ]
    assert expense_analysis(crm, actor, by="claimant_id", **window).column("key") == [
        str(actor.user_id)
    ]
    assert expense_analysis(crm, actor, by="category", **window).column("amount") == [
        Decimal("180")
    ]
