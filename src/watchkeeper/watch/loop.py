"""The watch: one process that follows its sources and turns each batch of new input
into stored positions, events and alerts.

One batch is one transaction: its input (positions, static reports; an aircraft file;
a list version), the events the detectors find on the vessels it touches, the alerts
raised on them, the notifications queued for those alerts and the source's new
checkpoint commit together or not at all. Killed anywhere, the watch restarts from
the last commit: nothing is lost (the input is read again from the checkpoint) and
nothing is repeated (the checkpoint moved with what it stored).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from watchkeeper.alerts.engine import raise_alerts
from watchkeeper.errors import WatchkeeperError
from watchkeeper.settings import Settings
from watchkeeper.store import Store
from watchkeeper.watch.config import WatchConfig
from watchkeeper.watch.detect import IncrementalDetector
from watchkeeper.watch.health import Health, SourceHealth, serve_health
from watchkeeper.watch.sources import (
    AdsbDropFolder,
    AisDropFolder,
    AisTcp,
    Input,
    ListFetch,
    Source,
    write_checkpoint,
)

log = logging.getLogger("watchkeeper.watch")


@dataclass
class BatchResult:
    source: str
    label: str
    positions: int
    events: dict[str, int]
    alerts_created: int
    alerts_updated: int
    seconds: float
    committed_at: datetime
    alert_ids: tuple[str, ...] = ()
    detection: dict[str, Any] | None = None  # DetectionRun.to_dict() of an AIS batch

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "label": self.label,
            "positions": self.positions,
            "events": self.events,
            "alerts_created": self.alerts_created,
            "alerts_updated": self.alerts_updated,
            "seconds": round(self.seconds, 3),
            "committed_at": self.committed_at.isoformat(),
        }


class Watch:
    """Follow the configured sources until stopped (SIGTERM/SIGINT: the batch under way
    finishes, then the watch exits)."""

    def __init__(self, store: Store, cfg: WatchConfig, settings: Settings) -> None:
        self.store = store
        self.cfg = cfg
        self.settings = settings
        self.health = Health(threshold=cfg.fail_threshold)
        self.stopping = threading.Event()
        self.sources: list[Source] = []
        self.detector: IncrementalDetector | None = None
        self.notify: Any = None
        self.server: Any = None
        # Called after each commit (benchmarks measure latency with it).
        self.on_batch: Callable[[BatchResult], None] | None = None

    # -- set up ---------------------------------------------------------------------

    def _health_of(self, name: str, kind: str) -> SourceHealth:
        h = SourceHealth(name, kind, self.cfg.backoff_initial_s, self.cfg.backoff_max_s)
        self.health.sources[name] = h
        return h

    def start(self) -> None:
        if self.cfg.notify_config is not None:
            from watchkeeper.alerts.notify import load_notify_config

            self.notify = load_notify_config(self.cfg.notify_config)
        t = time.monotonic()
        self.detector = IncrementalDetector.build(self.store, self.settings)
        self.detector.lookback_s = self.cfg.lookback_s
        self.detector.max_reach_s = self.cfg.max_reach_s
        log.info("reference data built in %.1f s", time.monotonic() - t)
        for sc in self.cfg.sources:
            h = self._health_of(sc.name, sc.kind)
            if sc.kind == "ais_drop":
                self.sources.append(AisDropFolder(sc, h, self.cfg.batch_bytes))
            elif sc.kind == "ais_tcp":
                self.sources.append(AisTcp(sc, h))
            elif sc.kind == "adsb_drop":
                self.sources.append(AdsbDropFolder(sc, h))
            else:
                self.sources.append(ListFetch(sc, h, self.settings))
        self.rescreen_pending()
        if self.cfg.health_port >= 0:
            self.server = serve_health(self.health, self.cfg.health_host, self.cfg.health_port)
            host, port = self.server.server_address[:2]
            log.info("health on http://%s:%s/healthz", host, port)

    def install_signals(self) -> None:
        def stop(signum: int, frame: FrameType | None) -> None:
            log.info("signal %s: finishing the batch under way, then stopping", signum)
            self.stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    def close(self) -> None:
        for s in self.sources:
            s.close()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    # -- the loop -------------------------------------------------------------------

    def run(self, *, until_idle: bool = False, max_seconds: float | None = None) -> None:
        """Poll every source, one batch at a time; ``until_idle``: return once a round
        found nothing to do (drop folders read to their end)."""
        started = time.monotonic()
        while not self.stopping.is_set():
            worked = self.step()
            if max_seconds is not None and time.monotonic() - started >= max_seconds:
                return
            if not worked:
                if until_idle:
                    return
                self.stopping.wait(self.cfg.poll_s)

    def step(self) -> bool:
        """One round over the sources; whether any batch was stored."""
        worked = False
        for source in self.sources:
            if self.stopping.is_set():
                break
            h = source.health
            if isinstance(source, AisTcp):
                pass  # its thread keeps its own backoff; reading its buffer cannot fail
            elif not h.due():
                continue
            try:
                item = source.poll(self.store)
            except (OSError, WatchkeeperError, ValueError) as exc:
                delay = h.failed(str(exc))
                log.warning("%s: %s (retry in %.1f s)", h.name, exc, delay)
                continue
            except Exception as exc:  # httpx and parser errors of a list fetch
                delay = h.failed(f"{type(exc).__name__}: {exc}")
                log.warning("%s: %s (retry in %.1f s)", h.name, exc, delay)
                continue
            if item is None:
                if not isinstance(source, AisTcp):
                    h.ok()
                continue
            try:
                result = self.process(item)
            except Exception as exc:
                source.rolled_back(item, exc)
                delay = h.failed(f"batch {item.label}: {type(exc).__name__}: {exc}")
                log.exception(
                    "%s: batch %s rolled back (retry in %.1f s)", h.name, item.label, delay
                )
                self._rebuild()
                continue
            source.committed(item)
            if not isinstance(source, AisTcp):
                h.ok()
            worked = True
            self.health.batches += 1
            self.health.last_batch = result.to_dict()
            if item.kind == "lists":
                self.rescreen_pending()
            log.info(
                "batch %d %s: %d positions, events %s, alerts %d new %d updated, %.2f s",
                self.health.batches,
                result.label,
                result.positions,
                result.events,
                result.alerts_created,
                result.alerts_updated,
                result.seconds,
            )
            if self.on_batch is not None:
                self.on_batch(result)
            self._deliver()
        return worked

    def _rebuild(self) -> None:
        """After a rollback the detector's in-memory references may be ahead of the
        store: build them again from what is stored."""
        self.detector = IncrementalDetector.build(self.store, self.settings)
        self.detector.lookback_s = self.cfg.lookback_s
        self.detector.max_reach_s = self.cfg.max_reach_s

    def _deliver(self) -> None:
        if self.notify is None:
            return
        from watchkeeper.alerts.notify import deliver_pending

        try:
            deliver_pending(self.store, self.notify)
        except Exception:  # a receiver down must not stop the watch; the outbox keeps it
            log.exception("notifications: delivery failed, kept in the outbox")

    # -- one batch ------------------------------------------------------------------

    def process(self, item: Input) -> BatchResult:
        """Store one input and everything it leads to, in one transaction."""
        assert self.detector is not None
        t = time.monotonic()
        started = datetime.now(UTC)
        positions = 0
        events: dict[str, int] = {}
        store = self.store
        created: list[str] = []
        updated: list[str] = []
        detection: dict[str, Any] | None = None
        with store.transaction():
            if item.kind in ("nmea", "csv"):
                ingest_id, positions = ingest_input(store, item)
                t_in = time.monotonic()
                run = self.detector.detect_batch(store, [ingest_id])
                events = dict(run.written)
                detection = run.to_dict()
                log.debug(
                    "batch %s: ingest %.2f s, detection %s", item.label, t_in - t, run.to_dict()
                )
            elif item.kind == "adsb":
                events = self._adsb(item)
            elif item.kind == "lists":
                events = self._lists(item)
            log.debug("batch %s stored, committing", item.label)
            if self.cfg.pause_in_batch_s:
                log.info("batch %s: input stored, pausing before commit", item.label)
                time.sleep(self.cfg.pause_in_batch_s)
            if item.kind != "mark":
                t_al = time.monotonic()
                alerts = raise_alerts(store, since=started)
                log.debug("batch %s: alerts %.2f s", item.label, time.monotonic() - t_al)
                created, updated = alerts.created, alerts.updated
                if self.notify is not None and (created or updated):
                    from watchkeeper.alerts.notify import enqueue

                    enqueue(store, self.notify, created + updated)
            write_checkpoint(store, item.checkpoint_name, item.checkpoint)
        return BatchResult(
            item.source,
            item.label,
            positions,
            events,
            len(created),
            len(updated),
            time.monotonic() - t,
            datetime.now(UTC),
            tuple(created + updated),
            detection,
        )

    def _adsb(self, item: Input) -> dict[str, int]:
        """An aircraft file: ingested (its flights rebuilt), then every flight detector
        over the stored flights (they replace their own events; flights are few)."""
        from watchkeeper.movement.air import ingest_paths, run_detectors

        assert item.path is not None
        ingest_paths(self.store, [item.path], settings=self.settings)
        return run_detectors(self.store, settings=self.settings)

    def _lists(self, item: Input) -> dict[str, int]:
        """New list versions: stored; if any is new, the ownership events (OFAC 50% rule
        as of today) recomputed and every vessel's links to the lists rebuilt."""
        from watchkeeper.graph.events import write_graph_events

        assert self.detector is not None
        new_any = False
        for publication in item.payload:
            version, new = self.store.add_list_version(
                publication, max_shrink=self.settings.max_list_shrink
            )
            log.info(
                "lists: %s %s %s",
                version.source,
                version.version,
                "loaded" if new else "already loaded",
            )
            new_any = new_any or new
        if not new_any:
            return {}
        counts = dict(write_graph_events(self.store, datetime.now(UTC).date()))
        self.detector.refresh_lists(self.store)
        # Re-screening writes the hash-chained audit log, which commits on its own: it
        # runs right after this batch commits; the checkpoint says it is still owed, so
        # a crash in between re-screens at the next start.
        item.checkpoint["rescreen_pending"] = sorted({p.source for p in item.payload})
        return counts

    def rescreen_pending(self) -> None:
        """Re-screen what list batches committed but did not re-screen yet."""
        from watchkeeper.watch.sources import read_checkpoints

        for name, position in read_checkpoints(self.store, "watch:lists:").items():
            pending = position.get("rescreen_pending") or []
            if not pending:
                continue
            counts = self._rescreen(pending)
            if self.health.last_batch is not None:
                self.health.last_batch.setdefault("events", {}).update(counts)
            write_checkpoint(self.store, name, {**position, "rescreen_pending": []})

    def _rescreen(self, sources: list[str]) -> dict[str, int]:
        """The stored screening subjects against what each new version added or changed
        (``screening.rescreen``, audited as 'watch'); their new hits, per list."""
        row = self.store.con.execute("SELECT count(*) FROM screening_subjects").fetchone()
        if not row or not row[0]:
            return {}
        from watchkeeper.screening import Screener
        from watchkeeper.screening.audit import AuditLog
        from watchkeeper.screening.rescreen import rescreen

        screener = Screener.from_store(self.store)
        out: dict[str, int] = {}
        for source in sources:
            report = rescreen(
                self.store,
                screener,
                source=source,
                threshold=self.settings.match_threshold,
                actor="watch",
                audit=AuditLog(self.store),
            )
            out[f"rescreen_new_hits:{source}"] = len(report.new_hits)
            log.info(
                "lists: %s re-screened %d subject(s), %d new hit(s)",
                source,
                report.subjects,
                len(report.new_hits),
            )
        return out


def ingest_input(store: Store, item: Input) -> tuple[int, int]:
    """Store an AIS input as one ``ais_ingests`` row; (its id, positions stored)."""
    import io

    from watchkeeper.movement.ais.ingest import (
        NmeaWriter,
        SourceReport,
        _ingest_csv,
        _start_ingest,
        finish_ingest,
    )

    con = store.con
    if item.kind == "csv":
        assert item.layout is not None
        data = b"".join(p for p, _ in item.pieces)
        report = _ingest_csv(con, item.label, None, io.BytesIO(data), item.layout, None)
    else:
        report = SourceReport(item.label, "nmea")
        report.ingest_id = _start_ingest(con, item.label, "nmea", None)
        writer = NmeaWriter(con, report, None)
        # One decode and insert per batch, not per network read: sentences without a
        # time of their own get the batch's last receive time (at most one poll late).
        received = max((r for _, r in item.pieces if r is not None), default=None)
        writer.feed(b"".join(p for p, _ in item.pieces), received)
        writer.finish(received)
        finish_ingest(con, report)
    assert report.ingest_id is not None
    return report.ingest_id, int(report.counts["positions"])
