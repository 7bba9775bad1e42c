"""The outbox: idempotent enqueue per alert revision and channel, channel filters,
backoff bounds, checkpoints, and rows of a channel the config dropped."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.alerts.test_notify_receivers import config, gap_and_call, store_with_alerts
from watchkeeper.alerts.engine import raise_alerts
from watchkeeper.alerts.notify import (
    Notification,
    Retry,
    backoff_delay,
    deliver_pending,
    enqueue,
    outbox_status,
    plan_enqueue,
)
from watchkeeper.errors import InputError
from watchkeeper.store.db import Store

T0 = datetime(2026, 1, 1, tzinfo=UTC)

TWO_CHANNELS = """
link_base = "https://wk.example.org/alerts/"
[channels.all]
kind = "jsonl"
path = "all.jsonl"
[channels.high]
kind = "jsonl"
path = "high.jsonl"
min_severity = "high"
"""


def _outbox(store: Store) -> list[tuple[str, int, str]]:
    rows = store.con.execute("SELECT alert_id, revision, channel FROM notifications ORDER BY ALL")
    return [(a, int(r), c) for a, r, c in rows.fetchall()]


def test_enqueue_is_idempotent_and_follows_filters(tmp_path: Path) -> None:
    store = store_with_alerts()
    cfg = config(TWO_CHANNELS, tmp_path)
    severities = dict(store.con.execute("SELECT alert_id, severity FROM alerts").fetchall())
    assert sorted(severities.values()) == ["high", "medium"]
    assert enqueue(store, cfg, now=T0) == 3  # both alerts to 'all', the high one to 'high'
    assert enqueue(store, cfg, now=T0) == 0
    rows = _outbox(store)
    assert {(a, c) for a, _, c in rows} == {(a, "all") for a in severities} | {
        (a, "high") for a, s in severities.items() if s == "high"
    }
    for (payload,) in store.con.execute("SELECT payload FROM notifications").fetchall():
        p = json.loads(payload)
        assert p["link"] == f"https://wk.example.org/alerts/{p['alert_id']}"
        assert p["dedup_key"] == f"{p['alert_id']}#{p['revision']}"
        assert "\n" not in payload
    # an updated alert (revision 2) is queued again, once per channel that takes it
    store.write_events(gap_and_call(105.0)[:1])
    (updated,) = raise_alerts(store).updated
    assert plan_enqueue(store, cfg) and enqueue(store, cfg, now=T0) == 1
    assert (updated, 2, "all") in _outbox(store) and enqueue(store, cfg, now=T0) == 0


def test_rules_filter_takes_patterns(tmp_path: Path) -> None:
    store = store_with_alerts()
    cfg = config('[channels.gaps]\nkind = "jsonl"\npath = "g.jsonl"\nrules = ["ais-gap-*"]\n')
    assert enqueue(store, cfg, now=T0) == 1
    ((alert_id, _, _),) = _outbox(store)
    assert alert_id.startswith("ais-gap-near-sanctioned-port-")


def test_enqueue_only_named_alerts_and_refuse_unknown_ids(tmp_path: Path) -> None:
    store = store_with_alerts()
    cfg = config(TWO_CHANNELS, tmp_path)
    (high,) = store.con.execute(
        "SELECT alert_id FROM alerts WHERE severity = 'high'"
    ).fetchone() or ("",)
    with pytest.raises(InputError, match="no alert nope") as err:
        enqueue(store, cfg, [high, "nope"], now=T0)
    assert err.value.field == "alert_ids"
    assert _outbox(store) == []  # nothing written by the failed call
    assert enqueue(store, cfg, [high, high], now=T0) == 2


def test_rows_of_a_dropped_channel_stay_queued_and_checkpoints_record_runs(
    tmp_path: Path,
) -> None:
    store = store_with_alerts()
    enqueue(store, config(TWO_CHANNELS, tmp_path), now=T0)
    only_all = config('[channels.all]\nkind = "jsonl"\npath = "all.jsonl"\n', tmp_path)
    run = deliver_pending(store, only_all, now=T0)
    assert (len(run.sent), run.unknown_channel) == (2, 1)
    status = {s.channel: s for s in outbox_status(store)}
    assert (status["all"].sent, status["high"].queued) == (2, 1)
    assert status["high"].next_try_at == T0
    ((name, position),) = store.con.execute("SELECT name, position FROM checkpoints").fetchall()
    assert name == "notify:all"
    assert json.loads(position)["sent"] == 2


@given(
    st.integers(1, 80),
    st.floats(0.1, 1000),
    st.floats(1, 100_000),
    st.integers(0, 2**32),
)
def test_backoff_stays_within_half_and_all_of_the_capped_ceiling(
    attempts: int, base: float, cap_extra: float, seed: int
) -> None:
    retry = Retry(max_attempts=100, backoff_seconds=base, backoff_max_seconds=base + cap_extra)
    ceiling = min(retry.backoff_max_seconds, base * 2.0 ** (attempts - 1))
    delay = backoff_delay(attempts, retry, random.Random(seed)).total_seconds()
    assert ceiling / 2 - 1e-6 <= delay <= ceiling + 1e-6


def test_backoff_jitter_spreads_retries() -> None:
    retry = Retry(backoff_seconds=60, backoff_max_seconds=3600)
    rng = random.Random(7)
    delays = {backoff_delay(3, retry, rng) for _ in range(50)}
    assert len(delays) > 40
    assert min(delays) >= timedelta(seconds=120) and max(delays) <= timedelta(seconds=240)


def test_a_sender_bug_is_one_failed_try_and_other_rows_still_go(tmp_path: Path) -> None:
    store = store_with_alerts()
    cfg = config(TWO_CHANNELS, tmp_path)
    enqueue(store, cfg, now=T0)

    class Broken:
        def send(self, n: Notification) -> str | None:
            raise KeyError("severity")

    run = deliver_pending(store, cfg, now=T0, senders={"high": Broken()})
    assert len(run.sent) == 2 and len(run.retrying) == 1
    (error,) = run.errors.values()
    assert error == "unexpected KeyError: 'severity'"
    assert outbox_status(store)[1].retrying == 1


def test_enqueue_inside_a_batch_that_fails_queues_nothing(tmp_path: Path) -> None:
    """The watch queues inside the transaction that raised the alerts: a batch that
    fails after enqueue leaves no notification of an alert that was never stored."""
    store = store_with_alerts()
    cfg = config(TWO_CHANNELS, tmp_path)
    with pytest.raises(RuntimeError), store.transaction():
        assert enqueue(store, cfg, now=T0) == 3
        raise RuntimeError("batch failed after enqueue")
    assert _outbox(store) == []
    assert enqueue(store, cfg, now=T0) == 3
