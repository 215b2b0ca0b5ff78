"""Guards: the named pure predicates that decide whether a state machine's transition fires.

A :class:`Guard` is declared with its :class:`~crmkit.kernel.machine.Transition` and
reads only what it names from the caller's context, so a machine's declaration says
which facts each move depends on. :mod:`crmkit.kernel.machine` re-exports it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import attrs

__all__ = ["Guard"]


def _guard_params(fn: Callable[..., bool]) -> tuple[str, ...] | None:
    """Keyword names ``fn`` takes after the object; None means it takes ``**kwargs``."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # some builtins have no signature: pass everything
        return None
    params = list(signature.parameters.values())
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return tuple(p.name for p in params[1:] if p.kind in named)


@attrs.frozen
class Guard:
    """A named pure predicate deciding whether a transition may fire.

    The function is called as ``fn(obj, **context)`` with only the context
    arguments it names (all of them if it takes ``**kwargs``), so a guard
    declares exactly what it reads: ``def within_limit(customer, *, held, limit)``.
    It must not do I/O or change anything.

    Attributes:
        name: shown in :class:`~crmkit.kernel.errors.GuardFailed` and diagrams.
        fn: the predicate; first argument is the object.
    """

    name: str = attrs.field(validator=attrs.validators.min_len(1))
    fn: Callable[..., bool] = attrs.field(validator=attrs.validators.is_callable())
    _params: tuple[str, ...] | None = attrs.field(init=False, eq=False, repr=False)

    @_params.default
    def _default_params(self) -> tuple[str, ...] | None:
        return _guard_params(self.fn)

    def check(self, obj: object, context: Mapping[str, Any]) -> bool:
        """Evaluate the predicate on ``obj`` with the parts of ``context`` it names.

        Args:
            obj: the object whose transition is being considered.
            context: the caller's keyword arguments to ``fire``/``can_fire``.

        Returns:
            Whether the guard lets the transition through.
        """
        params = self._params
        if params is None:
            return bool(self.fn(obj, **context))
        if not params:
            return bool(self.fn(obj))
        return bool(self.fn(obj, **{k: context[k] for k in params if k in context}))
