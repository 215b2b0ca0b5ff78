"""Expense claims: limits per category and role, the extra approval stage, reimbursement;
expense analysis, the same in SQL and in memory."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmkit import Crm
from crmkit.adapters.memory import MemoryStorage
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
from crmkit.billing.queries import ExpenseQuery
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import InvalidTransition, LimitExceeded, PermissionDenied
from crmkit.kernel.ids import RandomIdGenerator, TenantId, UserId
from crmkit.kernel.money import Money
from crmkit.kernel.query import F
from crmkit.kernel.report import ReportTable
from crmkit.ports import UnitOfWork, queries
from crmkit.rules.permissions import bootstrap_tenant
from tests.billing.builders import second_admin


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
    assert (
        approve_expense_claim(crm, second_admin(crm, actor), claim.id).state is ClaimState.APPROVED
    )
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
    assert (
        approve_expense_claim(crm, second_admin(crm, actor), claim.id).state
        is ClaimState.EXTRA_REVIEW
    )
    assert (
        approve_expense_claim(crm, second_admin(crm, actor), claim.id).state is ClaimState.APPROVED
    )
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
        approve_expense_claim(crm, second_admin(crm, actor), claim.id)
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


# -- expense analysis: SQL and memory agree --------------------------------------------------

_DEPARTMENTS = (None, uuid.UUID(int=201), uuid.UUID(int=202))
_CUSTOMERS = (None, uuid.UUID(int=301), uuid.UUID(int=302))
_FATES = ("draft", "submitted", "approved", "rejected", "reimbursed")
_lines = st.lists(
    st.tuples(
        st.sampled_from(["meals", "travel", "gifts"]),
        st.integers(1, 10**8),  # minor units
        st.integers(0, 60),  # days after 2026-01-01
        st.integers(0, 2),  # customer
        st.booleans(),  # names the deal
    ),
    min_size=1,
    max_size=4,
)
_claims = st.lists(
    st.tuples(
        _lines, st.sampled_from(["CNY", "USD", "JPY"]), st.integers(0, 2), st.sampled_from(_FATES)
    ),
    max_size=8,
)


def _file_claims(crm: Crm, actor: Actor, claims: list[Any]) -> None:
    for n, (lines, currency, department, fate) in enumerate(claims):
        drafted = [
            ExpenseLine(
                category,
                Money.from_minor_units(units, currency),
                date(2026, 1, 1) + timedelta(days=day),
                customer_id=_CUSTOMERS[who],
                opportunity_id=DEAL if deal else None,
            )
            for category, units, day, who, deal in lines
        ]
        claim = draft_expense_claim(crm, actor, drafted, department_id=_DEPARTMENTS[department])
        if fate == "draft":
            continue
        submit_expense_claim(crm, actor, claim.id, roles=[])
        if fate == "rejected":
            reject_expense_claim(crm, actor, claim.id)
        elif fate in ("approved", "reimbursed"):
            approve_expense_claim(crm, second_admin(crm, actor), claim.id)
        if fate == "reimbursed":
            reimburse_expense_claim(
                crm, actor, claim.id, paid_on=date(2026, 3, 1), idempotency_key=f"x{n}"
            )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"], indirect=True)
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(claims=_claims)
def test_sql_and_memory_analyse_expenses_alike(
    make_crm: Callable[[], Crm], claims: list[Any]
) -> None:
    sql = make_crm()
    memory = Crm(MemoryStorage(), clock=sql.clock, ids=RandomIdGenerator())
    actor = Actor(TenantId(uuid.uuid4()), UserId(uuid.uuid4()), "finance")
    for crm in (sql, memory):
        bootstrap_tenant(crm, actor.tenant_id, actor.user_id)
        _file_claims(crm, actor, claims)
    window = {"since": date(2026, 1, 10), "until": date(2026, 2, 10)}
    scope = F("department_id").eq(_DEPARTMENTS[1]) | F("department_id").is_null()
    for by in ("customer_id", "opportunity_id", "claimant_id", "category"):
        expected = expense_analysis(memory, actor, by=by, **window)
        assert expense_analysis(sql, actor, by=by, **window) == expected

        def scoped(uow: UnitOfWork, by: str = by) -> ReportTable:
            port: ExpenseQuery = queries(uow, ExpenseQuery)
            return port.analysis(by, window["since"], window["until"], scope=scope)

        assert sql.run(actor.tenant_id, scoped) == memory.run(actor.tenant_id, scoped)
