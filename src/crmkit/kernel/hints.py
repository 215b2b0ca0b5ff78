"""Reading type annotations: one reading for every check built from them.

Several parts of crmkit decide what a value may be from the annotations its owner
declares: the type check at every service's door (:mod:`crmkit.kernel.boundary`,
a ``TypeError`` naming the parameter), the limits of stored values
(:mod:`crmkit.kernel.limits`, a ``ValidationError`` naming the field), the filters a
query may apply to a field (:mod:`crmkit.kernel.query`), the SQL mapping that picks
each field's column, and the memory adapter, which keeps each amount field in the form
an SQL amount column reads back. What they refuse differs on purpose; how they read an
annotation must not: a field one of them took for an amount and another for a nested
value would be kept differently by two backends. So the reading is here, once:

- :func:`union_arms` splits ``X | Y`` (and ``Optional[X]``) into its arms;
- :func:`newtype_base` sees through a ``NewType`` (``UserId`` is stored as a ``UUID``);
- :func:`stored_type` does both for a field: ``UserId | None`` is a ``UUID`` that may
  be ``None``;
- :func:`field_hints` resolves the annotations of an attrs class.

``Annotated`` needs nothing here: ``typing.get_type_hints`` drops its extras.
"""

from __future__ import annotations

import types
import typing
from typing import Any

import attrs

__all__ = ["field_hints", "newtype_base", "stored_type", "union_arms"]

_UNIONS = (typing.Union, types.UnionType)


def union_arms(hint: Any) -> tuple[Any, ...]:
    """The arms of a union (``int | None`` -> ``(int, NoneType)``); ``(hint,)`` otherwise."""
    if typing.get_origin(hint) in _UNIONS:
        return typing.get_args(hint)
    return (hint,)


def newtype_base(hint: Any) -> Any:
    """The type a ``NewType`` stands for, through every layer (``UserId`` -> ``UUID``)."""
    while hasattr(hint, "__supertype__"):
        hint = hint.__supertype__
    return hint


def stored_type(hint: Any) -> tuple[Any, bool]:
    """The type a field holds without ``None`` and ``NewType``, and whether it may be ``None``.

    Returns:
        ``(UUID, True)`` for ``UserId | None``; a union of several other types stays
        the union (``(int | str, False)``), for the caller to treat as it sees fit.
    """
    arms = union_arms(hint)
    values = tuple(arm for arm in arms if arm is not type(None))
    if len(values) == 1:
        hint = values[0]
    return newtype_base(hint), len(values) != len(arms)


def field_hints(cls: type[Any]) -> dict[str, Any]:
    """The declared type of each field of the attrs class ``cls``, resolved.

    A field without an annotation is ``Any``, and so is every field when one forward
    reference does not resolve: the caller then checks values by what they are.
    Resolving costs a little; callers keep what they build from it, once per class.
    """
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # a forward reference that does not resolve: nothing is known
        hints = {}
    return {field.name: hints.get(field.name, Any) for field in attrs.fields(cls)}
