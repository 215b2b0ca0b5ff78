"""Custom field use cases: define, change, deactivate and list a tenant's custom fields.

Defining and changing fields is tenant administration (like the pool policy): it
needs an administrator, runs in one transaction and puts a ``CustomFieldDefined`` /
``CustomFieldChanged`` event in the outbox, so integrations and audit see every
change. A field's key and type never change (stored values depend on them); a field
is deactivated rather than deleted, so its values and history stay readable. An
option still used by a record cannot be removed, only deactivated.

Who sees or edits a field's *values* is decided by field rules on the record's
resource: ``FieldRule("customer", "custom.budget", FieldAccess.HIDDEN)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any
from uuid import UUID

import attrs

from crmkit.crm import Crm
from crmkit.customers.model.custom_fields import (
    CUSTOM,
    ChoiceOption,
    CustomFieldChanged,
    CustomFieldDefined,
    CustomFieldDefinition,
    FieldType,
    used_reason,
)
from crmkit.customers.model.customer import Customer
from crmkit.customers.model.transfer import is_builtin_header
from crmkit.customers.queries._readers import definitions_of
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import ConcurrencyConflict, PermissionDenied, ValidationError
from crmkit.kernel.event_origin import origin
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.limits import to_member
from crmkit.kernel.query import F
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import grants_for, guarded
from crmkit.rules.permissions.model import Grants

__all__ = [
    "change_custom_field",
    "deactivate_custom_field",
    "define_custom_field",
    "list_custom_fields",
]

RESOURCE = "custom_field"
# The records each entity's values live on, to check an option is unused before removal.
_RECORDS: dict[str, tuple[type[Any], str]] = {"customer": (Customer, "customer")}


def _records_of(entity: str) -> tuple[type[Any], str]:
    # A form or an import names the entity as text: an unknown one is refused by name,
    # not a KeyError, nor a definition stored for records that do not exist.
    try:
        return _RECORDS[entity]
    except (KeyError, TypeError):
        raise invalid(
            "custom_field",
            "entity",
            N_("{value!r} is not one of {choices}"),
            value=str(entity)[:40],
            choices=", ".join(_RECORDS),
        ) from None


_CHANGEABLE = frozenset(
    {
        "label",
        "required",
        "options",
        "max_length",
        "minimum",
        "maximum",
        "currency",
        "position",
        "active",
    }
)


def _require_admin(grants: Grants) -> None:
    if not grants.may_administer:
        raise PermissionDenied(actor=grants.label, operation="administer", resource=RESOURCE)


def _check_label(
    definition: CustomFieldDefinition, others: Iterable[CustomFieldDefinition]
) -> None:
    # Labels head export and import columns, so they must name one column only.
    folded = definition.label.casefold()
    if is_builtin_header(definition.label) or any(
        o.id != definition.id and o.label.casefold() == folded for o in others
    ):
        raise invalid(
            "custom_field", "label", N_("{label} already names a column"), label=definition.label
        )


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, tuple):
        return ",".join(
            f"{o.value}={o.label}{'' if o.active else ' (inactive)'}"
            if isinstance(o, ChoiceOption)
            else str(o)
            for o in value
        )
    if isinstance(value, FieldType):
        return value.value
    return str(value)


def define_custom_field(
    crm: Crm,
    actor: Actor,
    *,
    key: str,
    label: str,
    type: FieldType | str,
    entity: str = "customer",
    required: bool = False,
    options: Iterable[ChoiceOption | Mapping[str, Any] | str] = (),
    max_length: int | None = None,
    minimum: Decimal | str | int | None = None,
    maximum: Decimal | str | int | None = None,
    currency: str | None = None,
    position: int | None = None,
) -> CustomFieldDefinition:
    """Add a custom field to ``entity`` for the actor's tenant.

    Args:
        key: the stable code (ascii snake_case, not a built-in field name).
        label: what users see.
        type: ``text``, ``number``, ``money``, ``date``, ``choice`` or ``multi_choice``.
        options: for choice types: ``ChoiceOption``s, ``{"value", "label"}`` mappings or
            plain strings (value and label alike).
        max_length, minimum, maximum, currency: constraints of text, number and money.
        position: display position (default: after the existing fields).

    Raises:
        PermissionDenied: the actor does not administer the tenant.
        ValidationError: a rule of the definition is broken, the key is taken, or the
            label already heads a built-in or custom column.
    """
    now = crm.now()

    def work(uow: UnitOfWork) -> CustomFieldDefinition:
        _require_admin(grants_for(uow, actor))
        _records_of(entity)
        existing = definitions_of(uow, entity)
        if any(d.key == key for d in existing):
            raise invalid("custom_field", "key", N_("{key} is taken"), key=key)
        definition = CustomFieldDefinition(
            id=crm.ids.new(now),
            tenant_id=uow.tenant_id,
            entity=entity,
            key=key,
            label=label,
            type=to_member(FieldType, type, entity="custom_field", field="type"),
            created_at=now,
            required=required,
            options=tuple(options),
            max_length=max_length,
            minimum=minimum,
            maximum=maximum,
            currency=currency,
            position=(max((d.position for d in existing), default=0) + 10)
            if position is None
            else position,
        )
        _check_label(definition, existing)
        uow.repository(CustomFieldDefinition).add(definition)
        uow.outbox.add(
            CustomFieldDefined(
                **origin(definition, now),
                entity=entity,
                key=definition.key,
                label=definition.label,
                type=definition.type.value,
            )
        )
        return definition

    return guarded(crm, actor, work)


def change_custom_field(
    crm: Crm,
    actor: Actor,
    field_id: UUID,
    *,
    expected_version: int | None = None,
    **changes: Any,
) -> CustomFieldDefinition:
    """Change a custom field: ``label``, ``required``, ``options``, ``max_length``,
    ``minimum``, ``maximum``, ``currency``, ``position`` or ``active``.

    Options are given in full (the new list); an option left out must not be used by
    any record — deactivate it (``ChoiceOption(value, label, active=False)``) instead.
    A money field's currency changes only while no record has a value.

    Raises:
        NotFound: no such field in this tenant.
        PermissionDenied: the actor does not administer the tenant.
        ValidationError: the key or type would change, an option in use is removed, or
            a rule of the definition is broken; nothing changes.
        ConcurrencyConflict: it changed since ``expected_version``.
    """
    now = crm.now()
    for name in sorted(set(changes) - _CHANGEABLE):
        raise invalid("custom_field", name, N_("cannot be changed"))

    def work(uow: UnitOfWork) -> CustomFieldDefinition:
        _require_admin(grants_for(uow, actor))
        repo = uow.repository(CustomFieldDefinition)
        definition = repo.get(field_id)
        if expected_version is not None and definition.version != expected_version:
            raise ConcurrencyConflict(entity="custom_field", id=field_id, version=expected_version)
        candidate = attrs.evolve(definition, **changes)  # validators run here
        candidate.version = definition.version
        if candidate.label != definition.label:
            _check_label(candidate, definitions_of(uow, definition.entity))
        _check_removed_options(uow, definition, candidate)
        if candidate.currency != definition.currency and _used(uow, definition, None):
            raise invalid(
                "custom_field",
                "currency",
                N_("records hold amounts in {currency}"),
                currency=str(definition.currency),
            )
        diff = {
            name: (_shown(getattr(definition, name)), _shown(getattr(candidate, name)))
            for name in sorted(changes)
            if getattr(definition, name) != getattr(candidate, name)
        }
        if not diff:
            return definition
        repo.save(candidate)
        uow.outbox.add(
            CustomFieldChanged(
                **origin(definition, now),
                key=definition.key,
                changes=diff,
            )
        )
        return candidate

    return guarded(crm, actor, work)


def deactivate_custom_field(crm: Crm, actor: Actor, field_id: UUID) -> CustomFieldDefinition:
    """Retire a custom field: values and history stay, new values are refused.

    Reactivate it with ``change_custom_field(..., active=True)``.
    """
    return change_custom_field(crm, actor, field_id, active=False)


def _used(uow: UnitOfWork, definition: CustomFieldDefinition, option: str | None) -> bool:
    record, _ = _RECORDS[definition.entity]
    path = f"{CUSTOM}.{definition.key}"
    if option is None:
        where = F(path).not_null()
    elif definition.type is FieldType.MULTI_CHOICE:
        where = F(path).contains(option)
    else:
        where = F(path).eq(option)
    # Binned records count: restoring one must not bring back a value nobody can read.
    return uow.repository(record).count(where) > 0


def _check_removed_options(
    uow: UnitOfWork, before: CustomFieldDefinition, after: CustomFieldDefinition
) -> None:
    kept = {o.value for o in after.options}
    for option in before.options:
        if option.value not in kept and _used(uow, before, option.value):
            raise ValidationError(
                entity="custom_field", field="options", reason=used_reason(option.value)
            )


def list_custom_fields(
    crm: Crm, actor: Actor, entity: str = "customer", *, include_inactive: bool = False
) -> list[CustomFieldDefinition]:
    """The custom fields of ``entity`` in display order, for forms, lists and filters.

    Fields hidden from the actor by field rules are left out; deactivated ones only
    with ``include_inactive`` (for the settings screen).
    """

    def work(uow: UnitOfWork) -> list[CustomFieldDefinition]:
        grants = grants_for(uow, actor)
        _, resource = _records_of(entity)
        hidden = grants.hidden_fields(resource)
        return [
            d
            for d in definitions_of(uow, entity)
            if (include_inactive or d.active) and d.path not in hidden and CUSTOM not in hidden
        ]

    return guarded(crm, actor, work)
