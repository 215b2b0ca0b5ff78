"""Merging duplicate customers, and undoing a merge.

Two records for one company happen: two reps entered it, an import ran twice, a
lead was converted next to an existing customer. :func:`merge_customers` folds one
or more of them (the *merged* customers) into a *survivor*, in one transaction:

* the survivor's fields take, per field, the value chosen by the caller, by default
  the survivor's own value, else the first non-empty value among the merged ones;
* contacts move to the survivor (the survivor's primary contact stays primary);
* relations are re-pointed at the survivor, dropping those that would relate it to
  itself or repeat a relation it already has, and refusing a loop in the group
  hierarchy (``HierarchyCycle``);
* change history moves too, so the survivor's history tells its whole story;
* records of other areas (opportunities, contracts, receivable plans, ...) move
  through the parts those areas register with :func:`register_merge_part` — the
  customers area never imports them;
* the merged customers go to the recycle bin (not purged), each with a
  ``merged_into`` entry in its history;
* a :class:`MergeRecord` keeps every moved row and every overwritten value, so
  :func:`undo_merge` can put everything back exactly as it was.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from uuid import UUID

import attrs

from crmkit.crm import Crm
from crmkit.customers.model.custom_fields import CUSTOM
from crmkit.customers.model.custom_values import CustomValues
from crmkit.customers.model.customer import Customer
from crmkit.customers.model.history import snapshot
from crmkit.customers.model.merge import (
    MERGEABLE_FIELDS,
    CustomerMergeUndone,
    CustomersMerged,
    MergeRecord,
    MergeResult,
    Moved,
)
from crmkit.customers.services._common import RESOURCE, _history, _live, _save, customer_reader
from crmkit.customers.services.merge_parts import _PARTS
from crmkit.kernel.actor import Actor
from crmkit.kernel.converter import structure, unstructure
from crmkit.kernel.errors import NotFound, ValidationError, reason
from crmkit.kernel.event_origin import origin
from crmkit.kernel.i18n import N_
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import grants_for, guarded
from crmkit.rules.permissions.model import Grants

__all__ = [
    "merge_customers",
    "undo_merge",
]

_TYPES = typing.get_type_hints(Customer)


# -- use cases -------------------------------------------------------------------------------


def _require_merge(grants: Grants, survivor: Customer, others: Iterable[Customer]) -> None:
    grants.require("edit", survivor, RESOURCE)
    for other in others:
        # Folding a customer away removes it from lists: ``delete`` covers that, and so
        # does ``edit`` (a rep may tidy up her own duplicates without a delete grant).
        if not grants.can("edit", other, RESOURCE):
            grants.require("delete", other, RESOURCE)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == ()


def _chosen_values(
    survivor: Customer,
    others: Sequence[Customer],
    choose: Mapping[str, UUID],
) -> dict[str, Any]:
    by_id: dict[UUID, Customer] = {c.id: c for c in (survivor, *others)}
    values = {}
    for field in MERGEABLE_FIELDS:
        if field in choose:
            source = by_id[choose[field]]
            values[field] = getattr(source, field)
            continue
        if field == CUSTOM:
            # Field by field: the survivor's values stand, the others fill its gaps.
            kept = dict(survivor.custom)
            for other in others:
                for key, value in other.custom.items():
                    kept.setdefault(key, value)
            values[field] = CustomValues(kept)
            continue
        value = getattr(survivor, field)
        if _empty(value):
            value = next(
                (getattr(o, field) for o in others if not _empty(getattr(o, field))), value
            )
        values[field] = value
    return {f: v for f, v in values.items() if v != getattr(survivor, f)}


def _check_request(survivor_id: UUID, others: Sequence[UUID], choose: Mapping[str, UUID]) -> None:
    if not others:
        raise ValidationError(
            entity="customer_merge",
            field="merged_ids",
            reason=reason(N_("name at least one customer to merge")),
        )
    if survivor_id in others or len(set(others)) != len(others):
        raise ValidationError(
            entity="customer_merge",
            field="merged_ids",
            reason=reason(N_("a customer can be merged only once, and not into itself")),
        )
    involved = {survivor_id, *others}
    for field, source in choose.items():
        if field not in MERGEABLE_FIELDS:
            raise ValidationError(
                entity="customer_merge", field=field, reason=reason(N_("cannot be merged"))
            )
        if source not in involved:
            raise ValidationError(
                entity="customer_merge",
                field=field,
                reason=reason(N_("must come from one of the merged customers")),
            )


def merge_customers(
    crm: Crm,
    actor: Actor,
    survivor_id: UUID,
    others: Sequence[UUID],
    *,
    choose: Mapping[str, UUID] | None = None,
) -> MergeResult:
    """Fold the customers ``others`` into ``survivor_id``, in one transaction.

    Args:
        survivor_id: the customer that remains.
        others: the duplicates to fold in; they end in the recycle bin.
        choose: ``{field: customer_id}`` — take that field's value from that customer.
            Fields not named keep the survivor's value, or when it is empty the first
            non-empty value among ``others`` (in the order given). Owner and
            department are never merged (transfer the survivor for that).

    Returns:
        The merge, with the id :func:`undo_merge` takes.

    Raises:
        NotFound: a customer does not exist or is in the recycle bin.
        PermissionDenied: the actor may not edit the survivor, may neither delete nor
            edit one of the others, or may not write a chosen field.
        ValidationError: no others, a repeated id, or a field that cannot be merged.
        HierarchyCycle: the merged group hierarchy would loop.
    """
    others = list(others)
    choose = dict(choose or {})
    _check_request(survivor_id, others, choose)

    def work(uow: UnitOfWork) -> MergeResult:
        grants = grants_for(uow, actor)
        survivor = _live(uow, survivor_id)
        merged = [_live(uow, other) for other in others]
        _require_merge(grants, survivor, merged)
        now = crm.now()
        merge_id = crm.ids.new(now)
        changes = _chosen_values(survivor, merged, choose)
        grants.check_writable(RESOURCE, sorted(changes))
        fields_before = {f: unstructure(getattr(survivor, f)) for f in changes}

        moved: list[Moved] = []
        for name, part in _PARTS.items():
            moved += [attrs.evolve(m, part=name) for m in part.move(uow, others, survivor_id)]

        before = snapshot(survivor)
        event = survivor.change(now, **changes)
        _save(uow, crm, survivor, before, "merge", actor.user_id, now, event)
        _history(uow, crm, survivor_id, actor.user_id, "merge", {}, {"merge_id": merge_id}, now=now)
        for customer in merged:
            before = snapshot(customer)
            customer.deleted_at = now
            customer.deleted_by = actor.user_id
            # Its contacts moved already, so the save has no contacts left to follow it.
            _save(uow, crm, customer, before, "merge", actor.user_id, now)
            _history(
                uow,
                crm,
                customer.id,
                actor.user_id,
                "merge",
                {},
                {"merged_into": survivor_id, "merge_id": merge_id},
                now=now,
            )
        uow.repository(MergeRecord).add(
            MergeRecord(
                id=merge_id,
                tenant_id=uow.tenant_id,
                survivor_id=survivor_id,
                merged_ids=tuple(others),
                merged_at=now,
                merged_by=actor.user_id,
                fields_before=fields_before,
                moved=tuple(moved),
            )
        )
        uow.outbox.add(
            CustomersMerged(
                **origin(survivor, now),
                merge_id=merge_id,
                merged_ids=tuple(others),
            )
        )
        counts: dict[str, int] = {}
        for item in moved:
            counts[item.part] = counts.get(item.part, 0) + 1
        return MergeResult(
            merge_id=merge_id,
            survivor=customer_reader(uow, grants).redact(survivor),
            merged_ids=tuple(others),
            moved=counts,
        )

    return guarded(crm, actor, work)


def undo_merge(crm: Crm, actor: Actor, merge_id: UUID) -> Customer:
    """Undo a merge: the merged customers, their rows and the survivor's values come back.

    Every row the merge moved goes back to the customer it came from; relations the
    merge dropped are re-created; the survivor's overwritten fields get their old
    values; the merged customers leave the recycle bin. History records both the
    merge and its undo.

    The undo restores the values the merge overwrote even if the survivor was edited
    since; rows moved by the merge are put back wherever they are now.

    Returns:
        The survivor as it is after the undo.

    Raises:
        NotFound: no such merge, or a customer or moved row of it was deleted since
            (nothing is changed then).
        ValidationError: the merge was undone already.
        PermissionDenied: the actor could not have made the merge.
    """

    def work(uow: UnitOfWork) -> Customer:
        grants = grants_for(uow, actor)
        records = uow.repository(MergeRecord)
        record = records.find(merge_id)
        if record is None:
            raise NotFound(entity="customer_merge", id=merge_id)
        if record.undone_at is not None:
            raise ValidationError(
                entity="customer_merge", field="undone_at", reason=reason(N_("is undone already"))
            )
        customers = uow.repository(Customer)
        survivor = _live(uow, record.survivor_id)
        merged = [customers.get(i) for i in record.merged_ids]
        _require_merge(grants, survivor, merged)
        now = crm.now()
        by_part: dict[str, list[Moved]] = {}
        for item in record.moved:
            by_part.setdefault(item.part, []).append(item)
        for name in reversed(list(by_part)):
            part = _PARTS.get(name)
            if part is None:
                raise ValidationError(
                    entity="customer_merge",
                    field="moved",
                    reason=reason(N_("the area that moved {part} is not loaded"), part=name),
                )
            part.undo(uow, by_part[name])
        for customer in merged:
            before = snapshot(customer)
            customer.deleted_at = None
            customer.deleted_by = None
            _save(uow, crm, customer, before, "unmerge", actor.user_id, now)
        old = {f: structure(v, _TYPES[f]) for f, v in record.fields_before.items()}
        before = snapshot(survivor)
        event = survivor.change(now, **old)
        _save(uow, crm, survivor, before, "unmerge", actor.user_id, now, event)
        _history(
            uow, crm, survivor.id, actor.user_id, "unmerge", {"merge_id": merge_id}, {}, now=now
        )
        record.undone_at = now
        record.undone_by = actor.user_id
        records.save(record)
        uow.outbox.add(
            CustomerMergeUndone(
                **origin(survivor, now),
                merge_id=merge_id,
                merged_ids=record.merged_ids,
            )
        )
        return customer_reader(uow, grants).redact(survivor)

    return guarded(crm, actor, work)
