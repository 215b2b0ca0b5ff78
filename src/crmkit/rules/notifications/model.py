"""Notifications: how domain events reach people, reliably.

A service records what happened as a domain event in the outbox, in the same
transaction as the change. Later a dispatcher turns each event into *messages*
— one per channel and recipient — by the tenant's *subscriptions* (``ContractSigned``
-> email the owner, in-app note to the sales director), renders their templates
(``{customer.name}``, ``{contract.end_date}``), and hands them to *notifiers*
(in-app inbox, email, webhook, SMS, log).

Each message is a :class:`Delivery` with a stable idempotency key. Delivery is at
least once: a failed send is retried with exponential backoff; after the last
attempt the message becomes a dead letter that an operator can inspect and
replay. A receiver that remembers keys (the in-app inbox does) sees every
message exactly once, even when the dispatcher crashed after sending but before
recording the send.

Everything here is data and pure functions; the dispatcher in
:mod:`crmkit.rules.notifications.services` does the I/O through ports.
"""

from __future__ import annotations

import enum
import string
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs

from crmkit.kernel.entity import Entity
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.i18n import N_
from crmkit.kernel.ids import TenantId
from crmkit.kernel.invalid import invalid

__all__ = [
    "Delivery",
    "DeliveryState",
    "InboxItem",
    "MessageQueued",
    "RetryPolicy",
    "Subscription",
    "Template",
    "delivery_id",
    "inbox_item_id",
    "render_template",
]

_NS = uuid.UUID("0b8e6d52-4f0c-5a4e-8d7e-2c9b1f3a6e17")
_FORMATTER = string.Formatter()


def _lookup(variables: Mapping[str, Any], path: str, entity: str) -> Any:
    # A missing variable is the administrator's mistake in ``entity`` (a template, a
    # subscription's recipient path), so it is reported as theirs to fix.
    try:
        return _walk(variables, path)
    except KeyError:
        raise invalid(entity, path, N_("no value for variable {name}"), name=path) from None


def _walk(variables: Mapping[str, Any], path: str) -> Any:
    head, *rest = path.split(".")
    if head not in variables:
        raise KeyError(path)
    value = variables[head]
    for name in rest:
        if name.startswith("_"):
            # Templates are written by tenant administrators: no reaching into internals.
            raise KeyError(path)
        if isinstance(value, Mapping):
            if name not in value:
                raise KeyError(path)
            value = value[name]
        elif hasattr(value, name):
            value = getattr(value, name)
        else:
            raise KeyError(path)
    return value


def _parse(template: str) -> list[tuple[str, str | None, str | None, str | None]]:
    try:
        return list(_FORMATTER.parse(template))
    except ValueError as error:
        raise invalid("template", "template", N_("malformed: {error}"), error=str(error)) from None


def render_template(template: str, variables: Mapping[str, Any]) -> str:
    """Fill ``{customer.name}``-style variables in ``template``.

    Dotted paths walk dicts and attributes; ``{amount:,.2f}``-style format specs
    apply; ``{{`` and ``}}`` are literal braces. Indexing (``{a[0]}``), conversions
    (``{a!r}``) and names starting with ``_`` are refused.

    Raises:
        ValidationError: the template is malformed or a variable has no value; the
            error's ``field`` names the variable.
    """
    out: list[str] = []
    for literal, name, spec, conversion in _parse(template):
        out.append(literal)
        if name is None:
            continue
        if not name or conversion or "[" in name or name.startswith("_"):
            raise invalid("template", name or "template", N_("use plain {{name.field}} variables"))
        value = _lookup(variables, name, "template")
        if value is None:
            value = ""
        try:
            out.append(format(value, spec or ""))
        except (TypeError, ValueError):
            raise invalid(
                "template", name, N_("format {spec} does not suit {name}"), spec=spec, name=name
            ) from None
    return "".join(out)


@attrs.frozen
class Template:
    """A subject and body with variables, checked for well-formedness when created."""

    subject: str = ""
    body: str = ""

    def __attrs_post_init__(self) -> None:
        for text in (self.subject, self.body):
            _parse(text)

    def render(self, variables: Mapping[str, Any]) -> tuple[str, str]:
        """Subject and body with ``variables`` filled in.

        Raises:
            ValidationError: a variable is missing (named in ``field``).
        """
        return render_template(self.subject, variables), render_template(self.body, variables)


def _tuple(value: Any) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@attrs.frozen(kw_only=True)
class Subscription:
    """A routing rule: events of one type become messages on one channel.

    Attributes:
        event_type: the event class name, e.g. ``"ReminderDue"``.
        channel: the notifier channel, e.g. ``"inbox"``, ``"email"``, ``"sms"``.
        template: subject and body; variables are the event's fields (also under
            ``event``) plus whatever the dispatcher's context provider adds.
        to: fixed recipients (addresses, user ids, webhook URLs).
        to_fields: dotted paths into the variables whose values are recipients
            (a value may be a list), e.g. ``("recipient_id",)`` or ``("customer.phone",)``.
        only_if_listed: a field holding the channels the event asks for (``ReminderDue``
            carries ``channels``); the subscription applies only when its channel is listed.
        tenant_id: limit to one tenant; ``None`` applies to all.
    """

    event_type: str
    channel: str
    template: Template = Template()
    to: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    to_fields: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    only_if_listed: str | None = None
    tenant_id: TenantId | None = None

    def __attrs_post_init__(self) -> None:
        if not (self.to or self.to_fields):
            raise invalid("subscription", "to", N_("name at least one recipient"))

    def applies_to(self, event: DomainEvent) -> bool:
        """Whether this subscription routes ``event``."""
        if event.event_type != self.event_type:
            return False
        if self.tenant_id is not None and event.tenant_id != self.tenant_id:
            return False
        if self.only_if_listed is not None:
            listed = getattr(event, self.only_if_listed, ())
            return self.channel in tuple(listed or ())
        return True

    def recipients(self, variables: Mapping[str, Any]) -> list[str]:
        """The distinct recipients, in the order named.

        Raises:
            ValidationError: a ``to_fields`` path has no value.
        """
        found: list[str] = list(self.to)
        for path in self.to_fields:
            value = _lookup(variables, path, "subscription")
            values = value if isinstance(value, list | tuple | set | frozenset) else [value]
            found.extend(str(v) for v in values if v is not None and str(v))
        return list(dict.fromkeys(found))


@attrs.frozen
class RetryPolicy:
    """How often and how long to retry a failing delivery.

    Attempt *n* (1-based) that fails is retried after ``base * factor**(n-1)``,
    capped at ``max_delay``; after ``max_attempts`` the message is dead-lettered.
    """

    max_attempts: int = attrs.field(default=8, validator=attrs.validators.ge(1))
    base: timedelta = timedelta(seconds=30)
    factor: float = attrs.field(default=2.0, validator=attrs.validators.ge(1))
    max_delay: timedelta = timedelta(hours=1)

    def delay(self, attempt: int) -> timedelta:
        """The wait after failed attempt number ``attempt``."""
        seconds = self.base.total_seconds() * self.factor ** (attempt - 1)
        return min(timedelta(seconds=seconds), self.max_delay)

    def gives_up(self, attempt: int) -> bool:
        """Whether failed attempt ``attempt`` was the last one."""
        return attempt >= self.max_attempts


class DeliveryState(enum.Enum):
    """Where a message stands: waiting (perhaps for a retry), delivered, or dead."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


def delivery_id(event_id: uuid.UUID, channel: str, recipient: str) -> uuid.UUID:
    """The id — and idempotency key — of one event's message to one recipient on one channel."""
    return uuid.uuid5(_NS, f"delivery/{event_id}/{channel}/{recipient}")


@attrs.define(eq=False)
class Delivery(Entity):
    """One message to one recipient on one channel, and its delivery record.

    Attributes:
        idempotency_key: what receivers deduplicate on; the same for every retry.
        attempts: sends started (a crash mid-send counts, so a poison message ends).
        next_attempt_at: not sent before this instant.
        claimed_until: a dispatcher works on it until then; after that another may.
        last_error: why the last attempt failed.
    """

    entity_name = N_("delivery")

    id: uuid.UUID
    tenant_id: TenantId
    event_id: uuid.UUID
    event_type: str
    channel: str
    recipient: str
    subject: str
    body: str
    created_at: datetime
    next_attempt_at: datetime
    data: dict[str, Any] = attrs.field(factory=dict)
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    claimed_until: datetime | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    version: int = 0

    @property
    def idempotency_key(self) -> str:
        """The key every attempt of this message carries."""
        return str(self.id)


@attrs.frozen(kw_only=True)
class MessageQueued(DomainEvent):
    """An explicit message to send (a bulk send, an urge, a test message), already rendered.

    The dispatcher delivers it to ``recipient`` on ``channel`` without a subscription.
    Messages with the same non-empty ``dedupe_key`` (and channel and recipient) share
    one idempotency key, so queuing one twice delivers it once.
    """

    aggregate_type = "message"

    channel: str
    recipient: str
    subject: str
    body: str
    data: dict[str, Any] = attrs.field(factory=dict)
    dedupe_key: str = ""


def inbox_item_id(idempotency_key: str) -> uuid.UUID:
    """The inbox item a message with this key becomes: a redelivery finds it already there."""
    return uuid.uuid5(_NS, f"inbox/{idempotency_key}")


@attrs.define(eq=False)
class InboxItem(Entity):
    """A message in a user's in-app inbox (站内信)."""

    entity_name = N_("inbox_item")

    id: uuid.UUID
    tenant_id: TenantId
    recipient_id: uuid.UUID
    subject: str
    body: str
    received_at: datetime
    event_type: str = ""
    data: dict[str, Any] = attrs.field(factory=dict)
    read_at: datetime | None = None
    version: int = 0

    @property
    def is_read(self) -> bool:
        """Whether the recipient has read it."""
        return self.read_at is not None
