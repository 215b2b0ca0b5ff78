"""Bulk sends to a customer segment with per-recipient rendering, through the SMS port."""

from __future__ import annotations

import pytest

from crmkit import Crm
from crmkit.adapters.notify import RecordingSmsGateway, SmsNotifier, notification_store
from crmkit.customers.services import list_customers, register_customer
from crmkit.kernel.actor import Actor
from crmkit.kernel.clock import FixedClock
from crmkit.kernel.query import F, Query
from crmkit.ports import Message
from crmkit.rules.notifications import BulkRecipient, Dispatcher, Template, queue_bulk_send

BIRTHDAY = Template(body="{customer.name}您好，{company}祝您生日快乐！")


def test_a_segment_gets_one_rendered_sms_each_and_refusals_are_reported(
    crm: Crm, actor: Actor, clock: FixedClock
) -> None:
    register_customer(crm, actor, name="华贸物流", level="A", phone="+8613800000001")
    register_customer(crm, actor, name="东方电气", level="A", phone="+8613800000002")
    register_customer(crm, actor, name="无号码公司", level="A")
    register_customer(crm, actor, name="B 级客户", level="B", phone="+8613800000009")
    segment = list_customers(crm, actor, Query(where=F("level").eq("A")))
    recipients = [
        BulkRecipient(
            address=c.phone or "",
            key=c.name,
            variables={"customer": c, "company": "某某科技"},
        )
        for c in segment
    ]
    gateway = RecordingSmsGateway()
    dispatcher = Dispatcher(
        notification_store(crm.storage), [SmsNotifier(gateway, signature="【某某科技】")]
    )
    batch = crm.new_id()

    result = queue_bulk_send(
        crm, actor, channel="sms", template=BIRTHDAY, recipients=recipients, batch_id=batch
    )
    queue_bulk_send(
        crm, actor, channel="sms", template=BIRTHDAY, recipients=recipients, batch_id=batch
    )
    dispatcher.dispatch_pending(clock.now())

    assert sorted(result.queued) == ["东方电气", "华贸物流"]
    assert result.refused == (("无号码公司", "no address"),)
    assert sorted((s.phone, s.text) for s in gateway.sent) == [
        ("+8613800000001", "【某某科技】华贸物流您好，某某科技祝您生日快乐！"),
        ("+8613800000002", "【某某科技】东方电气您好，某某科技祝您生日快乐！"),
    ]
    assert gateway.duplicates == 0  # the second, identical bulk send delivered nothing twice


def test_a_recipient_missing_a_variable_is_refused_alone(crm: Crm, actor: Actor) -> None:
    result = queue_bulk_send(
        crm,
        actor,
        channel="sms",
        template=BIRTHDAY,
        recipients=[
            BulkRecipient("+8613800000001", {"customer": {"name": "甲"}, "company": "X"}),
            BulkRecipient("+8613800000002", {"customer": {"name": "乙"}}),
        ],
    )
    assert result.queued == ("+8613800000001",)
    [(who, why)] = result.refused
    assert who == "+8613800000002"
    assert "company" in why


@pytest.mark.parametrize(
    ("recipient", "body", "problem"),
    [("not-a-phone", "hi", "not a phone number"), ("+8613800000001", "长" * 600, "exceeds")],
)
def test_the_sms_notifier_refuses_bad_numbers_and_overlong_texts(
    recipient: str, body: str, problem: str
) -> None:
    notifier = SmsNotifier(RecordingSmsGateway())
    with pytest.raises(ValueError, match=problem):
        notifier.send(Message("k", "sms", recipient, "", body))


def test_a_bulk_send_needs_a_grant_to_create_messages(crm: Crm, actor: Actor) -> None:
    import uuid

    from crmkit import PermissionDenied
    from crmkit.kernel.ids import UserId
    from crmkit.rules.permissions import Grant, Scope, define_role, set_member

    define_role(crm, actor, "viewer", grants=[Grant("customer", "view", Scope.TENANT)])
    define_role(
        crm,
        actor,
        "sender",
        grants=[Grant("message", "create", Scope.OWN)],
    )
    viewer, mailer = (Actor(actor.tenant_id, UserId(uuid.uuid4()), n) for n in ("看", "邮"))
    set_member(crm, actor, viewer.user_id, name=viewer.name, roles=["viewer"])
    set_member(crm, actor, mailer.user_id, name=mailer.name, roles=["sender"])
    stranger = Actor(actor.tenant_id, UserId(uuid.uuid4()), "陌生人")
    one = [BulkRecipient("+8613800000001", {"customer": {"name": "甲"}, "company": "X"})]

    def queued() -> int:
        return len(crm.run(actor.tenant_id, lambda uow: uow.outbox.pending()))

    before = queued()
    for who in (stranger, viewer):
        with pytest.raises(PermissionDenied):
            queue_bulk_send(crm, who, channel="sms", template=BIRTHDAY, recipients=one)
    assert queued() == before  # nothing was queued by a refused send
    sent = queue_bulk_send(crm, mailer, channel="sms", template=BIRTHDAY, recipients=one)
    assert sent.queued == ("+8613800000001",)
