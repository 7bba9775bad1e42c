"""How one notification reaches one channel: webhook, SMTP, JSON-lines file.

A sender returns only once the receiver accepted the notification (a 2xx answer, the
SMTP server queued the mail, the line is fsynced); anything else raises DeliveryError,
``permanent`` when trying again cannot help (a 4xx other than 408/429, a refused
recipient or login).
"""

from __future__ import annotations

import json
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol, runtime_checkable

import httpx

from watchkeeper.alerts.notify.config import (
    Channel,
    JsonlSettings,
    SmtpSettings,
    WebhookSettings,
)
from watchkeeper.alerts.notify.jsonl import append_line
from watchkeeper.alerts.notify.signing import (
    ALERT_ID_HEADER,
    REVISION_HEADER,
    signed_headers,
)


@dataclass(frozen=True)
class Notification:
    """One outbox row: an alert revision for one channel, with the payload as sent."""

    alert_id: str
    revision: int
    channel: str
    payload: str
    attempts: int


class DeliveryError(Exception):
    """The receiver did not accept the notification; ``permanent``: do not retry."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@runtime_checkable
class Closable(Protocol):
    def close(self) -> None: ...


class Sender(Protocol):
    def send(self, notification: Notification) -> str | None:
        """Return once the receiver accepted it, with a note worth keeping (or None);
        raise DeliveryError otherwise."""


def _user_agent() -> str:
    from watchkeeper import __version__

    return f"watchkeeper/{__version__}"


@dataclass
class WebhookSender:
    """HTTP POST of the payload bytes, signed (see ``signing``). One connection pool per
    sender (per channel and delivery run): building an SSL context per request costs
    tens of milliseconds."""

    settings: WebhookSettings
    client: httpx.Client | None = None

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def send(self, notification: Notification) -> str | None:
        body = notification.payload.encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": _user_agent(),
            ALERT_ID_HEADER: notification.alert_id,
            REVISION_HEADER: str(notification.revision),
            **signed_headers(self.settings.secret, body),
        }
        if self.client is None:
            self.client = httpx.Client(timeout=self.settings.timeout_seconds)
        try:
            response = self.client.post(self.settings.url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise DeliveryError(
                f"timed out after {self.settings.timeout_seconds:g} s: {exc}"
            ) from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if 200 <= status < 300:
            return None
        reason = f"HTTP {status} {response.reason_phrase}: {response.text[:200]!r}"
        permanent = 400 <= status < 500 and status not in (408, 429)
        raise DeliveryError(reason, permanent=permanent)


def alert_email(settings: SmtpSettings, notification: Notification) -> EmailMessage:
    """The mail for one notification: a plain-text summary, the payload attached as
    ``alert-<id>-r<revision>.json``; Message-ID is fixed per alert revision, so mail
    clients fold a resent copy into the first."""
    alert: dict[str, Any] = json.loads(notification.payload)
    msg = EmailMessage()
    msg["Subject"] = f"[watchkeeper {alert['severity']}] {alert['title']}"
    msg["From"] = settings.sender
    msg["To"] = ", ".join(settings.to)
    msg["Message-ID"] = f"<{notification.alert_id}.r{notification.revision}@watchkeeper>"
    msg[ALERT_ID_HEADER] = notification.alert_id
    msg[REVISION_HEADER] = str(notification.revision)
    window = alert.get("window", {})
    lines = [
        alert["title"],
        "",
        f"Alert:     {alert['alert_id']} (revision {alert['revision']})",
        f"Rule:      {alert['rule']}",
        f"Severity:  {alert['severity']}",
        f"Score:     {alert['score']:.2f}",
        f"Window:    {window.get('start')} to {window.get('end')} (UTC)",
        f"Subjects:  {', '.join(alert['subjects'])}",
        f"Events:    {len(alert.get('event_ids', []))}",
        "",
        f"See: {alert.get('link') or alert['reference']}",
        "",
        "The alert as JSON is attached; deduplicate on alert_id + revision.",
    ]
    msg.set_content("\n".join(lines) + "\n")
    msg.add_attachment(
        notification.payload.encode("utf-8"),
        maintype="application",
        subtype="json",
        filename=f"alert-{notification.alert_id}-r{notification.revision}.json",
    )
    return msg


@dataclass
class SmtpSender:
    settings: SmtpSettings

    def send(self, notification: Notification) -> str | None:
        s = self.settings
        msg = alert_email(s, notification)
        try:
            with smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds) as smtp:
                smtp.ehlo()
                if s.starttls:
                    smtp.starttls(
                        context=ssl.create_default_context(
                            cafile=str(s.ca_file) if s.ca_file is not None else None
                        )
                    )
                    smtp.ehlo()
                if s.username is not None and s.password is not None:
                    smtp.login(s.username, s.password)
                refused = smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(
                f"every recipient refused: {exc.recipients}", permanent=True
            ) from exc
        except smtplib.SMTPResponseException as exc:
            text = (
                exc.smtp_error.decode("utf-8", "replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            # 5yz is a permanent SMTP reply, 4yz a transient one (RFC 5321 4.2.1).
            raise DeliveryError(
                f"SMTP {exc.smtp_code}: {text}", permanent=500 <= exc.smtp_code < 600
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        if refused:
            # Some recipients took it: resending would duplicate it to them; record who not.
            return f"accepted, but refused for {', '.join(sorted(refused))}"
        return None


@dataclass
class JsonlSender:
    settings: JsonlSettings

    def send(self, notification: Notification) -> str | None:
        try:
            append_line(self.settings.path, notification.payload)
        except OSError as exc:
            raise DeliveryError(f"cannot append to {self.settings.path}: {exc}") from exc
        return None


def _webhook(channel: Channel) -> Sender:
    assert isinstance(channel.settings, WebhookSettings)
    return WebhookSender(channel.settings)


def _smtp(channel: Channel) -> Sender:
    assert isinstance(channel.settings, SmtpSettings)
    return SmtpSender(channel.settings)


def _jsonl(channel: Channel) -> Sender:
    assert isinstance(channel.settings, JsonlSettings)
    return JsonlSender(channel.settings)


SENDERS: dict[str, Callable[[Channel], Sender]] = {
    "webhook": _webhook,
    "smtp": _smtp,
    "jsonl": _jsonl,
}


def sender_for(channel: Channel) -> Sender:
    return SENDERS[channel.kind](channel)
