"""The SQL an engine sends while a block of a test runs, for tests that check statements."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa


@contextlib.contextmanager
def sent_statements(engine: sa.Engine) -> Iterator[list[tuple[str, Any]]]:
    """Each statement ``engine`` sends inside the block, with its parameters, in order."""
    sent: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        sent.append((statement, params))

    sa.event.listen(engine, "before_cursor_execute", keep)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", keep)
