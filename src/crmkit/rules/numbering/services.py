"""Numbering use cases: define a rule, and take numbers inside another use case.

``next_number(uow, doc_type, now)`` is meant to be called *inside* the unit of
work that stores the document, so the document and its number commit together
and a rolled-back document gives its number back — that is what gap-free means.
The counter row is incremented with one atomic statement (on SQL:
``INSERT ... ON CONFLICT DO UPDATE SET value = value + n RETURNING value``), which
keeps the row locked until the transaction ends; a concurrent writer waits on
the lock and then continues from the committed value, so numbers never repeat.

``next_numbers(uow, doc_type, now, count)`` reserves a run of numbers with one
statement, for batch creation (an import of 500 customers, a bulk of invoices):
one lock round-trip for the whole run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import NotFound, PermissionDenied, ValidationError, reason
from crmkit.kernel.i18n import N_
from crmkit.kernel.limits import check_text, expect_type, to_member
from crmkit.kernel.query import Order, Query
from crmkit.ports import UnitOfWork, queries
from crmkit.rules.numbering.model import (
    NumberCounter,
    NumberingRule,
    NumberPattern,
    Reset,
    counter_id,
    local_time,
    numbering_rule_id,
)
from crmkit.rules.permissions import grants_for, guarded

__all__ = [
    "MemorySequenceCounter",
    "SequenceCounter",
    "define_numbering_rule",
    "get_numbering_rule",
    "list_numbering_rules",
    "next_number",
    "next_numbers",
    "preview_number",
]

RESOURCE = "numbering_rule"


class SequenceCounter(Protocol):
    """Port: moves a period's counter forward inside the current transaction."""

    def advance(self, doc_type: str, period: str, count: int) -> int:
        """Add ``count`` to the counter (created at 0) and return its new value."""
        ...


class MemorySequenceCounter:
    """The counter on the memory adapter: a ``NumberCounter`` aggregate per period.

    Two memory units of work taking numbers at the same time both stage the same
    counter; the second to commit gets ``ConcurrencyConflict`` and stores nothing,
    so numbers stay unique and gap-free there too.
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def advance(self, doc_type: str, period: str, count: int) -> int:
        """Add ``count`` to the counter and return its new value."""
        repository = self._uow.repository(NumberCounter)
        key = counter_id(self._uow.tenant_id, doc_type, period)
        counter = repository.find(key)
        if counter is None:
            counter = NumberCounter(
                id=key, tenant_id=self._uow.tenant_id, doc_type=doc_type, period=period
            )
            counter.value = count
            repository.add(counter)
        else:
            counter.value += count
            repository.save(counter)
        return counter.value


def _doc_type(value: str) -> str:
    # The rule's id is derived from the type: text no backend stores cannot name a rule.
    # (Services check the type at their door; next_numbers is called by areas' code.)
    expect_type(value, str, field="doc_type")
    return check_text(value, entity=RESOURCE, field="doc_type")


def _rule(uow: UnitOfWork, doc_type: str) -> NumberingRule:
    rule = uow.repository(NumberingRule).find(numbering_rule_id(uow.tenant_id, _doc_type(doc_type)))
    if rule is None:
        raise NotFound(entity=RESOURCE, id=doc_type)
    return rule


def next_numbers(uow: UnitOfWork, doc_type: str, now: datetime, count: int) -> list[str]:
    """Take ``count`` consecutive numbers for ``doc_type`` inside ``uow``'s transaction.

    Args:
        uow: the open unit of work that also stores the documents.
        doc_type: the document type whose rule applies.
        now: the issue instant; it picks the date tokens and the reset period.
        count: how many numbers (at least 1).

    Returns:
        The numbers in ascending sequence order.

    Raises:
        NotFound: the tenant has no rule for ``doc_type``.
        ValidationError: ``count`` is below 1.
    """
    if count < 1:
        raise ValidationError(
            entity=RESOURCE, field="count", reason=reason(N_("must be at least 1"))
        )
    rule = _rule(uow, doc_type)
    local = rule.local(now)
    counter: SequenceCounter = queries(uow, SequenceCounter)
    last = counter.advance(doc_type, rule.reset.period(local), count)
    pattern = rule.parsed
    return [pattern.render(local, value) for value in range(last - count + 1, last + 1)]


def next_number(uow: UnitOfWork, doc_type: str, now: datetime) -> str:
    """Take the next number for ``doc_type`` inside ``uow``'s transaction.

    Call it from the use case that stores the document; a rollback returns the number.

    Raises:
        NotFound: the tenant has no rule for ``doc_type``.
    """
    return next_numbers(uow, doc_type, now, 1)[0]


def preview_number(
    pattern: str, reset: Reset | str, now: datetime, *, timezone: str = "UTC"
) -> str:
    """What the first number of a period would look like (for the settings screen).

    Raises:
        ValidationError: the pattern or reset is invalid.
    """
    parsed = NumberPattern.parse(pattern)
    parsed.check_reset(to_member(Reset, reset, entity="numbering_rule", field="reset"))
    return parsed.render(local_time(now, timezone), 1)


def _require_admin(uow: UnitOfWork, actor: Actor) -> None:
    grants = grants_for(uow, actor)
    if not grants.is_tenant_admin:
        raise PermissionDenied(actor=grants.label, operation="administer", resource=RESOURCE)


def define_numbering_rule(
    crm: Crm,
    actor: Actor,
    doc_type: str,
    pattern: str,
    reset: Reset | str = Reset.NEVER,
    *,
    timezone: str = "UTC",
) -> NumberingRule:
    """Create or replace the tenant's numbering rule for ``doc_type`` (administrators only).

    Counters are kept per reset period, so a changed rule continues from the counter
    of its own period and never re-issues a number of the old one in that period.

    Raises:
        ValidationError: bad pattern, a reset the pattern cannot tell apart, or time zone.
        PermissionDenied: the actor is not a tenant administrator.
    """
    _doc_type(doc_type)
    candidate = NumberingRule(
        id=numbering_rule_id(actor.tenant_id, doc_type),
        tenant_id=actor.tenant_id,
        doc_type=doc_type,
        reset=to_member(Reset, reset, entity="numbering_rule", field="reset"),
        pattern=pattern,
        timezone=timezone,
    )

    def work(uow: UnitOfWork) -> NumberingRule:
        _require_admin(uow, actor)
        repository = uow.repository(NumberingRule)
        existing = repository.find(candidate.id)
        if existing is None:
            return repository.add(candidate)
        candidate.version = existing.version
        return repository.save(candidate)

    return guarded(crm, actor, work)


def get_numbering_rule(crm: Crm, actor: Actor, doc_type: str) -> NumberingRule:
    """The tenant's rule for ``doc_type``.

    Raises:
        NotFound: none is defined.
    """
    return crm.run(actor.tenant_id, lambda uow: _rule(uow, doc_type))


def list_numbering_rules(crm: Crm, actor: Actor) -> list[NumberingRule]:
    """Every numbering rule of the actor's tenant, by document type."""

    def work(uow: UnitOfWork) -> list[NumberingRule]:
        return uow.repository(NumberingRule).query(Query(order_by=(Order("doc_type"),)))

    return crm.run(actor.tenant_id, work)
