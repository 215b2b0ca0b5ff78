"""Concurrency and failure behaviour proven on a real MariaDB with real connections.

The MySQL counterpart of test_postgresql_faults.py: InnoDB reports numbered errors
(1213 deadlock, 1205 lock-wait timeout, 1927/2013 killed connections) where
PostgreSQL reports SQLSTATEs, and crmkit must treat them alike.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from crmkit import ConcurrencyConflict, Crm, connect
from crmkit.adapters.sql.engine import create_engine
from crmkit.customers import Customer, register_customer
from crmkit.kernel.errors import ConnectionLost, SerializationFailure, TransientStorageError
from crmkit.kernel.ids import TenantId
from crmkit.ports import UnitOfWork

pytestmark = pytest.mark.parametrize("backend", ["mariadb"], indirect=True)


def _wait_for_lock_waiter(engine: sa.Engine, timeout: float = 30.0) -> None:
    """Block until some transaction of this database waits on a row lock."""
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                sa.text(
                    "SELECT count(*) FROM information_schema.INNODB_TRX t "
                    "JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id "
                    "WHERE t.trx_state = 'LOCK WAIT' AND p.DB = DATABASE()"
                )
            ).scalar_one()
            if waiting:
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
        _wait_for_lock_waiter(crm_a.storage.engine)  # type: ignore[attr-defined]
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
    assert sorted(attempts.values()) == [1, 2]  # exactly one victim (1213), retried once
    both = crm_a.run(tenant, lambda uow: uow.repository(Customer).get_many([x.id, y.id]))
    assert [c.version for c in both] == [3, 3]
    assert all(sorted(c.tags) == ["a", "b"] for c in both)


def test_a_lock_wait_timeout_is_retried_whole(
    make_crm: Callable[[], Crm], actor, tenant: TenantId, mysql_engine: sa.Engine
) -> None:
    crm_a = make_crm()
    # The waiter's short lock timeout is a session setting: its connections are its own,
    # so no pooled connection of the shared engine keeps it for later tests.
    own = create_engine(mysql_engine.url.render_as_string(hide_password=False))
    crm_b = connect(own, migrate=False)
    crm_b.sleep = lambda _: None
    created = register_customer(crm_a, actor, name="Held")
    attempts: list[str] = []
    held = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with crm_a.unit_of_work(tenant) as uow:
            mine = uow.repository(Customer).get(created.id)
            mine.change(crm_a.now(), level="A")
            uow.repository(Customer).save(mine)
            held.set()
            release.wait(timeout=30)
            uow.commit()

    def waiter(uow: UnitOfWork) -> None:
        attempts.append("try")
        if len(attempts) == 2:
            release.set()  # the first attempt timed out: let the holder finish
            time.sleep(0.2)
        uow.execute(sa.text("SET SESSION innodb_lock_wait_timeout = 1"))  # type: ignore[attr-defined]
        repo = uow.repository(Customer)
        theirs = repo.get(created.id)  # READ COMMITTED: the committed row, no lock
        theirs.change(crm_b.now(), region="华东")
        repo.save(theirs)

    thread = threading.Thread(target=holder)
    thread.start()
    assert held.wait(timeout=10)
    try:
        crm_b.run(tenant, waiter)
    finally:
        release.set()
        thread.join(timeout=30)
        own.dispose()

    assert len(attempts) >= 2  # the first attempt waited 1 s (1205) and ran again
    final = crm_a.run(tenant, lambda uow: uow.repository(Customer).get(created.id))
    assert (final.level, final.region, final.version) == ("A", "华东", 3)


# What the server sends for each: a deadlock comes with SQLSTATE 40001 (which PyMySQL
# passes on), a lock-wait timeout only with the generic HY000 and its number.
@pytest.mark.parametrize(("errno", "sqlstate"), [(1213, "40001"), (1205, "HY000")])
def test_retries_are_bounded(
    make_crm: Callable[[], Crm], tenant: TenantId, errno: int, sqlstate: str
) -> None:
    crm = make_crm()
    crm.max_attempts = 3
    crm.sleep = lambda _: None
    calls = []

    def always_aborted(uow: UnitOfWork) -> None:
        calls.append(1)
        uow.execute(sa.text("SELECT 1"))  # type: ignore[attr-defined]
        # Ask the server itself to fail as a deadlock or lock-wait timeout would.
        uow.execute(  # type: ignore[attr-defined]
            sa.text(
                f"SIGNAL SQLSTATE '{sqlstate}' SET MYSQL_ERRNO = {errno}, MESSAGE_TEXT = 'forced'"
            )
        )

    with pytest.raises(TransientStorageError) as raised:
        crm.run(tenant, always_aborted)
    assert len(calls) == 3
    assert raised.value.attempts == 3
    assert isinstance(raised.value.__cause__, SerializationFailure)


def test_a_duplicate_key_is_the_same_error_as_on_the_other_backends(
    crm: Crm, tenant: TenantId
) -> None:
    first = Customer(id=crm.new_id(), tenant_id=tenant, name="First", created_at=crm.now())
    again = Customer(id=first.id, tenant_id=tenant, name="Again", created_at=crm.now())
    crm.run(tenant, lambda uow: uow.repository(Customer).add(first))
    with pytest.raises(ConcurrencyConflict):  # 1062, as a unique violation elsewhere
        crm.run(tenant, lambda uow: uow.repository(Customer).add(again))
    stored = crm.run(tenant, lambda uow: uow.repository(Customer).get(first.id))
    assert (stored.name, again.version) == ("First", 0)


def test_a_killed_connection_leaves_nothing_and_says_so(
    make_crm: Callable[[], Crm], tenant: TenantId
) -> None:
    crm = make_crm()
    engine: sa.Engine = crm.storage.engine  # type: ignore[attr-defined]
    customer = Customer(
        id=crm.new_id(), tenant_id=tenant, name="Half Written", created_at=crm.now()
    )

    def work(uow: UnitOfWork) -> None:
        uow.repository(Customer).add(customer)
        pid = uow.execute(sa.text("SELECT CONNECTION_ID()")).scalar_one()  # type: ignore[attr-defined]
        with engine.connect() as admin:
            admin.execute(sa.text(f"KILL {int(pid)}"))
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
    crm = make_crm()
    engine: sa.Engine = crm.storage.engine  # type: ignore[attr-defined]
    assert not engine.pool._pre_ping  # type: ignore[attr-defined]
    customer = Customer(id=crm.new_id(), tenant_id=tenant, name="After", created_at=crm.now())

    def kill_pooled() -> None:
        pid = crm.read(
            tenant, lambda uow: uow.execute(sa.text("SELECT CONNECTION_ID()")).scalar_one()
        )  # type: ignore[attr-defined]
        admin = sa.create_engine(engine.url, poolclass=sa.pool.NullPool)
        with admin.connect() as conn:
            conn.execute(sa.text(f"KILL {int(pid)}"))
        admin.dispose()

    kill_pooled()
    crm.run(tenant, lambda uow: uow.repository(Customer).add(customer))
    kill_pooled()
    assert crm.read(tenant, lambda uow: uow.repository(Customer).get(customer.id)).name == "After"
