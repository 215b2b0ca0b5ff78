"""Concurrent claims on PostgreSQL: one winner per customer, the holding limit holds."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from crmkit import Crm
from crmkit.customers import (
    HoldingLimitReached,
    NotInPool,
    claim_customer,
    list_customers,
    register_customer,
    set_pool_policy,
)
from tests.customers.team import make_team

pytestmark = pytest.mark.parametrize("backend", ["postgresql", "mariadb"], indirect=True)


def _race(calls: list[Callable[[], object]]) -> list[object]:
    """Run the calls in threads released together; return each result or error."""
    start = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = calls[index]()
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_reps_claiming_one_customer_exactly_one_wins(
    make_crm: Callable[[], Crm], actor
) -> None:
    admin_crm = make_crm()
    team = make_team(admin_crm, actor)
    for round_ in range(5):
        pooled = register_customer(admin_crm, actor, name=f"公海客户{round_}", owner_id=None)
        crms = [make_crm(), make_crm()]
        results = _race(
            [
                lambda c=crms[0], p=pooled: claim_customer(c, team.li, p.id),
                lambda c=crms[1], p=pooled: claim_customer(c, team.wang, p.id),
            ]
        )
        errors = [r for r in results if isinstance(r, Exception)]
        winners = [r for r in results if not isinstance(r, Exception)]
        assert len(winners) == 1, results
        assert len(errors) == 1, results
        assert isinstance(errors[0], NotInPool), results


def test_the_holding_limit_holds_under_concurrent_claims(
    make_crm: Callable[[], Crm], actor
) -> None:
    admin_crm = make_crm()
    team = make_team(admin_crm, actor)
    set_pool_policy(admin_crm, actor, holding_limit=2)
    pooled = [register_customer(admin_crm, actor, name=f"客户{i}", owner_id=None) for i in range(6)]
    crms = [make_crm() for _ in pooled]
    results = _race(
        [
            (lambda c=c, p=p: claim_customer(c, team.li, p.id))
            for c, p in zip(crms, pooled, strict=True)
        ]
    )
    refused = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(r, HoldingLimitReached) for r in refused), results
    held = list_customers(admin_crm, team.li)
    assert len(held) == 2
    assert len(refused) == 4


def test_two_parent_links_written_at_once_never_close_a_loop(
    make_crm: Callable[[], Crm], actor
) -> None:
    from crmkit.customers import HierarchyCycle, relate_customers
    from crmkit.kernel.errors import ConcurrencyConflict

    admin_crm = make_crm()
    for round_ in range(3):
        a, b, c, d = (
            register_customer(admin_crm, actor, name=f"集团{round_}{n}") for n in "甲乙丙丁"
        )
        # a -> b and c -> d exist; linking b -> c and d -> a at once would close a loop
        # although each link alone passes the cycle check against the committed hierarchy.
        relate_customers(admin_crm, actor, a.id, b.id, "parent")
        relate_customers(admin_crm, actor, c.id, d.id, "parent")
        crms = [make_crm(), make_crm()]
        results = _race(
            [
                lambda x=crms[0], p=b.id, q=c.id: relate_customers(x, actor, p, q, "parent"),
                lambda x=crms[1], p=d.id, q=a.id: relate_customers(x, actor, p, q, "parent"),
            ]
        )
        winners = [r for r in results if not isinstance(r, Exception)]
        assert len(winners) == 1, results
        loser = next(r for r in results if isinstance(r, Exception))
        assert isinstance(loser, HierarchyCycle | ConcurrencyConflict), results
