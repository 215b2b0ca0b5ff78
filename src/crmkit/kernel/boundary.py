"""The type check at the door of every public service, read from its annotations.

A host calls a service with whatever its own code built. A value of the wrong Python
type (an ``int`` for a name, a list for a mapping, a dict for a ``Query``) is a
programmer's mistake mypy would catch; left alone it surfaces deep inside as an
``AttributeError``, a ``decimal`` error or a driver error that differs by backend. So
every public service is decorated with :func:`checked_types`, which compares each
argument passed with the parameter's annotation before the body runs and raises
``TypeError`` naming the parameter. The service catalog refuses to register a service
that is not decorated, so a new service cannot forget it.

Only the Python *shape* is checked, never whether a value is acceptable: that stays
with the service and the domain's limits (:mod:`crmkit.kernel.limits`), which refuse
what a person typed with a ``ValidationError`` naming the field. And parameters whose
value a form sends as text and a kernel converter reads are not checked here at all,
so nothing accepted before is refused now:

- ``Money`` (``to_amount`` also builds one from ``{"amount": ..., "currency": ...}``),
  ``Decimal`` and ``float`` (``to_decimal`` reads ``"12.50"``), ``date`` and
  ``datetime`` (``to_date`` and ``to_instant_value`` read ISO text), enumerations and
  ``Literal`` choices (``to_member`` reads ``"user"``);
- ``Any``, type variables, callables' signatures and ports (``Protocol`` classes:
  anything that behaves like one will do).

A union passes a value one of its arms passes, and is not checked when one arm is not.
Inside a ``list``, ``tuple``, ``set`` or mapping the items are checked too; an iterator
passed for an ``Iterable`` is not walked (that would consume it). ``bool`` is no
``int`` here, as in :func:`~crmkit.kernel.limits.expect_type`.

The annotations are read once per service, at its first call, and compiled into one
small check per parameter; a call costs a dictionary lookup and an ``isinstance`` per
argument passed (0.8 us for four arguments, about 1 % of ``get_customer`` on the
memory adapter; see docs/kernel.md).
"""

from __future__ import annotations

import collections.abc
import datetime as dt
import enum
import functools
import inspect
import re
import typing
from collections.abc import Callable
from decimal import Decimal
from typing import Any, ParamSpec, TypeVar

from crmkit.kernel.hints import newtype_base, union_arms
from crmkit.kernel.money import Money

__all__ = ["checked_types", "is_checked"]

P = ParamSpec("P")
R = TypeVar("R")

_MARK = "__crmkit_checked_types__"

# Parameters a kernel converter reads from what a form sends: not checked here.
_CONVERTED: tuple[type[Any], ...] = (Money, Decimal, float, dt.date, enum.Enum)

#: A check: ``None`` when ``value`` has the shape, else what was found instead.
_Check = Callable[[Any], str | None]


def _describe(hint: Any) -> str:
    """``Mapping[str, UUID] | None``: the annotation as a reader writes it."""
    if hint is None or hint is type(None):
        return "None"
    if len(arms := union_arms(hint)) > 1:
        return " | ".join(_describe(arm) for arm in arms)
    if typing.get_args(hint) or not hasattr(hint, "__name__"):
        return _MODULE_PATH.sub("", str(hint))
    return str(hint.__name__)


_MODULE_PATH = re.compile(r"\b(?:[a-z_]\w*\.)+")


def _found(value: Any) -> str:
    return type(value).__name__


def _instance(kinds: tuple[type[Any], ...]) -> _Check:
    if int in kinds and bool not in kinds:

        def whole(value: Any) -> str | None:
            if isinstance(value, kinds) and not isinstance(value, bool):
                return None
            return _found(value)

        return whole

    def instance(value: Any) -> str | None:
        return None if isinstance(value, kinds) else _found(value)

    return instance


def _items(outer: type[Any], item: _Check) -> _Check:
    def collection(value: Any) -> str | None:
        if not isinstance(value, outer):
            return _found(value)
        if isinstance(value, str):  # text is a sequence of texts: fine where text is held
            wrong = item(value)
            return None if wrong is None else f"str holding {wrong}"
        if isinstance(value, list | tuple | set | frozenset):
            for each in value:
                wrong = item(each)
                if wrong is not None:
                    return f"{_found(value)} holding {wrong}"
        return None

    return collection


def _pairs(key: _Check | None, item: _Check | None) -> _Check:
    def mapping(value: Any) -> str | None:
        if not isinstance(value, collections.abc.Mapping):
            return _found(value)
        for k, v in value.items():
            wrong = (key and key(k)) or (item and item(v))
            if wrong is not None:
                return f"{_found(value)} holding {wrong}"
        return None

    return mapping


def _fixed_tuple(arms: tuple[_Check | None, ...]) -> _Check:
    def fixed(value: Any) -> str | None:
        if not isinstance(value, tuple) or len(value) != len(arms):
            return _found(value)
        for check, each in zip(arms, value, strict=True):
            wrong = check and check(each)
            if wrong is not None:
                return f"tuple holding {wrong}"
        return None

    return fixed


def _either(checks: list[_Check]) -> _Check:
    def either(value: Any) -> str | None:
        wrongs: list[str] = []
        for check in checks:
            wrong = check(value)
            if wrong is None:
                return None
            wrongs.append(wrong)
        return max(wrongs, key=len)  # "dict holding str" says more than "dict"

    return either


def _compile(hint: Any) -> _Check | None:
    """The check of one annotation, or ``None`` when it is not checked here."""
    hint = newtype_base(hint)  # UserId -> UUID
    if hint is Any or isinstance(hint, typing.TypeVar):
        return None
    if hint is None or hint is type(None):
        return _instance((type(None),))
    if len(arms := union_arms(hint)) > 1:
        checks = [_compile(arm) for arm in arms]
        if any(check is None for check in checks):
            return None
        plain = [arm for arm in arms if isinstance(arm, type) and not typing.get_args(arm)]
        if len(plain) == len(arms):  # the common X | None: one isinstance
            return _instance(tuple(plain))
        return _either([check for check in checks if check is not None])
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Literal:
        return None
    if origin is collections.abc.Callable:  # its signature is for mypy: any callable will do
        return _instance((collections.abc.Callable,))
    if origin is not None:
        if not isinstance(origin, type):
            return None
        if issubclass(origin, collections.abc.Mapping):
            key, item = (_compile(args[0]), _compile(args[1])) if len(args) == 2 else (None, None)
            return _pairs(key, item)
        if origin is tuple and args and args[-1] is not Ellipsis:
            return _fixed_tuple(tuple(_compile(arm) for arm in args))
        if issubclass(origin, collections.abc.Iterable) and args:
            item = _compile(args[0])
            return _items(origin, item) if item is not None else _instance((origin,))
        return _instance((origin,))
    if not isinstance(hint, type):
        return None
    if issubclass(hint, _CONVERTED) or getattr(hint, "_is_protocol", False):
        return None
    return _instance((hint,))


class _Plan:
    """The compiled checks of one service: by position and by keyword."""

    __slots__ = ("by_name", "by_position", "hints")

    def __init__(self, function: Callable[..., Any]) -> None:
        hints = typing.get_type_hints(function)
        names = [
            p.name
            for p in inspect.signature(function).parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        self.hints = hints
        self.by_name = {
            name: check
            for name in names
            if name in hints and (check := _compile(hints[name])) is not None
        }
        self.by_position = tuple((name, self.by_name.get(name)) for name in names)

    def refuse(self, name: str, found: str) -> TypeError:
        return TypeError(f"{name} must be {_describe(self.hints[name])}, not {found}")


def checked_types(function: Callable[P, R]) -> Callable[P, R]:
    """Declare a public service: its arguments are checked against its annotations.

    Returns:
        A wrapper (``functools.wraps``) that checks every argument passed, then calls
        ``function``.

    Raises:
        TypeError: at a call, an argument whose Python type the parameter's annotation
            rules out, naming the parameter, what it must be and what it was.
    """
    plan: _Plan | None = None

    @functools.wraps(function)
    def service(*args: P.args, **kwargs: P.kwargs) -> R:
        nonlocal plan
        if plan is None:  # at the first call: every module the hints name is loaded by then
            plan = _Plan(function)
        for (name, check), value in zip(plan.by_position, args, strict=False):
            if check is not None and (found := check(value)) is not None:
                raise plan.refuse(name, found)
        if kwargs:
            by_name = plan.by_name
            for name, value in kwargs.items():
                check = by_name.get(name)
                if check is not None and (found := check(value)) is not None:
                    raise plan.refuse(name, found)
        return function(*args, **kwargs)

    setattr(service, _MARK, True)
    return service


def is_checked(function: Callable[..., Any]) -> bool:
    """Whether ``function`` was declared with :func:`checked_types`."""
    return getattr(function, _MARK, False) is True
