"""The custom field values a record carries, and user input merged into them.

:class:`CustomValues` is the immutable ``{key: value}`` mapping of one record (typed as
the module docstring of :mod:`crmkit.customers.model.custom_fields` lists);
:func:`apply_custom` validates user input against the tenant's definitions and merges it.
Stored form: see :func:`encode_values`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from crmkit.customers.model.custom_fields import (
    _KEY,
    CUSTOM,
    KEY_MAX,
    CustomFieldDefinition,
)
from crmkit.kernel.converter import converter
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.money import Money

__all__ = [
    "CustomValues",
    "apply_custom",
    "custom_paths",
    "decode_values",
    "encode_values",
    "show_custom",
    "to_custom_values",
]

# -- values ---------------------------------------------------------------------------------

# Stored dates are listed under this reserved key so they read back as dates.
_TYPES_KEY = "$types"
_VALUE_TYPES = (str, Decimal, Money, dt.date, tuple)


def _check_value(key: Any, value: Any) -> None:
    if not isinstance(key, str) or not _KEY.fullmatch(key) or len(key) > KEY_MAX:
        raise invalid("customer", CUSTOM, N_("{key} is not a custom field key"), key=str(key))
    ok = isinstance(value, _VALUE_TYPES) and not isinstance(value, dt.datetime)
    if isinstance(value, tuple):
        ok = all(isinstance(v, str) for v in value)
    if not ok:
        raise invalid(
            "customer",
            f"{CUSTOM}.{key}",
            N_("cannot hold a value of type {type}"),
            type=type(value).__name__,
        )


class CustomValues(Mapping[str, Any]):
    """The custom field values of one record: an immutable ``{key: value}`` mapping.

    Keys are field keys; values are typed (see the module docstring). Keys without a
    value are absent (``values.get("tier")`` is ``None``). Build a changed copy with
    :meth:`replace`; validating against the tenant's definitions is
    :func:`apply_custom`'s job.
    """

    __slots__ = ("_data",)
    _data: dict[str, Any]

    def __init__(self, data: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> None:
        items = dict(data)
        for key, value in items.items():
            if value is not None:
                _check_value(key, value)
        object.__setattr__(
            self, "_data", {k: items[k] for k in sorted(items) if items[k] is not None}
        )

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("CustomValues is immutable; use replace()")

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"CustomValues({self._data!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (CustomValues, (self._data,))

    def replace(self, changes: Mapping[str, Any]) -> CustomValues:
        """A copy with ``changes`` applied (``None`` removes a key)."""
        return CustomValues({**self._data, **changes})

    def without(self, keys: Iterable[str]) -> CustomValues:
        """A copy without ``keys`` (what a reader who may not see them gets)."""
        gone = set(keys)
        return CustomValues({k: v for k, v in self._data.items() if k not in gone})


def to_custom_values(value: Any) -> CustomValues:
    """``CustomValues`` from a mapping (the converter of a record's ``custom`` attribute)."""
    if isinstance(value, CustomValues):
        return value
    if value is None:
        return CustomValues()
    if not isinstance(value, Mapping):
        raise invalid("customer", CUSTOM, N_("must map field keys to values"))
    return CustomValues(value)


def _json_number(value: Decimal) -> int | float:
    # Integral values stay ints (exact at any size); others become the float whose
    # shortest text is the decimal itself, which the 15-digit limit guarantees.
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _from_json_number(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise TypeError("a stored custom number is a boolean")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def encode_values(values: CustomValues) -> dict[str, Any]:
    """The portable JSON form of custom values (see the module docstring)."""
    data: dict[str, Any] = {}
    dates: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, Money):
            data[key] = {"amount": _json_number(value.amount), "currency": value.currency}
        elif isinstance(value, Decimal):
            data[key] = _json_number(value)
        elif isinstance(value, dt.date):
            data[key] = value.isoformat()
            dates[key] = "date"
        elif isinstance(value, tuple):
            data[key] = list(value)
        else:
            data[key] = value
    if dates:
        data[_TYPES_KEY] = dates
    return data


def decode_values(data: Mapping[str, Any] | None) -> CustomValues:
    """Custom values from their JSON form (the inverse of :func:`encode_values`)."""
    if not data:
        return CustomValues()
    types = data.get(_TYPES_KEY) or {}
    values: dict[str, Any] = {}
    for key, raw in data.items():
        if key == _TYPES_KEY or raw is None:
            continue
        if types.get(key) == "date":
            values[key] = dt.date.fromisoformat(raw)
        elif isinstance(raw, Mapping):
            money = Money(_from_json_number(raw["amount"]), raw["currency"])
            # Give back "12.30", not "12.3", when padding to the minor unit is exact.
            rounded = money.round()
            values[key] = rounded if rounded == money else money
        elif isinstance(raw, list):
            values[key] = tuple(raw)
        elif isinstance(raw, int | float) and not isinstance(raw, bool):
            values[key] = _from_json_number(raw)
        else:
            values[key] = raw
    return CustomValues(values)


_conv = converter()
_conv.register_unstructure_hook(CustomValues, encode_values)
_conv.register_structure_hook(
    CustomValues, lambda d, _: d if isinstance(d, CustomValues) else decode_values(d)
)


def show_custom(values: CustomValues | None) -> dict[str, Any]:
    """``{"custom.<key>": value}``: custom values as the named fields history records."""
    return {f"{CUSTOM}.{k}": v for k, v in (values or {}).items()}


# -- applying input -------------------------------------------------------------------------


def apply_custom(
    definitions: Iterable[CustomFieldDefinition],
    current: CustomValues | None,
    given: Mapping[str, Any] | None,
    *,
    entity: str,
    creating: bool = False,
) -> CustomValues:
    """Validate ``given`` against the definitions and merge it into ``current``.

    Keys not in ``given`` keep their value; a ``None`` or empty value clears a key.

    Args:
        definitions: the tenant's definitions for ``entity`` (active and inactive).
        current: the record's values (``None`` for a new record).
        given: ``{key: raw value}``; keys may also be written ``custom.<key>``.
        entity: the record kind, for error messages.
        creating: also require every active required field to have a value.

    Returns:
        The record's new values.

    Raises:
        ValidationError: naming ``custom.<key>``: an unknown or deactivated field, a
            value that does not fit the field, or a required field left empty.
    """
    by_key = {d.key: d for d in definitions}
    changes: dict[str, Any] = {}
    if given is not None and not isinstance(given, Mapping):
        raise invalid(entity, CUSTOM, N_("must map field keys to values"))
    for raw_key, raw in (given or {}).items():
        key = raw_key.removeprefix(f"{CUSTOM}.") if isinstance(raw_key, str) else raw_key
        definition = by_key.get(key)
        if definition is None:
            raise invalid(entity, f"{CUSTOM}.{key}", N_("is not a custom field"))
        if not definition.active:
            raise invalid(entity, definition.path, N_("the field is deactivated"))
        value = definition.coerce(raw)
        if value is None and definition.required:
            raise invalid(entity, definition.path, N_("is required"))
        changes[key] = value
    merged = (current or CustomValues()).replace(changes)
    if creating:
        for definition in sorted(by_key.values(), key=lambda d: (d.position, d.key)):
            if definition.active and definition.required and definition.key not in merged:
                raise invalid(entity, definition.path, N_("is required"))
    return merged


def custom_paths(given: Mapping[str, Any] | None) -> list[str]:
    """The field names (``custom.<key>``) a write of ``given`` touches, for permission checks."""
    return sorted(f"{CUSTOM}.{str(k).removeprefix(CUSTOM + '.')}" for k in (given or {}))
