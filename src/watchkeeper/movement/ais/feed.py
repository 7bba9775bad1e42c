"""A live AIS feed over TCP (a receiver, AIS-catcher, a provider's NMEA port).

:class:`TcpFeed` yields ``(bytes, receive time)`` chunks and reconnects with
exponential backoff when the connection drops or cannot be made. :func:`ingest_feed`
writes the feed in batches, one transaction per batch, into one ``ais_ingests`` row
whose counts are brought up to date at every commit. Sentences without a time of
their own get the time they were received.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from watchkeeper.errors import InputError, WatchkeeperError
from watchkeeper.movement.ais.ingest import (
    IngestReport,
    NmeaWriter,
    SourceReport,
    _start_ingest,
    finish_ingest,
)
from watchkeeper.store import Store


class FeedError(WatchkeeperError):
    """The feed could not be reached within the allowed reconnect attempts."""


def parse_tcp_url(url: str) -> tuple[str, int]:
    """``tcp://host:port`` -> ``(host, port)``."""
    parts = urlsplit(url)
    if parts.scheme != "tcp" or not parts.hostname or parts.port is None:
        raise InputError(url, "a live feed is written tcp://HOST:PORT")
    return parts.hostname, parts.port


@dataclass
class Backoff:
    """Delays between reconnect attempts: initial, doubled each time, capped."""

    initial_s: float = 1.0
    max_s: float = 60.0
    _next: float = field(default=0.0, init=False)

    def reset(self) -> None:
        self._next = self.initial_s

    def next_delay(self) -> float:
        delay = self._next or self.initial_s
        self._next = min(delay * 2, self.max_s)
        return delay


@dataclass
class TcpFeed:
    """Chunks of bytes from ``host:port`` with their receive time (us since epoch, UTC)."""

    host: str
    port: int
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 60.0  # silence this long counts as a dropped connection
    max_attempts: int | None = None  # consecutive failed connects before giving up
    backoff: Backoff = field(default_factory=Backoff)
    sleep: Callable[[float], None] = time.sleep
    connections: int = 0
    disconnects: int = 0

    def chunks(
        self, should_stop: Callable[[], bool] = lambda: False
    ) -> Iterator[tuple[bytes, int]]:
        failures = 0
        self.backoff.reset()
        while not should_stop():
            try:
                sock = socket.create_connection(
                    (self.host, self.port), timeout=self.connect_timeout_s
                )
            except OSError as exc:
                failures += 1
                if self.max_attempts is not None and failures >= self.max_attempts:
                    raise FeedError(
                        f"tcp://{self.host}:{self.port}: no connection after {failures} "
                        f"attempts ({exc})"
                    ) from exc
                self.sleep(self.backoff.next_delay())
                continue
            failures = 0
            self.backoff.reset()
            self.connections += 1
            sock.settimeout(self.read_timeout_s)
            try:
                while not should_stop():
                    data = sock.recv(65536)
                    if not data:
                        break
                    yield data, int(datetime.now(UTC).timestamp() * 1_000_000)
            except OSError:
                pass
            finally:
                sock.close()
            if not should_stop():
                self.disconnects += 1
                # A fragment cut by the disconnect can never be completed; the framer
                # counts it when the next message reuses its slot or at the end.
                self.sleep(self.backoff.next_delay())


def ingest_feed(
    store: Store,
    feed: TcpFeed,
    *,
    max_messages: int | None = None,
    duration_s: float | None = None,
    batch_seconds: float = 5.0,
    on_batch: Callable[[SourceReport], None] | None = None,
) -> IngestReport:
    """Read ``feed`` until ``max_messages`` messages, ``duration_s`` or Ctrl-C; commit per batch."""
    source = f"tcp://{feed.host}:{feed.port}"
    report = SourceReport(source, "nmea")
    with store.transaction() as con:
        report.ingest_id = _start_ingest(con, source, "nmea", None)
    writer = NmeaWriter(store.con, report, None)
    started = time.monotonic()

    def done() -> bool:
        if duration_s is not None and time.monotonic() - started >= duration_s:
            return True
        framed = report.counts["messages_framed"] + writer.framer.counts["messages_framed"]
        return max_messages is not None and framed >= max_messages

    pending: list[tuple[bytes, int]] = []
    last_commit = time.monotonic()

    def commit() -> None:
        nonlocal last_commit
        with store.transaction():
            for data, received in pending:
                writer.feed(data, received)
            writer._merge_framer()
            report.counts["connections"] = feed.connections
            report.counts["disconnects"] = feed.disconnects
            finish_ingest(store.con, report)
        pending.clear()
        last_commit = time.monotonic()
        if on_batch is not None:
            on_batch(report)

    try:
        for data, received in feed.chunks(done):
            pending.append((data, received))
            # Frame eagerly so ``done`` sees message counts; store at batch boundaries.
            if time.monotonic() - last_commit >= batch_seconds or _framed_enough(
                writer, pending, max_messages, report
            ):
                commit()
            if done():
                break
    except KeyboardInterrupt:
        pass
    finally:
        commit()
        with store.transaction():
            writer.finish()
            report.counts["connections"] = feed.connections
            report.counts["disconnects"] = feed.disconnects
            finish_ingest(store.con, report)
    return IngestReport([report])


def _framed_enough(
    writer: NmeaWriter,
    pending: list[tuple[bytes, int]],
    max_messages: int | None,
    report: SourceReport,
) -> bool:
    """Whether the pending bytes may already hold ``max_messages`` (counting lines)."""
    if max_messages is None:
        return False
    lines = sum(chunk.count(b"\n") for chunk, _ in pending)
    return report.counts["messages_framed"] + lines >= max_messages
