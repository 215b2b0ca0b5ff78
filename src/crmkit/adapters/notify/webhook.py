"""Webhooks: each message POSTed as JSON to the recipient URL, signed with HMAC-SHA256.

Headers sent:

- ``X-Crmkit-Signature: t=<unix seconds>,v1=<hex>`` where ``hex`` is
  ``HMAC-SHA256(secret, "<t>." + body)``; the receiver recomputes it with
  :func:`verify_signature` (which also refuses stale timestamps, against replay);
- ``Idempotency-Key: <key>``: the same on every retry of one message.

A response outside 2xx, a timeout or a refused connection raises, and the
dispatcher retries.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request

from crmkit.kernel.clock import Clock, SystemClock
from crmkit.ports import Message

__all__ = ["SIGNATURE_HEADER", "WebhookError", "WebhookNotifier", "sign", "verify_signature"]

SIGNATURE_HEADER = "X-Crmkit-Signature"


class WebhookError(RuntimeError):
    """The receiver did not accept the webhook (non-2xx status)."""


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(
    secret: bytes, header: str, body: bytes, *, now: int, tolerance: int = 300
) -> bool:
    """Whether ``header`` is a valid signature of ``body`` made within ``tolerance`` seconds.

    Args:
        secret: the shared secret.
        header: the ``X-Crmkit-Signature`` value received.
        body: the raw request body.
        now: the receiver's current unix time.
        tolerance: the largest accepted clock difference, in seconds.
    """
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        expected = sign(secret, timestamp, body)
    except (KeyError, ValueError):
        return False
    return abs(now - timestamp) <= tolerance and hmac.compare_digest(expected, header)


class WebhookNotifier:
    """POSTs messages to the recipient URL.

    Args:
        secret: the HMAC key shared with the receivers.
        clock: stamps the signature.
        timeout: seconds per request.
        channel: the channel name it serves.
    """

    def __init__(
        self,
        secret: bytes,
        *,
        clock: Clock | None = None,
        timeout: float = 10.0,
        channel: str = "webhook",
    ) -> None:
        if not secret:
            raise ValueError("a webhook secret is required")
        self.secret = secret
        self.clock = clock or SystemClock()
        self.timeout = timeout
        self.channel = channel

    def body(self, message: Message) -> bytes:
        """The JSON body sent for ``message``."""
        document = {
            "idempotency_key": message.idempotency_key,
            "subject": message.subject,
            "body": message.body,
            "data": message.data,
        }
        return json.dumps(document, ensure_ascii=False, sort_keys=True, default=str).encode()

    def send(self, message: Message) -> None:
        """POST ``message``.

        Raises:
            ValueError: the recipient is not an http(s) URL.
            WebhookError: the receiver answered outside 2xx.
            OSError: the connection failed or timed out.
        """
        url = message.recipient
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"not an http(s) URL: {url!r}")
        payload = self.body(message)
        timestamp = int(self.clock.now().timestamp())
        request = urllib.request.Request(
            url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Idempotency-Key": message.idempotency_key,
                SIGNATURE_HEADER: sign(self.secret, timestamp, payload),
                "User-Agent": "crmkit-webhook",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            raise WebhookError(f"{url} answered {error.code}") from None
        if not 200 <= status < 300:
            raise WebhookError(f"{url} answered {status}")
