"""Change history: who changed which field of a customer, when, from what to what.

Every write to a customer — registration, field edits, pool moves, transfers,
contact edits, deletion, restore and purge — goes through :func:`record_changes`,
which compares a snapshot taken before the write (:func:`snapshot`) with the record
after it and stores one :class:`ChangeRecord` per changed field, all stamped with
the same action, actor and instant. Values are kept as text (the form events and
exports use), so history survives schema changes and can be shown without the
record (even after a purge).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs

from crmkit.customers.model.custom_fields import CUSTOM
from crmkit.customers.model.custom_values import show_custom
from crmkit.customers.model.customer import DERIVED_KEYS, Customer, show_value
from crmkit.kernel.entity import Entity
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId, UserId
from crmkit.ports import UnitOfWork

__all__ = ["ChangeRecord", "record_changes", "snapshot"]

FIELD_LABELS = (N_("action"), N_("old_value"), N_("new_value"), N_("changed_at"))

# Derived search keys follow the name; recording them too would only repeat it.
_UNTRACKED = frozenset(
    {
        "id",
        "tenant_id",
        "version",
        *DERIVED_KEYS,
        CUSTOM,  # recorded field by field, as ``custom.<key>``
    }
)
_TRACKED = tuple(f.name for f in attrs.fields(Customer) if f.name not in _UNTRACKED)


@attrs.define(eq=False)
class ChangeRecord(Entity):
    """One changed field of one customer.

    Attributes:
        customer_id: the customer changed (kept after a purge).
        action: the use case that changed it (``create``, ``update``, ``claim``,
            ``release``, ``transfer``, ``contact_add``, ``delete``, ``purge``, ...).
        field: the field name (``contact.<field>`` for contact edits, ``custom.<key>``
            for custom fields; ``None`` for
            actions that change no single field, such as a purge).
        old_value, new_value: the values as text (``None`` for empty).
        user_id: who did it (``None`` for the clock-driven pool scan).
        changed_at: when (UTC).
    """

    entity_name = N_("change_record")

    id: UUID
    tenant_id: TenantId
    customer_id: UUID
    action: str
    field: str | None
    old_value: str | None
    new_value: str | None
    user_id: UserId | None
    changed_at: datetime
    version: int = 0


def snapshot(customer: Customer | None) -> dict[str, str | None]:
    """The tracked fields of ``customer`` as text (empty for a customer not yet there)."""
    if customer is None:
        return {}
    shown = {name: show_value(getattr(customer, name)) for name in _TRACKED}
    shown.update((name, show_value(v)) for name, v in show_custom(customer.custom).items())
    return shown


def record_changes(
    uow: UnitOfWork,
    new_id: Callable[[], UUID],
    *,
    customer_id: UUID,
    tenant_id: TenantId,
    user_id: UserId | None,
    at: datetime,
    action: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    always: bool = False,
) -> list[ChangeRecord]:
    """Store one record per field whose text differs between ``before`` and ``after``.

    Args:
        uow: the unit of work of the write (history commits or rolls back with it).
        new_id: makes record ids.
        before, after: ``{field: value}`` snapshots (values shown as text here).
        always: store a field-less record for the action when nothing differs
            (a purge, a restore of an unchanged record).

    Returns:
        The records stored.
    """

    def entry(field: str | None, old: str | None, new: str | None) -> ChangeRecord:
        return ChangeRecord(
            id=new_id(),
            tenant_id=tenant_id,
            customer_id=customer_id,
            action=action,
            field=field,
            old_value=old,
            new_value=new,
            user_id=user_id,
            changed_at=at,
        )

    records = []
    for name in sorted(set(before) | set(after)):
        old = show_value(before.get(name))
        new = show_value(after.get(name))
        if old != new:
            records.append(entry(name, old, new))
    if not records and always:
        records.append(entry(None, None, None))
    if records:
        uow.repository(ChangeRecord).add_many(records)
    return records
