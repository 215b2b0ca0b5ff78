"""Reminder rules fire what is due, once, to the right people, on every backend."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable

import pendulum
import pytest

from crmkit import Crm, PermissionDenied, ValidationError
from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import FixedClock
from crmkit.kernel.errors import InvalidTransition
from crmkit.kernel.ids import TenantId, UserId
from crmkit.kernel.recurrence import Recurrence, WeekDay
from crmkit.rules.directory import InMemoryDirectory
from crmkit.rules.reminders import (
    FiringState,
    Recipients,
    ReminderDue,
    TriggerKind,
    complete_reminder,
    define_reminder_rule,
    dismiss_reminder,
    my_reminders,
    scan_due_reminders,
    snooze_reminder,
)
from tests.rules.reminders.agreements import Agreement, ensure_table

SHANGHAI_9AM_UTC = "01:00:00Z"  # 09:00 in Asia/Shanghai


@pytest.fixture
def rcrm(crm: Crm) -> Crm:
    engine = getattr(crm.storage, "engine", None)
    if engine is not None:
        ensure_table(engine)
    return crm


def agreement(crm: Crm, tenant: TenantId, owner: uuid.UUID, **fields: object) -> Agreement:
    record = Agreement(
        id=uuid.uuid4(),
        tenant_id=tenant,
        name=str(fields.pop("name", "合同")),
        created_at=crm.now(),
        owner_id=owner,
        **fields,
    )  # type: ignore[arg-type]
    crm.run(tenant, lambda uow: uow.repository(Agreement).add(record))
    return record


def due_events(crm: Crm, tenant: TenantId) -> list[ReminderDue]:
    return [
        e
        for e in crm.run(tenant, lambda uow: uow.outbox.pending(1000))
        if isinstance(e, ReminderDue)
    ]


def test_contract_end_minus_30_days_fires_once(rcrm: Crm, actor: Actor, clock: FixedClock) -> None:
    clock.set(f"2026-03-02T{SHANGHAI_9AM_UTC}")
    ending = agreement(
        rcrm, actor.tenant_id, actor.user_id, name="HT-001", end_date=dt.date(2026, 4, 1)
    )
    agreement(rcrm, actor.tenant_id, actor.user_id, name="later", end_date=dt.date(2026, 6, 1))
    define_reminder_rule(
        rcrm,
        actor,
        name="contract expiry",
        trigger=TriggerKind.DATE_FIELD,
        resource="agreement",
        field="end_date",
        offsets_days=(-30,),
        subject="{title} ends on {date} ({days} days)",
    )
    fired = scan_due_reminders(rcrm, actor.tenant_id)
    assert [(f.record_id, f.recipient_id) for f in fired] == [(ending.id, actor.user_id)]
    assert fired[0].subject == "HT-001 ends on 2026-03-02 (0 days)"
    assert scan_due_reminders(rcrm, actor.tenant_id) == []  # idempotent
    assert len(due_events(rcrm, actor.tenant_id)) == 1


def test_due_soon_and_overdue_offsets_each_fire_on_their_day(
    rcrm: Crm, actor: Actor, clock: FixedClock
) -> None:
    agreement(rcrm, actor.tenant_id, actor.user_id, end_date=dt.date(2026, 3, 10))
    define_reminder_rule(
        rcrm,
        actor,
        name="receivable due",
        trigger=TriggerKind.DATE_FIELD,
        resource="agreement",
        field="end_date",
        offsets_days=(-3, 1, 7, 30),
        subject="{title} due {date}",
        lookback_days=1,
    )
    seen = []
    day = pendulum.datetime(2026, 3, 1, 1, tz="UTC")
    for _ in range(45):
        clock.set(day)
        seen += [
            (f.occurrence, clock.now().date()) for f in scan_due_reminders(rcrm, actor.tenant_id)
        ]
        day = day.add(days=1)
    assert seen == [
        ("2026-03-10-3d", dt.date(2026, 3, 7)),
        ("2026-03-10+1d", dt.date(2026, 3, 11)),
        ("2026-03-10+7d", dt.date(2026, 3, 17)),
        ("2026-03-10+30d", dt.date(2026, 4, 9)),
    ]


def test_nothing_fires_before_the_local_time_of_day(
    rcrm: Crm, actor: Actor, clock: FixedClock
) -> None:
    agreement(rcrm, actor.tenant_id, actor.user_id, end_date=dt.date(2026, 3, 2))
    define_reminder_rule(
        rcrm,
        actor,
        name="due",
        trigger=TriggerKind.DATE_FIELD,
        resource="agreement",
        field="end_date",
        subject="due",
    )
    clock.set("2026-03-02T00:30:00Z")  # 08:30 in Shanghai
    assert scan_due_reminders(rcrm, actor.tenant_id) == []
    clock.set("2026-03-02T01:00:00Z")
    assert len(scan_due_reminders(rcrm, actor.tenant_id)) == 1


def test_a_late_scan_catches_up_within_the_lookback_only(
    rcrm: Crm, actor: Actor, clock: FixedClock
) -> None:
    agreement(rcrm, actor.tenant_id, actor.user_id, name="recent", end_date=dt.date(2026, 3, 5))
    agreement(rcrm, actor.tenant_id, actor.user_id, name="old", end_date=dt.date(2026, 2, 1))
    define_reminder_rule(
        rcrm,
        actor,
        name="due",
        trigger=TriggerKind.DATE_FIELD,
        resource="agreement",
        field="end_date",
        subject="{title}",
        lookback_days=7,
    )
    clock.set("2026-03-08T02:00:00Z")
    assert [f.subject for f in scan_due_reminders(rcrm, actor.tenant_id)] == ["recent"]


def test_birthdays_fire_every_year_and_feb_29_falls_on_feb_28(
    rcrm: Crm, actor: Actor, clock: FixedClock
) -> None:
    leapling = agreement(
        rcrm,
        actor.tenant_id,
        actor.user_id,
        name="闰年生",
        birthday=dt.date(1992, 2, 29),
        birthday_md="0229",
    )
    agreement(
        rcrm,
        actor.tenant_id,
        actor.user_id,
        name="三月生",
        birthday=dt.date(1990, 3, 14),
        birthday_md="0314",
    )
    define_reminder_rule(
        rcrm,
        actor,
        name="birthday",
        trigger=TriggerKind.DATE_FIELD,
        resource="agreement",
        field="birthday",
        yearly=True,
        subject="{title} birthday {date}",
        lookback_days=1,
    )
    fired = []
    for year in (2026, 2027, 2028):
        for month, day in ((2, 28), (2, 29), (3, 1), (3, 14)):
            try:
                clock.set(pendulum.datetime(year, month, day, 2, tz="UTC"))
            except ValueError:
                continue
            fired += [f.subject for f in scan_due_reminders(rcrm, actor.tenant_id)]
    assert fired == [
        "闰年生 birthday 2026-02-28",
        "三月生 birthday 2026-03-14",
        "闰年生 birthday 2027-02-28",
        "三月生 birthday 2027-03-14",
        "闰年生 birthday 2028-02-29",
        "三月生 birthday 2028-03-14",
    ]
    assert leapling.birthday is not None


def test_inactivity_fires_once_per_quiet_stretch(
    rcrm: Crm, actor: Actor, clock: FixedClock
) -> None:
    quiet = agreement(
        rcrm,
        actor.tenant_id,
        actor.user_id,
        name="quiet",
        last_activity_at=pendulum.datetime(2026, 2, 1, tz="UTC"),
    )
    agreement(
        rcrm,
        actor.tenant_id,
        actor.user_id,
        name="busy",
        last_activity_at=pendulum.datetime(2026, 3, 1, tz="UTC"),
    )
    define_reminder_rule(
        rcrm,
        actor,
        name="follow up",
        trigger=TriggerKind.INACTIVITY,
        resource="agreement",
        field="last_activity_at",
        inactive_days=14,
        subject="no follow-up on {title}",
    )
    assert [f.subject for f in scan_due_reminders(rcrm, actor.tenant_id)] == [
        "no follow-up on quiet"
    ]
    assert scan_due_reminders(rcrm, actor.tenant_id) == []

    def touch(uow):  # new activity, then quiet again
        record = uow.repository(Agreement).get(quiet.id)
        record.last_activity_at = pendulum.datetime(2026, 3, 2, tz="UTC")
        uow.repository(Agreement).save(record)

    rcrm.run(actor.tenant_id, touch)
    clock.advance(days=20)
    assert sorted(f.subject for f in scan_due_reminders(rcrm, actor.tenant_id)) == [
        "no follow-up on busy",
        "no follow-up on quiet",
    ]


def test_calendar_and_one_off_rules_remind_named_users(
    rcrm: Crm, actor: Actor, clock: FixedClock
) -> None:
    colleague = uuid.uuid4()
    define_reminder_rule(
        rcrm,
        actor,
        name="周会 weekly meeting",
        trigger=TriggerKind.CALENDAR,
        subject="{title}",
        recurrence=Recurrence.weekly(dt.date(2026, 1, 5), weekdays=(WeekDay.MONDAY,)),
        recipients=(Recipients.named(actor.user_id, colleague),),
        lookback_days=1,
    )
    define_reminder_rule(
        rcrm,
        actor,
        name="call back 张总",
        trigger=TriggerKind.ONE_OFF,
        subject="{title}",
        at=pendulum.datetime(2026, 3, 4, 6, tz="UTC"),
        recipients=(Recipients.named(actor.user_id),),
    )
    clock.set("2026-03-02T02:00:00Z")  # a Monday
    assert sorted(f.recipient_id for f in scan_due_reminders(rcrm, actor.tenant_id)) == sorted(
        [actor.user_id, colleague]
    )
    clock.set("2026-03-04T05:00:00Z")
    assert scan_due_reminders(rcrm, actor.tenant_id) == []
    clock.set("2026-03-04T06:00:00Z")
    assert [f.subject for f in scan_due_reminders(rcrm, actor.tenant_id)] == ["call back 张总"]


def test_recipients_owner_manager_and_role_each_once(
    rcrm: Crm, actor: Actor, clock: FixedClock
) -> None:
    manager, finance = uuid.uuid4(), uuid.uuid4()
    directory = InMemoryDirectory(
        managers={actor.user_id: manager}, roles={"finance": [finance, manager]}
    )
    agreement(rcrm, actor.tenant_id, actor.user_id, end_date=clock.now().date())
    define_reminder_rule(
        rcrm,
        actor,
        name="due",
        trigger=TriggerKind.DATE_FIELD,
        resource="agreement",
        field="end_date",
        subject="due",
        channels=("inbox", "email"),
        recipients=(Recipients.owner(), Recipients.owner_manager(), Recipients.of_role("finance")),
    )
    clock.set("2026-03-02T02:00:00Z")
    fired = scan_due_reminders(rcrm, actor.tenant_id, directory=directory)
    assert [f.recipient_id for f in fired] == [actor.user_id, manager, finance]
    assert {e.channels for e in due_events(rcrm, actor.tenant_id)} == {("inbox", "email")}


def test_only_when_conditions_filter_records(rcrm: Crm, actor: Actor, clock: FixedClock) -> None:
    agreement(rcrm, actor.tenant_id, actor.user_id, name="live", end_date=dt.date(2026, 3, 2))
    agreement(
        rcrm,
        actor.tenant_id,
        actor.user_id,
        name="ended",
        status="terminated",
        end_date=dt.date(2026, 3, 2),
    )
    define_reminder_rule(
        rcrm,
        actor,
        name="due",
        trigger=TriggerKind.DATE_FIELD,
        resource="agreement",
        field="end_date",
        subject="{title}",
        only_when=(("status", "active"),),
    )
    clock.set("2026-03-02T02:00:00Z")
    assert [f.subject for f in scan_due_reminders(rcrm, actor.tenant_id)] == ["live"]


def test_snooze_wakes_later_and_dismissed_or_done_stay_quiet(
    rcrm: Crm, actor: Actor, clock: FixedClock
) -> None:
    for name in ("a", "b", "c"):
        agreement(rcrm, actor.tenant_id, actor.user_id, name=name, end_date=dt.date(2026, 3, 2))
    define_reminder_rule(
        rcrm,
        actor,
        name="due",
        trigger=TriggerKind.DATE_FIELD,
        resource="agreement",
        field="end_date",
        subject="{title}",
    )
    clock.set("2026-03-02T02:00:00Z")
    a, b, c = sorted(scan_due_reminders(rcrm, actor.tenant_id), key=lambda f: f.subject)
    snooze_reminder(rcrm, actor, a.id, until=pendulum.datetime(2026, 3, 3, 2, tz="UTC"))
    dismiss_reminder(rcrm, actor, b.id)
    complete_reminder(rcrm, actor, c.id)
    assert my_reminders(rcrm, actor) == []
    with pytest.raises(InvalidTransition):
        dismiss_reminder(rcrm, actor, b.id)
    clock.set("2026-03-03T02:00:00Z")
    woken = scan_due_reminders(rcrm, actor.tenant_id)
    assert [f.subject for f in woken] == ["a"]
    assert [f.subject for f in my_reminders(rcrm, actor)] == ["a"]
    everything = my_reminders(rcrm, actor, states=list(FiringState))
    assert sorted(f.state.value for f in everything) == ["dismissed", "done", "due"]


def test_only_the_recipient_acts_on_a_reminder(rcrm: Crm, actor: Actor, clock: FixedClock) -> None:
    agreement(rcrm, actor.tenant_id, actor.user_id, end_date=dt.date(2026, 3, 2))
    define_reminder_rule(
        rcrm,
        actor,
        name="due",
        trigger=TriggerKind.DATE_FIELD,
        resource="agreement",
        field="end_date",
        subject="due",
    )
    clock.set("2026-03-02T02:00:00Z")
    (firing,) = scan_due_reminders(rcrm, actor.tenant_id)
    stranger = Actor(actor.tenant_id, UserId(uuid.uuid4()), "stranger")
    with pytest.raises(PermissionDenied):
        dismiss_reminder(rcrm, stranger, firing.id)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"resource": "nothing", "field": "end_date"}, "resource"),
        ({"resource": "agreement", "field": "nope"}, "field"),
        ({"resource": "agreement", "field": "end_date", "yearly": True}, "yearly"),
        (
            {"resource": "agreement", "field": "end_date", "only_when": (("colour", "red"),)},
            "only_when",
        ),
        ({"resource": "agreement", "field": "end_date", "timezone": "Mars/Olympus"}, "timezone"),
        ({"resource": "agreement", "field": "end_date", "recipients": ()}, "recipients"),
    ],
)
def test_bad_rules_are_refused_when_defined(rcrm: Crm, actor: Actor, fields, field) -> None:
    with pytest.raises(ValidationError) as raised:
        define_reminder_rule(
            rcrm, actor, name="bad", trigger=TriggerKind.DATE_FIELD, subject="x", **fields
        )
    assert raised.value.field == field


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"], indirect=True)
def test_two_workers_scanning_at_once_fire_each_reminder_once(
    make_crm: Callable[[], Crm], actor: Actor, clock: FixedClock
) -> None:
    crm = make_crm()
    ensure_table(crm.storage.engine)  # type: ignore[attr-defined]
    for i in range(40):
        agreement(crm, actor.tenant_id, actor.user_id, name=f"HT-{i}", end_date=dt.date(2026, 3, 2))
    define_reminder_rule(
        crm,
        actor,
        name="due",
        trigger=TriggerKind.DATE_FIELD,
        resource="agreement",
        field="end_date",
        subject="{title}",
    )
    clock.set("2026-03-02T02:00:00Z")
    start = threading.Barrier(2)
    results: list[int] = []

    def worker() -> None:
        mine = make_crm()
        start.wait(timeout=10)
        results.append(len(scan_due_reminders(mine, actor.tenant_id)))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results)[1] + sorted(results)[0] == 40
    assert len(due_events(crm, actor.tenant_id)) == 40


def test_a_rule_without_its_required_fields_is_refused_as_input(rcrm: Crm, actor: Actor) -> None:
    with pytest.raises(ValidationError) as raised:
        define_reminder_rule(rcrm, actor, trigger=TriggerKind.DATE_FIELD, subject="x")
    assert raised.value.field == "name"


def test_a_non_member_is_refused_before_the_rule_is_looked_at(rcrm: Crm, actor: Actor) -> None:
    stranger = Actor(actor.tenant_id, UserId(uuid.uuid4()), "stranger")
    with pytest.raises(PermissionDenied):
        define_reminder_rule(rcrm, stranger)
    with pytest.raises(PermissionDenied):
        define_reminder_rule(
            rcrm, stranger, name="bad", trigger=TriggerKind.DATE_FIELD, subject="x",
            resource="nothing", field="end_date",
        )  # fmt: skip
