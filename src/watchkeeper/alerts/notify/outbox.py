"""The notification outbox: queue each alert revision once per channel, deliver at least once.

``enqueue`` adds one ``notifications`` row per (alert id, current revision, channel) the
channel's filters accept and the outbox does not hold yet, so running it again adds
nothing. ``deliver_pending`` sends the rows that are due and marks each one right after
its receiver accepted it: a crash between the two leaves the row unsent, and it is sent
again (the receiver deduplicates on alert id + revision). A failed try counts an attempt
and waits ``backoff * 2**(attempts-1)`` (capped) with jitter; a permanent refusal, or
``max_attempts`` failed tries, gives the row up: its ``last_error`` then starts with
``gave up:`` and nothing tries it again until ``requeue_failed``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from watchkeeper.alerts.notify.config import Channel, NotifyConfig, Retry
from watchkeeper.alerts.notify.senders import (
    Closable,
    DeliveryError,
    Notification,
    Sender,
    sender_for,
)
from watchkeeper.errors import InputError
from watchkeeper.store.base import StoreBase

PAYLOAD_SCHEMA = "watchkeeper.alert.v1"
GAVE_UP = "gave up: "

_ALERT_COLUMNS = (
    "alert_id, revision, rule_id, severity, title, subjects, start_time, end_time, score, "
    "state, event_ids, updated_at"
)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def alert_payload(row: tuple[Any, ...], link_base: str | None) -> str:
    """The JSON text sent for one alert revision (one line, keys sorted)."""
    alert_id = str(row[0])
    payload = {
        "schema": PAYLOAD_SCHEMA,
        "alert_id": alert_id,
        "revision": int(row[1]),
        "dedup_key": f"{alert_id}#{int(row[1])}",
        "rule": row[2],
        "severity": row[3],
        "title": row[4],
        "subjects": list(row[5]),
        "window": {"start": _iso(row[6]), "end": _iso(row[7])},
        "score": float(row[8]),
        "state": row[9],
        "event_ids": list(row[10]),
        "updated_at": _iso(row[11]),
        "link": f"{link_base}{alert_id}" if link_base else None,
        "reference": f"watchkeeper alerts show {alert_id}",
    }
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Queued:
    alert_id: str
    revision: int
    channel: str


def plan_enqueue(
    store: StoreBase, config: NotifyConfig, alert_ids: Iterable[str] | None = None
) -> list[tuple[Queued, str]]:
    """The rows ``enqueue`` would add, each with its payload; writes nothing."""
    con = store.con
    if alert_ids is None:
        rows = con.execute(f"SELECT {_ALERT_COLUMNS} FROM alerts ORDER BY alert_id").fetchall()
    else:
        ids = list(dict.fromkeys(alert_ids))
        rows = con.execute(
            f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE alert_id IN (SELECT unnest(?)) "
            "ORDER BY alert_id",
            [ids],
        ).fetchall()
        missing = sorted(set(ids) - {r[0] for r in rows})
        if missing:
            raise InputError(None, f"no alert {', '.join(missing)}", field="alert_ids")
    queued = {
        (a, c)
        for a, c in con.execute(
            "SELECT n.alert_id, n.channel FROM notifications n "
            "JOIN alerts a ON a.alert_id = n.alert_id AND a.revision = n.revision"
        ).fetchall()
    }
    out: list[tuple[Queued, str]] = []
    for row in rows:
        payload: str | None = None
        for channel in config.channels:
            if (row[0], channel.name) in queued or not channel.accepts(row[3], row[2]):
                continue
            payload = payload or alert_payload(row, config.link_base)
            out.append((Queued(row[0], int(row[1]), channel.name), payload))
    return out


def enqueue(
    store: StoreBase,
    config: NotifyConfig,
    alert_ids: Iterable[str] | None = None,
    *,
    now: datetime | None = None,
) -> int:
    """Queue every alert's current revision (or only ``alert_ids``') for each channel
    that accepts it and has not queued it; the number of rows added (0 on a re-run).
    One transaction; InputError naming an id that is not an alert."""
    now = now or datetime.now(UTC)
    with store.transaction() as con:
        rows = plan_enqueue(store, config, alert_ids)
        if rows:
            # One statement over parallel lists: executemany costs ~10 ms a row here.
            con.execute(
                "INSERT INTO notifications (alert_id, revision, channel, payload, attempts, "
                "next_try_at) SELECT unnest(?::VARCHAR[]), unnest(?::INTEGER[]), "
                "unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), 0, ?::TIMESTAMPTZ "
                "ON CONFLICT DO NOTHING",
                [
                    [q.alert_id for q, _ in rows],
                    [q.revision for q, _ in rows],
                    [q.channel for q, _ in rows],
                    [payload for _, payload in rows],
                    now,
                ],
            )
    return len(rows)


def backoff_delay(attempts: int, retry: Retry, rng: random.Random) -> timedelta:
    """Wait after ``attempts`` failed tries: ``backoff * 2**(attempts-1)`` capped at
    ``backoff_max``, then uniformly between half of that and all of it (jitter, so many
    rows failing together do not all retry at the same instant)."""
    ceiling = min(
        retry.backoff_max_seconds, retry.backoff_seconds * 2.0 ** min(max(attempts - 1, 0), 60)
    )
    return timedelta(seconds=ceiling / 2 + rng.random() * ceiling / 2)


@dataclass
class DeliveryRun:
    sent: list[Queued] = field(default_factory=list)
    retrying: list[Queued] = field(default_factory=list)
    gave_up: list[Queued] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # "<alert>#<rev>@<channel>" -> error
    unknown_channel: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "sent": [asdict(q) for q in self.sent],
            "retrying": [asdict(q) for q in self.retrying],
            "gave_up": [asdict(q) for q in self.gave_up],
            "errors": self.errors,
            "unknown_channel": self.unknown_channel,
        }


def due(store: StoreBase, now: datetime, limit: int | None = None) -> list[Notification]:
    """Unsent rows whose next try is at or before ``now``, not given up, oldest first."""
    rows = store.con.execute(
        "SELECT alert_id, revision, channel, payload, attempts FROM notifications "
        "WHERE sent_at IS NULL AND next_try_at <= ? "
        "AND NOT starts_with(coalesce(last_error, ''), ?) "
        "ORDER BY next_try_at, alert_id, revision, channel LIMIT ?",
        [now, GAVE_UP, limit if limit is not None else 2**62],
    ).fetchall()
    return [Notification(r[0], int(r[1]), r[2], r[3], int(r[4])) for r in rows]


def _mark_sent(store: StoreBase, n: Notification, at: datetime, note: str | None) -> None:
    store.con.execute(
        "UPDATE notifications SET sent_at = ?, attempts = attempts + 1, last_error = ? "
        "WHERE alert_id = ? AND revision = ? AND channel = ?",
        [at, note, n.alert_id, n.revision, n.channel],
    )


def _mark_failed(store: StoreBase, n: Notification, next_try: datetime, error: str) -> None:
    store.con.execute(
        "UPDATE notifications SET attempts = attempts + 1, next_try_at = ?, last_error = ? "
        "WHERE alert_id = ? AND revision = ? AND channel = ?",
        [next_try, error, n.alert_id, n.revision, n.channel],
    )


def _checkpoint(store: StoreBase, channel: str, position: dict[str, Any], at: datetime) -> None:
    store.con.execute(
        "INSERT INTO checkpoints (name, position, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET position = excluded.position, "
        "updated_at = excluded.updated_at",
        [f"notify:{channel}", json.dumps(position, sort_keys=True), at],
    )


def deliver_pending(
    store: StoreBase,
    config: NotifyConfig,
    *,
    now: datetime | None = None,
    rng: random.Random | None = None,
    senders: Mapping[str, Sender] | None = None,
    limit: int | None = None,
) -> DeliveryRun:
    """Send every due row (at most ``limit``) through its channel and record the outcome
    of each right after it: ``sent_at`` once accepted; else one more attempt, the error,
    and the next try (backoff with jitter), or given up (permanent refusal, or
    ``max_attempts`` reached). ``now`` fixes the clock (UTC) for the run; ``senders``
    replaces a channel's sender by name (tests). Rows of a channel the config no longer
    names stay queued and are counted in ``unknown_channel``."""
    fixed = now

    def clock() -> datetime:
        return fixed if fixed is not None else datetime.now(UTC)

    rng = rng or random.Random()
    run = DeliveryRun()
    built: dict[str, Sender] = dict(senders or {})
    try:
        _deliver(store, config, due(store, clock(), limit), built, run, clock, rng)
    finally:
        for name, sender in built.items():
            if (senders is None or name not in senders) and isinstance(sender, Closable):
                sender.close()
    return run


def _deliver(
    store: StoreBase,
    config: NotifyConfig,
    rows: list[Notification],
    built: dict[str, Sender],
    run: DeliveryRun,
    clock: Callable[[], datetime],
    rng: random.Random,
) -> None:
    touched: dict[str, dict[str, Any]] = {}
    for n in rows:
        channel: Channel | None = config.channel(n.channel)
        if channel is None:
            run.unknown_channel += 1
            continue
        sender = built.get(n.channel)
        if sender is None:
            sender = built[n.channel] = sender_for(channel)
        q = Queued(n.alert_id, n.revision, n.channel)
        stats = touched.setdefault(n.channel, {"sent": 0, "failed": 0, "gave_up": 0})
        try:
            note = sender.send(n)
        except Exception as raised:
            # A sender bug or an odd payload must not stop the other rows: it is one
            # more failed try, recorded, and given up after max_attempts like any other.
            exc = (
                raised
                if isinstance(raised, DeliveryError)
                else DeliveryError(f"unexpected {type(raised).__name__}: {raised}")
            )
            attempts = n.attempts + 1
            at = clock()
            if exc.permanent or attempts >= channel.retry.max_attempts:
                why = "permanent refusal" if exc.permanent else f"{attempts} failed attempts"
                error = f"{GAVE_UP}{why}: {exc}"
                _mark_failed(store, n, at, error)
                run.gave_up.append(q)
                stats["gave_up"] += 1
            else:
                error = str(exc)
                _mark_failed(store, n, at + backoff_delay(attempts, channel.retry, rng), error)
                run.retrying.append(q)
                stats["failed"] += 1
            run.errors[f"{n.alert_id}#{n.revision}@{n.channel}"] = error
            continue
        at = clock()
        _mark_sent(store, n, at, note)
        run.sent.append(q)
        stats["sent"] += 1
        stats["last_sent"] = f"{n.alert_id}#{n.revision}"
        stats["last_sent_at"] = _iso(at)
    for name, stats in touched.items():
        _checkpoint(store, name, stats, clock())


@dataclass(frozen=True)
class ChannelStatus:
    channel: str
    queued: int  # never tried yet
    retrying: int  # failed at least once, will be tried again
    sent: int
    failed: int  # given up
    next_try_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def outbox_status(store: StoreBase) -> list[ChannelStatus]:
    """Outbox rows per channel by state: queued, retrying, sent, failed (given up)."""
    rows = store.con.execute(
        "SELECT channel, "
        "count(*) FILTER (WHERE sent_at IS NULL AND NOT gave_up AND attempts = 0), "
        "count(*) FILTER (WHERE sent_at IS NULL AND NOT gave_up AND attempts > 0), "
        "count(*) FILTER (WHERE sent_at IS NOT NULL), "
        "count(*) FILTER (WHERE sent_at IS NULL AND gave_up), "
        "min(next_try_at) FILTER (WHERE sent_at IS NULL AND NOT gave_up) "
        "FROM (SELECT *, starts_with(coalesce(last_error, ''), ?) AS gave_up "
        "FROM notifications) GROUP BY channel ORDER BY channel",
        [GAVE_UP],
    ).fetchall()
    return [ChannelStatus(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]


def requeue_failed(
    store: StoreBase, *, channel: str | None = None, now: datetime | None = None
) -> int:
    """Give the given-up rows (of one channel, or all) a fresh set of attempts, due now."""
    now = now or datetime.now(UTC)
    with store.transaction() as con:
        (count,) = con.execute(
            "SELECT count(*) FROM notifications WHERE sent_at IS NULL "
            "AND starts_with(coalesce(last_error, ''), ?) AND (? IS NULL OR channel = ?)",
            [GAVE_UP, channel, channel],
        ).fetchone() or (0,)
        con.execute(
            "UPDATE notifications SET attempts = 0, next_try_at = ?, "
            "last_error = 'requeued after: ' || last_error WHERE sent_at IS NULL "
            "AND starts_with(coalesce(last_error, ''), ?) AND (? IS NULL OR channel = ?)",
            [now, GAVE_UP, channel, channel],
        )
    return int(count)
