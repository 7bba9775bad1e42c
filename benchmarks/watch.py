"""The watch: incremental cost of a batch of new positions against re-running everything,
and latency from an AIS sentence sent on a TCP feed to its alert committed.

1. Incremental cost. A store is built from the make-run store (``/tmp/wkrun.duckdb``,
   or ``--base``; its lists, vessel links and real AIS positions): the real positions of
   every bundled sample are moved to start on the same day and repeated day after day,
   every other copy played backwards so each vessel's track is continuous (SCALED UP
   by repetition of real tracks, said so), to ``--sizes`` stored positions; the events
   and alerts of that history are computed first (not timed). Then a batch of 100,000
   new positions (the next copies, as a NOAA-layout CSV in a drop folder) goes through:
   - watchkeeper: one ``Watch.step()`` -- ingest, detectors on the touched vessels only
     (``watch.detect``), alerts since the batch, checkpoint, in one transaction;
   - peer (``watchkeeper run``-style full recompute, the named peer): ``ingest_paths``
     then ``run_detectors`` over the whole store and ``raise_alerts`` over every event.
   Both on copies of the same store, in the same run; the AIS events they leave are
   compared.

2. Latency. ``Watch`` follows a local TCP feed that replays the real Baltic sample
   (20k position reports, encoded as NMEA with pyais, tag-block times moved forward 11 h
   per loop so the feed continues where the stored data ends) at a steady 2,000
   sentences/s. A vessel silent for over 6 h while others around it are heard raises an
   AIS gap when it is heard again; the listed vessel MMSI 209448000 (linked by IMO to
   OFAC ofac-47221 in the make-run store) does so once per loop. HAND-MADE, to get more
   than one alerting vessel: one event marks every MMSI of the Baltic sample as blocked,
   so any of their gaps raises ``listed-vessel-ais-gap``. Latency: from the moment the
   sentence that ends the gap is written to the socket to the commit of the batch that
   creates or updates its alert. Peer: one full recompute (``run_detectors`` +
   ``raise_alerts``) on the store the feed left -- a batch pipeline's latency is at
   least that.

    python benchmarks/watch.py [--sizes 1000000,4000000] [--batch 100000] [--loops 6]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.csv as pacsv

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import table, write_section  # noqa: E402

from watchkeeper.alerts.engine import raise_alerts  # noqa: E402
from watchkeeper.events import Event  # noqa: E402
from watchkeeper.movement.ais import ingest_paths  # noqa: E402
from watchkeeper.movement.detect import run_detectors  # noqa: E402
from watchkeeper.settings import Settings  # noqa: E402
from watchkeeper.store import Store  # noqa: E402
from watchkeeper.watch.config import SourceConfig, WatchConfig  # noqa: E402
from watchkeeper.watch.detect import PAIR_TYPES, TRACK_TYPES  # noqa: E402
from watchkeeper.watch.loop import BatchResult, Watch  # noqa: E402

DAY_US = 86_400_000_000
T0_US = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1_000_000)
AIS_TYPES = [*TRACK_TYPES, *PAIR_TYPES, "identity_change"]
LISTED = 209448000

_COPY_SQL = """
INSERT INTO ais_positions
SELECT msg_id + i * 10000000, ingest_id, mmsi,
       make_timestamp({t0} + i * {day} + CASE WHEN i % 2 = 0 THEN rel ELSE a + b - rel END)
         AT TIME ZONE 'UTC',
       lat, lon, sog, CASE WHEN i % 2 = 0 THEN cog ELSE (cog + 180) % 360 END,
       heading, nav_status, msg_type, accuracy, source
FROM _base, range({first}, {last}) r(i)
"""


def _base(store: Store) -> int:
    """The real positions, each sample moved to start on day 0 (relative times kept)."""
    store.con.execute(
        "CREATE TEMP TABLE _base AS SELECT *, epoch_us(time) - d AS rel, "
        "min(epoch_us(time)) OVER (PARTITION BY ingest_id) - d AS a, "
        "max(epoch_us(time)) OVER (PARTITION BY ingest_id) - d AS b FROM ("
        "SELECT *, epoch_us(date_trunc('day', min(time) OVER (PARTITION BY ingest_id))) AS d "
        "FROM ais_positions)"
    )
    store.con.execute("ALTER TABLE _base DROP COLUMN d")
    row = store.con.execute("SELECT count(*) FROM _base").fetchone()
    return int(row[0]) if row else 0


def build_history(base: Path, target: Path, size: int) -> tuple[int, int, float]:
    """A store of about ``size`` positions; returns (positions, copies, seconds to detect
    its history)."""
    shutil.copy(base, target)
    with Store(target) as store:
        per_copy = _base(store)
        copies = max(1, round(size / per_copy))
        store.con.execute("DELETE FROM ais_positions")
        store.con.execute("DELETE FROM events WHERE type IN (SELECT unnest(?))", [AIS_TYPES])
        for first in range(0, copies, 10):
            store.con.execute(
                _COPY_SQL.format(t0=T0_US, day=DAY_US, first=first, last=min(copies, first + 10))
            )
        t = time.perf_counter()
        run_detectors(store)
        raise_alerts(store)
        seconds = time.perf_counter() - t
        row = store.con.execute("SELECT count(*) FROM ais_positions").fetchone()
        return (int(row[0]) if row else 0), copies, seconds


def write_batch(store_path: Path, copies: int, n: int, out: Path) -> int:
    """The next copies after the history, first ``n`` reports in time order, as NOAA CSV."""
    with Store(store_path, read_only=True) as store:
        per_copy = _base(store)
        need = n // per_copy + 2
        store.con.execute("CREATE TEMP TABLE _next AS SELECT * FROM ais_positions LIMIT 0")
        store.con.execute(
            _COPY_SQL.replace("INSERT INTO ais_positions", "INSERT INTO _next").format(
                t0=T0_US, day=DAY_US, first=copies, last=copies + need
            )
        )
        t = store.con.execute(
            "SELECT mmsi AS MMSI, strftime(time, '%Y-%m-%dT%H:%M:%S') AS BaseDateTime, "
            "lat AS LAT, lon AS LON, sog AS SOG, cog AS COG, heading AS Heading "
            f"FROM _next ORDER BY time, mmsi LIMIT {int(n)}"
        ).to_arrow_table()
    pacsv.write_csv(t, out)
    return int(t.num_rows)


def ais_events(path: Path) -> set[str]:
    with Store(path, read_only=True) as store:
        return {
            r[0]
            for r in store.con.execute(
                "SELECT event_id FROM events WHERE type IN (SELECT unnest(?))", [AIS_TYPES]
            ).fetchall()
        }


def incremental(base: Path, size: int, batch: int, work: Path) -> dict[str, Any]:
    hist = work / f"history-{size}.duckdb"
    positions, copies, hist_s = build_history(base, hist, size)
    drop = work / f"drop-{size}"
    drop.mkdir()
    rows = write_batch(hist, copies, batch, drop / "batch.csv")
    old = time.time() - 60
    os.utime(drop / "batch.csv", (old, old))
    ours, peer = work / f"ours-{size}.duckdb", work / f"peer-{size}.duckdb"
    shutil.copy(hist, ours)
    shutil.copy(hist, peer)
    settings = Settings()
    with Store(ours) as store:
        cfg = WatchConfig(
            sources=(SourceConfig("ais_drop", "spool", folder=drop),),
            batch_bytes=1 << 30,
            health_port=-1,
        )
        w = Watch(store, cfg, settings)
        t = time.perf_counter()
        w.start()
        startup = time.perf_counter() - t
        results: list[BatchResult] = []
        w.on_batch = results.append
        t = time.perf_counter()
        w.step()
        ours_s = time.perf_counter() - t
        w.close()
        stored = store.con.execute("SELECT count(*) FROM ais_positions").fetchone()
    with Store(peer) as store:
        t = time.perf_counter()
        ingest_paths(store, [drop / "batch.csv"])
        run_detectors(store, settings=settings)
        raise_alerts(store)
        peer_s = time.perf_counter() - t
    a, b = ais_events(ours), ais_events(peer)
    r = results[0]
    return {
        "history": positions,
        "copies": copies,
        "history_detect_s": hist_s,
        "batch": rows,
        "stored_after": int(stored[0]) if stored else 0,
        "startup_s": startup,
        "ours_s": ours_s,
        "peer_s": peer_s,
        "events": r.events,
        "detection": r.detection,
        "alerts": r.alerts_created + r.alerts_updated,
        "only_ours": len(a - b),
        "only_peer": len(b - a),
        "events_total": len(b),
    }


# -- latency ------------------------------------------------------------------------------


def _xor(data: bytes) -> int:
    c = 0
    for x in data:
        c ^= x
    return c


def baltic_sentences(store: Store) -> list[tuple[int, int, bytes]]:
    """(mmsi, time s, NMEA type-1 sentence without tag block) of the Baltic sample."""
    from pyais.encode import encode_dict

    rows = store.con.execute(
        "SELECT p.mmsi, epoch(p.time)::BIGINT, p.lat, p.lon, p.sog, p.cog, p.heading, "
        "p.nav_status FROM ais_positions p JOIN ais_ingests i USING (ingest_id) "
        "WHERE i.source LIKE '%baltic%' ORDER BY p.time, p.mmsi"
    ).fetchall()
    out = []
    for mmsi, t, lat, lon, sog, cog, heading, status in rows:
        msg = {
            "type": 1,
            "mmsi": int(mmsi),
            "lat": float(lat),
            "lon": float(lon),
            "speed": 102.3 if sog is None else float(sog),
            "course": 360.0 if cog is None else float(cog),
            "heading": 511 if heading is None else int(heading),
            "status": 15 if status is None else int(status),
            "second": int(t) % 60,
        }
        for s in encode_dict(msg, talker_id="AI", sentence_type="VDM"):
            out.append((int(mmsi), int(t), s.encode()))
    return out


class PacedFeed:
    """Serves ``loops`` replays of the sentences at ``rate`` per second to one client,
    each loop's tag-block times ``shift_s`` later; remembers when each was sent."""

    def __init__(
        self, sentences: list[tuple[int, int, bytes]], loops: int, shift_s: int, rate: int
    ) -> None:
        self.sentences = sentences
        self.loops = loops
        self.shift_s = shift_s
        self.rate = rate
        self.sent_at: dict[tuple[int, int], float] = {}
        self.sent = 0
        self.done = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _line(self, t: int, s: bytes) -> bytes:
        tag = b"c:%d" % t
        return b"\\" + tag + b"*%02X\\" % _xor(tag) + s + b"\r\n"

    def _serve(self) -> None:
        client, _ = self.sock.accept()
        tick = 0.01
        per_tick = max(1, int(self.rate * tick))
        start = time.monotonic()
        k = 0
        for loop in range(self.loops):
            shift = self.shift_s * (loop + 1)
            lines = [(m, t + shift, s) for m, t, s in self.sentences]
            for i in range(0, len(lines), per_tick):
                part = lines[i : i + per_tick]
                k += len(part)
                target = start + k / self.rate
                delay = target - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                client.sendall(b"".join(self._line(t, s) for _, t, s in part))
                now = time.time()
                for m, t, _ in part:
                    self.sent_at[(m, t)] = now
                self.sent = k
        self.elapsed = time.monotonic() - start
        self.done.set()
        time.sleep(30)
        client.close()


def latency(base: Path, loops: int, rate: int, work: Path) -> dict[str, Any]:
    path = work / "latency.duckdb"
    shutil.copy(base, path)
    with Store(path) as store:
        sentences = baltic_sentences(store)
        baltic = sorted({m for m, _, _ in sentences})
        first = datetime(2018, 4, 1, tzinfo=UTC)
        store.write_events(
            [
                Event(
                    type="vessel_owner_blocked",
                    subjects=tuple(f"mmsi:{m}" for m in baltic),
                    start=first,
                    end=first,
                    score=1.0,
                    detail="HAND-MADE for the latency benchmark: every Baltic MMSI as blocked",
                )
            ]
        )
        raise_alerts(store)
        feed = PacedFeed(sentences, loops, 11 * 3600, rate)
        cfg = WatchConfig(
            sources=(SourceConfig("ais_tcp", "feed", address=f"127.0.0.1:{feed.port}"),),
            health_port=-1,
            poll_s=0.2,
        )
        w = Watch(store, cfg, Settings())
        results: list[BatchResult] = []
        w.on_batch = results.append
        w.start()
        lag: list[float] = []

        def run() -> None:
            w.run()

        th = threading.Thread(target=run, daemon=True)
        th.start()
        while not feed.done.is_set():
            time.sleep(0.5)
            lag.append(w.health.sources["feed"].lag_s)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and w.health.sources["feed"].pending_bytes:
            time.sleep(0.2)
        time.sleep(1.0)
        w.stopping.set()
        th.join(timeout=60)
        w.close()
        committed: dict[str, datetime] = {}
        for r in results:
            for aid in r.alert_ids:
                committed.setdefault(aid, r.committed_at)
                committed[aid] = max(committed[aid], r.committed_at)
        samples: list[tuple[float, int]] = []
        for r in results:
            for aid in r.alert_ids:
                row = store.con.execute(
                    "SELECT e.subjects, epoch(e.end_time)::BIGINT FROM alerts a, "
                    "unnest(a.event_ids) AS u(eid) JOIN events e ON e.event_id = u.eid "
                    "WHERE a.alert_id = ? AND e.type = 'ais_gap'",
                    [aid],
                ).fetchall()
                best: float | None = None
                mmsi = 0
                for subjects, end in row:
                    m = next(int(s[5:]) for s in subjects if s.startswith("mmsi:"))
                    sent = feed.sent_at.get((m, int(end)))
                    ok = sent is not None and sent <= r.committed_at.timestamp()
                    if ok and sent is not None and (best is None or sent > best):
                        best, mmsi = sent, m
                if best is not None:
                    samples.append((r.committed_at.timestamp() - best, mmsi))
        positions = store.con.execute("SELECT count(*) FROM ais_positions").fetchone()
        t = time.perf_counter()
        run_detectors(store)
        raise_alerts(store)
        peer_cycle = time.perf_counter() - t
    lat = sorted(s for s, _ in samples)
    listed = sorted(s for s, m in samples if m == LISTED)
    return {
        "sent": feed.sent,
        "send_seconds": feed.elapsed,
        "rate": feed.sent / feed.elapsed,
        "batches": len(results),
        "batch_mean_s": statistics.mean(r.seconds for r in results) if results else 0.0,
        "batch_max_s": max((r.seconds for r in results), default=0.0),
        "max_lag_s": max(lag, default=0.0),
        "alerts": len(samples),
        "p50": float(np.percentile(lat, 50)) if lat else float("nan"),
        "p95": float(np.percentile(lat, 95)) if lat else float("nan"),
        "max": max(lat, default=float("nan")),
        "listed": listed,
        "positions_after": int(positions[0]) if positions else 0,
        "peer_cycle_s": peer_cycle,
    }


def main() -> None:
    if os.environ.get("WK_DEBUG"):
        import logging

        logging.basicConfig(level=logging.DEBUG)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path, default=Path("/tmp/wkrun.duckdb"))
    parser.add_argument("--sizes", default="1000000,4000000")
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--loops", type=int, default=6)
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--skip-incremental", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--note", default="", help="A paragraph added to the section.")
    parser.add_argument(
        "--from-log", type=Path, help="Write the section from the JSON lines a run printed."
    )
    args = parser.parse_args()
    if args.from_log is not None:
        found = [
            json.loads(line)
            for line in args.from_log.read_text().splitlines()
            if line.startswith("{")
        ]
        report(
            [r for r in found if "history" in r],
            next(r for r in found if "p50" in r),
            args.note,
        )
        return
    if not args.base.exists():
        sys.exit(f"{args.base} is missing: run `make run` (or `watchkeeper run --db ...`) first")
    sizes = [int(s) for s in args.sizes.split(",") if s]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="wk-watch-bench-") as tmp:
        work = Path(tmp)
        base = work / "base.duckdb"
        shutil.copy(args.base, base)
        with Store(base):
            pass  # migrated once, outside any timing
        if not args.skip_incremental:
            for size in sizes:
                r = incremental(base, size, args.batch, work)
                rows.append(r)
                print(json.dumps(r, default=str), flush=True)
        lat = latency(base, args.loops, args.rate, work)
        print(json.dumps(lat, default=str), flush=True)
    if not args.no_write:
        report(rows, lat, args.note)


def report(rows: list[dict[str, Any]], lat: dict[str, Any], note: str = "") -> None:
    body = [__doc__.split("\n\n", 1)[1].rsplit("\n\n", 1)[0].strip(), ""]
    if rows:
        body += [
            "### Incremental cost: one batch of new positions, end to end",
            "",
            table(
                [
                    "stored history (positions)",
                    "batch (positions)",
                    "watch batch s",
                    "peer full recompute s",
                    "peer / watch",
                    "watch start-up s (once)",
                    "positions the watch's detectors read",
                    "events of the batch",
                    "AIS events only in watch / only in peer (of peer total)",
                ],
                [
                    [
                        f"{r['history']:,} ({r['copies']} copies)",
                        f"{r['batch']:,}",
                        f"{r['ours_s']:.1f}",
                        f"{r['peer_s']:.1f}",
                        f"{r['peer_s'] / r['ours_s']:.1f}x",
                        f"{r['startup_s']:.1f}",
                        f"{(r.get('detection') or {}).get('positions_read', 0):,}",
                        ", ".join(f"{k} {v}" for k, v in sorted(r["events"].items())),
                        f"{r['only_ours']} / {r['only_peer']} (of {r['events_total']:,})",
                    ]
                    for r in rows
                ],
            ),
            "",
        ]
    body += [
        "### Latency: AIS sentence on a TCP feed to its alert committed",
        "",
        table(
            [
                "sentences sent",
                "rate /s",
                "batches",
                "batch mean / max s",
                "max lag s",
                "alerts measured",
                "p50 s",
                "p95 s",
                "max s",
                "listed MMSI 209448000 (s)",
                "peer: one full recompute s",
            ],
            [
                [
                    f"{lat['sent']:,}",
                    f"{lat['rate']:,.0f}",
                    lat["batches"],
                    f"{lat['batch_mean_s']:.2f} / {lat['batch_max_s']:.2f}",
                    f"{lat['max_lag_s']:.1f}",
                    lat["alerts"],
                    f"{lat['p50']:.2f}",
                    f"{lat['p95']:.2f}",
                    f"{lat['max']:.2f}",
                    ", ".join(f"{x:.2f}" for x in lat["listed"]) or "-",
                    f"{lat['peer_cycle_s']:.1f} (on {lat['positions_after']:,} positions)",
                ]
            ],
        ),
        "",
        "Target: under 5 s at 2,000 sentences/s. A batch pipeline re-run on every new input "
        "cannot answer sooner than one full recompute.",
    ]
    if note:
        body += ["", note]
    write_section("watch", "\n".join(body))


if __name__ == "__main__":
    main()
