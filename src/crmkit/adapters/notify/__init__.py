"""Notifiers (in-app inbox, SMTP email, signed webhooks, SMS, log) and the dispatcher's store.

Wire a dispatcher for a ``Crm``::

    from crmkit.adapters.notify import InboxNotifier, LogNotifier, notification_store
    from crmkit.rules.notifications import Dispatcher, Subscription, Template

    dispatcher = Dispatcher(
        notification_store(crm.storage),
        [InboxNotifier(crm.storage, crm.clock), LogNotifier()],
        subscriptions=[...],
    )
    dispatcher.dispatch_pending(crm.now())
"""

from crmkit.adapters.notify.inbox import InboxNotifier
from crmkit.adapters.notify.log import LogNotifier
from crmkit.adapters.notify.registry import BUILTIN_NOTIFIERS, load_notifier, notifier_names
from crmkit.adapters.notify.sms import RecordingSmsGateway, SentSms, SmsGateway, SmsNotifier
from crmkit.adapters.notify.smtp import SmtpNotifier
from crmkit.adapters.notify.store import (
    MemoryNotificationStore,
    SqlNotificationStore,
    notification_store,
)
from crmkit.adapters.notify.webhook import (
    SIGNATURE_HEADER,
    WebhookError,
    WebhookNotifier,
    sign,
    verify_signature,
)

__all__ = [
    "BUILTIN_NOTIFIERS",
    "SIGNATURE_HEADER",
    "InboxNotifier",
    "LogNotifier",
    "MemoryNotificationStore",
    "RecordingSmsGateway",
    "SentSms",
    "SmsGateway",
    "SmsNotifier",
    "SmtpNotifier",
    "SqlNotificationStore",
    "WebhookError",
    "WebhookNotifier",
    "load_notifier",
    "notification_store",
    "notifier_names",
    "sign",
    "verify_signature",
]
