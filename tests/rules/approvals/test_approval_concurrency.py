"""Two approvers deciding the same stage at the same moment, on PostgreSQL with real
connections: the optimistic lock lets only as many votes count as the rule allows."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from crmkit import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import ConcurrencyConflict, CrmError, InvalidTransition
from crmkit.kernel.ids import TenantId
from crmkit.rules.approvals import (
    AlreadyDecided,
    ApprovalRequest,
    ApprovalTask,
    Approvers,
    FlowStage,
    NotAnApprover,
    RequestStatus,
    Rule,
    approve_request,
    define_flow,
    scan_overdue_approvals,
    submit_for_approval,
)
from tests.rules.approvals.builders import HOST_DOCUMENT, make_org

pytestmark = pytest.mark.parametrize("backend", ["postgresql", "mariadb"], indirect=True)


class _Gate:
    """Holds each thread's first save of a request until every thread has loaded it."""

    def __init__(self, parties: int) -> None:
        self.barrier = threading.Barrier(parties, timeout=30)
        self.waited: set[int] = set()

    def wrap(self, crm: Crm) -> Crm:
        gate = self
        storage = crm.storage

        class GatedStorage:
            def __getattr__(self, name: str) -> Any:
                return getattr(storage, name)

            def unit_of_work(self, tenant_id: TenantId, *, read_only: bool = False) -> Any:
                uow = storage.unit_of_work(tenant_id, read_only=read_only)
                original = uow.repository

                def repository(entity_type: type[Any]) -> Any:
                    repo = original(entity_type)
                    if entity_type is ApprovalRequest:
                        save = repo.save

                        def gated_save(entity: Any) -> Any:
                            me = threading.get_ident()
                            if me not in gate.waited:
                                gate.waited.add(me)
                                gate.barrier.wait()
                            return save(entity)

                        repo.save = gated_save
                    return repo

                uow.repository = repository
                return uow

        return Crm(GatedStorage(), clock=crm.clock, ids=crm.ids)  # type: ignore[arg-type]


def _race(calls: list[Callable[[], Any]]) -> list[Any]:
    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(call) for call in calls]
        outcomes = []
        for future in futures:
            try:
                outcomes.append(future.result())
            except CrmError as error:
                outcomes.append(error)
        return outcomes


def _flow_and_request(
    crm: Crm, tenant: TenantId, rule: Rule, quorum: int | None, people: list[Actor]
) -> ApprovalRequest:
    org = make_org(tenant)
    define_flow(
        crm,
        org.manager,
        name="race",
        document_type=HOST_DOCUMENT,
        stages=[
            FlowStage(
                "panel", [Approvers.named(*(p.user_id for p in people))], rule=rule, quorum=quorum
            ),
            FlowStage("after", [Approvers.named(org.director.user_id)]),
        ],
    )
    return submit_for_approval(
        crm, org.rep, document_type=HOST_DOCUMENT, document_id=uuid.uuid4(), title="race"
    )


def test_two_approvers_at_once_under_any_one_approves(
    make_crm: Callable[[], Crm], tenant: TenantId
) -> None:
    people = [make_org(tenant).finance[0], make_org(tenant).finance[1]]
    request = _flow_and_request(make_crm(), tenant, Rule.ANY, None, people)
    gate = _Gate(2)
    outcomes = _race(
        [lambda p=p: approve_request(gate.wrap(make_crm()), p, request.id) for p in people]
    )
    winners = [o for o in outcomes if isinstance(o, ApprovalRequest)]
    losers = [o for o in outcomes if isinstance(o, ConcurrencyConflict)]
    assert (len(winners), len(losers)) == (1, 1)

    # The loser retries and finds the stage already decided.
    loser = people[outcomes.index(losers[0])]
    with pytest.raises(NotAnApprover):
        approve_request(make_crm(), loser, request.id)  # the stage moved on to "after"
    stored = make_crm().run(tenant, lambda uow: uow.repository(ApprovalRequest).get(request.id))
    assert len(stored.stage_decisions(0)) == 1
    assert stored.stage == 1


def test_many_approvers_at_once_never_count_beyond_the_quorum(
    make_crm: Callable[[], Crm], tenant: TenantId
) -> None:
    org = make_org(tenant)
    people = [*org.finance, org.head]
    request = _flow_and_request(make_crm(), tenant, Rule.N_OF_M, 2, people)

    def keep_trying(person: Actor) -> str:
        crm = make_crm()
        while True:
            try:
                approve_request(crm, person, request.id)
                return "counted"
            except ConcurrencyConflict:
                continue
            except (AlreadyDecided, NotAnApprover, InvalidTransition):
                return "too late"

    outcomes = _race([lambda p=p: keep_trying(p) for p in people])
    stored = make_crm().run(tenant, lambda uow: uow.repository(ApprovalRequest).get(request.id))
    approvals = stored.stage_decisions(0)
    assert outcomes.count("counted") == 2 == len(approvals)
    assert len({d.approver_id for d in approvals}) == 2
    assert stored.stage == 1
    assert stored.status is RequestStatus.IN_REVIEW
    tasks = make_crm().run(tenant, lambda uow: uow.repository(ApprovalTask).query())
    assert [t.stage_name for t in tasks] == ["after"]


def test_two_overdue_scans_at_once_remind_once(
    make_crm: Callable[[], Crm], tenant: TenantId
) -> None:
    from crmkit.rules.approvals import Deadline

    org = make_org(tenant)
    crm = make_crm()
    define_flow(
        crm,
        org.manager,
        name="late",
        document_type="expense",
        stages=[FlowStage("m", [Approvers.manager()], remind_after=Deadline.days(1))],
    )
    request = submit_for_approval(
        crm,
        org.rep,
        document_type="expense",
        document_id=uuid.uuid4(),
        title="late",
        directory=org.directory,
    )
    crm.clock.advance(days=2)  # type: ignore[attr-defined]
    gate = _Gate(2)
    results = _race(
        [lambda: scan_overdue_approvals(gate.wrap(make_crm()), tenant) for _ in range(2)]
    )
    assert sorted(len(r.reminded) for r in results) == [0, 1]
    assert sorted(len(r.skipped) for r in results) == [0, 1]
    stored = make_crm().run(tenant, lambda uow: uow.repository(ApprovalRequest).get(request.id))
    assert [e.action.value for e in stored.trail] == ["submit", "remind"]
