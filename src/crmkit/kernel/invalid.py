"""The one way to say "this input breaks a rule": :func:`invalid`.

Every area refuses bad input the same way, with a :class:`~crmkit.kernel.errors.ValidationError`
naming the entity, the field and a translatable reason. Building that error is one
call here rather than a five-line constructor (or a private ``_invalid`` helper) in
every module::

    if amount <= 0:
        raise invalid("refund", "amount", N_("must be more than {zero}"), zero=0)
"""

from __future__ import annotations

from typing import Any

from crmkit.kernel.errors import ValidationError, reason

__all__ = ["invalid"]


def invalid(entity: str, field: str, msgid: str, /, **params: Any) -> ValidationError:
    """The error for ``field`` of ``entity`` breaking the rule ``msgid`` says.

    Args:
        entity: the entity's code (``"refund"``), shown through its translated label.
        field: the field that breaks the rule.
        msgid: the reason, a literal marked with ``N_`` so the catalogs carry it.
        **params: the values ``msgid`` names in braces.

    Returns:
        The error, for the caller to raise (``raise invalid(...) from None`` where a
        lower error is no news to the user).
    """
    return ValidationError(entity=entity, field=field, reason=reason(msgid, **params))
