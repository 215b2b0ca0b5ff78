"""DDL for MySQL and MariaDB: table defaults and prefix lengths for indexes on text.

The tables and migrations are written once for every backend (see ``mapping`` and
``migrations/versions``); what MySQL needs on top is added when their DDL is compiled:

- every table is created ``ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`` in the code-point
  collation (see :func:`crmkit.adapters.sql.mapping.code_point_collation`), whatever
  the server's or the database's defaults are, so enum values, currency codes and ids
  compare exactly as on the other backends;
- an index over ``TEXT`` (or JSON) columns indexes a prefix of each value, since
  InnoDB cannot index a whole ``TEXT``. Lookups, ranges and prefix searches use the
  index and check the whole value on the row; the prefixes share InnoDB's 3,072-byte
  key limit. Unique constraints are left whole: MariaDB enforces a unique ``TEXT``
  through a hidden hash column (MySQL 8 cannot, see docs/storage.md).

Alembic's ``op.create_index`` names columns without their types, so the types are
looked up in crmkit's own table metadata by table and column name.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlalchemy.sql.compiler import DDLCompiler

from crmkit.adapters.sql.mapping import code_point_collation
from crmkit.adapters.sql.metadata import metadata

__all__ = ["KEY_BYTES", "PREFIX_CHARS"]

# InnoDB's limit on an index key with the DYNAMIC row format (MariaDB 10.3+ and
# MySQL 5.7+ default), and the longest prefix crmkit takes of a text value: 255
# characters tell apart every name, key and code crmkit indexes.
KEY_BYTES = 3072
PREFIX_CHARS = 255
_BYTES_PER_CHAR = 4  # utf8mb4
_BLOB_TYPES = ("TEXT", "TINYTEXT", "MEDIUMTEXT", "LONGTEXT", "JSON", "BLOB", "LONGBLOB")


def _column_type(index: sa.Index, column: sa.Column[Any]) -> sa.types.TypeEngine[Any]:
    if not isinstance(column.type, sa.types.NullType):
        return column.type
    # A migration's index: look the column up in the mapped tables.
    table = metadata.tables.get(index.table.name) if index.table is not None else None
    if table is None or column.name not in table.c:
        return column.type
    return table.c[column.name].type


def _key_bytes(ddl: str) -> int:
    """What a column of the compiled type ``ddl`` takes in an index key, roughly."""
    head, _, rest = ddl.partition("(")
    length = rest.split(")", 1)[0]
    if head.strip().upper() in ("CHAR", "VARCHAR") and length.isdigit():
        return int(length) * _BYTES_PER_CHAR
    return 16  # numbers, dates, native UUIDs: a few bytes each


def _prefix_lengths(index: sa.Index, compiler: DDLCompiler) -> dict[str, int]:
    """Prefix lengths (in characters) for the text columns of ``index``."""
    dialect = compiler.dialect
    columns = list(index.columns)
    if len(columns) != len(index.expressions):
        return {}  # an index on expressions: left as written
    texts: list[str] = []
    fixed = 0
    for column in columns:
        ddl = dialect.type_compiler_instance.process(_column_type(index, column))
        if ddl.split("(", 1)[0].split(" ", 1)[0].upper() in _BLOB_TYPES:
            texts.append(column.name)
        else:
            fixed += _key_bytes(ddl)
    if not texts:
        return {}
    share = (KEY_BYTES - fixed) // (_BYTES_PER_CHAR * len(texts))
    return dict.fromkeys(texts, max(1, min(PREFIX_CHARS, share)))


@compiles(CreateIndex, "mysql", "mariadb")
def _create_index(create: CreateIndex, compiler: DDLCompiler, **kw: Any) -> str:
    index = create.element
    lengths = _prefix_lengths(index, compiler) if isinstance(index, sa.Index) else {}
    if not lengths:
        default: str = compiler.visit_create_index(create, **kw)  # type: ignore[no-untyped-call]
        return default
    preparer = compiler.preparer
    columns = ", ".join(
        preparer.quote(c.name) + (f"({lengths[c.name]})" if c.name in lengths else "")
        for c in index.columns
    )
    unique = "UNIQUE " if index.unique else ""
    exists = "IF NOT EXISTS " if create.if_not_exists else ""
    name = preparer.quote(str(index.name))
    table = preparer.format_table(index.table)  # type: ignore[arg-type]
    return f"CREATE {unique}INDEX {exists}{name} ON {table} ({columns})"


@compiles(CreateTable, "mysql", "mariadb")
def _create_table(create: CreateTable, compiler: DDLCompiler, **kw: Any) -> str:
    text: str = compiler.visit_create_table(create, **kw)  # type: ignore[no-untyped-call]
    options = {key.split("_", 1)[1] for key in create.element.kwargs if "_" in key}
    tail = []
    if "engine" not in options:
        tail.append("ENGINE=InnoDB")
    if not options & {"charset", "default charset", "collate"}:
        tail.append(f"DEFAULT CHARSET=utf8mb4 COLLATE={code_point_collation(compiler.dialect)}")
    return text.rstrip() + (" " + " ".join(tail) if tail else "") + "\n\n"
