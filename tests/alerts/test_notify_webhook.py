"""Webhook delivery against a real local receiver: retries with backoff on an injected
clock, permanent refusals, timeouts, and at least once across a crash (kill -9)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.alerts.test_notify_receivers import (
    SECRET,
    Delivery,
    WebhookReceiver,
    free_port,
    store_with_alerts,
    webhook_config,
    webhook_receiver,
)
from watchkeeper.alerts.notify import (
    Notification,
    deliver_pending,
    enqueue,
    outbox_status,
    requeue_failed,
)
from watchkeeper.alerts.notify.senders import WebhookSender
from watchkeeper.store.db import Store

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def _rows(store: Store) -> list[tuple[Any, ...]]:
    return store.con.execute(
        "SELECT alert_id, attempts, next_try_at, sent_at, last_error FROM notifications "
        "ORDER BY alert_id"
    ).fetchall()


def _one_alert(store: Store) -> str:
    """Keep only the high alert queued, so one row is followed through its tries."""
    (aid,) = store.con.execute(
        "SELECT alert_id FROM alerts WHERE severity = 'high'"
    ).fetchone() or ("",)
    return str(aid)


def test_fails_twice_with_503_then_accepts_with_growing_backoff() -> None:
    store = store_with_alerts()
    aid = _one_alert(store)
    with webhook_receiver(WebhookReceiver(statuses=[503, 503])) as rx:
        cfg = webhook_config(rx.url)
        enqueue(store, cfg, [aid], now=T0)
        first = deliver_pending(store, cfg, now=T0, rng=random.Random(1))
        assert first.retrying and not first.sent
        (_, attempts, next_try, sent_at, error) = _rows(store)[0]
        assert (attempts, sent_at) == (1, None) and "HTTP 503" in error
        assert T0 + timedelta(seconds=30) <= next_try <= T0 + timedelta(seconds=60)

        # not due yet: nothing is sent, the receiver sees nothing
        assert not deliver_pending(store, cfg, now=next_try - timedelta(seconds=1)).to_dict()[
            "retrying"
        ]
        assert len(rx.received) == 1

        second = deliver_pending(store, cfg, now=next_try, rng=random.Random(2))
        assert second.retrying
        (_, attempts, next_try2, _, _) = _rows(store)[0]
        assert attempts == 2
        # the second wait is drawn from the doubled ceiling: 60..120 s
        assert next_try + timedelta(seconds=60) <= next_try2 <= next_try + timedelta(seconds=120)

        third = deliver_pending(store, cfg, now=next_try2)
        assert [q.alert_id for q in third.sent] == [aid]
    (_, attempts, _, sent_at, error) = _rows(store)[0]
    assert (attempts, sent_at, error) == (3, next_try2, None)
    assert [d.key[0] for d in rx.received] == [aid] * 3
    assert all(d.verified for d in rx.received)
    # sent rows are never sent again
    assert not deliver_pending(store, cfg, now=next_try2 + timedelta(days=1)).sent


def test_backoff_is_capped() -> None:
    store = store_with_alerts()
    aid = _one_alert(store)
    with webhook_receiver(WebhookReceiver(statuses=[500] * 20)) as rx:
        cfg = webhook_config(rx.url, "max_attempts = 20")
        enqueue(store, cfg, [aid], now=T0)
        now = T0
        waits = []
        for _ in range(8):
            deliver_pending(store, cfg, now=now)
            (_, _, next_try, _, _) = _rows(store)[0]
            waits.append((next_try - now).total_seconds())
            now = next_try
    assert all(w <= 600 for w in waits)  # backoff_max_seconds
    assert waits[-1] >= 300  # the cap reached: at least half of it, after jitter
    assert len(rx.received) == 8


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(400, True), (404, True), (410, True), (408, False), (429, False), (500, False), (503, False)],
)
def test_4xx_is_permanent_except_408_and_429(status: int, permanent: bool) -> None:
    store = store_with_alerts()
    aid = _one_alert(store)
    with webhook_receiver(WebhookReceiver(statuses=[status])) as rx:
        cfg = webhook_config(rx.url)
        enqueue(store, cfg, [aid], now=T0)
        run = deliver_pending(store, cfg, now=T0)
        assert bool(run.gave_up) is permanent and bool(run.retrying) is not permanent
        # a given-up row is not tried again, however late
        deliver_pending(store, cfg, now=T0 + timedelta(days=30))
        assert len(rx.received) == (1 if permanent else 2)
    (status_row,) = outbox_status(store)
    if permanent:
        assert (status_row.failed, status_row.sent) == (1, 0)
        assert _rows(store)[0][4].startswith(f"gave up: permanent refusal: HTTP {status}")


def test_gives_up_after_max_attempts_and_can_be_requeued() -> None:
    store = store_with_alerts()
    aid = _one_alert(store)
    with webhook_receiver(WebhookReceiver(statuses=[503] * 3)) as rx:
        cfg = webhook_config(rx.url, "max_attempts = 3")
        enqueue(store, cfg, [aid], now=T0)
        now = T0
        for _ in range(5):
            deliver_pending(store, cfg, now=now)
            now += timedelta(hours=1)
        assert len(rx.received) == 3
        (_, attempts, _, sent_at, error) = _rows(store)[0]
        assert (attempts, sent_at) == (3, None)
        assert error.startswith("gave up: 3 failed attempts: HTTP 503")
        assert requeue_failed(store, now=now) == 1
        run = deliver_pending(store, cfg, now=now)
    assert [q.alert_id for q in run.sent] == [aid]
    assert len(rx.received) == 4


def test_timeout_and_refused_connection_are_retried() -> None:
    store = store_with_alerts()
    aid = _one_alert(store)
    with webhook_receiver(WebhookReceiver(delay_seconds=2.5)) as rx:
        cfg = webhook_config(rx.url)  # timeout_seconds = 2
        enqueue(store, cfg, [aid], now=T0)
        run = deliver_pending(store, cfg, now=T0)
    assert run.retrying and "timed out" in run.errors[f"{aid}#1@hook"]
    closed = webhook_config(f"http://127.0.0.1:{free_port()}/hook")
    run = deliver_pending(store, closed, now=T0 + timedelta(days=1))
    assert run.retrying and "ConnectError" in run.errors[f"{aid}#1@hook"]
    assert _rows(store)[0][1] == 2


def test_crash_after_the_receiver_accepted_resends_and_receiver_dedups() -> None:
    """The send succeeded but the process died before marking the row: sent again."""
    store = store_with_alerts()

    class CrashAfterSend:
        def __init__(self, inner: WebhookSender) -> None:
            self.inner = inner

        def send(self, n: Notification) -> str | None:
            self.inner.send(n)
            raise KeyboardInterrupt("crash between send and mark")

    with webhook_receiver(WebhookReceiver()) as rx:
        cfg = webhook_config(rx.url)
        enqueue(store, cfg, now=T0)
        channel = cfg.channel("hook")
        assert channel is not None
        crashing = CrashAfterSend(WebhookSender(channel.settings))  # type: ignore[arg-type]
        with pytest.raises(KeyboardInterrupt):
            deliver_pending(store, cfg, now=T0, senders={"hook": crashing})
        assert len(rx.received) == 1
        assert all(r[3] is None for r in _rows(store))  # nothing marked sent
        run = deliver_pending(store, cfg, now=T0)
    assert len(run.sent) == 2
    assert len(rx.received) == 3  # one duplicate
    assert len(rx.unique()) == 2
    assert all(r[3] is not None for r in _rows(store))


_CHILD = textwrap.dedent(
    """
    import sys
    from watchkeeper.alerts.notify import deliver_pending, load_notify_config
    from watchkeeper.store.db import Store
    with Store(sys.argv[1]) as store:
        deliver_pending(store, load_notify_config(sys.argv[2]))
    """
)


def test_kill_9_between_send_and_mark_loses_nothing(tmp_path: Path) -> None:
    """A real process delivers from a store file and is killed (SIGKILL) while its first
    request is at the receiver: after a restart every alert arrives, the first one twice,
    and the receiver keeps one of each (alert id + revision)."""
    db = tmp_path / "store.duckdb"
    child: list[subprocess.Popen[bytes]] = []

    def kill_sender(_: Delivery) -> None:
        if child and child[0].poll() is None:
            os.kill(child[0].pid, signal.SIGKILL)
            child[0].wait(10)

    with webhook_receiver(WebhookReceiver(on_request=kill_sender)) as rx:
        cfg_path = tmp_path / "notify.toml"
        cfg_path.write_text(
            f'[channels.hook]\nkind = "webhook"\nurl = "{rx.url}"\nsecret_env = "WK_TEST_SECRET"\n'
        )
        with Store(db) as store:
            store_with_alerts(store)
            cfg = webhook_config(rx.url)
            assert enqueue(store, cfg) == 2
        env = {**os.environ, "WK_TEST_SECRET": SECRET, "PYTHONPATH": str(ROOT / "src")}
        child.append(
            subprocess.Popen([sys.executable, "-c", _CHILD, str(db), str(cfg_path)], env=env)
        )
        deadline = time.monotonic() + 60
        while child[0].poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert child[0].returncode == -signal.SIGKILL
        assert len(rx.received) == 1
        rx.on_request = None
        with Store(db) as store:
            assert [r[3] for r in _rows(store)] == [None, None]  # nothing marked sent
            run = deliver_pending(store, cfg)
            assert len(run.sent) == 2
            assert all(r[3] is not None for r in _rows(store))
    assert len(rx.received) == 3
    assert rx.received[0].key == rx.received[1].key or rx.received[0].key == rx.received[2].key
    assert len(rx.unique()) == 2
    assert all(d.verified for d in rx.received)
