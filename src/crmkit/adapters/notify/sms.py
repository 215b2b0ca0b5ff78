"""SMS through a pluggable gateway (Aliyun, Tencent Cloud, a carrier's HTTP API, ...).

The text is rendered by the subscription's template before it gets here
(``尊敬的{customer.name}，您的合同将于{contract.end_date}到期``); the notifier checks the
number and length and passes the message to an :class:`SmsGateway` with its
idempotency key, which gateways that support client references should forward.
"""

from __future__ import annotations

import re
import threading
from typing import Protocol

import attrs

from crmkit.ports import Message

__all__ = ["RecordingSmsGateway", "SentSms", "SmsGateway", "SmsNotifier"]

_PHONE = re.compile(r"^\+?[0-9][0-9 -]{4,19}$")


class SmsGateway(Protocol):
    """Port: sends one text to one phone number; raises when the provider refuses."""

    def send_sms(self, phone: str, text: str, reference: str) -> None: ...


@attrs.frozen
class SentSms:
    """One text a :class:`RecordingSmsGateway` accepted."""

    phone: str
    text: str
    reference: str


class RecordingSmsGateway:
    """A gateway that records instead of sending (tests, demos, dry runs).

    It honours the reference like a real provider would: the same reference twice is
    recorded once, and ``duplicates`` counts the repeats.
    """

    def __init__(self) -> None:
        self.sent: list[SentSms] = []
        self.duplicates = 0
        self._lock = threading.Lock()

    def send_sms(self, phone: str, text: str, reference: str) -> None:
        """Record the text unless its reference was seen."""
        with self._lock:
            if any(s.reference == reference for s in self.sent):
                self.duplicates += 1
                return
            self.sent.append(SentSms(phone, text, reference))


class SmsNotifier:
    """Sends messages as SMS through ``gateway``.

    Args:
        gateway: the provider adapter.
        max_length: longer texts are refused (providers split or reject them; a
            template that outgrows it should be fixed, not silently cut).
        signature: prepended to every text, e.g. ``【某某科技】`` as Chinese carriers require.
        channel: the channel name it serves.
    """

    def __init__(
        self,
        gateway: SmsGateway,
        *,
        max_length: int = 500,
        signature: str = "",
        channel: str = "sms",
    ) -> None:
        self.gateway = gateway
        self.max_length = max_length
        self.signature = signature
        self.channel = channel

    def send(self, message: Message) -> None:
        """Send the message body to the recipient's number.

        Raises:
            ValueError: the number is malformed or the text too long (retried, then dead-lettered).
        """
        phone = message.recipient.strip()
        if not _PHONE.match(phone):
            raise ValueError(f"not a phone number: {phone!r}")
        text = f"{self.signature}{message.body}"
        if len(text) > self.max_length:
            raise ValueError(f"text of {len(text)} characters exceeds {self.max_length}")
        self.gateway.send_sms(phone, text, message.idempotency_key)
