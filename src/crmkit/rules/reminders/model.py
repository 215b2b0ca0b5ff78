"""Reminder rules: what to remind, when, whom and how.

A CRM lives on reminders: a contract ends in 30 days, a customer has a birthday,
a receivable falls due in 3 days or is 1, 7 or 30 days overdue, nobody followed
up a customer for two weeks, the weekly sales meeting, a one-off call-back. A
:class:`ReminderRule` says it as data:

- **date-field** triggers read a date on a record (``Contract.end_date``) and fire
  at that date plus each offset in days (``-30`` is thirty days before); a
  **yearly** rule fires on the month and day every year (birthdays) and reads the
  record's ``<field>_md`` text (``"0314"``, see :func:`month_day_key`), which the
  record keeps beside the date; a 29 February date falls on 28 February in common years;
- **inactivity** triggers fire when a record's last-activity instant is older
  than N days (once per quiet stretch: new activity starts a new one);
- **calendar** rules fire on the days of a :class:`~crmkit.kernel.recurrence.Recurrence`;
- **one-off** rules fire once at an instant.

Every firing is a :class:`ReminderFiring` for one (rule, record, occurrence,
recipient), with an id derived from those four, so scanning twice — or two
workers scanning at once — fires each exactly once. A firing can be snoozed,
dismissed or marked done by its recipient.
"""

from __future__ import annotations

import enum
import functools
import uuid
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any, NewType

import attrs
import pendulum

from crmkit.kernel.entity import Entity
from crmkit.kernel.event_origin import origin
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId
from crmkit.kernel.invalid import invalid
from crmkit.kernel.machine import Machine, Transition
from crmkit.kernel.recurrence import Recurrence

__all__ = [
    "FiringState",
    "RecipientKind",
    "Recipients",
    "ReminderDismissed",
    "ReminderDone",
    "ReminderDue",
    "ReminderEvent",
    "ReminderFiring",
    "ReminderRule",
    "ReminderRuleId",
    "ReminderSnoozed",
    "ReminderSource",
    "TriggerKind",
    "month_day_key",
    "register_source",
]

ReminderRuleId = NewType("ReminderRuleId", uuid.UUID)
_ENTITY = N_("reminder rule")
_FIRINGS = uuid.UUID("0b8c4f8e-4a9e-4c57-9a1e-5d0f3f0f7a21")


class TriggerKind(enum.Enum):
    """What makes a rule fire."""

    DATE_FIELD = "date_field"
    INACTIVITY = "inactivity"
    CALENDAR = "calendar"
    ONE_OFF = "one_off"


class RecipientKind(enum.Enum):
    """Whom a rule reminds."""

    OWNER = "owner"
    OWNER_MANAGER = "owner_manager"
    ROLE = "role"
    USERS = "users"


@attrs.frozen
class Recipients:
    """One recipient clause: the record's owner, the owner's manager, a role or named users."""

    kind: RecipientKind
    role: str | None = None
    users: tuple[uuid.UUID, ...] = ()

    @classmethod
    def owner(cls) -> Recipients:
        """The record's owner."""
        return cls(RecipientKind.OWNER)

    @classmethod
    def owner_manager(cls) -> Recipients:
        """The manager of the record's owner."""
        return cls(RecipientKind.OWNER_MANAGER)

    @classmethod
    def of_role(cls, role: str) -> Recipients:
        """Everyone holding ``role``."""
        return cls(RecipientKind.ROLE, role=role)

    @classmethod
    def named(cls, *users: uuid.UUID) -> Recipients:
        """These users."""
        return cls(RecipientKind.USERS, users=tuple(users))


@attrs.frozen
class ReminderSource:
    """A kind of record reminders may watch, declared by the area that owns it.

    Attributes:
        resource: the name rules use (``"customer"``, ``"contract"``).
        entity: the aggregate class.
        title_field: the field that names a record in a reminder (``name``, ``number``).
        owner_field: the field holding the owning user.
        created_field: the creation instant, used by inactivity rules when a record
            never had any activity.
    """

    resource: str
    entity: type[Any]
    title_field: str = "name"
    owner_field: str = "owner_id"
    created_field: str | None = "created_at"

    def fields(self) -> Mapping[str, Any]:
        """The record's stored fields by name."""
        return {f.name: f for f in attrs.fields(self.entity)}


_SOURCES: dict[str, ReminderSource] = {}


def month_day_key(day: date) -> str:
    """The ``<field>_md`` text a record keeps beside a date that yearly rules watch.

    ``"MMDD"``: the month and day, zero-padded, without the year, so "whose birthday
    falls on these days" is one indexed ``IN`` lookup. Every record that yearly rules
    watch must store this form (the scan looks for it), so build it with this function.

    Examples:
        >>> month_day_key(date(1985, 3, 14))
        '0314'
    """
    return f"{day.month:02d}{day.day:02d}"


def register_source(source_: ReminderSource) -> ReminderSource:
    """Let rules watch records of ``source_.resource`` (areas call this at import)."""
    _SOURCES[source_.resource] = source_
    return source_


def source(resource: str) -> ReminderSource:
    """The registered source named ``resource``.

    Raises:
        ValidationError: nothing of that name is registered.
    """
    try:
        return _SOURCES[resource]
    except KeyError:
        raise invalid(
            _ENTITY,
            "resource",
            N_("{resource} is not a kind of record reminders can watch"),
            resource=resource,
        ) from None


_invalid = functools.partial(invalid, _ENTITY)


@attrs.define(eq=False)
class ReminderRule(Entity):
    """A reminder rule (see the module docstring for the four kinds).

    Attributes:
        name: what the rule is for, shown to administrators.
        trigger: the kind of rule.
        subject: the reminder text; ``{title}``, ``{date}`` and ``{days}`` are filled in.
        resource, field: the watched records and their date (or last-activity) field.
        offsets_days: date-field rules fire at the date plus each offset.
        yearly: a date-field rule that repeats every year on the month and day.
        inactive_days: inactivity rules fire after this many quiet days.
        recurrence: the days of a calendar rule.
        at: the instant of a one-off rule.
        only_when: equality conditions a record must meet (``(("status", "active"),)``).
        time_of_day, timezone: when on a due day the reminder is due, in local time.
        recipients, channels: whom to remind and through which notifiers.
        lookback_days: a scan that ran late still fires what fell due this many days back.
        active: inactive rules never fire.
    """

    entity_name = _ENTITY

    id: ReminderRuleId
    tenant_id: TenantId
    name: str
    trigger: TriggerKind
    subject: str
    resource: str | None = None
    field: str | None = None
    offsets_days: tuple[int, ...] = (0,)
    yearly: bool = False
    inactive_days: int | None = None
    recurrence: Recurrence | None = None
    at: datetime | None = None
    only_when: tuple[tuple[str, str], ...] = ()
    time_of_day: time = time(9, 0)
    timezone: str = "Asia/Shanghai"
    recipients: tuple[Recipients, ...] = (Recipients(RecipientKind.OWNER),)
    channels: tuple[str, ...] = ("inbox",)
    lookback_days: int = 7
    active: bool = True
    version: int = 0

    def __attrs_post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check the rule is complete and consistent for its kind.

        Raises:
            ValidationError: naming the first field at fault.
        """
        if not self.name.strip():
            raise _invalid("name", N_("is required"))
        if not self.recipients:
            raise _invalid("recipients", N_("name at least one recipient"))
        if not self.channels:
            raise _invalid("channels", N_("name at least one channel"))
        if self.lookback_days < 1:
            raise _invalid("lookback_days", N_("must be a whole number of at least 1"))
        try:
            pendulum.timezone(self.timezone)
        except Exception:
            raise _invalid("timezone", N_("unknown timezone {tz}"), tz=self.timezone) from None
        if self.trigger in (TriggerKind.DATE_FIELD, TriggerKind.INACTIVITY):
            self._validate_record_rule()
        elif self.trigger is TriggerKind.CALENDAR and self.recurrence is None:
            raise _invalid("recurrence", N_("is required"))
        elif self.trigger is TriggerKind.ONE_OFF and self.at is None:
            raise _invalid("at", N_("is required"))
        if self.trigger in (TriggerKind.CALENDAR, TriggerKind.ONE_OFF) and any(
            r.kind is not RecipientKind.USERS and r.kind is not RecipientKind.ROLE
            for r in self.recipients
        ):
            raise _invalid(
                "recipients", N_("a rule without records can only remind users or roles")
            )

    def _validate_record_rule(self) -> None:
        if self.resource is None:
            raise _invalid("resource", N_("is required"))
        watched = source(self.resource)
        fields = watched.fields()
        if self.field is None or self.field not in fields:
            raise _invalid(
                "field",
                N_("{resource} has no field {name}"),
                resource=self.resource,
                name=self.field,
            )
        if self.yearly and f"{self.field}_md" not in fields:
            raise _invalid(
                "yearly",
                N_("{resource} keeps no month-day field {name}_md"),
                resource=self.resource,
                name=self.field,
            )
        if self.trigger is TriggerKind.INACTIVITY and (self.inactive_days or 0) < 1:
            raise _invalid("inactive_days", N_("must be a whole number of at least 1"))
        if self.trigger is TriggerKind.DATE_FIELD and not self.offsets_days:
            raise _invalid("offsets_days", N_("name at least one offset"))
        for name, _value in self.only_when:
            if name not in fields:
                raise _invalid(
                    "only_when",
                    N_("{resource} has no field {name}"),
                    resource=self.resource,
                    name=name,
                )
        if any(r.kind is RecipientKind.ROLE and not r.role for r in self.recipients):
            raise _invalid("recipients", N_("a role recipient needs the role's name"))

    def local_today(self, now: datetime) -> date:
        """The rule's local date at ``now``."""
        return pendulum.instance(now).in_timezone(self.timezone).date()

    def due_at(self, day: date) -> pendulum.DateTime:
        """The instant the rule's reminders for ``day`` fall due (UTC)."""
        from crmkit.kernel.recurrence import at_time

        return at_time(day, self.time_of_day, self.timezone)

    def window(self, now: datetime) -> list[date]:
        """The local days whose reminders are due at ``now`` and still within the lookback."""
        today = self.local_today(now)
        days = [today - timedelta(days=back) for back in range(self.lookback_days)]
        return sorted(d for d in days if self.due_at(d) <= now)


def firing_id(
    rule_id: uuid.UUID, record_id: uuid.UUID, occurrence: str, recipient: uuid.UUID
) -> uuid.UUID:
    """The id of a firing: the same four facts always give the same id."""
    return uuid.uuid5(_FIRINGS, f"{rule_id}/{record_id}/{occurrence}/{recipient}")


class FiringState(enum.Enum):
    """Where a fired reminder stands for its recipient."""

    DUE = "due"
    SNOOZED = "snoozed"
    DISMISSED = "dismissed"
    DONE = "done"


@attrs.frozen(kw_only=True)
class ReminderEvent(DomainEvent):
    """Base of the events of a :class:`ReminderFiring` (its ``aggregate_id``)."""

    aggregate_type = "reminder"


@attrs.frozen(kw_only=True)
class ReminderDue(ReminderEvent):
    """A reminder fell due for one recipient: notifiers deliver it on ``channels``."""

    rule_id: uuid.UUID
    record_id: uuid.UUID
    occurrence: str
    recipient_id: uuid.UUID
    channels: tuple[str, ...]
    subject: str


@attrs.frozen(kw_only=True)
class ReminderSnoozed(ReminderEvent):
    """The recipient put a reminder off until ``until``."""

    until: datetime


@attrs.frozen(kw_only=True)
class ReminderDismissed(ReminderEvent):
    """The recipient dismissed a reminder."""


@attrs.frozen(kw_only=True)
class ReminderDone(ReminderEvent):
    """The recipient did what the reminder asked."""


@attrs.define(eq=False)
class ReminderFiring(Entity):
    """One reminder for one recipient: due, snoozed, dismissed or done."""

    entity_name = N_("reminder")

    id: uuid.UUID
    tenant_id: TenantId
    rule_id: ReminderRuleId
    record_id: uuid.UUID
    occurrence: str
    recipient_id: uuid.UUID
    subject: str
    channels: tuple[str, ...]
    due_at: datetime
    fired_at: datetime
    state: FiringState = FiringState.DUE
    snoozed_until: datetime | None = None
    version: int = 0

    def due_event(self, now: datetime) -> ReminderDue:
        """The event that tells notifiers to deliver this reminder."""
        return ReminderDue(
            **origin(self, now),
            rule_id=self.rule_id,
            record_id=self.record_id,
            occurrence=self.occurrence,
            recipient_id=self.recipient_id,
            channels=self.channels,
            subject=self.subject,
        )

    def snooze(self, until: datetime, now: datetime) -> DomainEvent | None:
        """Put it off until ``until`` (which must lie ahead)."""
        if until <= now:
            raise invalid("reminder", "until", N_("must lie in the future"))
        event = FIRING.fire(self, "snooze", now=now, payload={"until": until})
        self.snoozed_until = until
        return event

    def wake(self, now: datetime) -> ReminderDue:
        """A snooze ran out: due again."""
        FIRING.fire(self, "wake", now=now)
        self.snoozed_until = None
        return self.due_event(now)

    def dismiss(self, now: datetime) -> DomainEvent | None:
        """The recipient does not want this reminder any more."""
        return FIRING.fire(self, "dismiss", now=now)

    def complete(self, now: datetime) -> DomainEvent | None:
        """The recipient did it."""
        return FIRING.fire(self, "complete", now=now)


FIRING: Machine[FiringState] = Machine(
    name="reminder",
    states=FiringState,
    initial=FiringState.DUE,
    final={FiringState.DISMISSED, FiringState.DONE},
    state_attr="state",
    transitions=[
        Transition(
            "snooze",
            source=(FiringState.DUE, FiringState.SNOOZED),
            target=FiringState.SNOOZED,
            event=ReminderSnoozed,
        ),
        Transition("wake", source=FiringState.SNOOZED, target=FiringState.DUE),
        Transition(
            "dismiss",
            source=(FiringState.DUE, FiringState.SNOOZED),
            target=FiringState.DISMISSED,
            event=ReminderDismissed,
        ),
        Transition(
            "complete",
            source=(FiringState.DUE, FiringState.SNOOZED),
            target=FiringState.DONE,
            event=ReminderDone,
        ),
    ],
)
