"""A test-only record type with the dates reminders watch."""

from __future__ import annotations

import datetime as dt
import uuid

import attrs
import sqlalchemy as sa

from crmkit.adapters.sql.mapping import map_entity
from crmkit.adapters.sql.tables import register
from crmkit.kernel.ids import TenantId
from crmkit.rules.reminders import ReminderSource, register_source


@attrs.define(eq=False)
class Agreement:
    id: uuid.UUID
    tenant_id: TenantId
    name: str
    created_at: dt.datetime
    owner_id: uuid.UUID | None = None
    status: str = "active"
    end_date: dt.date | None = None
    birthday: dt.date | None = None
    birthday_md: str | None = None
    last_activity_at: dt.datetime | None = None
    version: int = 0


agreement_metadata = sa.MetaData()
register(
    map_entity(
        Agreement,
        "test_agreements",
        agreement_metadata,
        indexes=[("end_date",), ("birthday_md",), ("last_activity_at",)],
    )
)
register_source(ReminderSource("agreement", Agreement))


def ensure_table(engine: sa.Engine) -> None:
    agreement_metadata.create_all(engine, checkfirst=True)
