"""SQL storage through SQLAlchemy Core: SQLite (the embedded default) and PostgreSQL.

Import the pieces from their modules (``crmkit.adapters.sql.uow``,
``.mapping``, ``.migrate``, ...); hosts normally reach them through
:func:`crmkit.connect`.
"""
