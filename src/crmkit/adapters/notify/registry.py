"""Notifiers by name: the built-in ones and third-party ones from entry points.

A package adds a notifier by declaring, in its ``pyproject.toml``::

    [project.entry-points."crmkit.notifiers"]
    dingtalk = "crmkit_dingtalk:DingTalkNotifier"

and a host builds it with ``load_notifier("dingtalk", webhook_url=...)``. Nothing is
imported until asked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crmkit.adapters.plugins import available, load
from crmkit.ports import Notifier

__all__ = ["BUILTIN_NOTIFIERS", "load_notifier", "notifier_names"]


def _builtin(path: str) -> Callable[..., Notifier]:
    def factory(**options: Any) -> Notifier:
        module_name, _, name = path.partition(":")
        module = __import__(module_name, fromlist=[name])
        result: Notifier = getattr(module, name)(**options)
        return result

    return factory


BUILTIN_NOTIFIERS: dict[str, Callable[..., Notifier]] = {
    "inbox": _builtin("crmkit.adapters.notify.inbox:InboxNotifier"),
    "email": _builtin("crmkit.adapters.notify.smtp:SmtpNotifier"),
    "webhook": _builtin("crmkit.adapters.notify.webhook:WebhookNotifier"),
    "sms": _builtin("crmkit.adapters.notify.sms:SmsNotifier"),
    "log": _builtin("crmkit.adapters.notify.log:LogNotifier"),
}


def notifier_names() -> list[str]:
    """Every notifier name a host can load: built-in and installed plugins."""
    return sorted({*BUILTIN_NOTIFIERS, *available("crmkit.notifiers")})


def load_notifier(name: str, **options: Any) -> Notifier:
    """Build the notifier called ``name`` with ``options``.

    An installed plugin of that name wins over a built-in one, so a host can replace
    the stock email notifier with its own.

    Raises:
        LookupError: no built-in or installed notifier has that name.
        TypeError: the result has no ``channel`` and ``send``.
    """
    if name in available("crmkit.notifiers"):
        factory = load("crmkit.notifiers", name)
    elif name in BUILTIN_NOTIFIERS:
        factory = BUILTIN_NOTIFIERS[name]
    else:
        raise LookupError(f"no notifier named {name!r} (available: {', '.join(notifier_names())})")
    notifier = factory(**options)
    if not (hasattr(notifier, "channel") and callable(getattr(notifier, "send", None))):
        raise TypeError(f"notifier {name!r} has no channel and send()")
    return notifier  # type: ignore[no-any-return]
