"""The shipped migrations build exactly the schema the code maps."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from crmkit.adapters.sql.migrate import current_revisions, head_revisions, upgrade
from crmkit.adapters.sql.tables import metadata


def _not_a_test_table(name: str | None, type_: str, _parents: object) -> bool:
    # Tests create tables of their own (test_specimens, ...) in the shared test databases.
    return not (type_ == "table" and (name or "").startswith("test_"))


def _drift(engine: sa.Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": _not_a_test_table}
        )
        return list(compare_metadata(context, metadata))


def test_migrations_match_the_mapped_tables_on_sqlite(tmp_path) -> None:
    from crmkit.adapters.sql.engine import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    assert set(current_revisions(engine)) == set(head_revisions())
    assert _drift(engine) == []
    upgrade(engine)  # running it again is a no-op


def test_migrations_match_the_mapped_tables_on_postgresql(pg_engine: sa.Engine) -> None:
    assert set(current_revisions(pg_engine)) == set(head_revisions())
    assert _drift(pg_engine) == []


def test_migrations_match_the_mapped_tables_on_mariadb(mysql_engine: sa.Engine) -> None:
    assert set(current_revisions(mysql_engine)) == set(head_revisions())
    assert _drift(mysql_engine) == []


def test_every_table_on_the_metadata_is_mapped_by_its_area() -> None:
    # An area module that defines a table but leaves it out of its MAPPINGS would have
    # it migrated and compared above, yet no repository could store its aggregate.
    from crmkit.adapters.sql.outbox import outbox
    from crmkit.adapters.sql.tables import MAPPINGS

    mapped = [m.table for m in MAPPINGS.values() if m.table.metadata is metadata]
    assert len(mapped) == len(set(mapped))
    assert set(metadata.tables.values()) == {*mapped, outbox}
