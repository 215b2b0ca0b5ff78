"""Revision 0020 rewrites contacts' stored ``birthday_md`` from "MM-DD" to the "MMDD"
that yearly reminder rules look for, so birthdays entered before it fire too."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from crmkit.adapters.sql.engine import create_engine
from crmkit.adapters.sql.migrate import alembic_config, upgrade
from crmkit.adapters.sql.tables import mapping_for
from crmkit.customers.model.contacts import Contact
from crmkit.kernel.ids import TenantId
from tests.conftest import MYSQL_URL, PG_URL, _mysql_unavailable, _pg_unavailable


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """An engine on an empty database (a private schema on PostgreSQL)."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return
    if request.param == "mariadb":
        yield from _empty_mysql_database()
        return
    schema = f"crmkit_m0020_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except Exception as error:  # any failure to reach the server
        _pg_unavailable(str(error).splitlines()[0])
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def _empty_mysql_database() -> Iterator[sa.Engine]:
    database = f"crmkit_m0020_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    url = sa.engine.make_url(MYSQL_URL)
    try:
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE `{database}`")
    except Exception as error:  # any failure to reach the server
        _mysql_unavailable(str(error).splitlines()[0])
    engine = create_engine(url.set(database=database).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE `{database}`")
        admin.dispose()


def insert_as_stored(engine: sa.Engine, table: sa.Table, rows: list[dict[str, object]]) -> None:
    """Insert rows into a table as an older revision made it: columns added since are left out."""
    with engine.begin() as conn:
        present = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
        conn.execute(
            table.insert(), [{k: v for k, v in row.items() if k in present} for row in rows]
        )


def _stored(engine: sa.Engine) -> dict[str, str | None]:
    contacts = mapping_for(Contact).table
    with engine.connect() as conn:
        rows = conn.execute(sa.select(contacts.c.name, contacts.c.birthday_md)).all()
    return dict(rows)  # type: ignore[arg-type]


def test_upgrading_rewrites_stored_birthdays_to_the_form_the_scan_reads(
    empty_engine: sa.Engine,
) -> None:
    upgrade(empty_engine, "0019")  # the customers branch as it was before 0020
    tenant = TenantId(uuid.uuid4())
    contacts = mapping_for(Contact)
    rows = []
    for name, birthday in (
        ("张伟", date(1985, 3, 14)),
        ("林芳", date(1992, 2, 29)),
        ("王强", None),
    ):
        contact = Contact(
            id=uuid.uuid4(),
            tenant_id=tenant,
            customer_id=uuid.uuid4(),
            name=name,
            created_at=datetime(2026, 3, 2, tzinfo=UTC),
            birthday=birthday,
        )
        row = contacts.to_row(contact)
        # What the code before 0020 stored.
        row["birthday_md"] = None if birthday is None else birthday.strftime("%m-%d")
        row["version"] = 1
        rows.append(row)
    insert_as_stored(empty_engine, contacts.table, rows)
    upgrade(empty_engine)
    assert _stored(empty_engine) == {"张伟": "0314", "林芳": "0229", "王强": None}

    from alembic import command

    with empty_engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0019")
    assert _stored(empty_engine) == {"张伟": "03-14", "林芳": "02-29", "王强": None}
