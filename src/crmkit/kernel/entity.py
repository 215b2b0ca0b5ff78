"""What every stored aggregate shares: its identity is its id."""

from __future__ import annotations

from typing import Any

__all__ = ["Entity"]


class Entity:
    """Base of the attrs aggregates (declared with ``eq=False``): equal when of one type and id.

    Two loads of one record are the same record even after one of them was changed, so
    aggregates compare and hash by identity, never field by field; a set or dict of
    aggregates then holds each record once.
    """

    __slots__ = ()
    id: Any

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)
