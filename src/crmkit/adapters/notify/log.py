"""A notifier that writes each message to a :mod:`logging` logger."""

from __future__ import annotations

import logging

from crmkit.ports import Message

__all__ = ["LogNotifier"]


class LogNotifier:
    """Logs every message (for development, audits, or as a catch-all channel).

    Args:
        logger: where to log; ``crmkit.notify`` unless given (crmkit configures no handler).
        level: the log level of each record.
        channel: the channel name it serves.
    """

    def __init__(
        self, logger: logging.Logger | None = None, level: int = logging.INFO, channel: str = "log"
    ) -> None:
        self.logger = logger or logging.getLogger("crmkit.notify")
        self.level = level
        self.channel = channel

    def send(self, message: Message) -> None:
        """Log ``message`` with its idempotency key."""
        self.logger.log(
            self.level,
            "notification %s to %s: %s",
            message.idempotency_key,
            message.recipient,
            message.subject or message.body,
            extra={"crmkit_message": message},
        )
