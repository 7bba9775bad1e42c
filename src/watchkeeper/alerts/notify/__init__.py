"""Notifications of alerts: a webhook (signed JSON POST), e-mail over SMTP, a JSON-lines
file; queued in the ``notifications`` outbox and delivered at least once.

``load_notify_config(path)``, ``enqueue(store, config, alert_ids=None)``,
``deliver_pending(store, config, now=None)``; receivers check webhook signatures with
``verify_signature`` and deduplicate on alert id + revision.
"""

from __future__ import annotations

from watchkeeper.alerts.notify.config import (
    Channel,
    JsonlSettings,
    NotifyConfig,
    Retry,
    SmtpSettings,
    WebhookSettings,
    load_notify_config,
    parse_notify_config,
)
from watchkeeper.alerts.notify.jsonl import read_notifications
from watchkeeper.alerts.notify.outbox import (
    ChannelStatus,
    DeliveryRun,
    Queued,
    backoff_delay,
    deliver_pending,
    enqueue,
    outbox_status,
    plan_enqueue,
    requeue_failed,
)
from watchkeeper.alerts.notify.senders import DeliveryError, Notification, Sender
from watchkeeper.alerts.notify.signing import signed_headers, verify_signature

__all__ = [
    "Channel",
    "ChannelStatus",
    "DeliveryError",
    "DeliveryRun",
    "JsonlSettings",
    "Notification",
    "NotifyConfig",
    "Queued",
    "Retry",
    "Sender",
    "SmtpSettings",
    "WebhookSettings",
    "backoff_delay",
    "deliver_pending",
    "enqueue",
    "load_notify_config",
    "outbox_status",
    "parse_notify_config",
    "plan_enqueue",
    "read_notifications",
    "requeue_failed",
    "signed_headers",
    "verify_signature",
]
