"""The live TCP feed: a local server replays a real log over two connections."""

from __future__ import annotations

import gzip
import socket
import threading

import pytest

from tests.conftest import DATA
from watchkeeper.errors import InputError
from watchkeeper.movement.ais import ingest_paths
from watchkeeper.movement.ais.feed import Backoff, FeedError, TcpFeed, ingest_feed, parse_tcp_url
from watchkeeper.store import Store

LOG = DATA / "ais" / "aisdb" / "test_data_20211101.nm4.gz"


def _serve(server: socket.socket, parts: list[bytes]) -> None:
    """Accept one connection per part, send it, hang up (a receiver that drops out)."""
    for part in parts:
        conn, _ = server.accept()
        with conn:
            conn.sendall(part)
    server.close()


def test_feed_reconnects_and_stores_what_a_file_would(store: Store) -> None:
    data = gzip.decompress(LOG.read_bytes())
    lines = data.splitlines(keepends=True)
    half = len(lines) // 2
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    thread = threading.Thread(
        target=_serve, args=(server, [b"".join(lines[:half]), b"".join(lines[half:])]), daemon=True
    )
    thread.start()
    expected = ingest_paths(Store(":memory:"), [LOG]).sources[0]
    feed = TcpFeed("127.0.0.1", port, backoff=Backoff(0.01, 0.05), max_attempts=50)
    report = ingest_feed(
        store,
        feed,
        max_messages=expected.counts["messages_framed"],
        duration_s=30,
        batch_seconds=0.05,
    )
    thread.join(5)
    (s,) = report.sources
    assert feed.connections == 2 and feed.disconnects >= 1
    assert s.counts["positions"] == expected.counts["positions"] == 915
    assert s.counts["statics"] == expected.counts["statics"]
    # times come from the tag blocks, not from when the lines arrived
    row = store.con.execute("SELECT min(time), max(time), count(*) FROM ais_positions").fetchone()
    assert row is not None and row[0].year == 2021 and row[2] == 915
    assert s.rejects == expected.rejects == {"position_not_available": 2}
    stored = store.con.execute("SELECT source, rejects FROM ais_ingests").fetchall()
    assert stored == [(f"tcp://127.0.0.1:{port}", '{"position_not_available": 2}')]


def test_unreachable_feed_gives_up_after_its_attempts(store: Store) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    server.close()  # nothing listens there now
    delays: list[float] = []
    feed = TcpFeed(
        "127.0.0.1", port, max_attempts=4, backoff=Backoff(1.0, 3.0), sleep=delays.append
    )
    with pytest.raises(FeedError, match="no connection after 4 attempts"):
        ingest_feed(store, feed)
    assert delays == [1.0, 2.0, 3.0]  # doubling, capped


def test_feed_url() -> None:
    assert parse_tcp_url("tcp://ais.example.org:5631") == ("ais.example.org", 5631)
    with pytest.raises(InputError):
        parse_tcp_url("udp://host:1")
