"""Filters on custom fields select the same customers in Python, SQLite and PostgreSQL.

The memory adapter runs a filter as a Python predicate over typed values; the SQL
adapter compiles it to JSON extraction with casts. Hypothesis writes customers with
random custom values and asks random nested filters of every supported kind.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmkit import Crm
from crmkit.customers import Customer, CustomValues
from crmkit.kernel.ids import TenantId
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Query, to_predicate

NOW = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)

_texts = ["", "a", "ab", "abc", "b", "B", "北京", "北", "x%_", "gold"]
_numbers = [Decimal(v) for v in ("-1.5", "0", "2.25", "10", "9.99", "123456789012.345", "-0.001")]
_amounts = [Decimal(v) for v in ("0.00", "999.99", "1000.00", "1000.01", "-5.50")]
_dates = [dt.date(2023, 12, 31), dt.date(2024, 1, 1), dt.date(2024, 2, 29), dt.date(1999, 1, 1)]
_options = ("web", "fair", "ad")

_custom = st.fixed_dictionaries(
    {
        "note": st.one_of(st.none(), st.sampled_from(_texts)),
        "tier": st.one_of(st.none(), st.sampled_from(["gold", "silver"])),
        "score": st.one_of(st.none(), st.sampled_from(_numbers)),
        "budget": st.one_of(
            st.none(),
            st.builds(Money, st.sampled_from(_amounts), st.sampled_from(["CNY", "USD"])),
        ),
        "signed_on": st.one_of(st.none(), st.sampled_from(_dates)),
        "channels": st.lists(st.sampled_from(_options), unique=True, max_size=3).map(
            lambda xs: tuple(o for o in _options if o in xs) or None
        ),
    }
)


def _conditions() -> st.SearchStrategy[object]:
    def on(
        field: str, ops: list[str], values: st.SearchStrategy[object]
    ) -> st.SearchStrategy[object]:
        return st.builds(lambda op, v: getattr(F(field), op)(v), st.sampled_from(ops), values)

    comparisons = ["eq", "ne", "lt", "le", "gt", "ge"]
    leaves = st.one_of(
        on(
            "custom.note",
            ["eq", "ne", "lt", "ge", "startswith", "contains"],
            st.sampled_from(_texts),
        ),
        on("custom.tier", ["eq", "ne"], st.sampled_from(["gold", "silver"])),
        on(
            "custom.tier",
            ["is_in", "not_in"],
            st.lists(st.sampled_from(["gold", "silver"]), max_size=2),
        ),
        on("custom.score", comparisons, st.sampled_from([*_numbers, Decimal("9.990")])),
        on("custom.score", ["is_in", "not_in"], st.lists(st.sampled_from(_numbers), max_size=3)),
        on(
            "custom.budget.amount", comparisons, st.sampled_from([Decimal("1000"), Decimal("-5.5")])
        ),
        on("custom.budget.currency", ["eq", "ne"], st.sampled_from(["CNY", "USD"])),
        on("custom.signed_on", comparisons, st.sampled_from(_dates)),
        on("custom.channels", ["contains"], st.sampled_from(_options)),
        st.builds(
            lambda f, op: getattr(F(f), op)(),
            st.sampled_from(["custom.note", "custom.score", "custom.budget", "custom.channels"]),
            st.sampled_from(["is_null", "not_null"]),
        ),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.builds(lambda a, b: a & b, inner, inner),
            st.builds(lambda a, b: a | b, inner, inner),
            st.builds(lambda a: ~a, inner),
        ),
        max_leaves=5,
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"], indirect=True)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(_custom, min_size=1, max_size=10), where=_conditions())
def test_sql_selects_exactly_the_customers_the_python_predicate_accepts(
    crm: Crm, values: list[dict[str, object]], where: object
) -> None:
    tenant = TenantId(uuid.uuid4())
    rows = [
        Customer(
            id=uuid.uuid4(),
            tenant_id=tenant,
            name=f"客户{i}",
            created_at=NOW,
            custom=CustomValues(v),
        )
        for i, v in enumerate(values)
    ]
    crm.run(tenant, lambda uow: uow.repository(Customer).add_many(rows))
    query = Query(where=where)  # type: ignore[arg-type]
    selected = crm.run(tenant, lambda uow: {c.id for c in uow.repository(Customer).query(query)})
    counted = crm.run(tenant, lambda uow: uow.repository(Customer).count(query.where))
    accept = to_predicate(query.where)
    expected = {r.id for r in rows if accept(r)}
    assert selected == expected
    assert counted == len(expected)
    stored = crm.run(tenant, lambda uow: uow.repository(Customer).get_many([r.id for r in rows]))
    assert {c.id: c.custom for c in stored} == {r.id: r.custom for r in rows}
