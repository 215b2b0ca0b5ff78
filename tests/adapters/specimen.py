"""A test-only aggregate holding one field of every kind the SQL mapping supports."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from uuid import UUID

import attrs
import sqlalchemy as sa

from crmkit.adapters.sql.mapping import map_entity
from crmkit.adapters.sql.tables import register
from crmkit.kernel.ids import TenantId
from crmkit.kernel.money import Money


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


@attrs.frozen
class Tag:
    label: str
    weight: int


@attrs.define(eq=False)
class Specimen:
    id: UUID
    tenant_id: TenantId
    text: str | None = None
    number: int | None = None
    flag: bool | None = None
    ratio: Decimal | None = None
    price: Money | None = None
    day: dt.date | None = None
    instant: dt.datetime | None = None
    colour: Colour | None = None
    ref: UUID | None = None
    tags: tuple[str, ...] = ()
    nested: tuple[Tag, ...] = ()
    extra: dict[str, str] = attrs.field(factory=dict)
    version: int = 0


specimen_metadata = sa.MetaData()
SPECIMEN = register(map_entity(Specimen, "test_specimens", specimen_metadata, indexes=[("text",)]))


def ensure_table(engine: sa.Engine) -> None:
    specimen_metadata.create_all(engine, checkfirst=True)


def fields_of(s: Specimen) -> dict[str, object]:
    return attrs.asdict(s, recurse=False)
