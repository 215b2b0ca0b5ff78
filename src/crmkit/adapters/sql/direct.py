"""Kept statements compiled once per dialect and run on the driver's own cursor.

Lists and searches run a few statement shapes again and again (see
``SqlRepository._fetch``). SQLAlchemy's execution path redoes the same work on every
execution — an execution context, result metadata from the cursor description, a
``Row`` per row — and on this host that costs about as much as PostgreSQL takes to plan
and run a short indexed query (~0.25 ms a statement). A :class:`Compiled` statement does
it once: its SQL, its parameters' order and bind processors and, after its first
execution, its columns' result processors are kept, and each execution is one
``cursor.execute`` and ``fetchall`` on the pooled connection SQLAlchemy holds for the
unit of work.

Statements SQLAlchemy renders per execution (expanding ``IN`` lists) are not compiled
here; neither is anything on an engine that logs statements or has cursor-execution
listeners, so echo and instrumentation still see every statement (see :func:`direct`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["Compiled", "Kept", "direct"]

_SQL_LOG = logging.getLogger("sqlalchemy.engine.Engine")
# A named parameter (``%(v0)s``) or a doubled percent sign in pyformat SQL.
_PYFORMAT = re.compile(r"%\((\w+)\)s|%%")
_DIALECTS_KEPT = 8


def direct(engine: sa.Engine) -> bool:
    """Whether kept statements may bypass SQLAlchemy's execution on ``engine``.

    Not when the engine logs statements (``echo`` or the ``sqlalchemy.engine`` logger at
    INFO) or has ``before_cursor_execute`` / ``after_cursor_execute`` listeners: those
    must see every statement.
    """
    dispatch = engine.dispatch
    return not (
        engine.echo
        or _SQL_LOG.isEnabledFor(logging.INFO)
        or dispatch.before_cursor_execute
        or dispatch.after_cursor_execute
    )


class Compiled:
    """One statement compiled for one dialect, with its parameter and result handling."""

    def __init__(self, statement: Any, compiled: SQLCompiler, dialect: sa.Dialect) -> None:
        self.sql = compiled.string
        self._dialect = dialect
        self._order: Sequence[str] | None = compiled.positiontup if compiled.positional else None
        self._cursor: Callable[[Any], Any] | None = None
        if not compiled.positional and (dialect.name, dialect.driver) == ("postgresql", "psycopg"):
            self._as_raw()
        binds = compiled.binds
        self._defaults = {n: b.effective_value for n, b in binds.items() if not b.required}
        processors = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in binds.items()
        }
        self._binders = {name: p for name, p in processors.items() if p is not None}
        self._types = [column.type for column in statement.selected_columns]
        self._process: Callable[[list[Any]], Sequence[Any]] | None = None

    def _as_raw(self) -> None:
        """Take the SQL to PostgreSQL's own ``$n`` parameters, run on a raw cursor.

        psycopg turns ``%(name)s`` parameters into ``$n`` on every execution and keeps
        the result only for statements up to 4 kB; a search's OR of initials ranges is
        ten (0.3-0.6 ms of parsing each time). Done once here, the statement runs on a
        ``psycopg.RawCursor``, which sends the SQL as it is.
        """
        from psycopg import RawCursor

        names: list[str] = []
        numbers: dict[str, int] = {}

        def number(match: re.Match[str]) -> str:
            name = match.group(1)
            if name is None:
                return "%"  # a literal percent sign, doubled for the pyformat style
            if name not in numbers:
                names.append(name)
                numbers[name] = len(names)
            return f"${numbers[name]}"

        self.sql = _PYFORMAT.sub(number, self.sql)
        self._order = names
        self._cursor = RawCursor

    def cursor(self, dbapi_connection: Any) -> Any:
        """A cursor of the driver's connection to run this statement on."""
        make = self._cursor
        return dbapi_connection.cursor() if make is None else make(dbapi_connection)

    @classmethod
    def of(cls, statement: Any, dialect: sa.Dialect) -> Compiled | None:
        """``statement`` compiled for ``dialect``, or ``None`` when it must go through
        SQLAlchemy (parameters rendered per execution, or names the driver needs escaped).
        """
        compiled = statement.compile(dialect=dialect)
        if not isinstance(compiled, SQLCompiler):
            return None
        binds = compiled.binds.values()
        if any(b.expanding or b.literal_execute for b in binds) or compiled.escaped_bind_names:
            return None
        return cls(statement, compiled, dialect)

    def parameters(self, params: dict[str, Any]) -> Any:
        """What the driver's ``execute`` takes for ``params`` (named or positional)."""
        values = {**self._defaults, **params}
        for name, process in self._binders.items():
            values[name] = process(values[name])
        if self._order is None:
            return values
        return tuple([values[name] for name in self._order])

    def rows(self, cursor: Any) -> Sequence[Any]:
        """The fetched rows, each column as SQLAlchemy's column type would give it."""
        rows = cursor.fetchall()
        process = self._process
        if process is None:
            # The driver's type codes pick some processors (PostgreSQL's numerics).
            dialect = self._dialect
            readers = [
                type_.dialect_impl(dialect).result_processor(dialect, described[1])
                for type_, described in zip(self._types, cursor.description, strict=True)
            ]
            process = self._process = _row_processor(readers)
        return process(rows)


def _row_processor(
    readers: Sequence[Callable[[Any], Any] | None],
) -> Callable[[list[Any]], Sequence[Any]]:
    """A function applying ``readers`` to fetched rows, generated as straight-line code.

    ``None`` is left as it is without a call: every column type crmkit maps reads NULL
    as ``None``, and most optional columns of a page (timestamps) are NULL.
    """
    used = [(index, read) for index, read in enumerate(readers) if read is not None]
    if not used:
        return _as_is
    lines = [
        "def process(rows):",
        "    out = []",
        "    for row in rows:",
        "        row = list(row)",
    ]
    for index, _ in used:
        lines += [
            f"        value = row[{index}]",
            "        if value is not None:",
            f"            row[{index}] = read_{index}(value)",
        ]
    lines += ["        out.append(row)", "    return out"]
    namespace: dict[str, Any] = {f"read_{index}": read for index, read in used}
    # The source is built from column positions only.
    exec(compile("\n".join(lines), "<crmkit row processor>", "exec"), namespace)
    process: Callable[[list[Any]], Sequence[Any]] = namespace["process"]
    return process


def _as_is(rows: list[Any]) -> Sequence[Any]:
    return rows


class Kept:
    """A statement kept for reuse, and its compiled form per dialect (made on first use)."""

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._compiled: dict[sa.Dialect, Compiled | None] = {}

    def compiled(self, dialect: sa.Dialect) -> Compiled | None:
        """The statement compiled for ``dialect``, or ``None`` when it cannot run directly."""
        try:
            return self._compiled[dialect]
        except KeyError:
            if len(self._compiled) >= _DIALECTS_KEPT:
                # Engines come and go (tests make hundreds); a process serves a few.
                self._compiled.clear()
            found = self._compiled[dialect] = Compiled.of(self.statement, dialect)
            return found
