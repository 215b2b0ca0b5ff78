"""Concurrency and failure behaviour proven on real servers with real connections.

PostgreSQL and MariaDB report the same faults differently (SQLSTATEs against numbered
InnoDB errors), and crmkit must treat them alike: the same scenarios run on both here.
What only one server has (forced serialization failures, lock-wait timeouts, duplicate
keys) is in test_postgresql_faults.py and test_mariadb_faults.py.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator

import attrs
import pytest
import sqlalchemy as sa

from crmkit import ConcurrencyConflict, Crm
from crmkit.customers import Customer, register_customer
from crmkit.kernel.errors import ConnectionLost
from crmkit.kernel.ids import TenantId
from crmkit.ports import UnitOfWork

pytestmark = pytest.mark.parametrize("backend", ["postgresql", "mariadb"], indirect=True)


@attrs.frozen
class Server:
    """How to ask one server who a connection is, to kill it, and who waits on a lock."""

    connection_id: str
    kill: str  # formatted with the connection id
    lock_waiters: str


SERVERS = {
    "postgresql": Server(
        connection_id="SELECT pg_backend_pid()",
        kill="SELECT pg_terminate_backend({pid})",
        lock_waiters=(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        ),
    ),
    "mysql": Server(
        connection_id="SELECT CONNECTION_ID()",
        kill="KILL {pid}",
        # INNODB_TRX does not always list the waiter as LOCK WAIT (after a signalled 1213
        # on a pooled connection it did not): an UPDATE another connection of this
        # database is running is enough, since the first writer is idle holding its lock.
        lock_waiters=(
            "SELECT count(*) FROM information_schema.PROCESSLIST "
            "WHERE DB = DATABASE() AND ID <> CONNECTION_ID() AND COMMAND = 'Query' "
            "AND INFO LIKE 'UPDATE %'"
        ),
    ),
}


def _engine(crm: Crm) -> sa.Engine:
    return crm.storage.engine  # type: ignore[attr-defined,no-any-return]


def _server(engine: sa.Engine) -> Server:
    return SERVERS[engine.dialect.name]


@pytest.fixture(autouse=True)
def fresh_pool_afterwards(make_crm: Callable[[], Crm]) -> Iterator[None]:
    # These tests kill pooled connections of the session's shared engine. A dead one left
    # in the pool would fail the next test that takes a connection straight from the
    # engine (migrations, raw Core), which has no unit of work to replace it.
    yield
    _engine(make_crm()).dispose()


def _kill(engine: sa.Engine, pid: int) -> None:
    admin = sa.create_engine(engine.url, poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(_server(engine).kill.format(pid=int(pid))))
            conn.commit()
    finally:
        admin.dispose()


def _wait_for_lock_waiter(engine: sa.Engine, timeout: float = 30.0) -> None:
    """Block until some transaction of this database waits on a row lock."""
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            if conn.execute(sa.text(_server(engine).lock_waiters)).scalar_one():
                return
            conn.rollback()
            time.sleep(0.02)
    raise AssertionError("the second writer never blocked on the row lock")


def test_concurrent_saves_on_two_connections_conflict(
    make_crm: Callable[[], Crm], actor, tenant: TenantId
) -> None:
    crm_a, crm_b = make_crm(), make_crm()
    created = register_customer(crm_a, actor, name="Contended")
    outcome: dict[str, object] = {}

    def second_writer() -> None:
        try:
            with crm_b.unit_of_work(tenant) as uow:
                theirs = uow.repository(Customer).get(created.id)
                theirs.change(crm_b.now(), level="C")
                uow.repository(Customer).save(theirs)  # blocks on the first writer's row lock
                uow.commit()
                outcome["b"] = "saved"
        except ConcurrencyConflict as conflict:
            outcome["b"] = conflict

    with crm_a.unit_of_work(tenant) as first:
        mine = first.repository(Customer).get(created.id)
        mine.change(crm_a.now(), level="A")
        first.repository(Customer).save(mine)
        thread = threading.Thread(target=second_writer)
        thread.start()
        _wait_for_lock_waiter(_engine(crm_a))
        first.commit()
    thread.join(timeout=30)

    assert isinstance(outcome["b"], ConcurrencyConflict)
    final = crm_a.run(tenant, lambda uow: uow.repository(Customer).get(created.id))
    assert (final.level, final.version) == ("A", 2)


def test_a_deadlock_is_retried_whole_and_both_use_cases_finish(
    make_crm: Callable[[], Crm], actor, tenant: TenantId
) -> None:
    crm_a, crm_b = make_crm(), make_crm()
    x = register_customer(crm_a, actor, name="X")
    y = register_customer(crm_a, actor, name="Y")
    barrier = threading.Barrier(2, timeout=20)
    attempts = {"a": 0, "b": 0}
    errors: list[BaseException] = []

    def touch(uow: UnitOfWork, customer_id: uuid.UUID, level: str) -> None:
        repo = uow.repository(Customer)
        customer = repo.get(customer_id)
        customer.change(crm_a.now(), level=level, tags=(*customer.tags, level))
        repo.save(customer)

    def use_case(name: str, crm: Crm, first: uuid.UUID, second: uuid.UUID) -> None:
        def work(uow: UnitOfWork) -> None:
            attempts[name] += 1
            touch(uow, first, name)
            if attempts[name] == 1:
                barrier.wait()  # both hold their first row lock: the next step deadlocks
            touch(uow, second, name)

        try:
            crm.run(tenant, work)
        except BaseException as error:  # surfaced to the main thread below
            errors.append(error)

    threads = [
        threading.Thread(target=use_case, args=("a", crm_a, x.id, y.id)),
        threading.Thread(target=use_case, args=("b", crm_b, y.id, x.id)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(attempts.values()) == [1, 2]  # exactly one victim, retried once
    both = crm_a.run(tenant, lambda uow: uow.repository(Customer).get_many([x.id, y.id]))
    assert [c.version for c in both] == [3, 3]
    assert all(sorted(c.tags) == ["a", "b"] for c in both)


def test_a_killed_connection_leaves_nothing_and_says_so(
    make_crm: Callable[[], Crm], tenant: TenantId
) -> None:
    crm = make_crm()
    engine = _engine(crm)
    customer = Customer(
        id=crm.new_id(), tenant_id=tenant, name="Half Written", created_at=crm.now()
    )

    def work(uow: UnitOfWork) -> None:
        uow.repository(Customer).add(customer)
        pid = uow.execute(sa.text(_server(engine).connection_id)).scalar_one()  # type: ignore[attr-defined]
        _kill(engine, pid)
        uow.repository(Customer).add(
            Customer(id=crm.new_id(), tenant_id=tenant, name="After the kill", created_at=crm.now())
        )

    with pytest.raises(ConnectionLost) as raised:
        crm.run(tenant, work)
    assert "nothing was saved" in raised.value.message("en").lower()
    assert crm.run(tenant, lambda uow: uow.repository(Customer).count()) == 0


def test_a_pooled_connection_the_server_closed_is_replaced_on_first_use(
    make_crm: Callable[[], Crm], tenant: TenantId
) -> None:
    # No pool pre-ping: the first statement of a unit of work finds the dead
    # connection, and the unit of work opens another and sends it again.
    crm = make_crm()
    engine = _engine(crm)
    assert not engine.pool._pre_ping  # type: ignore[attr-defined]
    customer = Customer(id=crm.new_id(), tenant_id=tenant, name="After", created_at=crm.now())
    ask = sa.text(_server(engine).connection_id)

    def kill_pooled() -> None:
        _kill(engine, crm.read(tenant, lambda uow: uow.execute(ask).scalar_one()))  # type: ignore[attr-defined]

    kill_pooled()
    crm.run(tenant, lambda uow: uow.repository(Customer).add(customer))
    kill_pooled()
    assert crm.read(tenant, lambda uow: uow.repository(Customer).get(customer.id)).name == "After"
