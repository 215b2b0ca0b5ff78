"""Reminder use cases: define rules, scan for what fell due, and act on a reminder.

``scan_due_reminders`` is the job a host runs every few minutes (cron, a worker,
a Celery beat). Each rule is one query over an indexed date column that returns
only the records due in the rule's window — a million contracts are never loaded
into Python — and one transaction that inserts the firings with idempotent ids
and writes a ``ReminderDue`` event per new firing to the outbox.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.errors import PermissionDenied
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId
from crmkit.kernel.invalid import invalid
from crmkit.kernel.limits import to_member
from crmkit.kernel.query import Expr, F, Order, Query, and_, or_
from crmkit.ports import Directory, UnitOfWork
from crmkit.rules.permissions import grants_for, guarded
from crmkit.rules.permissions.directory import OrgDirectory
from crmkit.rules.reminders.model import (
    FiringState,
    RecipientKind,
    ReminderFiring,
    ReminderRule,
    ReminderRuleId,
    TriggerKind,
    firing_id,
    month_day_key,
    source,
)

__all__ = [
    "complete_reminder",
    "define_reminder_rule",
    "dismiss_reminder",
    "my_reminders",
    "scan_due_reminders",
    "snooze_reminder",
]


# Reminder rules are tenant configuration: the administrator, or whoever holds "edit"
# (the resource is registered in registrations.py).
RULES = "reminder_rule"
# Fields the service fills itself; every other field without a default is required.
_GIVEN = frozenset({"id", "tenant_id"})


def define_reminder_rule(crm: Crm, actor: Actor, **fields: Any) -> ReminderRule:
    """Store a new reminder rule for the actor's tenant.

    Raises:
        PermissionDenied: the actor may not edit reminder rules (checked before the
            rule itself, so a refused caller learns nothing about its validity).
        ValidationError: the rule is incomplete or names unknown records or fields.
    """
    rule_id = ReminderRuleId(crm.new_id())

    def work(uow: UnitOfWork) -> ReminderRule:
        grants_for(uow, actor).require_operation("edit", RULES)
        missing = [
            f.name
            for f in attrs.fields(ReminderRule)
            if f.default is attrs.NOTHING and f.name not in fields and f.name not in _GIVEN
        ]
        if missing:
            raise invalid("reminder_rule", missing[0], N_("is required"))
        rule = ReminderRule(id=rule_id, tenant_id=actor.tenant_id, **fields)
        return uow.repository(ReminderRule).add(rule)

    return guarded(crm, actor, work)


def scan_due_reminders(
    crm: Crm,
    tenant_id: TenantId,
    *,
    directory: Directory | None = None,
    now: datetime | None = None,
) -> list[ReminderFiring]:
    """Fire every reminder that is due and has not fired yet; wake expired snoozes.

    Safe to run as often as you like and from several workers at once: each
    (rule, record, occurrence, recipient) fires exactly once.

    Returns:
        The firings this call created or woke (already committed).
    """
    at = now or crm.now()
    rules = crm.run(
        tenant_id, lambda uow: uow.repository(ReminderRule).query(Query(where=F("active").eq(True)))
    )
    fired: list[ReminderFiring] = []
    for rule in rules:

        def fire(uow: UnitOfWork, rule: ReminderRule = rule) -> list[ReminderFiring]:
            return _fire_rule(uow, rule, at, directory)

        fired += crm.run(tenant_id, fire)
    fired += crm.run(tenant_id, lambda uow: _wake_snoozed(uow, at))
    return fired


def _fire_rule(
    uow: UnitOfWork, rule: ReminderRule, now: datetime, directory: Directory | None
) -> list[ReminderFiring]:
    directory = directory or OrgDirectory(uow)
    due = list(_occurrences(uow, rule, now))
    firings: list[ReminderFiring] = []
    repo = uow.repository(ReminderFiring)
    for record, occurrence, due_at, title, day in due:
        for recipient in _recipients(uow, rule, record, directory):
            firing = ReminderFiring(
                id=firing_id(rule.id, _record_id(rule, record), occurrence, recipient),
                tenant_id=rule.tenant_id,
                rule_id=rule.id,
                record_id=_record_id(rule, record),
                occurrence=occurrence,
                recipient_id=recipient,
                channels=rule.channels,
                subject=_subject(rule, title, day, now),
                due_at=due_at,
                fired_at=now,
            )
            if repo.add_if_absent(firing):
                uow.outbox.add(firing.due_event(now))
                firings.append(firing)
    return firings


def _record_id(rule: ReminderRule, record: Any) -> uuid.UUID:
    return rule.id if record is None else uuid.UUID(str(record.id))


def _subject(rule: ReminderRule, title: str, day: date, now: datetime) -> str:
    days = (day - rule.local_today(now)).days
    try:
        return rule.subject.format(title=title, date=day.isoformat(), days=days)
    except (KeyError, IndexError, ValueError):
        return rule.subject


def _conditions(rule: ReminderRule) -> Expr:
    return and_(*(F(name).eq(value) for name, value in rule.only_when))


def _occurrences(
    uow: UnitOfWork, rule: ReminderRule, now: datetime
) -> Iterable[tuple[Any, str, datetime, str, date]]:
    """(record or None, occurrence key, due instant, title, due day) for everything due."""
    window = rule.window(now)
    if not window:
        return
    if rule.trigger is TriggerKind.DATE_FIELD:
        yield from _date_field(uow, rule, window)
    elif rule.trigger is TriggerKind.INACTIVITY:
        yield from _inactivity(uow, rule, now)
    elif rule.trigger is TriggerKind.CALENDAR:
        assert rule.recurrence is not None
        for day in rule.recurrence.occurrences_between(window[0], window[-1]):
            yield None, day.isoformat(), rule.due_at(day), rule.name, day
    elif rule.trigger is TriggerKind.ONE_OFF:
        assert rule.at is not None
        if now - timedelta(days=rule.lookback_days) < rule.at <= now:
            yield None, rule.at.isoformat(), rule.at, rule.name, rule.local_today(rule.at)


def _date_field(
    uow: UnitOfWork, rule: ReminderRule, window: list[date]
) -> Iterable[tuple[Any, str, datetime, str, date]]:
    watched = source(rule.resource or "")
    repo = uow.repository(watched.entity)
    field = rule.field or ""
    for offset in rule.offsets_days:
        # The record's date d is due on d + offset: look for d in the shifted window.
        dates = [day - timedelta(days=offset) for day in window]
        if rule.yearly:
            wanted = {month_day_key(d) for d in dates}
            # A 29 February date falls on 28 February in a common year.
            if any((d.month, d.day) == (2, 28) and not _is_leap(d.year) for d in dates):
                wanted.add(_FEB_29)
            where: Expr = F(f"{field}_md").is_in(sorted(wanted))
        else:
            where = F(field).ge(dates[0]) & F(field).le(dates[-1])
        query = Query(where=and_(where, _conditions(rule)), order_by=(Order(field),))
        for record in repo.query(query):
            value: date = getattr(record, field)
            if rule.yearly:
                base = _this_years(value, dates)
                if base is None:
                    continue
            else:
                base = value
            day = base + timedelta(days=offset)
            yield (
                record,
                f"{base.isoformat()}{offset:+d}d",
                rule.due_at(day),
                str(getattr(record, watched.title_field, "")),
                day,
            )


_FEB_29 = month_day_key(date(2000, 2, 29))


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _this_years(value: date, dates: list[date]) -> date | None:
    for d in dates:
        if (d.month, d.day) == (value.month, value.day):
            return d
        if (
            (value.month, value.day) == (2, 29)
            and (d.month, d.day) == (2, 28)
            and not _is_leap(d.year)
        ):
            return d
    return None


def _inactivity(
    uow: UnitOfWork, rule: ReminderRule, now: datetime
) -> Iterable[tuple[Any, str, datetime, str, date]]:
    watched = source(rule.resource or "")
    field = rule.field or ""
    cutoff = now - timedelta(days=rule.inactive_days or 0)
    quiet: Expr = F(field).le(cutoff)
    if watched.created_field is not None:
        quiet = or_(quiet, F(field).is_null() & F(watched.created_field).le(cutoff))
    for record in uow.repository(watched.entity).query(Query(where=and_(quiet, _conditions(rule)))):
        last = getattr(record, field) or getattr(record, watched.created_field or "", None)
        if last is None:
            continue
        due = last + timedelta(days=rule.inactive_days or 0)
        yield (
            record,
            f"quiet-since-{last.isoformat()}",
            due,
            str(getattr(record, watched.title_field, "")),
            rule.local_today(due),
        )


def _recipients(
    uow: UnitOfWork, rule: ReminderRule, record: Any, directory: Directory | None
) -> list[uuid.UUID]:
    found: list[uuid.UUID] = []
    owner = None
    if record is not None:
        owner = getattr(record, source(rule.resource or "").owner_field, None)
    for clause in rule.recipients:
        if clause.kind is RecipientKind.OWNER and owner is not None:
            found.append(owner)
        elif clause.kind is RecipientKind.OWNER_MANAGER and owner is not None and directory:
            manager = directory.manager_of(rule.tenant_id, owner)
            if manager is not None:
                found.append(manager)
        elif clause.kind is RecipientKind.ROLE and directory is not None and clause.role:
            found += directory.members_of_role(rule.tenant_id, clause.role)
        elif clause.kind is RecipientKind.USERS:
            found += clause.users
    return list(dict.fromkeys(found))  # each person once, in clause order


def _wake_snoozed(uow: UnitOfWork, now: datetime) -> list[ReminderFiring]:
    repo = uow.repository(ReminderFiring)
    woken = []
    for firing in repo.query(
        Query(where=F("state").eq(FiringState.SNOOZED) & F("snoozed_until").le(now))
    ):
        uow.outbox.add(firing.wake(now))
        repo.save(firing)
        woken.append(firing)
    return woken


def my_reminders(
    crm: Crm,
    actor: Actor,
    *,
    states: Iterable[FiringState] = (FiringState.DUE,),
    limit: int = 100,
) -> list[ReminderFiring]:
    """The actor's own reminders, oldest due first.

    Args:
        states: the states to list; a form may send each as text (``"due"``), and one
            text is one state, not its letters.

    Raises:
        ValidationError: a state that is none of :class:`FiringState`'s.
    """
    given = [states] if isinstance(states, str | FiringState) else list(states)
    wanted = {to_member(FiringState, s, entity="reminder", field="states") for s in given}
    where = F("recipient_id").eq(actor.user_id) & F("state").is_in(
        sorted(wanted, key=lambda state: state.value)
    )
    query = Query(where=where, order_by=(Order("due_at"),), limit=limit)
    return crm.run(actor.tenant_id, lambda uow: uow.repository(ReminderFiring).query(query))


def _act(
    crm: Crm, actor: Actor, firing_id_: uuid.UUID, action: str, until: datetime | None = None
) -> ReminderFiring:
    def work(uow: UnitOfWork) -> ReminderFiring:
        repo = uow.repository(ReminderFiring)
        firing = repo.get(firing_id_)
        if firing.recipient_id != actor.user_id:
            raise PermissionDenied(actor=actor, operation=action, resource="reminder")
        now = crm.now()
        if action == "snooze":
            assert until is not None
            event = firing.snooze(until, now)
        elif action == "dismiss":
            event = firing.dismiss(now)
        else:
            event = firing.complete(now)
        repo.save(firing)
        uow.outbox.add(event)
        return firing

    return crm.run(actor.tenant_id, work)


def snooze_reminder(crm: Crm, actor: Actor, firing: uuid.UUID, until: datetime) -> ReminderFiring:
    """Put one of the actor's reminders off until ``until``; the scan wakes it then."""
    return _act(crm, actor, firing, "snooze", until)


def dismiss_reminder(crm: Crm, actor: Actor, firing: uuid.UUID) -> ReminderFiring:
    """Dismiss one of the actor's reminders."""
    return _act(crm, actor, firing, "dismiss")


def complete_reminder(crm: Crm, actor: Actor, firing: uuid.UUID) -> ReminderFiring:
    """Mark one of the actor's reminders done."""
    return _act(crm, actor, firing, "complete")
