"""Email over SMTP (the standard library's :mod:`smtplib`).

Each message gets a ``Message-ID`` derived from its idempotency key and an
``X-Idempotency-Key`` header, so a mail system (or the person reading) can tell a
redelivery from a new message.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr

from crmkit.ports import Message

__all__ = ["SmtpNotifier"]


class SmtpNotifier:
    """Sends each message as a plain-text email.

    Args:
        host: the SMTP server.
        port: its port (25, 587 with ``starttls``, 465 with ``use_ssl``).
        sender: the From address; ``sender_name`` adds a display name.
        username: log in with ``username``/``password`` when given.
        starttls: upgrade the connection with STARTTLS.
        use_ssl: connect over TLS from the start.
        timeout: seconds per connection attempt.
        domain: the right-hand side of generated Message-IDs.
        channel: the channel name it serves.
    """

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        sender: str,
        sender_name: str = "",
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        use_ssl: bool = False,
        timeout: float = 10.0,
        domain: str = "crmkit.invalid",
        channel: str = "email",
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.sender_name = sender_name
        self.username = username
        self.password = password
        self.starttls = starttls
        self.use_ssl = use_ssl
        self.timeout = timeout
        self.domain = domain
        self.channel = channel

    def build(self, message: Message) -> EmailMessage:
        """The email for ``message`` (exposed for previews and tests)."""
        email = EmailMessage()
        email["From"] = (
            formataddr((self.sender_name, self.sender)) if self.sender_name else self.sender
        )
        email["To"] = message.recipient
        email["Subject"] = message.subject
        email["Message-ID"] = f"<{message.idempotency_key}@{self.domain}>"
        email["X-Idempotency-Key"] = message.idempotency_key
        email.set_content(message.body)
        return email

    def send(self, message: Message) -> None:
        """Send one email; SMTP errors propagate so the dispatcher retries."""
        email = self.build(message)
        client: smtplib.SMTP
        if self.use_ssl:
            client = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if self.starttls:
                client.starttls(context=ssl.create_default_context())
            if self.username is not None:
                client.login(self.username, self.password or "")
            client.send_message(email)
