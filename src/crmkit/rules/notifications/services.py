"""Notification use cases: the outbox dispatcher, the in-app inbox, bulk sends.

The :class:`Dispatcher` is an application service over one port,
:class:`NotificationStore` (implemented for memory and SQL in
:mod:`crmkit.adapters.notify.store`). One pass, ``dispatch_pending(now)``:

1. **route** — read outbox events not yet routed, turn each into deliveries by
   the subscriptions (rendering templates), store them and mark the events
   routed, in one transaction. Delivery ids are derived from (event, channel,
   recipient), so routing the same event twice stores nothing new.
2. **deliver** — claim deliveries that are due (a lease: claimed rows are skipped
   by other dispatchers until it runs out; on PostgreSQL the claim also uses
   ``FOR UPDATE SKIP LOCKED``), send each through its channel's notifier, then
   acknowledge it or schedule the retry (exponential backoff) or, after the last
   attempt, dead-letter it. One notifier failing only affects its own messages.

A crash between sending and acknowledging leaves the claim to expire; the next
pass sends again with the same idempotency key. Nothing sleeps: the caller
decides when to run a pass (a cron job, a loop, a test with a fixed clock).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import attrs

from crmkit.crm import Crm
from crmkit.kernel.actor import Actor
from crmkit.kernel.converter import unstructure
from crmkit.kernel.errors import CrmError, NotFound, PermissionDenied, ValidationError
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId
from crmkit.kernel.invalid import invalid
from crmkit.kernel.query import Expr, F, Order, Query
from crmkit.ports import Message, Notifier, UnitOfWork
from crmkit.rules.notifications.model import (
    Delivery,
    DeliveryState,
    InboxItem,
    MessageQueued,
    RetryPolicy,
    Subscription,
    Template,
    delivery_id,
)
from crmkit.rules.permissions import grants_for, guarded

__all__ = [
    "BulkRecipient",
    "BulkSendResult",
    "DispatchReport",
    "Dispatcher",
    "NotificationStore",
    "inbox",
    "mark_all_read",
    "mark_read",
    "queue_bulk_send",
    "queue_message",
    "to_message",
    "unread_count",
]

# Sending to many people at once is an operation like any other: a role grants
# ``create`` on ``message`` (whose records are the messages the sender sends); the
# resource is registered in registrations.py.
MESSAGE = "message"
LABELS = (N_("message"),)

Router = Callable[[DomainEvent], list[Delivery]]
ContextProvider = Callable[[DomainEvent], Mapping[str, Any]]
Resolver = Callable[[TenantId, str, str], str | None]


class NotificationStore(Protocol):
    """Port: the dispatcher's view of the outbox and the deliveries, across tenants."""

    def route(
        self,
        now: datetime,
        limit: int,
        router: Router,
        retry_at: datetime,
        tenant_id: TenantId | None = None,
    ) -> int:
        """Route up to ``limit`` unrouted outbox events (of ``tenant_id`` only, if given).

        All in one transaction.

        Stores ``router(event)``'s deliveries (ids already stored are skipped) and
        marks each event routed. An event whose routing raises stays unrouted until
        ``retry_at``, with the error recorded. Returns how many events were routed.
        """
        ...

    def claim(
        self, now: datetime, until: datetime, limit: int, tenant_id: TenantId | None = None
    ) -> list[Delivery]:
        """Lease up to ``limit`` due pending deliveries until ``until``, counting an attempt.

        Only ``tenant_id``'s when given.
        """
        ...

    def acknowledge(self, delivery: Delivery, now: datetime) -> None:
        """Record that ``delivery`` was sent."""
        ...

    def fail(self, delivery: Delivery, error: str, retry_at: datetime | None) -> None:
        """Record a failed attempt: retry at ``retry_at``, or dead-letter when ``None``."""
        ...

    def deliveries(
        self, tenant_id: TenantId, state: DeliveryState | None = None, limit: int = 100
    ) -> list[Delivery]:
        """A tenant's deliveries, oldest first, optionally in one state."""
        ...

    def replay(self, tenant_id: TenantId, ids: Iterable[uuid.UUID] | None, now: datetime) -> int:
        """Make dead letters (all of the tenant's, or those ``ids``) pending again, due ``now``."""
        ...


@attrs.frozen
class DispatchReport:
    """What one dispatcher pass did."""

    routed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0

    def __add__(self, other: DispatchReport) -> DispatchReport:
        return DispatchReport(
            self.routed + other.routed,
            self.delivered + other.delivered,
            self.retried + other.retried,
            self.dead + other.dead,
        )


def _notifier_map(value: Mapping[str, Notifier] | Iterable[Notifier]) -> dict[str, Notifier]:
    if isinstance(value, Mapping):
        return dict(value)
    return {notifier.channel: notifier for notifier in value}


def _error_text(error: BaseException) -> str:
    text = error.message("en") if isinstance(error, CrmError) else str(error)
    return f"{type(error).__name__}: {text}"[:1000]


@attrs.define
class Dispatcher:
    """Delivers outbox events through notifiers, at least once, with retries.

    Attributes:
        store: the outbox and deliveries (``crmkit.adapters.notify.notification_store``).
        notifiers: by channel (or an iterable of notifiers, keyed by their ``channel``).
        subscriptions: routing rules from event types to channels and recipients.
        retry: backoff and the attempt limit before dead-lettering.
        lease: how long a claimed delivery is reserved for this dispatcher.
        batch: how many events / deliveries one step handles.
        context: adds template variables for an event (load the customer, the contract).
        resolve: turns a recipient (a user id) into an address for a channel
            (``resolve(tenant_id, channel, recipient)``); ``None`` keeps it as is.
        tenant_id: serve this tenant only (a worker per tenant or tenant group);
            ``None`` serves every tenant from one queue.
    """

    store: NotificationStore
    notifiers: dict[str, Notifier] = attrs.field(converter=_notifier_map)
    subscriptions: Sequence[Subscription] = attrs.field(default=(), converter=tuple)
    retry: RetryPolicy = attrs.field(factory=RetryPolicy)
    lease: timedelta = timedelta(minutes=5)
    batch: int = 100
    context: ContextProvider | None = None
    resolve: Resolver | None = None
    tenant_id: TenantId | None = None

    # -- routing -----------------------------------------------------------------------
    def messages_for(self, event: DomainEvent, now: datetime) -> list[Delivery]:
        """The deliveries ``event`` becomes (a rendering failure becomes a dead letter)."""
        if isinstance(event, MessageQueued):
            delivery = self._delivery(
                event,
                event.channel,
                event.recipient,
                event.subject,
                event.body,
                now,
                data=dict(event.data),
            )
            if event.dedupe_key:
                delivery.id = uuid.uuid5(event.tenant_id, f"queued/{event.dedupe_key}")
                delivery.id = delivery_id(delivery.id, event.channel, event.recipient)
            return [delivery]
        deliveries: list[Delivery] = []
        variables: dict[str, Any] | None = None
        for subscription in self.subscriptions:
            if not subscription.applies_to(event):
                continue
            if variables is None:
                variables = self._variables(event)
            try:
                for recipient in subscription.recipients(variables):
                    address = self._address(event.tenant_id, subscription.channel, recipient)
                    subject, body = subscription.template.render(
                        {**variables, "recipient": recipient}
                    )
                    deliveries.append(
                        self._delivery(event, subscription.channel, address, subject, body, now)
                    )
            except ValidationError as error:
                dead = self._delivery(event, subscription.channel, "", "", "", now)
                dead.state = DeliveryState.DEAD
                dead.last_error = _error_text(error)
                deliveries.append(dead)
        return deliveries

    def _variables(self, event: DomainEvent) -> dict[str, Any]:
        fields = {a.name: getattr(event, a.name) for a in attrs.fields(type(event))}
        extra = dict(self.context(event)) if self.context is not None else {}
        return {**fields, "event": event, **extra}

    def _address(self, tenant_id: TenantId, channel: str, recipient: str) -> str:
        if self.resolve is None:
            return recipient
        address = self.resolve(tenant_id, channel, recipient)
        if not address:
            raise invalid(
                "subscription",
                "recipient",
                N_("no {channel} address for {recipient}"),
                channel=channel,
                recipient=recipient,
            )
        return address

    @staticmethod
    def _delivery(
        event: DomainEvent,
        channel: str,
        recipient: str,
        subject: str,
        body: str,
        now: datetime,
        data: dict[str, Any] | None = None,
    ) -> Delivery:
        return Delivery(
            id=delivery_id(event.event_id, channel, recipient),
            tenant_id=event.tenant_id,
            event_id=event.event_id,
            event_type=event.event_type,
            channel=channel,
            recipient=recipient,
            subject=subject,
            body=body,
            created_at=now,
            next_attempt_at=now,
            data=data if data is not None else {"event": unstructure(event)},
        )

    def route_pending(self, now: datetime) -> int:
        """Route every unrouted outbox event; returns how many were routed."""
        total = 0
        retry_at = now + self.retry.base
        while True:
            routed = self.store.route(
                now,
                self.batch,
                lambda event: self.messages_for(event, now),
                retry_at,
                self.tenant_id,
            )
            total += routed
            if routed < self.batch:
                return total

    # -- delivery ----------------------------------------------------------------------
    def deliver_due(self, now: datetime) -> DispatchReport:
        """Send every delivery that is due at ``now``; one pass over the claimed batches."""
        report = DispatchReport()
        while True:
            claimed = self.store.claim(now, now + self.lease, self.batch, self.tenant_id)
            for delivery in claimed:
                report += self._deliver(delivery, now)
            if len(claimed) < self.batch:
                return report

    def _deliver(self, delivery: Delivery, now: datetime) -> DispatchReport:
        notifier = self.notifiers.get(delivery.channel)
        try:
            if notifier is None:
                raise LookupError(f"no notifier for channel {delivery.channel!r}")
            notifier.send(to_message(delivery))
        except Exception as error:  # any notifier failure is retried, never propagated
            if self.retry.gives_up(delivery.attempts):
                self.store.fail(delivery, _error_text(error), None)
                return DispatchReport(dead=1)
            retry_at = now + self.retry.delay(delivery.attempts)
            self.store.fail(delivery, _error_text(error), retry_at)
            return DispatchReport(retried=1)
        self.store.acknowledge(delivery, now)
        return DispatchReport(delivered=1)

    def dispatch_pending(self, now: datetime) -> DispatchReport:
        """Route new events, then deliver everything due at ``now``."""
        routed = self.route_pending(now)
        return DispatchReport(routed=routed) + self.deliver_due(now)

    # -- dead letters ------------------------------------------------------------------
    def dead_letters(self, tenant_id: TenantId, limit: int = 100) -> list[Delivery]:
        """The tenant's messages that ran out of attempts, with their last error."""
        return self.store.deliveries(tenant_id, DeliveryState.DEAD, limit)

    def replay(
        self, tenant_id: TenantId, now: datetime, ids: Iterable[uuid.UUID] | None = None
    ) -> int:
        """Send dead letters again from the next pass (all of the tenant's, or ``ids``)."""
        return self.store.replay(tenant_id, ids, now)


def to_message(delivery: Delivery) -> Message:
    """The port-level message a notifier receives for ``delivery``."""
    return Message(
        idempotency_key=delivery.idempotency_key,
        channel=delivery.channel,
        recipient=delivery.recipient,
        subject=delivery.subject,
        body=delivery.body,
        data={
            **delivery.data,
            "tenant_id": str(delivery.tenant_id),
            "event_id": str(delivery.event_id),
            "event_type": delivery.event_type,
        },
    )


# -- explicit and bulk messages ------------------------------------------------------------


def queue_message(
    uow: UnitOfWork,
    *,
    channel: str,
    recipient: str,
    subject: str,
    body: str,
    now: datetime,
    aggregate_id: uuid.UUID,
    data: Mapping[str, Any] | None = None,
    dedupe_key: str = "",
) -> MessageQueued:
    """Queue one rendered message in the outbox of ``uow``'s transaction.

    Use it inside another use case (an urge, a reminder) so the message is sent only
    if that use case commits. Messages queued with the same ``dedupe_key`` (and
    channel and recipient) are delivered once.
    """
    event = MessageQueued(
        tenant_id=uow.tenant_id,
        aggregate_id=aggregate_id,
        occurred_at=now,
        channel=channel,
        recipient=recipient,
        subject=subject,
        body=body,
        data=dict(data or {}),
        dedupe_key=dedupe_key,
    )
    uow.outbox.add(event)
    return event


@attrs.frozen
class BulkRecipient:
    """One recipient of a bulk send: the address and the variables for its rendering."""

    address: str
    variables: Mapping[str, Any] = attrs.field(factory=dict)
    key: str = ""


@attrs.frozen
class BulkSendResult:
    """Which recipients were queued and which were refused, with why."""

    queued: tuple[str, ...]
    refused: tuple[tuple[str, str], ...]


def queue_bulk_send(
    crm: Crm,
    actor: Actor,
    *,
    channel: str,
    template: Template,
    recipients: Iterable[BulkRecipient],
    batch_id: uuid.UUID | None = None,
) -> BulkSendResult:
    """Render ``template`` per recipient and queue one message each, in one transaction.

    A recipient whose rendering fails (a missing variable) or who has no address is
    refused on its own; the others are queued. Message keys derive from ``batch_id``
    and the recipient, so running the same bulk send twice delivers nothing twice.

    Who may: an actor holding ``create`` on the ``message`` resource (a bulk send
    reaches people outside the CRM's records, so it is granted like any operation,
    never assumed). The sender owns the messages, so any data scope of that grant
    reaches them.

    Returns:
        The queued addresses and the refused ones with the reason.

    Raises:
        PermissionDenied: the actor holds no ``create`` grant on ``message``.
    """
    now = crm.now()
    batch = batch_id or crm.new_id()
    queued: list[tuple[str, str, str, str]] = []
    refused: list[tuple[str, str]] = []
    for recipient in recipients:
        label = recipient.key or recipient.address
        if not recipient.address:
            refused.append((label, "no address"))
            continue
        try:
            subject, body = template.render(recipient.variables)
        except ValidationError as error:
            refused.append((label, error.message("en")))
            continue
        queued.append((label, recipient.address, subject, body))

    def work(uow: UnitOfWork) -> None:
        # Checked before anything is queued, and for every bulk send, empty or not. The
        # sender owns what they send, so holding the operation is the whole question.
        grants_for(uow, actor).require_operation("create", MESSAGE)
        for label, address, subject, body in queued:
            queue_message(
                uow,
                channel=channel,
                recipient=address,
                subject=subject,
                body=body,
                now=now,
                aggregate_id=batch,
                data={"batch_id": str(batch), "sent_by": str(actor.user_id)},
                dedupe_key=f"{batch}/{label}",
            )

    guarded(crm, actor, work)
    return BulkSendResult(tuple(label for label, *_ in queued), tuple(refused))


# -- the in-app inbox ----------------------------------------------------------------------


def inbox(
    crm: Crm, actor: Actor, *, unread_only: bool = False, limit: int = 50, offset: int = 0
) -> list[InboxItem]:
    """The actor's inbox, newest first."""
    where: Expr = F("recipient_id").eq(actor.user_id)
    if unread_only:
        where = where & F("read_at").is_null()
    query = Query(
        where=where, order_by=(Order("received_at", descending=True),), limit=limit, offset=offset
    )
    return crm.run(actor.tenant_id, lambda uow: uow.repository(InboxItem).query(query))


def unread_count(crm: Crm, actor: Actor) -> int:
    """How many of the actor's inbox items are unread."""
    where = F("recipient_id").eq(actor.user_id) & F("read_at").is_null()
    return crm.run(actor.tenant_id, lambda uow: uow.repository(InboxItem).count(where))


def mark_read(crm: Crm, actor: Actor, item_ids: Iterable[uuid.UUID]) -> int:
    """Mark the actor's items read; returns how many changed (already read ones do not).

    Raises:
        NotFound: an id is not an item of this tenant.
        PermissionDenied: an item belongs to another user.
    """
    wanted = list(item_ids)
    now = crm.now()

    def work(uow: UnitOfWork) -> int:
        repository = uow.repository(InboxItem)
        items = {item.id: item for item in repository.get_many(wanted)}
        changed = 0
        for item_id in wanted:
            item = items.get(item_id)
            if item is None:
                raise NotFound(entity="inbox_item", id=item_id)
            if item.recipient_id != actor.user_id:
                raise PermissionDenied(actor=actor.name, operation="edit", resource="inbox_item")
            if item.read_at is None:
                item.read_at = now
                repository.save(item)
                changed += 1
        return changed

    return crm.run(actor.tenant_id, work)


def mark_all_read(crm: Crm, actor: Actor) -> int:
    """Mark every unread item of the actor read; returns how many."""
    where = F("recipient_id").eq(actor.user_id) & F("read_at").is_null()
    ids = crm.run(
        actor.tenant_id, lambda uow: [i.id for i in uow.repository(InboxItem).query(Query(where))]
    )
    return mark_read(crm, actor, ids) if ids else 0
