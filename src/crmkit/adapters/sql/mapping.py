"""Explicit mapping of attrs aggregates onto SQLAlchemy Core tables.

Domain classes are never instrumented by SQLAlchemy. Instead each persisted
aggregate gets a :class:`Mapping`: a Core ``Table`` derived from its attrs fields
(plus the indexes the area asks for) and two precompiled functions that turn an
aggregate into a row and back. Native column types keep SQL useful for reports:

- ``UUID`` (and ``NewType``s over it) -> ``Uuid``; ``str`` -> ``String``; ``int``
  -> ``BigInteger``; ``bool`` -> ``Boolean``; ``Decimal`` -> ``Numeric``;
- ``Money`` -> two columns, ``<field>_amount`` and ``<field>_currency``;
- instants -> ``DateTime(timezone=True)`` in UTC; dates -> ``Date``;
- enums -> their value as ``String``;
- anything else (tuples, dicts, nested values) -> ``JSON`` through the shared converter.

Every table's primary key is ``(tenant_id, id)``: the tenant is part of every key.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import types
import typing
from collections import abc
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from crmkit.kernel.converter import converter, to_instant
from crmkit.kernel.hints import stored_type
from crmkit.kernel.money import Money

__all__ = [
    "ExactDecimal",
    "Mapping",
    "UtcDateTime",
    "code_point_collation",
    "column_for",
    "map_entity",
    "text_type",
    "tidy_decimal",
]

_MYSQL = frozenset({"mysql", "mariadb"})
_SCALE = Decimal(1_000_000)


def tidy_decimal(value: Decimal) -> Decimal:
    """Drop the trailing zeros a fixed-scale column pads on, without going exponential."""
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal.as_tuple().exponent > 0 else normal  # type: ignore[operator]


class ExactDecimal(sa.TypeDecorator[Decimal]):
    """Exact decimals with six places on every backend.

    PostgreSQL, MySQL and MariaDB store ``NUMERIC(24, 6)`` (``DECIMAL``). SQLite has no exact decimal type (its NUMERIC
    affinity keeps floats, which lose cents past ~15 digits), so there the value is
    stored as an integer count of millionths: sums and comparisons in SQL stay exact,
    and the column type turns results (``SUM`` included) back into ``Decimal``. The
    SQLite range is therefore +/- 9.2 trillion.
    """

    impl = sa.Numeric(24, 6)
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.BigInteger())
        return dialect.type_descriptor(sa.Numeric(24, 6))

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        value = Decimal(value)
        scaled = value * _SCALE
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than 6 decimal places")
        return int(scaled) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return tidy_decimal(Decimal(int(value)) / _SCALE)
        return tidy_decimal(Decimal(value))


NUMERIC = ExactDecimal()


def text_type() -> sa.types.TypeEngine[str]:
    """Text that compares and sorts by code point everywhere.

    SQLite compares bytes; PostgreSQL would follow the database's locale (``en_US``
    sorts "alpha" before "Bravo"), so its columns use the ``C`` collation. That keeps
    both backends and the memory adapter in one order, and lets a prefix match be a
    range of a plain B-tree index on PostgreSQL. MySQL and MariaDB store ``TEXT`` in
    a binary no-pad utf8mb4 collation (see :func:`code_point_collation`); their
    indexes on such columns take a prefix of each value (see ``mysql_ddl``).
    """
    return _CODE_POINT_TEXT


def code_point_collation(dialect: sa.Dialect) -> str:
    """The utf8mb4 collation comparing by code point, trailing spaces included.

    The ``utf8mb4_bin`` a DBA would reach for pads with spaces (``'a' = 'a '``), so
    MariaDB's ``utf8mb4_nopad_bin`` and MySQL 8's ``utf8mb4_0900_bin`` are used instead.
    """
    return "utf8mb4_nopad_bin" if getattr(dialect, "is_mariadb", False) else "utf8mb4_0900_bin"


class _MySqlText(sa.TypeDecorator[str]):
    """``TEXT`` in the code-point collation of the server at hand (MariaDB or MySQL).

    ``TEXT`` rather than ``VARCHAR(n)``: text fields take up to 10,000 characters and a
    row's ``VARCHAR`` columns share 65,535 bytes, four a character in utf8mb4.
    """

    impl = sa.Text()
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        return dialect.type_descriptor(mysql.TEXT(collation=code_point_collation(dialect)))


_CODE_POINT_TEXT: sa.types.TypeEngine[str] = (
    sa.String()
    .with_variant(sa.String(collation="C"), "postgresql")
    .with_variant(_MySqlText(), "mysql", "mariadb")
)


def sorts_by_code_point(type_: sa.types.TypeEngine[Any], dialect: str) -> bool:
    """Whether a column of ``type_`` compares text by code point on ``dialect``."""
    return dialect == "sqlite" or type_ is _CODE_POINT_TEXT


class UtcDateTime(sa.TypeDecorator[dt.datetime]):
    """Instants stored in UTC on every backend and read back as UTC pendulum instants.

    SQLite keeps no offset, so an aware value is converted to UTC before it is
    written; a naive value is refused rather than guessed. MySQL and MariaDB store
    ``DATETIME(6)`` in UTC the same way: microseconds kept, and no ``TIMESTAMP``
    conversion through the session time zone (nor its 2038 limit).
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name in _MYSQL:
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; store timezone-aware instants")
        utc = value.astimezone(dt.UTC)
        naive = dialect.name == "sqlite" or dialect.name in _MYSQL
        return utc.replace(tzinfo=None) if naive else utc

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        return None if value is None else to_instant(value)


@attrs.frozen
class Mapping:
    """How one aggregate type is stored: its table and its row conversions."""

    entity: type[Any]
    table: sa.Table
    to_row: Callable[[Any], dict[str, Any]]
    from_row: Callable[[Any], Any]
    columns_of: dict[str, tuple[str, ...]]
    # Paths already resolved: a search's filter names the same few columns dozens of
    # times, and every statement run resolves each of its conditions' paths.
    _resolved: dict[str, sa.ColumnElement[Any]] = attrs.field(
        factory=dict, init=False, eq=False, repr=False
    )

    def column(self, path: str) -> sa.ColumnElement[Any]:
        """The column a filter path refers to (``credit_limit.amount`` -> its amount column)."""
        try:
            return self._resolved[path]
        except KeyError:
            pass
        name = path.replace(".", "_")
        columns = self.table.c
        if name in columns:
            found = columns[name]
        else:
            cols = self.columns_of.get(path)
            if not cols or len(cols) != 1:
                raise KeyError(f"{self.entity.__name__} has no stored field {path!r}")
            found = columns[cols[0]]
        self._resolved[path] = found
        return found


def column_for(tp: Any) -> sa.types.TypeEngine[Any] | None:
    """The native column type for a field type, or ``None`` for JSON storage."""
    if isinstance(tp, type):
        if issubclass(tp, bool):
            return sa.Boolean()
        if issubclass(tp, enum.Enum):
            return sa.String(64)
        if issubclass(tp, UUID):
            return sa.Uuid()
        if issubclass(tp, str):
            return text_type()
        if issubclass(tp, int):
            return sa.BigInteger()
        if issubclass(tp, Decimal):
            return ExactDecimal()
        if issubclass(tp, dt.datetime):
            return UtcDateTime()
        if issubclass(tp, dt.date):
            return sa.Date()
    return None


def map_entity(
    entity: type[Any],
    table_name: str,
    metadata: sa.MetaData,
    *,
    indexes: Sequence[Sequence[str]] = (),
    unique: Sequence[Sequence[str]] = (),
) -> Mapping:
    """Derive the table and row conversions for an attrs aggregate.

    Args:
        entity: an attrs class with ``id``, ``tenant_id`` and ``version`` fields.
        table_name: the table to create.
        metadata: the ``MetaData`` collecting crmkit's tables.
        indexes: extra indexes, each a list of column names; ``tenant_id`` is prepended.
        unique: unique constraints, each a list of column names; ``tenant_id`` is prepended.
    """
    hints = typing.get_type_hints(entity)
    columns: list[sa.Column[Any]] = []
    writers: list[Callable[[Any, dict[str, Any]], None]] = []
    reader = _RowReader(entity)
    columns_of: dict[str, tuple[str, ...]] = {}
    conv = converter()

    # tenant_id leads the primary key: rows of one tenant cluster together (and Citus
    # would distribute on it).
    ordered = sorted(attrs.fields(entity), key=lambda f: {"tenant_id": 0, "id": 1}.get(f.name, 2))
    for field in ordered:
        name = field.name
        tp, nullable = stored_type(hints[name])
        if name in ("tenant_id", "id"):
            columns.append(sa.Column(name, sa.Uuid(), primary_key=True))
        elif name == "version":
            columns.append(sa.Column(name, sa.BigInteger(), nullable=False))
        elif tp is Money:
            amount, currency = f"{name}_amount", f"{name}_currency"
            columns.append(sa.Column(amount, NUMERIC, nullable=nullable))
            columns.append(sa.Column(currency, sa.String(3), nullable=nullable))
            columns_of[name] = (amount, currency)
            writers.append(_money_writer(name, amount, currency))
            reader.money(name, len(columns) - 2)
            continue
        else:
            native = column_for(tp)
            if native is None:
                columns.append(sa.Column(name, sa.JSON(), nullable=nullable))
                writers.append(_json_writer(name, conv.unstructure))
                reader.json(name, len(columns) - 1, hints[name], conv.structure)
                columns_of[name] = (name,)
                continue
            columns.append(sa.Column(name, native, nullable=nullable))
            if isinstance(tp, type) and issubclass(tp, enum.Enum):
                writers.append(_enum_writer(name))
                reader.enum(name, len(columns) - 1, tp)
                columns_of[name] = (name,)
                continue
        writers.append(_plain_writer(name))
        reader.plain(name, len(columns) - 1)
        columns_of[name] = (name,)

    table_args: list[Any] = [
        sa.Index(f"ix_{table_name}_{'_'.join(cols)}", "tenant_id", *cols) for cols in indexes
    ]
    table_args += [
        sa.UniqueConstraint("tenant_id", *cols, name=f"uq_{table_name}_{'_'.join(cols)}")
        for cols in unique
    ]
    table = sa.Table(table_name, metadata, *columns, *table_args)

    def to_row(obj: Any) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for write in writers:
            write(obj, row)
        return row

    return Mapping(entity, table, to_row, reader.build(), columns_of)


def _plain_writer(name: str) -> Callable[[Any, dict[str, Any]], None]:
    def write(obj: Any, row: dict[str, Any]) -> None:
        row[name] = getattr(obj, name)

    return write


def _enum_writer(name: str) -> Callable[[Any, dict[str, Any]], None]:
    def write(obj: Any, row: dict[str, Any]) -> None:
        value = getattr(obj, name)
        row[name] = None if value is None else value.value

    return write


def _money_writer(name: str, amount: str, currency: str) -> Callable[[Any, dict[str, Any]], None]:
    def write(obj: Any, row: dict[str, Any]) -> None:
        value = getattr(obj, name)
        row[amount] = None if value is None else value.amount
        row[currency] = None if value is None else value.currency

    return write


def _json_writer(name: str, dump: Callable[[Any], Any]) -> Callable[[Any, dict[str, Any]], None]:
    def write(obj: Any, row: dict[str, Any]) -> None:
        value = getattr(obj, name)
        row[name] = None if value is None else dump(value)

    return write


class _RowReader:
    """Builds ``from_row`` as straight-line code, the way attrs builds ``__init__``.

    A stored row was validated when it was written, so it is loaded without
    ``__init__`` (as ORMs load rows): validators, ``__attrs_post_init__`` and the derived
    keys (pinyin, caller ID), which are stored columns themselves, are not run again on
    every read. Converters still run, so values take their usual shape. The row is read
    by position (``select(table)`` or ``RETURNING`` every column, in table order): a
    page of wide rows is the hot path of every list and search, and one generated
    function with no per-field calls or dictionaries reads a row in about half the time
    a loop over per-field readers does.
    """

    def __init__(self, entity: type[Any]) -> None:
        self._entity = entity
        self._converters = {f.name: f.converter for f in attrs.fields(entity)}
        self._lines: list[str] = []
        self._names: dict[str, Any] = {
            "new": object.__new__,
            "setattr": object.__setattr__,
            "entity": entity,
        }

    def _set(self, name: str, expression: str) -> None:
        convert = self._converters.get(name)
        if callable(convert):
            self._names[f"convert_{name}"] = convert
            expression = f"convert_{name}({expression})"
        self._lines.append(self._assign(name, expression))

    def _assign(self, name: str, expression: str) -> str:
        # A slot's own descriptor sets it in about two thirds of the time
        # object.__setattr__ takes to find it (36 fields a customer, 20 a page).
        for klass in type.mro(self._entity):
            slot = klass.__dict__.get(name)
            if isinstance(slot, types.MemberDescriptorType):
                self._names[f"set_{name}"] = slot.__set__
                return f"    set_{name}(obj, {expression})"
        return f"    setattr(obj, {name!r}, {expression})"

    def plain(self, name: str, index: int) -> None:
        self._set(name, f"row[{index}]")

    def enum(self, name: str, index: int, kind: type[enum.Enum]) -> None:
        # Members by value: a dictionary lookup instead of the enum's call; a value
        # that is no member (or None) goes through the call, which raises for junk.
        self._names[f"members_{name}"] = kind._value2member_map_
        self._names[f"enum_{name}"] = kind
        self._lines.append(f"    value = row[{index}]")
        member = f"members_{name}.get(value) or (None if value is None else enum_{name}(value))"
        if self._converters.get(name) is kind:
            self._lines.append(self._assign(name, member))  # the converter's job
            return
        self._set(name, member)

    def money(self, name: str, index: int) -> None:
        self._names["money"] = _money
        self._lines.append(f"    value = row[{index}]")
        self._set(name, f"None if value is None else money(value, row[{index + 1}])")

    def json(self, name: str, index: int, tp: Any, load: Callable[[Any, Any], Any]) -> None:
        self._names[f"load_{name}"] = load
        self._names[f"type_{name}"] = tp
        self._lines.append(f"    value = row[{index}]")
        expression = f"None if value is None else load_{name}(value, type_{name})"
        # Most stored lists and mappings are empty: an immutable empty value is loaded
        # once and shared.
        empties: dict[str, Any] = {"list": [], "map": {}}
        for kind, raw in empties.items():
            with contextlib.suppress(Exception):
                empty = load(raw, tp)
                if isinstance(empty, tuple) or (
                    isinstance(empty, abc.Mapping) and not isinstance(empty, abc.MutableMapping)
                ):
                    # One name per raw value: ``[]`` and ``{}`` may load differently.
                    self._names[f"empty_{kind}_{name}"] = empty
                    expression = f"empty_{kind}_{name} if value == {raw!r} else ({expression})"
        self._set(name, expression)

    def build(self) -> Callable[[Any], Any]:
        source = "\n".join(
            ["def from_row(row):", "    obj = new(entity)", *self._lines, "    return obj"]
        )
        code = compile(source, f"<crmkit from_row {self._entity.__qualname__}>", "exec")
        namespace = dict(self._names)
        exec(code, namespace)  # the source is built above from field names only
        from_row: Callable[[Any], Any] = namespace["from_row"]
        return from_row


def _money(amount: Any, currency: str) -> Money:
    money = Money(amount, currency)
    # Give back "12.30", not "12.3": pad to the currency's minor unit when that is exact.
    rounded = money.round()
    return rounded if rounded == money else money
