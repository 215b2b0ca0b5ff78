"""Shared fixtures: one ``crm`` per backend (memory, SQLite, PostgreSQL, MariaDB).

PostgreSQL: ``CRMKIT_PG_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``).
Each test run creates its own schema and drops it at the end, so concurrent runs
never see each other's data; each test also gets a fresh tenant. Without a
reachable server the PostgreSQL tests skip with a note — except under ``CI=true``,
where they fail.

MySQL / MariaDB: ``CRMKIT_MYSQL_URL`` (default ``mysql+pymysql://root@127.0.0.1:3306/test``),
the same way: each run creates its own database ``crmkit_test_<pid>_<random>`` on that
server and drops it at the end; skipped with a note when unreachable, failed under CI.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings as hypothesis_settings

from crmkit import Crm, connect
from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import FixedClock
from crmkit.kernel.ids import RandomIdGenerator, TenantId, UserId

PG_URL = os.environ.get("CRMKIT_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("CRMKIT_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")

# CI explores the same examples on every run, so a landing never depends on the luck of a
# random draw; locally hypothesis keeps exploring new ones (and remembers failures).
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    hypothesis_settings.load_profile("ci")
BACKENDS = ("memory", "sqlite", "postgresql", "mariadb")
# The fixture giving each SQL backend's engine.
ENGINE_FIXTURES = {"sqlite": "sqlite_engine", "postgresql": "pg_engine", "mariadb": "mysql_engine"}

_IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _pg_unavailable(reason: str) -> None:
    message = (
        f"PostgreSQL not reachable ({reason}); start it or set CRMKIT_PG_URL "
        "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run these tests"
    )
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_engine() -> Iterator[sa.Engine]:
    """An engine whose connections live in a schema private to this test run."""
    from crmkit.adapters.sql.engine import create_engine
    from crmkit.adapters.sql.migrate import upgrade

    schema = f"crmkit_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except Exception as error:  # any failure to reach the server
        _pg_unavailable(str(error).splitlines()[0])
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def _mysql_unavailable(reason: str) -> None:
    message = (
        f"MySQL/MariaDB not reachable ({reason}); start it (e.g. start-stop-daemon --start "
        "--oknodo --background --exec /usr/sbin/mariadbd) or set CRMKIT_MYSQL_URL "
        "(e.g. mysql+pymysql://root@127.0.0.1:3306/test) to run these tests"
    )
    if _IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def mysql_engine() -> Iterator[sa.Engine]:
    """An engine on a MySQL/MariaDB database private to this test run."""
    from crmkit.adapters.sql.engine import create_engine
    from crmkit.adapters.sql.migrate import upgrade

    database = f"crmkit_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    url = sa.engine.make_url(MYSQL_URL)
    try:
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE `{database}`")
    except Exception as error:  # any failure to reach the server
        _mysql_unavailable(str(error).splitlines()[0])
    engine = create_engine(url.set(database=database).render_as_string(hide_password=False))
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE `{database}`")
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    from crmkit.adapters.sql.engine import create_engine
    from crmkit.adapters.sql.migrate import upgrade

    path = Path(tmp_path_factory.mktemp("sqlite")) / "crmkit.db"
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock("2026-03-02T09:00:00Z")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_crm(backend: str, request: pytest.FixtureRequest, clock: FixedClock) -> Callable[[], Crm]:
    """Build ``Crm`` handles on the parametrised backend (all sharing one storage)."""
    if backend == "memory":
        from crmkit.adapters.memory import MemoryStorage

        storage = MemoryStorage()

        def make_memory() -> Crm:
            return Crm(storage, clock=clock, ids=RandomIdGenerator(), sleep=lambda _: None)

        return make_memory
    engine = request.getfixturevalue(ENGINE_FIXTURES[backend])

    def make_sql() -> Crm:
        return connect(engine, clock=clock, ids=RandomIdGenerator(), migrate=False)

    return make_sql


@pytest.fixture
def crm(make_crm: Callable[[], Crm]) -> Crm:
    return make_crm()


@pytest.fixture
def tenant() -> TenantId:
    """A fresh tenant per test: tests never see each other's rows."""
    return TenantId(uuid.uuid4())


@pytest.fixture
def actor(tenant: TenantId, request: pytest.FixtureRequest) -> Actor:
    """A user of the test's tenant; with a storage in play, its tenant administrator.

    Tenants deny everything until configured, so tests that use the services get an
    actor who may do everything in their own tenant (permission tests build narrower
    actors themselves).
    """
    me = Actor(tenant_id=tenant, user_id=UserId(uuid.uuid4()), name="Zhang Wei")
    if "crm" in request.fixturenames or "make_crm" in request.fixturenames:
        from crmkit.rules.permissions import bootstrap_tenant

        crm = (
            request.getfixturevalue("crm")
            if "crm" in request.fixturenames
            else (request.getfixturevalue("make_crm")())
        )
        bootstrap_tenant(crm, tenant, me.user_id, me.name)
    return me
