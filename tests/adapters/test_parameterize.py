"""Filter shapes and parameters: a memo of the parts seen before changes nothing."""

from __future__ import annotations

import uuid

import pytest

from crmkit.adapters.sql.compile import SHAPE_MEMO_KEPT, ShapeMemo, parameterize
from crmkit.adapters.sql.tables import mapping_for
from crmkit.customers import Customer
from crmkit.customers.queries.search_routes import search_routes
from crmkit.kernel.query import And, F, Or, and_, or_

TEXTS = ["zhangwei", "zhangwen", "beijing", "cqca", "chongqca", "bjhw", "北京", "hw"]


def _filters(text: str, scope) -> list:
    return [And((scope, route.where)) for route in search_routes(text)]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_a_memo_of_filter_parts_gives_the_shapes_and_values_of_a_fresh_walk(dialect) -> None:
    column = mapping_for(Customer).column
    memo: ShapeMemo = {}
    owner = F("owner_id").is_in([uuid.uuid4(), uuid.uuid4()])
    for scope in (F("deleted_at").is_null(), and_(owner, F("deleted_at").is_null()), owner):
        for _ in range(2):  # the second round finds every part in the memo
            for text in TEXTS:
                for where in _filters(text, scope):
                    assert parameterize(where, column, dialect, memo) == parameterize(
                        where, column, dialect
                    )
    assert memo  # parts were kept


def test_filters_of_one_shape_keep_their_own_values_with_a_memo() -> None:
    column = mapping_for(Customer).column
    memo: ShapeMemo = {}
    first = or_(*(and_(F("pinyin_initials").startswith(p), F("name").contains(p)) for p in "ab"))
    second = or_(*(and_(F("pinyin_initials").startswith(p), F("name").contains(p)) for p in "cd"))
    one = parameterize(first, column, "sqlite", memo)
    two = parameterize(second, column, "sqlite", memo)
    assert one is not None
    assert two is not None
    assert one[0] == two[0]  # one statement serves both
    assert one[1] != two[1]
    assert two == parameterize(second, column, "sqlite")
    # An equal filter made anew is walked again and gives the same answer.
    again = or_(*(and_(F("pinyin_initials").startswith(p), F("name").contains(p)) for p in "ab"))
    assert parameterize(again, column, "sqlite", memo) == one


def test_the_memo_is_bounded() -> None:
    column = mapping_for(Customer).column
    memo: ShapeMemo = {}
    for index in range(SHAPE_MEMO_KEPT + 10):
        part = Or((F("name").eq(str(index)), F("level").eq("A")))
        parameterize(And((F("deleted_at").is_null(), part)), column, "sqlite", memo)
    assert 0 < len(memo) <= SHAPE_MEMO_KEPT


def test_kept_statements_for_psycopg_send_dollar_parameters_in_first_use_order() -> None:
    # psycopg would parse %(name)s parameters on every execution (and keep the result
    # only for short statements): a kept statement takes them to $n once.
    import sqlalchemy as sa
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    from crmkit.adapters.sql.direct import Compiled

    table = mapping_for(Customer).table
    tenant = sa.bindparam("tenant", type_=sa.Uuid())
    statement = sa.select(table.c.id, sa.literal_column("'50%'")).where(
        sa.or_(
            sa.and_(table.c.tenant_id == tenant, table.c.name == sa.bindparam("v0")),
            sa.and_(table.c.tenant_id == tenant, table.c.name == sa.bindparam("v1")),
        )
    )
    compiled = Compiled.of(statement, PGDialect_psycopg())
    assert compiled is not None
    assert "%(" not in compiled.sql
    assert "'50%'" in compiled.sql
    assert [compiled.sql.count(f"${n}") for n in (1, 2, 3)] == [2, 1, 1]
    who = uuid.uuid4()
    assert compiled.parameters({"tenant": who, "v0": "a", "v1": "b"}) == (who, "a", "b")
