"""The network notifiers against local servers the tests start, and the log notifier."""

from __future__ import annotations

import http.server
import json
import logging
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from typing import Any, ClassVar

import pendulum
import pytest
from aiosmtpd.controller import Controller

from crmkit.adapters.notify import (
    SIGNATURE_HEADER,
    LogNotifier,
    SmtpNotifier,
    WebhookError,
    WebhookNotifier,
    verify_signature,
)
from crmkit.kernel.clock import FixedClock
from crmkit.ports import Message

SECRET = b"s3cret-shared-with-the-receiver"


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            (envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, int, _Mailbox]]:
    mailbox = _Mailbox()
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield "127.0.0.1", port, mailbox
    finally:
        controller.stop()


def test_email_goes_out_over_smtp_with_its_idempotency_key(
    smtp_server: tuple[str, int, _Mailbox],
) -> None:
    host, port, mailbox = smtp_server
    notifier = SmtpNotifier(host, port, sender="crm@example.com", sender_name="某某科技 CRM")
    notifier.send(
        Message("key-1", "email", "li.na@example.com", "合同到期提醒", "HT-7 于 4 月 1 日到期")
    )
    [(recipients, mail)] = mailbox.messages
    assert recipients == ["li.na@example.com"]
    assert mail["Subject"] == "合同到期提醒"
    assert mail["X-Idempotency-Key"] == "key-1"
    assert mail["Message-ID"] == "<key-1@crmkit.invalid>"
    assert mail.get_content().strip() == "HT-7 于 4 月 1 日到期"


def test_an_unreachable_smtp_server_raises_for_a_retry() -> None:
    notifier = SmtpNotifier("127.0.0.1", _free_port(), sender="a@b.c", timeout=2)
    with pytest.raises(OSError):
        notifier.send(Message("k", "email", "x@y.z", "s", "b"))


class _Receiver(http.server.BaseHTTPRequestHandler):
    status = 200
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook_server() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"received": [], "status": 200})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/crm", handler
    finally:
        server.shutdown()
        server.server_close()


def test_webhooks_are_posted_with_a_verifiable_hmac_signature(
    webhook_server: tuple[str, type[_Receiver]],
) -> None:
    url, receiver = webhook_server
    clock = FixedClock("2026-03-02T09:00:00Z")
    notifier = WebhookNotifier(SECRET, clock=clock)
    notifier.send(Message("key-9", "webhook", url, "Signed", "HT-9 signed", {"tenant_id": "t"}))

    [(headers, body)] = receiver.received
    now = int(pendulum.parse("2026-03-02T09:00:30Z").timestamp())  # type: ignore[union-attr]
    assert verify_signature(SECRET, headers[SIGNATURE_HEADER], body, now=now)
    assert not verify_signature(b"wrong", headers[SIGNATURE_HEADER], body, now=now)
    assert not verify_signature(SECRET, headers[SIGNATURE_HEADER], body + b" ", now=now)
    assert not verify_signature(SECRET, headers[SIGNATURE_HEADER], body, now=now + 3600)
    assert headers["Idempotency-Key"] == "key-9"
    assert json.loads(body) == {
        "idempotency_key": "key-9",
        "subject": "Signed",
        "body": "HT-9 signed",
        "data": {"tenant_id": "t"},
    }


def test_a_webhook_answered_outside_2xx_raises_for_a_retry(
    webhook_server: tuple[str, type[_Receiver]],
) -> None:
    url, receiver = webhook_server
    receiver.status = 503
    with pytest.raises(WebhookError, match="503"):
        WebhookNotifier(SECRET).send(Message("k", "webhook", url, "s", "b"))


def test_a_webhook_recipient_must_be_an_http_url() -> None:
    with pytest.raises(ValueError, match="http"):
        WebhookNotifier(SECRET).send(Message("k", "webhook", "file:///etc/passwd", "s", "b"))


def test_the_log_notifier_logs_each_message_with_its_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="crmkit.notify")
    LogNotifier().send(Message("key-3", "log", "ops", "Backup done", ""))
    assert "key-3" in caplog.text
    assert "Backup done" in caplog.text
