"""The watch's sources on real samples: batch cuts that never split a message, a TCP
feed, /healthz with a failing source backing off and recovering, and the config file."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import DATA
from watchkeeper.errors import InputError
from watchkeeper.io import read_bytes
from watchkeeper.movement.ais.decode import decode
from watchkeeper.movement.ais.nmea import NmeaFramer
from watchkeeper.settings import Settings
from watchkeeper.store import Store
from watchkeeper.watch.config import SourceConfig, WatchConfig, parse_config
from watchkeeper.watch.health import SourceHealth
from watchkeeper.watch.loop import Watch
from watchkeeper.watch.sources import clean_cut

NM4 = DATA / "ais" / "aisdb" / "test_data_20211101.nm4.gz"
PYAIS = DATA / "ais" / "pyais" / "nmea_data_sample.txt.gz"


def _messages(data: bytes) -> list[tuple[int, ...]]:
    """(mmsi, kind) of every message decoded from ``data``: 1 position, 5 static."""
    framer = NmeaFramer()
    out: list[tuple[int, ...]] = []
    for fm in (framer.feed(data), framer.finish()):
        if not len(fm):
            continue
        dec = decode(fm)
        out += [(int(m), 1) for m in dec.positions.mmsi]
        out += [(int(m), 5) for m in dec.statics.mmsi]
    return out


REAL = read_bytes(PYAIS) + read_bytes(NM4)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=len(REAL)))
def test_a_batch_cut_never_splits_a_message(at: int) -> None:
    """Cut the real samples (multi-part messages included) anywhere: the batch ends at
    a clean cut, and the two halves decode to what the whole decodes to."""
    head = REAL[:at]
    cut = clean_cut(head, nmea=True)
    assert cut <= at and (cut == 0 or head[cut - 1 : cut] == b"\n")
    assert sorted(_messages(REAL[:cut]) + _messages(REAL[cut:])) == sorted(_messages(REAL))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_clean_cut_on_any_bytes_ends_after_a_line(data: bytes) -> None:
    cut = clean_cut(data, nmea=True)
    assert 0 <= cut <= len(data)
    assert cut == 0 or data[cut - 1 : cut] == b"\n"


# -- config -----------------------------------------------------------------------------


def test_config_reads_every_source_kind(tmp_path: Path) -> None:
    cfg = parse_config(
        "[watch]\nbatch_bytes = 1000\nhealth_port = 0\n"
        '[[source]]\nkind = "ais_tcp"\naddress = "127.0.0.1:10110"\n'
        '[[source]]\nkind = "ais_drop"\nfolder = "in"\n'
        '[[source]]\nkind = "adsb_drop"\nfolder = "air"\n'
        '[[source]]\nkind = "lists"\nnames = ["ofac_sdn"]\ninterval_hours = 6\n',
        tmp_path / "w.toml",
    )
    assert [s.kind for s in cfg.sources] == ["ais_tcp", "ais_drop", "adsb_drop", "lists"]
    assert cfg.sources[1].folder == (tmp_path / "in").resolve()
    assert cfg.sources[3].interval_s == 6 * 3600
    assert cfg.batch_bytes == 1000 and cfg.health_port == 0


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('[[source]]\nkind = "ftp"\n', "source[0].kind"),
        ('[[source]]\nkind = "ais_tcp"\naddress = "nohost"\n', "source[0].address"),
        ('[[source]]\nkind = "ais_drop"\n', "source[0].folder"),
        ("[watch]\nbatch_bytes = -1\n", "watch.batch_bytes"),
        ("[watch]\nhealth_port = 70000\n", "watch.health_port"),
        ("[wacth]\n", "wacth"),
    ],
)
def test_config_errors_name_the_key(tmp_path: Path, text: str, field: str) -> None:
    with pytest.raises(InputError) as err:
        parse_config(text, tmp_path / "w.toml")
    assert err.value.field == field
    assert str(tmp_path / "w.toml") in str(err.value)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_config_on_any_text_is_a_config_or_an_input_error(text: str) -> None:
    try:
        parse_config(text, Path("w.toml"))
    except InputError as exc:
        assert "w.toml" in str(exc)


# -- backoff ----------------------------------------------------------------------------


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    h = SourceHealth("s", "ais_tcp", initial_s=1.0, max_s=8.0)
    delays = [h.failed("refused") for _ in range(6)]
    for n, d in enumerate(delays):
        full = min(8.0, 2.0**n)
        assert full / 2 <= d <= full
    assert h.failures == 6 and not h.due()
    h.ok()
    assert h.failures == 0 and h.due()


# -- a live feed and /healthz -----------------------------------------------------------


class Feed:
    """A local NMEA server: sends ``data`` to each client, then keeps it open."""

    def __init__(self, data: bytes, port: int = 0) -> None:
        self.data = data
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                client, _ = self.sock.accept()
            except OSError:
                continue
            client.sendall(self.data)
            while not self.stop.wait(0.1):
                pass
            client.close()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


def _healthz(port: int) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Watch, Store]]:
    holder: dict[str, Watch] = {}
    store = Store(tmp_path / "w.duckdb")

    def start(cfg: WatchConfig) -> Watch:
        w = Watch(store, cfg, Settings())
        w.start()
        threading.Thread(target=w.run, daemon=True).start()
        holder["w"] = w
        return w

    yield start, store  # type: ignore[misc]
    w = holder.get("w")
    if w is not None:
        w.stopping.set()
        time.sleep(0.3)
        w.close()
    store.close()


def _until(check: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_tcp_feed_is_stored_like_the_file(running: Any, tmp_path: Path) -> None:
    start, store = running
    data = read_bytes(NM4)
    feed = Feed(data)
    try:
        cfg = WatchConfig(
            sources=(SourceConfig("ais_tcp", "coast", address=f"127.0.0.1:{feed.port}"),),
            health_port=0,
            poll_s=0.1,
        )
        w = start(cfg)
        other = Store(tmp_path / "file.duckdb")
        from watchkeeper.movement.ais import ingest_paths

        ingest_paths(other, [NM4])
        want = other.con.execute(
            "SELECT mmsi, time, lat, lon FROM ais_positions ORDER BY ALL"
        ).fetchall()
        other.close()
        _until(lambda: w.health.batches and not w.health.sources["coast"].pending_bytes)
        got = store.con.execute(
            "SELECT mmsi, time, lat, lon FROM ais_positions ORDER BY ALL"
        ).fetchall()
        assert got == want and len(got) > 500
        cp = json.loads(
            store.con.execute("SELECT position FROM checkpoints").fetchone()[0]  # type: ignore[index]
        )
        assert cp["bytes"] == len(data.rstrip(b"\n")) + 1 or cp["bytes"] == len(data)
    finally:
        feed.close()


def test_healthz_reports_a_failing_source_and_its_recovery(running: Any, tmp_path: Path) -> None:
    start, store = running
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now: connections are refused
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "a.nmea").write_bytes(read_bytes(NM4)[:20000])
    old = time.time() - 60
    os.utime(drop / "a.nmea", (old, old))
    cfg = WatchConfig(
        sources=(
            SourceConfig("ais_tcp", "coast", address=f"127.0.0.1:{port}"),
            SourceConfig("ais_drop", "spool", folder=drop),
        ),
        health_port=0,
        poll_s=0.1,
        fail_threshold=3,
        backoff_initial_s=0.05,
        backoff_max_s=0.4,
    )
    w = start(cfg)
    hport = w.server.server_address[1]

    def failing_while_the_folder_is_read() -> Any:
        status, body = _healthz(hport)
        spool = next(s for s in body["sources"] if s["name"] == "spool")
        return status == 503 and spool["checkpoint"] and (status, body)

    status, body = _until(failing_while_the_folder_is_read)
    coast = next(s for s in body["sources"] if s["name"] == "coast")
    spool = next(s for s in body["sources"] if s["name"] == "spool")
    assert coast["consecutive_failures"] >= 3 and not coast["healthy"]
    assert "refused" in coast["last_error"].lower()
    assert coast["backoff"]["delay_seconds"] <= 0.4
    # The drop folder went on while the feed was down.
    assert spool["healthy"] and spool["checkpoint"]["eof"] and spool["last_success"]
    assert body["status"] == "failing"
    feed = Feed(b"".join(read_bytes(NM4).splitlines(keepends=True)[:50]), port=port)
    try:
        status, body = _until(lambda: (r := _healthz(hport))[0] == 200 and r)
        coast = next(s for s in body["sources"] if s["name"] == "coast")
        assert coast["consecutive_failures"] == 0 and coast["checkpoint"]["bytes"] > 0
    finally:
        feed.close()


def test_a_broken_file_is_set_aside_and_the_next_ones_are_read(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    whole = NM4.read_bytes()
    (drop / "a_cut.nm4.gz").write_bytes(whole[: len(whole) // 2])  # a gzip cut short
    (drop / "b.nm4.gz").write_bytes(whole)
    for f in drop.iterdir():
        old = time.time() - 60
        os.utime(f, (old, old))
    cfg = WatchConfig(
        sources=(SourceConfig("ais_drop", "spool", folder=drop),), health_port=-1, poll_s=0.05
    )
    with Store(tmp_path / "w.duckdb") as store:
        w = Watch(store, cfg, Settings())
        w.start()
        w.run(until_idle=True)
        w.run(until_idle=True)
        sources = {r[0] for r in store.con.execute("SELECT source FROM ais_ingests").fetchall()}
        assert [Path(s.split("#")[0]).name for s in sources] == ["b.nm4.gz"]
        aside = w.health.sources["spool"].to_dict(5)["set_aside"]
        assert list(aside) == [str(drop / "a_cut.nm4.gz")]
        w.close()


def test_a_growing_file_is_read_on_from_its_offset(tmp_path: Path) -> None:
    """A receiver's log appended to between looks, cut mid-line: read on from the
    checkpointed offset, the same positions as ingesting the whole file once."""
    drop = tmp_path / "drop"
    drop.mkdir()
    data = read_bytes(NM4)
    half = len(data) // 2 + 7  # inside a line
    log = drop / "feed.nmea"
    log.write_bytes(data[:half])
    cfg = WatchConfig(
        sources=(SourceConfig("ais_drop", "spool", folder=drop),), health_port=-1, poll_s=0.05
    )
    with Store(tmp_path / "w.duckdb") as store:
        w = Watch(store, cfg, Settings())
        w.start()
        w.run(until_idle=True)  # a fresh file: its unfinished last line waits
        first = store.con.execute("SELECT count(*) FROM ais_positions").fetchone()
        with log.open("ab") as fh:
            fh.write(data[half:])
        old = time.time() - 60
        os.utime(log, (old, old))
        w.run(until_idle=True)
        got = store.con.execute(
            "SELECT mmsi, time, lat, lon FROM ais_positions ORDER BY ALL"
        ).fetchall()
        w.close()
    whole = Store(tmp_path / "whole.duckdb")
    from watchkeeper.movement.ais import ingest_paths

    ingest_paths(whole, [NM4])
    want = whole.con.execute(
        "SELECT mmsi, time, lat, lon FROM ais_positions ORDER BY ALL"
    ).fetchall()
    whole.close()
    assert first is not None and 0 < first[0] < len(want)
    assert got == want
