"""Real local receivers for the notification tests (a webhook server on 127.0.0.1, an
aiosmtpd SMTP server), the alerts they receive, and the webhook signature scheme checked
through them."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.alerts._events import event, owner_blocked
from watchkeeper.alerts.engine import raise_alerts
from watchkeeper.alerts.notify import (
    NotifyConfig,
    deliver_pending,
    enqueue,
    parse_notify_config,
    signed_headers,
    verify_signature,
)
from watchkeeper.store.db import Store

SECRET = "s3cret-for-tests"
MMSI = "mmsi:273000001"


def gap_and_call(start_h: float = 100.0) -> list[Any]:
    """An AIS gap that ends 1 h before a port call in Venezuela: one medium alert."""
    return [
        event("ais_gap", (MMSI,), start_h, start_h + 10, score=0.4),
        event(
            "port_call",
            (MMSI,),
            start_h + 11,
            start_h + 20,
            params={"sanctioned": True, "port_country": "ve"},
        ),
    ]


def store_with_alerts(store: Store | None = None) -> Store:
    """A store with two alerts raised by the real engine: a high one (blocked owner) and
    a medium one (gap near a sanctioned port call)."""
    store = store or Store(":memory:")
    store.write_events([owner_blocked("imo:9000001", "ofac-1"), *gap_and_call()])
    run = raise_alerts(store)
    assert len(run.created) == 2
    return store


def config(text: str, folder: Path | None = None) -> NotifyConfig:
    return parse_notify_config(text, (folder or Path("/nonexistent")) / "notify.toml", env={})


def webhook_config(url: str, extra: str = "") -> NotifyConfig:
    return config(
        f'[channels.hook]\nkind = "webhook"\nurl = "{url}"\nsecret = "{SECRET}"\n'
        f"timeout_seconds = 2\nbackoff_seconds = 60\nbackoff_max_seconds = 600\n{extra}"
    )


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes
    verified: bool

    @property
    def payload(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value

    @property
    def key(self) -> tuple[str, int]:
        return (self.headers["X-Watchkeeper-Alert-Id"], int(self.headers["X-Watchkeeper-Revision"]))


@dataclass
class WebhookReceiver:
    """Answers each POST with the next status of ``statuses`` (200 once they run out)
    after checking its signature (401 if it does not verify); records every request."""

    statuses: list[int] = field(default_factory=list)
    delay_seconds: float = 0.0
    on_request: Callable[[Delivery], None] | None = None
    received: list[Delivery] = field(default_factory=list)
    url: str = ""

    def unique(self) -> dict[tuple[str, int], Delivery]:
        """What a receiver keeps after deduplicating on alert id + revision."""
        kept: dict[tuple[str, int], Delivery] = {}
        for d in self.received:
            if d.verified:
                kept.setdefault(d.key, d)
        return kept


@contextmanager
def webhook_receiver(receiver: WebhookReceiver) -> Iterator[WebhookReceiver]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k: v for k, v in self.headers.items()}
            delivery = Delivery(headers, body, verify_signature(SECRET, body, headers))
            with lock:
                receiver.received.append(delivery)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
            if receiver.on_request is not None:
                receiver.on_request(delivery)
            if receiver.delay_seconds:
                time.sleep(receiver.delay_seconds)
            if not delivery.verified:
                status = 401
            try:
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass  # the sender is gone (the crash test kills it)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# --- the signature scheme, through the receiver -------------------------------------


def test_webhook_delivery_is_signed_and_names_the_alert() -> None:
    store = store_with_alerts()
    with webhook_receiver(WebhookReceiver()) as rx:
        cfg = webhook_config(rx.url)
        assert enqueue(store, cfg) == 2
        run = deliver_pending(store, cfg)
    assert len(run.sent) == 2 and not run.errors
    assert all(d.verified for d in rx.received)
    alerts = {
        r[0]: r
        for r in store.con.execute(
            "SELECT alert_id, revision, rule_id, severity, title, subjects FROM alerts"
        ).fetchall()
    }
    for d in rx.received:
        p = d.payload
        alert_id, revision, rule, severity, title, subjects = alerts[p["alert_id"]]
        assert d.key == (alert_id, revision) == (p["alert_id"], p["revision"])
        assert (p["rule"], p["severity"], p["title"], p["subjects"]) == (
            rule,
            severity,
            title,
            list(subjects),
        )
        assert p["reference"] == f"watchkeeper alerts show {alert_id}"
        assert set(p["window"]) == {"start", "end"} and p["event_ids"]
        assert d.headers["Content-Type"] == "application/json"
        # the body is the payload stored in the outbox, byte for byte
        (stored,) = store.con.execute(
            "SELECT payload FROM notifications WHERE alert_id = ?", [alert_id]
        ).fetchone() or (None,)
        assert d.body == stored.encode()


def test_receiver_refuses_a_tampered_or_wrongly_signed_body() -> None:
    body = json.dumps({"alert_id": "a", "revision": 1}).encode()
    with webhook_receiver(WebhookReceiver()) as rx:
        good = signed_headers(SECRET, body)
        ok = httpx.post(rx.url, content=body, headers=good)
        tampered = httpx.post(rx.url, content=body.replace(b"1", b"2"), headers=good)
        wrong = httpx.post(rx.url, content=body, headers=signed_headers("other", body))
    assert [ok.status_code, tampered.status_code, wrong.status_code] == [200, 401, 401]
    assert [d.verified for d in rx.received] == [True, False, False]


def test_signature_timestamp_is_part_of_the_message_and_expires() -> None:
    body = b'{"alert_id":"a","revision":1}'
    headers = signed_headers(SECRET, body, timestamp=1_700_000_000)
    assert verify_signature(SECRET, body, headers, now=1_700_000_100)
    assert not verify_signature(SECRET, body, headers, now=1_700_000_000 + 301)  # stale
    moved = {**headers, "X-Watchkeeper-Timestamp": "1700000001"}
    assert not verify_signature(SECRET, body, moved, now=1_700_000_100)  # replayed ts
    lower = {k.lower(): v for k, v in headers.items()}
    assert verify_signature(SECRET, body, lower, now=1_700_000_000)
    assert not verify_signature(SECRET, body, {}, now=1_700_000_000)


@given(st.binary(min_size=1, max_size=200), st.data())
def test_any_changed_byte_breaks_the_signature(body: bytes, data: st.DataObject) -> None:
    headers = signed_headers(SECRET, body, timestamp=1_700_000_000)
    assert verify_signature(SECRET, body, headers, now=1_700_000_000)
    i = data.draw(st.integers(0, len(body) - 1))
    flip = data.draw(st.integers(1, 255))
    changed = body[:i] + bytes([body[i] ^ flip]) + body[i + 1 :]
    assert not verify_signature(SECRET, changed, headers, now=1_700_000_000)


@pytest.mark.parametrize("header", ["X-Watchkeeper-Signature", "X-Watchkeeper-Timestamp"])
def test_signature_without_its_headers_does_not_verify(header: str) -> None:
    body = b"{}"
    headers = signed_headers(SECRET, body, timestamp=1_700_000_000)
    del headers[header]
    assert not verify_signature(SECRET, body, headers, now=1_700_000_000)
