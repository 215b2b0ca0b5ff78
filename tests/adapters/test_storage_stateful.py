"""Stateful proof of the unit-of-work promises against a plain dict model.

Random interleavings of adds, stale and fresh saves, deletes and failing
transactions: afterwards storage holds exactly what the model says — every
successful write and nothing of a failed one, with versions counting saves and a
stale copy never overwriting a newer one.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import pendulum
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from crmkit import ConcurrencyConflict, Crm, connect
from crmkit.customers import Customer
from crmkit.kernel.ids import TenantId
from crmkit.ports import UnitOfWork

_ENGINES: dict[str, Crm] = {}


def _crm(backend: str) -> Crm:
    if backend not in _ENGINES:
        if backend == "memory":
            _ENGINES[backend] = connect("memory://")
        else:
            folder = Path(tempfile.mkdtemp(prefix="crmkit-stateful-"))
            _ENGINES[backend] = connect(f"sqlite:///{folder / 'state.db'}")
    return _ENGINES[backend]


class Boom(Exception):
    pass


class UnitOfWorkModel(RuleBasedStateMachine):
    backend = "memory"
    copies = Bundle("copies")

    def __init__(self) -> None:
        super().__init__()
        self.crm = _crm(self.backend)
        self.tenant = TenantId(uuid.uuid4())
        self.model: dict[uuid.UUID, tuple[int, str | None]] = {}
        self.now = pendulum.datetime(2026, 3, 2, tz="UTC")

    def _repo_run(self, work):  # type: ignore[no-untyped-def]
        return self.crm.run(self.tenant, work)

    @rule(target=copies, level=st.sampled_from(["A", "B", "C", None]))
    def add(self, level: str | None) -> Customer:
        customer = Customer(
            id=uuid.uuid4(), tenant_id=self.tenant, name="c", created_at=self.now, level=level
        )
        self._repo_run(lambda uow: uow.repository(Customer).add(customer))
        self.model[customer.id] = (1, level)
        return customer

    @rule(target=copies, copy=copies)
    def reload(self, copy: Customer) -> Customer:
        found = self._repo_run(lambda uow: uow.repository(Customer).find(copy.id))
        assert (found is None) == (copy.id not in self.model)
        return found if found is not None else copy

    @rule(copy=copies, level=st.sampled_from(["A", "B", "C"]))
    def save(self, copy: Customer, level: str) -> None:
        copy.level = level
        expected = self.model.get(copy.id)
        stale_version = copy.version
        try:
            self._repo_run(lambda uow: uow.repository(Customer).save(copy))
        except ConcurrencyConflict:
            assert expected is None or expected[0] != stale_version
            copy.version = stale_version
            return
        assert expected is not None
        assert expected[0] == stale_version
        self.model[copy.id] = (stale_version + 1, level)

    @rule(copy=copies)
    def delete(self, copy: Customer) -> None:
        expected = self.model.get(copy.id)
        try:
            self._repo_run(lambda uow: uow.repository(Customer).delete(copy))
        except ConcurrencyConflict:
            assert expected is None or expected[0] != copy.version
            return
        assert expected is not None
        assert expected[0] == copy.version
        del self.model[copy.id]

    @rule(copy=copies, level=st.sampled_from(["A", "B"]))
    def failing_transaction(self, copy: Customer, level: str) -> None:
        extra = Customer(id=uuid.uuid4(), tenant_id=self.tenant, name="ghost", created_at=self.now)

        def work(uow: UnitOfWork) -> None:
            uow.repository(Customer).add(extra)
            fresh = uow.repository(Customer).find(copy.id)
            if fresh is not None:
                fresh.level = level
                uow.repository(Customer).save(fresh)
            raise Boom

        with pytest.raises(Boom):
            self._repo_run(work)

    @invariant()
    def storage_matches_the_model(self) -> None:
        stored = self._repo_run(lambda uow: uow.repository(Customer).query())
        assert {c.id: (c.version, c.level) for c in stored} == self.model


class SqliteUnitOfWorkModel(UnitOfWorkModel):
    backend = "sqlite"


class MariaDbUnitOfWorkModel(UnitOfWorkModel):
    backend = "mariadb"


@pytest.fixture(autouse=True)
def _mariadb_storage(request: pytest.FixtureRequest) -> None:
    # The MariaDB machine runs on the test run's own database (see tests/conftest.py).
    if request.cls is TestMariaDbUnitOfWork and "mariadb" not in _ENGINES:
        engine = request.getfixturevalue("mysql_engine")
        _ENGINES["mariadb"] = connect(engine, migrate=False)


_settings = settings(
    max_examples=50,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestMemoryUnitOfWork = UnitOfWorkModel.TestCase
TestMemoryUnitOfWork.settings = _settings
TestSqliteUnitOfWork = SqliteUnitOfWorkModel.TestCase
TestSqliteUnitOfWork.settings = _settings
TestMariaDbUnitOfWork = MariaDbUnitOfWorkModel.TestCase
TestMariaDbUnitOfWork.settings = _settings
