"""Fakes for notification tests: receivers that record and honour idempotency keys."""

from __future__ import annotations

import threading

from crmkit.ports import Message


class RecordingNotifier:
    """Records every message; ``unique`` holds what a key-honouring receiver keeps."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.received: list[Message] = []
        self._lock = threading.Lock()

    def send(self, message: Message) -> None:
        with self._lock:
            self.received.append(message)

    @property
    def unique(self) -> dict[str, Message]:
        kept: dict[str, Message] = {}
        for message in self.received:
            kept.setdefault(message.idempotency_key, message)
        return kept


class FlakyNotifier(RecordingNotifier):
    """Fails the first ``failures`` sends, then records like its parent."""

    def __init__(self, channel: str, failures: int) -> None:
        super().__init__(channel)
        self.failures = failures
        self.attempts = 0

    def send(self, message: Message) -> None:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise ConnectionError(f"provider down (attempt {self.attempts})")
        super().send(message)


class ProcessCrash(BaseException):
    """The process dies: not an ``Exception``, so nothing in crmkit catches it."""


class CrashAfterSend(RecordingNotifier):
    """Delivers, then "crashes" before the dispatcher can acknowledge, ``crashes`` times."""

    def __init__(self, channel: str, crashes: int) -> None:
        super().__init__(channel)
        self.crashes = crashes

    def send(self, message: Message) -> None:
        super().send(message)
        if self.crashes > 0:
            self.crashes -= 1
            raise ProcessCrash(message.idempotency_key)
