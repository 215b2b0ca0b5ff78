"""The storage contract: the same tests, unchanged, on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmkit import ConcurrencyConflict, Crm, NotFound
from crmkit.customers import Customer, CustomerKind, CustomerRegistered, register_customer
from crmkit.kernel.errors import StorageError, TenantMismatch
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Order, Query
from crmkit.ports import UnitOfWork
from tests.adapters.specimen import Colour, Specimen, Tag, ensure_table, fields_of
from tests.sent_statements import sent_statements


@pytest.fixture
def specimens(crm: Crm) -> Crm:
    engine = getattr(crm.storage, "engine", None)
    if engine is not None:
        ensure_table(engine)
    return crm


def full_specimen(tenant: TenantId) -> Specimen:
    return Specimen(
        id=uuid.uuid4(),
        tenant_id=tenant,
        text="北京华为科技有限公司 — Ünïcode",
        number=-(2**53),
        flag=False,
        ratio=Decimal("-1234567.123456"),
        price=Money("9123456789.12", "CNY"),
        day=dt.date(2024, 2, 29),
        instant=pendulum.datetime(2026, 3, 2, 9, 30, 15, 123000, tz="Asia/Shanghai"),
        colour=Colour.GREEN,
        ref=uuid.uuid4(),
        tags=("vip", "华东"),
        nested=(Tag("a", 1), Tag("b", 2)),
        extra={"wechat": "zhangwei88"},
    )


def test_every_field_type_round_trips(specimens: Crm, tenant: TenantId) -> None:
    original = full_specimen(tenant)

    def add(uow: UnitOfWork) -> None:
        uow.repository(Specimen).add(original)

    specimens.run(tenant, add)
    loaded = specimens.run(tenant, lambda uow: uow.repository(Specimen).get(original.id))
    assert fields_of(loaded) == fields_of(original)
    if specimens.storage.dialect != "memory":
        assert loaded.instant is not None
        assert loaded.instant.utcoffset() == dt.timedelta(0)
    assert str(loaded.price.amount if loaded.price else "") == "9123456789.12"


def test_empty_optional_fields_round_trip(specimens: Crm, tenant: TenantId) -> None:
    original = Specimen(id=uuid.uuid4(), tenant_id=tenant)
    specimens.run(tenant, lambda uow: uow.repository(Specimen).add(original))
    loaded = specimens.run(tenant, lambda uow: uow.repository(Specimen).get(original.id))
    assert fields_of(loaded) == fields_of(original)


def test_money_keeps_every_minor_unit(specimens: Crm, tenant: TenantId) -> None:
    amounts = [
        Money("0.01", "CNY"),
        Money("1234567890123.45", "CNY"),
        Money("7", "JPY"),
        Money("1.005", "KWD"),
        Money("-0.10", "USD"),
    ]
    rows = [Specimen(id=uuid.uuid4(), tenant_id=tenant, price=m) for m in amounts]
    specimens.run(tenant, lambda uow: uow.repository(Specimen).add_many(rows))
    loaded = specimens.run(
        tenant, lambda uow: uow.repository(Specimen).get_many(r.id for r in rows)
    )
    assert [s.price for s in loaded] == amounts
    assert [str(s.price.amount) for s in loaded if s.price] == [
        "0.01",
        "1234567890123.45",
        "7",
        "1.005",
        "-0.10",
    ]


def test_a_tenant_never_reads_another_tenants_rows(crm: Crm, actor, tenant: TenantId) -> None:
    mine = register_customer(crm, actor, name="上海浦东发展")
    other = TenantId(uuid.uuid4())

    def peek(uow: UnitOfWork) -> tuple[Customer | None, list[Customer], int]:
        repo = uow.repository(Customer)
        return repo.find(mine.id), repo.query(), repo.count()

    assert crm.run(other, peek) == (None, [], 0)
    with pytest.raises(NotFound):
        crm.run(other, lambda uow: uow.repository(Customer).get(mine.id))


def test_a_tenant_cannot_write_another_tenants_rows(crm: Crm, actor, tenant: TenantId) -> None:
    mine = register_customer(crm, actor, name="Acme Trading")
    other = TenantId(uuid.uuid4())

    def overwrite(uow: UnitOfWork) -> None:
        uow.repository(Customer).save(mine)

    with pytest.raises(TenantMismatch):
        crm.run(other, overwrite)

    forged = Customer(
        id=mine.id, tenant_id=other, name="Forged", created_at=crm.now(), version=mine.version
    )
    with pytest.raises(ConcurrencyConflict):
        crm.run(other, lambda uow: uow.repository(Customer).save(forged))
    with pytest.raises(TenantMismatch):
        crm.run(other, lambda uow: uow.repository(Customer).delete(mine))
    reloaded = crm.run(tenant, lambda uow: uow.repository(Customer).get(mine.id))
    assert reloaded.name == "Acme Trading"


def test_an_exception_rolls_back_everything(crm: Crm, tenant: TenantId) -> None:
    customer = Customer(id=uuid.uuid4(), tenant_id=tenant, name="Rolled Back", created_at=crm.now())

    def fail(uow: UnitOfWork) -> None:
        uow.repository(Customer).add(customer)
        uow.outbox.add(
            CustomerRegistered(
                tenant_id=tenant,
                aggregate_id=customer.id,
                occurred_at=crm.now(),
                name=customer.name,
            )
        )
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        crm.run(tenant, fail)

    def look(uow: UnitOfWork) -> tuple[int, int]:
        return uow.repository(Customer).count(), len(uow.outbox.pending())

    assert crm.run(tenant, look) == (0, 0)


def test_leaving_without_commit_rolls_back(crm: Crm, tenant: TenantId) -> None:
    customer = Customer(id=uuid.uuid4(), tenant_id=tenant, name="Uncommitted", created_at=crm.now())
    with crm.unit_of_work(tenant) as uow:
        uow.repository(Customer).add(customer)
    assert crm.run(tenant, lambda uow: uow.repository(Customer).find(customer.id)) is None


def test_a_read_only_unit_of_work_reads_but_refuses_every_write(
    make_crm, actor, tenant: TenantId
) -> None:
    crm = make_crm()
    created = register_customer(crm, actor, name="Read Only")
    assert crm.read(tenant, lambda uow: uow.repository(Customer).get(created.id)).name == (
        "Read Only"
    )
    other = Customer(id=uuid.uuid4(), tenant_id=tenant, name="Never", created_at=crm.now())
    writes = [
        lambda uow: uow.repository(Customer).add(other),
        lambda uow: uow.repository(Customer).save(uow.repository(Customer).get(created.id)),
        lambda uow: uow.repository(Customer).delete(uow.repository(Customer).get(created.id)),
        lambda uow: uow.outbox.add(
            CustomerRegistered(
                tenant_id=tenant, aggregate_id=other.id, occurred_at=crm.now(), name="Never"
            )
        ),
    ]
    for write in writes:
        with pytest.raises(StorageError, match="read-only"):
            crm.read(tenant, write)
    assert crm.run(tenant, lambda uow: uow.repository(Customer).count()) == 1
    # A reader does not wait for a writer's transaction (SQLite's write lock included):
    # it reads what was committed before.
    writer = make_crm()
    with writer.unit_of_work(tenant) as uow:
        uow.repository(Customer).add(other)
        uow.repository(Customer).count()  # the write transaction is open now
        assert crm.read(tenant, lambda r: r.repository(Customer).find(other.id)) is None
        uow.commit()
    assert crm.read(tenant, lambda r: r.repository(Customer).find(other.id)) is not None


def test_stale_save_raises_concurrency_conflict(make_crm, actor, tenant: TenantId) -> None:
    crm_a, crm_b = make_crm(), make_crm()
    created = register_customer(crm_a, actor, name="Shared Customer")
    # Two clerks open the same customer, each in their own request.
    mine = crm_a.run(tenant, lambda uow: uow.repository(Customer).get(created.id))
    theirs = crm_b.run(tenant, lambda uow: uow.repository(Customer).get(created.id))
    mine.change(crm_a.now(), level="A")
    crm_a.run(tenant, lambda uow: uow.repository(Customer).save(mine))
    theirs.change(crm_b.now(), level="C")
    with pytest.raises(ConcurrencyConflict) as raised:
        crm_b.run(tenant, lambda uow: uow.repository(Customer).save(theirs))
    assert (raised.value.entity, raised.value.id, raised.value.version) == (
        "customer",
        created.id,
        1,
    )
    final = crm_a.run(tenant, lambda uow: uow.repository(Customer).get(created.id))
    assert (final.level, final.version) == ("A", 2)


def test_delete_checks_the_version(crm: Crm, actor, tenant: TenantId) -> None:
    created = register_customer(crm, actor, name="To Delete")
    stale = crm.run(tenant, lambda uow: uow.repository(Customer).get(created.id))

    def bump(uow: UnitOfWork) -> None:
        fresh = uow.repository(Customer).get(created.id)
        fresh.change(crm.now(), level="B")
        uow.repository(Customer).save(fresh)

    crm.run(tenant, bump)
    with pytest.raises(ConcurrencyConflict):
        crm.run(tenant, lambda uow: uow.repository(Customer).delete(stale))
    current = crm.run(tenant, lambda uow: uow.repository(Customer).get(created.id))
    crm.run(tenant, lambda uow: uow.repository(Customer).delete(current))
    assert crm.run(tenant, lambda uow: uow.repository(Customer).find(created.id)) is None


def _three_customers(crm: Crm, actor: Any) -> list[Customer]:
    return [register_customer(crm, actor, name=f"Batch {n}") for n in range(3)]


def test_save_many_writes_every_row_and_bumps_every_version(
    crm: Crm, actor: Any, tenant: TenantId
) -> None:
    created = _three_customers(crm, actor)
    loaded = crm.run(tenant, lambda uow: [uow.repository(Customer).get(c.id) for c in created])
    for n, customer in enumerate(loaded):
        customer.change(crm.now(), level="ABC"[n])
    crm.run(tenant, lambda uow: uow.repository(Customer).save_many(loaded))
    assert [c.version for c in loaded] == [2, 2, 2]
    stored = crm.run(tenant, lambda uow: [uow.repository(Customer).get(c.id) for c in created])
    assert [(c.level, c.version) for c in stored] == [("A", 2), ("B", 2), ("C", 2)]
    crm.run(tenant, lambda uow: uow.repository(Customer).save_many([]))


@pytest.mark.parametrize("stale_at", [0, 1, 2])
@pytest.mark.parametrize("how", ["changed", "deleted"])
def test_save_many_refuses_the_whole_batch_when_one_row_is_stale(
    crm: Crm, actor: Any, tenant: TenantId, stale_at: int, how: str
) -> None:
    # The SQL adapter writes the batch in one executemany and counts the rows it matched:
    # one stale row, wherever it sits, must fail the batch and name that row.
    created = _three_customers(crm, actor)
    loaded = crm.run(tenant, lambda uow: [uow.repository(Customer).get(c.id) for c in created])
    victim = loaded[stale_at]

    def meanwhile(uow: UnitOfWork) -> None:
        fresh = uow.repository(Customer).get(victim.id)
        if how == "deleted":
            uow.repository(Customer).delete(fresh)
        else:
            fresh.change(crm.now(), level="C")
            uow.repository(Customer).save(fresh)

    crm.run(tenant, meanwhile)
    for customer in loaded:
        customer.change(crm.now(), level="A")
    with pytest.raises(ConcurrencyConflict) as raised:
        crm.run(tenant, lambda uow: uow.repository(Customer).save_many(loaded))
    assert (raised.value.entity, raised.value.id, raised.value.version) == (
        "customer",
        victim.id,
        1,
    )
    stored = crm.run(tenant, lambda uow: uow.repository(Customer).query())
    assert all(c.level != "A" for c in stored)  # nothing of the batch was kept


def test_adding_an_existing_id_conflicts(crm: Crm, actor, tenant: TenantId) -> None:
    created = register_customer(crm, actor, name="Twice")
    copy = Customer(id=created.id, tenant_id=tenant, name="Twice again", created_at=crm.now())
    with pytest.raises(ConcurrencyConflict):
        crm.run(tenant, lambda uow: uow.repository(Customer).add(copy))


def test_outbox_is_written_with_the_change(crm: Crm, actor, tenant: TenantId) -> None:
    created = register_customer(crm, actor, name="深圳腾达")
    events = crm.run(tenant, lambda uow: uow.outbox.pending())
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, CustomerRegistered)
    assert (event.aggregate_id, event.name, event.owner_id) == (
        created.id,
        "深圳腾达",
        actor.user_id,
    )
    assert event.occurred_at == crm.now()


def test_query_filters_orders_and_pages(crm: Crm, tenant: TenantId) -> None:
    owner = UserId(uuid.uuid4())
    names = ["Delta", "alpha", "Charlie", "Bravo", "Echo"]
    rows = [
        Customer(
            id=crm.new_id(),
            tenant_id=tenant,
            name=n,
            created_at=crm.now(),
            owner_id=owner if i % 2 == 0 else None,
            level="AB"[i % 2],
            kind=CustomerKind.INDIVIDUAL if i == 4 else CustomerKind.COMPANY,
        )
        for i, n in enumerate(names)
    ]
    crm.run(tenant, lambda uow: uow.repository(Customer).add_many(rows))

    def q(query: Query) -> list[str]:
        return [c.name for c in crm.run(tenant, lambda uow: uow.repository(Customer).query(query))]

    assert q(Query(order_by=(Order("name"),))) == ["Bravo", "Charlie", "Delta", "Echo", "alpha"]
    assert q(Query(where=F("owner_id").eq(owner), order_by=(Order("name", True),))) == [
        "Echo",
        "Delta",
        "Charlie",
    ]
    assert q(Query(where=~F("owner_id").eq(owner), order_by=(Order("name"),))) == ["Bravo", "alpha"]
    assert q(Query(where=F("kind").eq(CustomerKind.INDIVIDUAL))) == ["Echo"]
    assert q(Query(where=F("name").startswith("Ch"))) == ["Charlie"]
    assert q(Query(where=F("name").startswith("ch"))) == []
    assert q(Query(order_by=(Order("level"), Order("name")), limit=2, offset=1)) == [
        "Delta",
        "Echo",
    ]
    assert q(Query(where=F("owner_id").is_null(), order_by=(Order("level", True),))) == [
        "alpha",
        "Bravo",
    ]
    count = crm.run(tenant, lambda uow: uow.repository(Customer).count(F("level").eq("B")))
    assert count == 2
    bounded = crm.run(
        tenant,
        lambda uow: (
            [uow.repository(Customer).count(limit=n) for n in (0, 3, 99)]
            + [uow.repository(Customer).count(F("level").eq("B"), limit=1)]
        ),
    )
    assert bounded == [0, 3, 5, 1]


def test_query_by_count_reads_few_below_the_limit_and_many_from_it(
    crm: Crm, tenant: TenantId
) -> None:
    # Three "A" customers, two of them owned; the probe counts every "A".
    owner = UserId(uuid.uuid4())
    rows = [
        Customer(
            id=crm.new_id(),
            tenant_id=tenant,
            name=name,
            created_at=crm.now(),
            level=level,
            owner_id=owner if name != "Carol" else None,
        )
        for name, level in [("Alice", "A"), ("Bob", "A"), ("Carol", "A"), ("Dave", "B")]
    ]
    crm.run(tenant, lambda uow: uow.repository(Customer).add_many(rows))
    probe = F("level").eq("A")
    owned = Query(probe & F("owner_id").eq(owner), (Order("name", True),), limit=5)
    everyone = Query(order_by=(Order("name"),), limit=2)

    def names(limit: int, few: Query) -> list[str]:
        return [
            c.name
            for c in crm.read(
                tenant,
                lambda uow: uow.repository(Customer).query_by_count(probe, limit, few, everyone),
            )
        ]

    assert names(4, owned) == ["Bob", "Alice"]  # 3 under 4: few
    assert names(3, owned) == ["Alice", "Bob"]  # 3 reach 3: many
    assert names(1, owned) == ["Alice", "Bob"]
    # Under the limit with nothing on the page: an empty page, not the other query.
    assert names(9, Query(probe & F("level").eq("B"))) == []
    assert (
        crm.read(
            tenant,
            lambda uow: uow.repository(Customer).query_by_count(
                F("level").eq("Z"), 5, Query(F("level").eq("Z")), everyone
            ),
        )
        == []
    )


# Prefixes are matched as code-point ranges: the characters around a range's upper end
# (the last before the surrogates, the first after, the very last) are here too.
_EDGES = ["\ud7ff", "\ud7ffa", "\ue000", "\U0010ffff", "\U0010ffffz"]
_texts = st.sampled_from(["", "a", "ab", "abc", "b", "B", "北京", "北", "x%_", *_EDGES, None])
_numbers = st.one_of(st.none(), st.integers(-3, 3))
_specimen_values = st.fixed_dictionaries(
    {
        "text": _texts,
        "number": _numbers,
        "flag": st.one_of(st.none(), st.booleans()),
        "colour": st.one_of(st.none(), st.sampled_from(Colour)),
        "ratio": st.one_of(
            st.none(), st.sampled_from([Decimal("-1.5"), Decimal(0), Decimal("2.25")])
        ),
    }
)


def _conditions() -> st.SearchStrategy[object]:
    text = st.builds(
        lambda op, v: getattr(F("text"), op)(v),
        st.sampled_from(["eq", "ne", "lt", "ge", "startswith", "contains"]),
        st.sampled_from(["", "a", "ab", "b", "北", "x%_", "\ud7ff", "\U0010ffff"]),
    )
    number = st.builds(
        lambda op, v: getattr(F("number"), op)(v),
        st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge"]),
        st.integers(-3, 3),
    )
    members = st.builds(
        lambda op, vs: getattr(F("number"), op)(vs),
        st.sampled_from(["is_in", "not_in"]),
        st.lists(st.integers(-3, 3), max_size=3),
    )
    nulls = st.builds(
        lambda f, op: getattr(F(f), op)(),
        st.sampled_from(["text", "number", "flag", "colour"]),
        st.sampled_from(["is_null", "not_null"]),
    )
    colour = st.builds(lambda c: F("colour").eq(c), st.sampled_from(Colour))
    flag = st.builds(lambda b: F("flag").eq(b), st.booleans())
    ratio = st.builds(lambda v: F("ratio").gt(v), st.sampled_from([Decimal("-2"), Decimal("0.5")]))
    leaf = st.one_of(text, number, members, nulls, colour, flag, ratio)
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.builds(lambda a, b: a & b, inner, inner),
            st.builds(lambda a, b: a | b, inner, inner),
            st.builds(lambda a: ~a, inner),
        ),
        max_leaves=6,
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"], indirect=True)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(_specimen_values, min_size=1, max_size=12), where=_conditions())
def test_sql_filters_select_exactly_what_the_python_predicate_accepts(
    specimens: Crm, values: list[dict[str, object]], where: object
) -> None:
    from crmkit.kernel.query import to_predicate

    tenant = TenantId(uuid.uuid4())
    rows = [Specimen(id=uuid.uuid4(), tenant_id=tenant, **v) for v in values]  # type: ignore[arg-type]
    specimens.run(tenant, lambda uow: uow.repository(Specimen).add_many(rows))
    selected = specimens.run(
        tenant, lambda uow: {s.id for s in uow.repository(Specimen).query(Query(where=where))}
    )
    accept = to_predicate(where)  # type: ignore[arg-type]
    assert selected == {r.id for r in rows if accept(r)}


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("\ud7ff", {"\ud7ff", "\ud7ffa"}),  # the range ends at U+E000 (past the surrogates)
        ("\U0010ffff", {"\U0010ffff", "\U0010ffffz"}),  # nothing sorts after: a pattern
        ("北", {"北", "北京"}),
        ("", {"\ud7ff", "\ud7ffa", "\ue000", "\U0010ffff", "\U0010ffffz", "北", "北京", "匕"}),
    ],
)
def test_a_prefix_matches_exactly_the_texts_that_start_with_it(
    specimens: Crm, tenant: TenantId, prefix: str, expected: set[str]
) -> None:
    texts = [*_EDGES, "北", "北京", "匕"]
    rows = [Specimen(id=uuid.uuid4(), tenant_id=tenant, text=t) for t in texts]
    specimens.run(tenant, lambda uow: uow.repository(Specimen).add_many(rows))
    found = specimens.run(
        tenant, lambda uow: uow.repository(Specimen).query(Query(F("text").startswith(prefix)))
    )
    assert {s.text for s in found} == expected


def test_add_if_absent_inserts_once(crm: Crm, tenant: TenantId) -> None:
    key = uuid.uuid5(uuid.NAMESPACE_URL, "reminder:rule-1:record-9:2026-03-02")
    first = Customer(id=key, tenant_id=tenant, name="First", created_at=crm.now())
    second = Customer(id=key, tenant_id=tenant, name="Second", created_at=crm.now())
    assert crm.run(tenant, lambda uow: uow.repository(Customer).add_if_absent(first)) is True
    assert crm.run(tenant, lambda uow: uow.repository(Customer).add_if_absent(second)) is False
    stored = crm.run(tenant, lambda uow: uow.repository(Customer).get(key))
    assert (stored.name, stored.version, second.version) == ("First", 1, 0)


def test_a_bulk_add_commits_every_row(crm: Crm, tenant: TenantId) -> None:
    # Large batches take the COPY path on PostgreSQL; they must commit like any other write.
    rows = [
        Customer(
            id=crm.new_id(),
            tenant_id=tenant,
            name=f"客户{i}",
            created_at=crm.now(),
            credit_limit=Money(f"{i}.05", "CNY"),
            tags=("bulk",),
        )
        for i in range(1500)
    ]
    crm.run(tenant, lambda uow: uow.repository(Customer).add_many(rows))
    assert crm.run(tenant, lambda uow: uow.repository(Customer).count()) == 1500
    sample = crm.run(tenant, lambda uow: uow.repository(Customer).get(rows[1234].id))
    assert (sample.name, sample.credit_limit, sample.tags, sample.version) == (
        "客户1234",
        Money("1234.05", "CNY"),
        ("bulk",),
        1,
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"], indirect=True)
def test_kept_statements_read_the_same_directly_and_through_sqlalchemy(
    specimens: Crm, tenant: TenantId
) -> None:
    # Kept statements run on the driver's cursor unless the engine has cursor
    # listeners (or logs SQL): then SQLAlchemy runs them, and the listener sees them.
    engine = specimens.storage.engine  # type: ignore[attr-defined]

    full, empty = full_specimen(tenant), Specimen(id=uuid.uuid4(), tenant_id=tenant)
    specimens.run(tenant, lambda uow: uow.repository(Specimen).add_many([full, empty]))

    def read(uow: UnitOfWork) -> tuple[Any, ...]:
        repo = uow.repository(Specimen)
        return (
            repo.find(full.id),
            repo.query(Query(F("text").startswith("北京"), (Order("number"),), limit=5)),
            repo.count(F("number").lt(0)),
            repo.count(limit=1),
        )

    direct = specimens.read(tenant, read)
    with sent_statements(engine) as seen:
        through = specimens.read(tenant, read)
    found, page, negative, bounded = direct
    assert fields_of(found) == fields_of(through[0]) == fields_of(page[0])
    assert [fields_of(s) for s in through[1]] == [fields_of(s) for s in page]
    assert (found.id, [s.id for s in page], negative, bounded) == (full.id, [full.id], 1, 1)
    assert through[2:] == (negative, bounded)
    assert len([s for s, _ in seen if s.lstrip().upper().startswith("SELECT")]) == 4
