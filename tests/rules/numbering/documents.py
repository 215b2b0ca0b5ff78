"""A test-only numbered document (a contract stand-in) with its own table."""

from __future__ import annotations

import uuid

import attrs
import sqlalchemy as sa

from crmkit import Crm
from crmkit.adapters.sql.mapping import map_entity
from crmkit.adapters.sql.tables import register
from crmkit.kernel.ids import TenantId

_metadata = sa.MetaData()


@attrs.define(eq=False)
class NumberedDoc:
    id: uuid.UUID
    tenant_id: TenantId
    number: str
    version: int = 0


register(map_entity(NumberedDoc, "test_numbered_docs", _metadata, unique=[("number",)]))


def ensure_table(crm: Crm) -> None:
    engine = getattr(crm.storage, "engine", None)
    if engine is not None:
        _metadata.create_all(engine, checkfirst=True)


def documents(crm: Crm, tenant: TenantId) -> list[NumberedDoc]:
    return crm.run(tenant, lambda uow: uow.repository(NumberedDoc).query())


def numbers_in(crm: Crm, tenant: TenantId) -> list[str]:
    return sorted(d.number for d in documents(crm, tenant))
