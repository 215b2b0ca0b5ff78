"""The outbox dispatcher on memory, SQLite and PostgreSQL: routing, retries, dead letters."""

from __future__ import annotations

import uuid
from datetime import timedelta

import attrs
import pendulum
import pytest

from crmkit import Crm
from crmkit.adapters.notify import InboxNotifier, notification_store
from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import FixedClock
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.ids import TenantId
from crmkit.rules.notifications import (
    DeliveryState,
    Dispatcher,
    RetryPolicy,
    Subscription,
    Template,
    inbox,
    mark_all_read,
    mark_read,
    queue_message,
    unread_count,
)
from tests.adapters.notify.fakes import (
    CrashAfterSend,
    FlakyNotifier,
    ProcessCrash,
    RecordingNotifier,
)


@attrs.frozen(kw_only=True)
class ContractSigned(DomainEvent):
    """A test event: a contract was signed."""

    # Its own name: crmkit.pipeline declares a ContractSigned too.
    event_type = "TestContractSigned"
    aggregate_type = "test_contract"

    number: str
    customer_name: str
    owner_id: uuid.UUID
    watchers: tuple[str, ...] = ()


def _sign(crm: Crm, tenant: TenantId, owner: uuid.UUID, number: str = "HT-0001") -> ContractSigned:
    event = ContractSigned(
        tenant_id=tenant,
        aggregate_id=crm.new_id(),
        occurred_at=crm.now(),
        number=number,
        customer_name="上海华贸",
        owner_id=owner,
        watchers=("ops@example.com",),
    )
    crm.run(tenant, lambda uow: uow.outbox.add(event))
    return event


SIGNED = Template(subject="Contract {number} signed", body="{customer_name} signed {number}.")


def _dispatcher(
    tenant: TenantId, crm: Crm, notifiers: list[object], **kwargs: object
) -> Dispatcher:
    # Tests share one database: each dispatcher serves only its test's tenant.
    subscriptions = kwargs.pop(
        "subscriptions",
        [
            Subscription(
                event_type="TestContractSigned",
                channel="inbox",
                template=SIGNED,
                to_fields="owner_id",
            ),
            Subscription(
                event_type="TestContractSigned",
                channel="email",
                template=SIGNED,
                to_fields="watchers",
            ),
        ],
    )
    return Dispatcher(
        notification_store(crm.storage),
        notifiers,  # type: ignore[arg-type]
        subscriptions=subscriptions,  # type: ignore[arg-type]
        tenant_id=tenant,
        **kwargs,  # type: ignore[arg-type]
    )


def test_events_reach_the_inbox_and_email_with_rendered_templates(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    email = RecordingNotifier("email")
    dispatcher = _dispatcher(actor.tenant_id, crm, [InboxNotifier(crm.storage, clock), email])
    _sign(crm, actor.tenant_id, actor.user_id)

    report = dispatcher.dispatch_pending(clock.now())

    assert (report.routed, report.delivered) == (1, 2)
    [mail] = email.received
    assert (mail.recipient, mail.subject) == ("ops@example.com", "Contract HT-0001 signed")
    assert mail.body == "上海华贸 signed HT-0001."
    assert mail.data["tenant_id"] == str(actor.tenant_id)
    [item] = inbox(crm, actor)
    assert (item.subject, item.is_read) == ("Contract HT-0001 signed", False)
    assert dispatcher.dispatch_pending(clock.now()) == type(report)()  # nothing left


def test_inbox_counts_unread_and_marks_read(crm: Crm, actor: Actor, clock: FixedClock) -> None:
    dispatcher = _dispatcher(
        actor.tenant_id, crm, [InboxNotifier(crm.storage, clock), RecordingNotifier("email")]
    )
    for n in range(3):
        _sign(crm, actor.tenant_id, actor.user_id, f"HT-{n}")
    dispatcher.dispatch_pending(clock.now())
    assert unread_count(crm, actor) == 3

    newest = inbox(crm, actor)[0]
    assert mark_read(crm, actor, [newest.id]) == 1
    assert mark_read(crm, actor, [newest.id]) == 0
    assert unread_count(crm, actor) == 2
    assert [i.id for i in inbox(crm, actor, unread_only=True)] == [
        i.id for i in inbox(crm, actor)[1:]
    ]
    assert mark_all_read(crm, actor) == 2
    assert unread_count(crm, actor) == 0


def test_a_failing_notifier_is_retried_with_backoff_and_blocks_no_one(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    email = FlakyNotifier("email", failures=2)
    retry = RetryPolicy(max_attempts=5, base=timedelta(minutes=1))
    dispatcher = _dispatcher(
        actor.tenant_id, crm, [InboxNotifier(crm.storage, clock), email], retry=retry
    )
    _sign(crm, actor.tenant_id, actor.user_id)

    first = dispatcher.dispatch_pending(clock.now())
    assert (first.delivered, first.retried) == (1, 1)  # the inbox got through
    assert unread_count(crm, actor) == 1
    assert dispatcher.dispatch_pending(clock.now() + timedelta(seconds=59)).retried == 0  # not due
    assert dispatcher.dispatch_pending(clock.now() + timedelta(minutes=1)).retried == 1
    # the second retry waits twice as long
    assert dispatcher.dispatch_pending(clock.now() + timedelta(minutes=2)).delivered == 0
    assert dispatcher.dispatch_pending(clock.now() + timedelta(minutes=3)).delivered == 1
    assert len(email.received) == 1


def test_undeliverable_messages_become_dead_letters_that_can_be_replayed(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    email = FlakyNotifier("email", failures=3)
    retry = RetryPolicy(max_attempts=3, base=timedelta(seconds=10))
    dispatcher = _dispatcher(
        actor.tenant_id, crm, [InboxNotifier(crm.storage, clock), email], retry=retry
    )
    _sign(crm, actor.tenant_id, actor.user_id)
    now = clock.now()
    reports = [dispatcher.dispatch_pending(now + timedelta(hours=h)) for h in range(4)]
    assert [r.dead for r in reports] == [0, 0, 1, 0]

    [dead] = dispatcher.dead_letters(actor.tenant_id)
    assert (dead.channel, dead.attempts, dead.state) == ("email", 3, DeliveryState.DEAD)
    assert "provider down (attempt 3)" in (dead.last_error or "")

    assert dispatcher.replay(actor.tenant_id, now + timedelta(hours=5)) == 1
    assert dispatcher.dispatch_pending(now + timedelta(hours=5)).delivered == 1
    assert dispatcher.dead_letters(actor.tenant_id) == []
    [mail] = email.received
    assert mail.idempotency_key == str(dead.id)


def test_a_missing_template_variable_dead_letters_that_message_only(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    broken = Subscription(
        event_type="TestContractSigned",
        channel="email",
        template=Template(body="Due {contract.end_date}"),
        to_fields="watchers",
    )
    fine = Subscription(
        event_type="TestContractSigned", channel="inbox", template=SIGNED, to_fields="owner_id"
    )
    dispatcher = _dispatcher(
        actor.tenant_id,
        crm,
        [InboxNotifier(crm.storage, clock), RecordingNotifier("email")],
        subscriptions=[broken, fine],
    )
    _sign(crm, actor.tenant_id, actor.user_id)
    assert dispatcher.dispatch_pending(clock.now()).delivered == 1
    [dead] = dispatcher.dead_letters(actor.tenant_id)
    assert "contract.end_date" in (dead.last_error or "")


def test_a_recipient_without_an_address_dead_letters_that_message_naming_the_channel(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    # The host's resolver knows the owner's inbox but no e-mail address for the watcher.
    email = RecordingNotifier("email")
    dispatcher = _dispatcher(
        actor.tenant_id,
        crm,
        [InboxNotifier(crm.storage, clock), email],
        resolve=lambda tenant, channel, recipient: "" if channel == "email" else recipient,
    )
    _sign(crm, actor.tenant_id, actor.user_id)
    assert dispatcher.dispatch_pending(clock.now()).delivered == 1
    assert email.received == []
    [dead] = dispatcher.dead_letters(actor.tenant_id)
    assert dead.last_error == (
        "ValidationError: subscription.recipient: no email address for ops@example.com"
    )


def test_every_message_arrives_once_despite_failures_and_a_crash_before_acknowledging(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    email = FlakyNotifier("email", failures=3)
    webhook = CrashAfterSend("webhook", crashes=1)
    subscriptions = [
        Subscription(
            event_type="TestContractSigned", channel="email", template=SIGNED, to="a@x.cn"
        ),
        Subscription(
            event_type="TestContractSigned", channel="webhook", template=SIGNED, to="https://h/x"
        ),
    ]
    retry = RetryPolicy(max_attempts=10, base=timedelta(seconds=5))
    lease = timedelta(minutes=1)
    events = [_sign(crm, actor.tenant_id, actor.user_id, f"HT-{n}") for n in range(5)]

    def fresh_process() -> Dispatcher:
        return _dispatcher(
            actor.tenant_id,
            crm,
            [email, webhook],
            subscriptions=subscriptions,
            retry=retry,
            lease=lease,
        )

    now = clock.now()
    with pytest.raises(ProcessCrash):
        fresh_process().dispatch_pending(now)
    for minute in range(1, 10):
        fresh_process().dispatch_pending(now + timedelta(minutes=minute))

    for receiver in (email, webhook):
        assert len(receiver.unique) == len(events)
        assert all(m.idempotency_key for m in receiver.received)
    assert len(webhook.received) == len(events) + 1  # the crashed one was sent twice, same key
    assert len(email.received) == len(events)
    store = notification_store(crm.storage)
    assert {d.state for d in store.deliveries(actor.tenant_id)} == {DeliveryState.DELIVERED}


def test_a_redelivered_inbox_message_shows_once(crm: Crm, actor: Actor, clock: FixedClock) -> None:
    notifier = InboxNotifier(crm.storage, clock)
    crashing = CrashAfterSend("inbox", crashes=1)
    crashing.send = lambda message: (notifier.send(message), CrashAfterSend.send(crashing, message))  # type: ignore[method-assign]
    dispatcher = _dispatcher(
        actor.tenant_id,
        crm,
        [crashing],
        subscriptions=[
            Subscription(
                event_type="TestContractSigned",
                channel="inbox",
                template=SIGNED,
                to_fields="owner_id",
            )
        ],
        lease=timedelta(seconds=30),
    )
    _sign(crm, actor.tenant_id, actor.user_id)
    with pytest.raises(ProcessCrash):
        dispatcher.dispatch_pending(clock.now())
    assert dispatcher.dispatch_pending(clock.now() + timedelta(seconds=10)).delivered == 0
    assert dispatcher.dispatch_pending(clock.now() + timedelta(seconds=30)).delivered == 1
    assert unread_count(crm, actor) == 1


def test_reminders_reach_only_the_channels_they_ask_for(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    from crmkit.rules.reminders import ReminderDue

    inbox_sub = Subscription(
        event_type="ReminderDue",
        channel="inbox",
        template=Template(subject="{subject}", body="{subject}"),
        to_fields="recipient_id",
        only_if_listed="channels",
    )
    sms_sub = attrs.evolve(inbox_sub, channel="sms")
    sms = RecordingNotifier("sms")
    dispatcher = _dispatcher(
        actor.tenant_id,
        crm,
        [InboxNotifier(crm.storage, clock), sms],
        subscriptions=[inbox_sub, sms_sub],
    )
    due = ReminderDue(
        tenant_id=actor.tenant_id,
        aggregate_id=crm.new_id(),
        occurred_at=clock.now(),
        rule_id=crm.new_id(),
        record_id=crm.new_id(),
        occurrence="2026-03-02",
        recipient_id=actor.user_id,
        channels=("inbox",),
        subject="Contract HT-7 ends in 30 days",
    )
    crm.run(actor.tenant_id, lambda uow: uow.outbox.add(due))
    assert dispatcher.dispatch_pending(clock.now()).delivered == 1
    assert sms.received == []
    assert inbox(crm, actor)[0].subject == "Contract HT-7 ends in 30 days"


def test_queued_messages_go_out_only_if_their_use_case_commits(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    sms = RecordingNotifier("sms")
    dispatcher = _dispatcher(actor.tenant_id, crm, [sms], subscriptions=[])

    def urge(uow, fail: bool) -> None:  # type: ignore[no-untyped-def]
        queue_message(
            uow,
            channel="sms",
            recipient="+8613800000000",
            subject="",
            body="请尽快审批合同 HT-7",
            now=clock.now(),
            aggregate_id=uuid.UUID(int=7),
        )
        if fail:
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        crm.run(actor.tenant_id, lambda uow: urge(uow, True))
    crm.run(actor.tenant_id, lambda uow: urge(uow, False))
    assert dispatcher.dispatch_pending(clock.now()).delivered == 1
    assert [m.body for m in sms.received] == ["请尽快审批合同 HT-7"]


def test_a_channel_without_a_notifier_retries_until_one_is_configured(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    dispatcher = _dispatcher(actor.tenant_id, crm, [InboxNotifier(crm.storage, clock)])
    _sign(crm, actor.tenant_id, actor.user_id)
    assert dispatcher.dispatch_pending(clock.now()).retried == 1
    email = RecordingNotifier("email")
    later = pendulum.instance(clock.now()) + timedelta(hours=1)
    assert _dispatcher(actor.tenant_id, crm, [email]).dispatch_pending(later).delivered == 1
    assert len(email.received) == 1
