"""E-mail notifications delivered to a real local SMTP server (aiosmtpd) started here."""

from __future__ import annotations

import email
import json
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest

from tests.alerts.test_notify_receivers import free_port, store_with_alerts
from watchkeeper.alerts.notify import (
    deliver_pending,
    enqueue,
    outbox_status,
    parse_notify_config,
)
from watchkeeper.alerts.notify.config import NotifyConfig
from watchkeeper.errors import InputError

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
aiosmtpd_smtp = pytest.importorskip("aiosmtpd.smtp")

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Mailbox:
    """An SMTP handler: keeps every accepted message; refuses recipients in ``refuse``."""

    refuse: set[str] = field(default_factory=set)
    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(msg, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server(mailbox: Mailbox, **kwargs: Any) -> Iterator[int]:
    port = free_port()
    controller = aiosmtpd_controller.Controller(mailbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def smtp_config(port: int, extra: str = "", env: dict[str, str] | None = None) -> NotifyConfig:
    text = (
        f'[channels.desk]\nkind = "smtp"\nhost = "127.0.0.1"\nport = {port}\n'
        f'from = "watchkeeper@example.org"\nto = ["desk@example.org", "duty@example.org"]\n'
        f"timeout_seconds = 5\n{extra}"
    )
    return parse_notify_config(text, Path("/nonexistent/notify.toml"), env=env or {})


def test_mail_has_subject_body_and_the_alert_attached() -> None:
    store = store_with_alerts()
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        cfg = smtp_config(port)
        assert enqueue(store, cfg, now=T0) == 2
        run = deliver_pending(store, cfg, now=T0)
    assert len(run.sent) == 2 and not run.errors
    alerts = {
        r[0]: r
        for r in store.con.execute(
            "SELECT alert_id, revision, severity, title, rule_id FROM alerts"
        ).fetchall()
    }
    assert len(mailbox.messages) == 2
    for mail_from, rcpt, msg in mailbox.messages:
        assert mail_from == "watchkeeper@example.org"
        assert rcpt == ["desk@example.org", "duty@example.org"]
        alert_id = msg["X-Watchkeeper-Alert-Id"]
        _, revision, severity, title, rule = alerts[alert_id]
        assert msg["X-Watchkeeper-Revision"] == str(revision)
        assert msg["Subject"] == f"[watchkeeper {severity}] {title}"
        assert msg["Message-ID"] == f"<{alert_id}.r{revision}@watchkeeper>"
        body = msg.get_body(("plain",))
        assert body is not None
        text = body.get_content()
        assert title in text and alert_id in text and f"Rule:      {rule}" in text
        (attachment,) = list(msg.iter_attachments())
        assert attachment.get_filename() == f"alert-{alert_id}-r{revision}.json"
        assert attachment.get_content_type() == "application/json"
        payload = json.loads(attachment.get_content())
        (stored,) = store.con.execute(
            "SELECT payload FROM notifications WHERE alert_id = ?", [alert_id]
        ).fetchone() or ("",)
        assert payload == json.loads(stored)
        assert (payload["alert_id"], payload["revision"]) == (alert_id, revision)


def test_login_with_the_password_from_the_environment() -> None:
    mailbox = Mailbox()

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        mailbox.logins.append((bytes(data.login), bytes(data.password)))
        ok = bytes(data.password) == b"pw-from-env"
        # handled=False: aiosmtpd answers 235 or 535 itself
        return aiosmtpd_smtp.AuthResult(success=ok, handled=False)

    with smtp_server(mailbox, authenticator=authenticator, auth_require_tls=False) as port:
        login = 'username = "wk"\npassword_env = "DESK_PW"'
        good = smtp_config(port, login, env={"DESK_PW": "pw-from-env"})
        bad = smtp_config(port, login, env={"DESK_PW": "x"})
        store = store_with_alerts()
        enqueue(store, good, now=T0)
        accepted = deliver_pending(store, good, now=T0)
        other = store_with_alerts()
        enqueue(other, bad, now=T0)
        refused = deliver_pending(other, bad, now=T0)
    assert len(accepted.sent) == 2 and len(mailbox.messages) == 2
    # a refused login (535) is permanent: trying again with the same password cannot help
    assert len(refused.gave_up) == 2 and "SMTP 535" in next(iter(refused.errors.values()))
    # smtplib tries each mechanism the server offers (PLAIN, then LOGIN) before failing
    assert mailbox.logins[:2] == [(b"wk", b"pw-from-env")] * 2
    assert set(mailbox.logins[2:]) == {(b"wk", b"x")}


def test_refused_recipients_give_up_and_an_absent_server_is_retried() -> None:
    store = store_with_alerts()
    mailbox = Mailbox(refuse={"desk@example.org", "duty@example.org"})
    with smtp_server(mailbox) as port:
        cfg = smtp_config(port)
        enqueue(store, cfg, now=T0)
        run = deliver_pending(store, cfg, now=T0)
    assert len(run.gave_up) == 2 and not mailbox.messages
    assert all("recipient refused" in e for e in run.errors.values())
    (status,) = outbox_status(store)
    assert (status.failed, status.sent) == (2, 0)

    store = store_with_alerts()
    cfg = smtp_config(free_port())  # nothing listens there
    enqueue(store, cfg, now=T0)
    run = deliver_pending(store, cfg, now=T0)
    assert len(run.retrying) == 2 and not run.gave_up


def test_one_refused_recipient_of_two_is_sent_and_recorded() -> None:
    store = store_with_alerts()
    mailbox = Mailbox(refuse={"duty@example.org"})
    with smtp_server(mailbox) as port:
        cfg = smtp_config(port)
        enqueue(store, cfg, now=T0)
        run = deliver_pending(store, cfg, now=T0)
    assert len(run.sent) == 2
    assert [m[1] for m in mailbox.messages] == [["desk@example.org"]] * 2
    notes = [r[0] for r in store.con.execute("SELECT last_error FROM notifications").fetchall()]
    assert notes == ["accepted, but refused for duty@example.org"] * 2


@pytest.fixture
def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made by the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl command to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out",
         cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def test_starttls_to_a_relay_that_requires_it(
    self_signed: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, key = self_signed
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    mailbox = Mailbox()
    with smtp_server(mailbox, tls_context=server_tls, require_starttls=True) as port:
        trusted = smtp_config(port, f'starttls = true\nca_file = "{cert}"')
        untrusted = smtp_config(port, "starttls = true")  # the system CAs do not know it
        plain = smtp_config(port)
        stores = [store_with_alerts() for _ in range(3)]
        for store, cfg in zip(stores, (trusted, untrusted, plain), strict=True):
            enqueue(store, cfg, now=T0)
        sent = deliver_pending(stores[0], trusted, now=T0)
        unverified = deliver_pending(stores[1], untrusted, now=T0)
        refused = deliver_pending(stores[2], plain, now=T0)
    assert len(sent.sent) == 2 and len(mailbox.messages) == 2
    assert len(unverified.retrying) == 2
    assert all("CERTIFICATE_VERIFY_FAILED" in e for e in unverified.errors.values())
    # 530: the relay refuses mail before STARTTLS, a permanent answer
    assert len(refused.gave_up) == 2
    assert all("SMTP 530" in e for e in refused.errors.values())


def test_ca_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        parse_notify_config(
            '[channels.m]\nkind = "smtp"\nhost = "h"\nfrom = "a@b"\nto = "c@d"\n'
            'ca_file = "relay-ca.pem"\n',
            tmp_path / "notify.toml",
            env={},
        )
    assert err.value.field == "channels.m.ca_file"
    assert str(tmp_path / "relay-ca.pem") in err.value.message
