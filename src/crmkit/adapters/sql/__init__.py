"""SQL storage through SQLAlchemy Core: SQLite (the embedded default), PostgreSQL, MySQL and MariaDB.

Hosts normally reach it through :func:`crmkit.connect`; import the pieces from
their modules:

- ``uow``: the storage and its unit of work; ``repository``, ``outbox`` and
  ``errors`` the repositories, the event outbox and the translation of database
  failures it uses;
- ``tables``: the full schema and the mapping registry, assembled from each area's
  ``customers/``, ``billing/``, ``pipeline/`` and ``rules/`` package (``tables``
  on the one ``MetaData`` of ``metadata``, and ``queries``, its SQL read models);
- ``mapping``, ``compile``, ``direct``: aggregates to rows, filters to ``WHERE``,
  kept statements run on the driver; ``engine``, ``migrate``: engines and Alembic.
"""
