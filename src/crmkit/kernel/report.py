"""Report tables: the plain rows every analytic returns.

Analytics run where the data is (SQL on a database, Python on the memory
adapter) and come back as a :class:`ReportTable` — column names and rows of plain
values — so a host can print it, serialise it, or call :meth:`ReportTable.to_pandas`
in a notebook (with the ``pandas`` extra installed).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Sequence
from typing import Any

import attrs

__all__ = ["ReportTable", "display_width", "pad"]


@attrs.frozen
class ReportTable:
    """Named columns and rows of plain values."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    @classmethod
    def of(cls, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> ReportTable:
        """Build from any sequences."""
        return cls(tuple(columns), tuple(tuple(row) for row in rows))

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def to_dicts(self) -> list[dict[str, Any]]:
        """One dict per row."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def column(self, name: str) -> list[Any]:
        """The values of one column."""
        at = self.columns.index(name)
        return [row[at] for row in self.rows]

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame`` (needs the ``pandas`` extra)."""
        try:
            import pandas as pd
        except ImportError as missing:  # pragma: no cover - depends on the extra
            raise ImportError("to_pandas() needs pandas: pip install 'crmkit[pandas]'") from missing
        return pd.DataFrame(list(self.rows), columns=list(self.columns))

    def format(self) -> str:
        """A fixed-width text rendering for terminals and logs (CJK-aware)."""
        texts = [list(self.columns)] + [[str(v) for v in row] for row in self.rows]
        widths = [max(display_width(r[i]) for r in texts) for i in range(len(self.columns))]
        return "\n".join(
            "  ".join(pad(v, w) for v, w in zip(r, widths, strict=True)).rstrip() for r in texts
        )


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: CJK and other wide characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    """Left-align ``text`` in ``width`` terminal columns."""
    return text + " " * max(0, width - display_width(text))
