"""The differential test that keeps crmkit from leaking.

For random org trees, roles, grants, shares, sharing rules and customers, the
records the storage selects with ``scope(actor, op)`` — compiled to SQL on SQLite
and PostgreSQL, run as a predicate in memory — are exactly the records for which
``can(actor, op, record)`` is true, and ``explain`` reaches the same verdict.
"""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmkit import Crm
from crmkit.customers import Customer
from crmkit.kernel.ids import TenantId
from crmkit.kernel.query import Query
from crmkit.rules.permissions import compile_grants
from tests.rules.permissions.strategies import OPERATIONS, World, worlds


def test_scope_selects_exactly_the_records_can_allows(crm: Crm) -> None:
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.data())
    def check(data: st.DataObject) -> None:
        tenant = TenantId(uuid.uuid4())
        world: World = data.draw(worlds(tenant))

        def store(uow):  # type: ignore[no-untyped-def]
            uow.repository(Customer).add_many(list(world.customers))

        crm.run(tenant, store)
        for user in world.users:
            grants = compile_grants(world.policy, user)
            for op in OPERATIONS:
                expected = {c.id for c in world.customers if grants.can(op, c)}
                query = Query(where=grants.scope(op, "customer"))
                selected = crm.run(
                    tenant, lambda uow, q=query: [c.id for c in uow.repository(Customer).query(q)]
                )
                assert set(selected) == expected, (op, user, grants.scope(op, "customer"))
                counted = crm.run(
                    tenant, lambda uow, q=query: uow.repository(Customer).count(q.where)
                )
                assert counted == len(expected)
                for customer in world.customers:
                    assert grants.explain(op, customer).allowed == (customer.id in expected)

    check()
