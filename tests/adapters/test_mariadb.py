"""MySQL/MariaDB specifics: session settings, column types, collation and indexes.

The storage contract (test_storage_contract.py) proves the behaviour on MariaDB like
on every backend; these tests pin down what the MySQL adapter sets up for it.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pendulum
import pytest
import sqlalchemy as sa

from crmkit import Crm, connect
from crmkit.adapters.sql.engine import MYSQL_SQL_MODE, prepare_engine
from crmkit.customers import Customer
from crmkit.kernel.ids import TenantId
from crmkit.kernel.money import Money
from crmkit.kernel.query import F, Order, Query
from tests.adapters.specimen import Specimen, ensure_table
from tests.conftest import MYSQL_URL


def _column(engine: sa.Engine, table: str, column: str) -> dict[str, str]:
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT COLUMN_TYPE, COLLATION_NAME FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :t AND COLUMN_NAME = :c"
            ),
            {"t": table, "c": column},
        ).one()
    return {"type": row[0].lower(), "collation": row[1] or ""}


def test_every_connection_is_utc_strict_utf8mb4_and_read_committed(
    mysql_engine: sa.Engine,
) -> None:
    with mysql_engine.connect() as conn:
        zone, mode, charset, isolation = conn.execute(
            sa.text(
                "SELECT @@session.time_zone, @@session.sql_mode, "
                "@@character_set_connection, @@session.tx_isolation"
            )
        ).one()
    assert zone == "+00:00"
    assert set(mode.split(",")) >= set(MYSQL_SQL_MODE.split(","))
    assert (charset, isolation) == ("utf8mb4", "READ-COMMITTED")


def test_a_host_engine_gets_the_session_settings_too(mysql_engine: sa.Engine) -> None:
    # A host's own engine (pymysql's default charset, the server's time zone) is
    # prepared by crmkit.connect; its isolation level stays the host's choice.
    engine = prepare_engine(sa.create_engine(mysql_engine.url))
    try:
        with engine.connect() as conn:
            zone, mode = conn.execute(sa.text("SELECT @@session.time_zone, @@sql_mode")).one()
        assert zone == "+00:00"
        assert "STRICT_ALL_TABLES" in mode
    finally:
        engine.dispose()


def test_connect_takes_a_mysql_url_and_migrates(mysql_engine: sa.Engine) -> None:
    database = f"crmkit_test_connect_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(mysql_engine.url, poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE `{database}`")
    try:
        url = sa.engine.make_url(MYSQL_URL).set(database=database)
        crm = connect(url.render_as_string(hide_password=False))
        tenant = TenantId(uuid.uuid4())
        customer = Customer(id=crm.new_id(), tenant_id=tenant, name="上海", created_at=crm.now())
        crm.run(tenant, lambda uow: uow.repository(Customer).add(customer))
        assert (
            crm.read(tenant, lambda uow: uow.repository(Customer).get(customer.id)).name == "上海"
        )
        crm.storage.engine.dispose()  # type: ignore[attr-defined]
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE `{database}`")
        admin.dispose()


def test_columns_are_exact_decimals_microsecond_utc_and_binary_text(
    mysql_engine: sa.Engine,
) -> None:
    assert _column(mysql_engine, "customers", "credit_limit_amount")["type"] == "decimal(24,6)"
    assert _column(mysql_engine, "customers", "created_at")["type"] == "datetime(6)"
    name = _column(mysql_engine, "customers", "name")
    assert name == {"type": "text", "collation": "utf8mb4_nopad_bin"}
    # Columns without an explicit collation take the table's: exact, not the server's *_ci.
    assert _column(mysql_engine, "customers", "kind")["collation"] == "utf8mb4_nopad_bin"


def test_indexes_on_text_take_a_prefix_within_the_key_limit(mysql_engine: sa.Engine) -> None:
    with mysql_engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT COLUMN_NAME, SUB_PART FROM information_schema.STATISTICS "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'customers' "
                "AND INDEX_NAME = 'ix_customers_letter_pinyin_full' ORDER BY SEQ_IN_INDEX"
            )
        ).all()
    assert [(r[0], r[1]) for r in rows] == [
        ("tenant_id", None),
        ("letter", 255),
        ("pinyin_full", 255),
    ]


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
def test_text_keeps_trailing_spaces_case_and_code_point_order(crm: Crm, tenant: TenantId) -> None:
    # utf8mb4_bin would find "a" equal to "a " (PAD SPACE); the general collations
    # would find "a" equal to "A" and sort "B" before "a".
    ensure_table(crm.storage.engine)  # type: ignore[attr-defined]
    texts = ["a", "a ", "A", "B", "b", "é", "北京", "𠀀"]
    rows = [Specimen(id=uuid.uuid4(), tenant_id=tenant, text=t) for t in texts]
    crm.run(tenant, lambda uow: uow.repository(Specimen).add_many(rows))

    def query(q: Query) -> list[str | None]:
        return crm.read(tenant, lambda uow: [s.text for s in uow.repository(Specimen).query(q)])

    assert query(Query(F("text").eq("a"))) == ["a"]
    assert query(Query(order_by=(Order("text"),))) == sorted(texts)
    assert query(Query(F("text").startswith("a"), (Order("text"),))) == ["a", "a "]


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
def test_instants_keep_microseconds_and_amounts_keep_every_digit(
    crm: Crm, tenant: TenantId
) -> None:
    at = pendulum.datetime(2026, 3, 2, 9, 30, 15, 123456, tz="Asia/Shanghai")
    customer = Customer(
        id=crm.new_id(),
        tenant_id=tenant,
        name="Exact",
        created_at=at,
        credit_limit=Money("8999999999999.99", "CNY"),
    )
    crm.run(tenant, lambda uow: uow.repository(Customer).add(customer))
    stored = crm.read(tenant, lambda uow: uow.repository(Customer).get(customer.id))
    assert stored.created_at == at
    assert stored.created_at.utcoffset() == dt.timedelta(0)
    assert stored.credit_limit == Money("8999999999999.99", "CNY")
