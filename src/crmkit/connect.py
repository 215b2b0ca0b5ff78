"""``crmkit.connect()``: the one call a host makes to get a :class:`~crmkit.crm.Crm`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmkit.crm import Crm
from crmkit.kernel.clock import Clock
from crmkit.kernel.ids import IdGenerator

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = ["connect"]

_SQL_SCHEMES = frozenset({"sqlite", "postgresql", "postgres", "mysql", "mariadb"})


def connect(
    target: str | sa.Engine = "memory://",
    *,
    clock: Clock | None = None,
    ids: IdGenerator | None = None,
    migrate: bool = True,
    **options: Any,
) -> Crm:
    """Open crmkit on a storage.

    Args:
        target: ``"memory://"`` (the default), ``"sqlite:///path/to/crm.db"`` (the
            embedded default for applications), ``"postgresql+psycopg://..."``,
            ``"mysql+pymysql://..."`` (MySQL 8 or MariaDB, the ``mysql`` extra), the
            host's own SQLAlchemy ``Engine``, or a URL whose scheme names a storage
            plugin installed under the ``crmkit.storage`` entry-point group.
        clock: where "now" comes from (the system clock in UTC by default).
        ids: the id generator (time-sortable UUIDv7 by default).
        migrate: bring a SQL database to the newest schema first. Pass ``False`` when
            deployment runs ``crmkit db upgrade`` itself.
        options: passed to :class:`~crmkit.crm.Crm` (``max_attempts``, ``backoff``).

    Returns:
        A :class:`~crmkit.crm.Crm` ready for the services.
    """
    extra: dict[str, Any] = dict(options)
    if clock is not None:
        extra["clock"] = clock
    if ids is not None:
        extra["ids"] = ids
    if isinstance(target, str) and target.startswith("memory:"):
        from crmkit.adapters.memory import MemoryStorage

        return Crm(MemoryStorage(), **extra)
    if isinstance(target, str) and target.split(":", 1)[0].split("+", 1)[0] not in _SQL_SCHEMES:
        from crmkit.adapters.plugins import load

        factory = load("crmkit.storage", target.split(":", 1)[0])
        return Crm(factory(target), **extra)

    from crmkit.adapters.sql.engine import create_engine, prepare_engine
    from crmkit.adapters.sql.migrate import upgrade
    from crmkit.adapters.sql.uow import SqlStorage

    engine = create_engine(target) if isinstance(target, str) else prepare_engine(target)
    if migrate:
        upgrade(engine)
    return Crm(SqlStorage(engine), **extra)
