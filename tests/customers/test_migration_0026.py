"""Revision 0026 gives each of a contact's phones its own caller-ID key, so a contact
entered before it is found by a call from their second (or fifth) phone too."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from crmkit.adapters.sql.migrate import alembic_config, upgrade
from crmkit.adapters.sql.tables import mapping_for
from crmkit.customers.model.contacts import PHONE_KEY_FIELDS, Contact
from crmkit.customers.model.phones import phone_key
from crmkit.kernel.ids import TenantId
from tests.customers.test_migration_0020 import empty_engine, insert_as_stored

__all__ = ["empty_engine"]


def _keys(engine: sa.Engine) -> dict[str, tuple[str | None, ...]]:
    table = mapping_for(Contact).table
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table.c.name, *(table.c[f] for f in PHONE_KEY_FIELDS))).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def test_upgrading_keys_every_stored_phone_of_a_contact(empty_engine: sa.Engine) -> None:
    upgrade(empty_engine, "0021")  # the customers branch as it was before 0026
    tenant = TenantId(uuid.uuid4())
    phones = {
        "陈静": ["0755-8888 6666", "139 1234 5678"],
        "王强": ["13800138000"],
        "林芳": [],
        # Stored before the cap: the sixth phone has no slot.
        "赵六": [f"1390000000{i}" for i in range(6)],
    }
    rows = []
    for name, numbers in phones.items():
        contact = Contact(
            id=uuid.uuid4(),
            tenant_id=tenant,
            customer_id=uuid.uuid4(),
            name=name,
            created_at=datetime(2026, 3, 2, tzinfo=UTC),
        )
        row = mapping_for(Contact).to_row(contact)
        # What the code before 0026 stored: the phones, and the first one's key only.
        row.update(phones=numbers, phone_key=phone_key(numbers[0]) if numbers else None)
        row["version"] = 1
        rows.append(row)
    insert_as_stored(empty_engine, mapping_for(Contact).table, rows)
    upgrade(empty_engine)
    empty = (None,) * 5
    assert _keys(empty_engine) == {
        "陈静": (phone_key("0755-8888 6666"), phone_key("13912345678"), None, None, None),
        "王强": (phone_key("13800138000"), None, None, None, None),
        "林芳": empty,
        "赵六": tuple(phone_key(n) for n in phones["赵六"][:5]),
    }
    assert all(_keys(empty_engine)["陈静"][:2])

    from alembic import command

    with empty_engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0021")
    with empty_engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("customer_contacts")}
    assert "phone_key" in columns
    assert not columns & set(PHONE_KEY_FIELDS[1:])
