"""Building a refusal of invalid input in one expression.

Every area refuses bad input the same way: a :class:`~crmkit.kernel.errors.ValidationError`
naming the entity and the field, with a translatable reason (the message marked with
``N_`` where it is written, its ``{placeholders}`` filled from the keyword arguments).
:func:`invalid` builds it, so a check reads as one line::

    if quantity <= 0:
        raise invalid("sales order", "deliveries", N_("a delivered quantity must be positive"))
"""

from __future__ import annotations

from typing import Any

from crmkit.kernel.errors import ValidationError, reason

__all__ = ["invalid"]


def invalid(entity: str, field: str, message: str, **params: Any) -> ValidationError:
    """A ``ValidationError`` of ``field`` of ``entity``, for ``message`` with ``params``."""
    return ValidationError(entity=entity, field=field, reason=reason(message, **params))
