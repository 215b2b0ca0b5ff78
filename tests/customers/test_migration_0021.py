"""Revision 0021 rebuilds the search keys of people whose surname got its surname
reading (乜 nie, 佴 nai, 么 yao ...), so they are found as if entered after it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from crmkit.adapters.sql.migrate import upgrade
from crmkit.adapters.sql.tables import mapping_for
from crmkit.customers import Customer, CustomerKind
from crmkit.customers.model.contacts import Contact
from crmkit.kernel.ids import TenantId, UserId
from crmkit.pipeline.model.leads import Lead
from tests.customers.test_migration_0020 import empty_engine, insert_as_stored

__all__ = ["empty_engine"]

_AT = datetime(2026, 3, 2, tzinfo=UTC)


def _insert(engine: sa.Engine, record: object, **stale: str) -> None:
    mapping = mapping_for(type(record))
    row = mapping.to_row(record)
    row.update(stale, version=1)  # the keys the code before 0021 stored
    insert_as_stored(engine, mapping.table, [row])


def _keys(engine: sa.Engine, entity: type, *columns: str) -> dict[str, tuple[str, ...]]:
    table = mapping_for(entity).table
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table.c.name, *(table.c[c] for c in columns))).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def test_upgrading_rebuilds_the_keys_of_people_with_those_surnames(
    empty_engine: sa.Engine,
) -> None:
    upgrade(empty_engine, "0020")
    upgrade(empty_engine, "0018")  # leads with search keys, as before 0021
    tenant = TenantId(uuid.uuid4())

    def customer(name: str, kind: CustomerKind) -> Customer:
        return Customer(id=uuid.uuid4(), tenant_id=tenant, name=name, created_at=_AT, kind=kind)

    stale = {"pinyin_full": "mieming", "pinyin_initials": "mm"}
    _insert(empty_engine, customer("乜明", CustomerKind.INDIVIDUAL), **stale, letter="M")
    _insert(empty_engine, customer("六合贸易", CustomerKind.COMPANY))  # 六合: liuhe
    _insert(
        empty_engine,
        Contact(
            id=uuid.uuid4(), tenant_id=tenant, customer_id=uuid.uuid4(), name="佴华", created_at=_AT
        ),
        pinyin_full="erhua",
        pinyin_initials="eh",
    )
    owner = UserId(uuid.uuid4())
    lead = Lead(id=uuid.uuid4(), tenant_id=tenant, name="么红", created_at=_AT, owner_id=owner)  # type: ignore[arg-type]
    _insert(empty_engine, lead, pinyin_full="mehong", pinyin_initials="mh")
    upgrade(empty_engine)
    customers = _keys(empty_engine, Customer, "pinyin_full", "pinyin_initials", "letter")
    assert customers == {
        "乜明": ("nieming", "nm", "N"),
        "六合贸易": ("liuhemaoyi", "lhmy", "L"),
    }
    assert _keys(empty_engine, Contact, "pinyin_full", "pinyin_initials") == {
        "佴华": ("naihua", "nh")
    }
    assert _keys(empty_engine, Lead, "pinyin_full", "pinyin_initials") == {
        "么红": ("yaohong", "yh")
    }
