"""Concurrency and failure behaviour proven on a real MariaDB with real connections.

The MySQL counterpart of test_postgresql_faults.py: InnoDB reports numbered errors
(1213 deadlock, 1205 lock-wait timeout, 1927/2013 killed connections) where
PostgreSQL reports SQLSTATEs, and crmkit must treat them alike.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from crmkit import ConcurrencyConflict, Crm, connect
from crmkit.adapters.sql.engine import create_engine
from crmkit.customers import Customer, register_customer
from crmkit.kernel.errors import SerializationFailure, TransientStorageError
from crmkit.kernel.ids import TenantId
from crmkit.ports import UnitOfWork

pytestmark = pytest.mark.parametrize("backend", ["mariadb"], indirect=True)


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
