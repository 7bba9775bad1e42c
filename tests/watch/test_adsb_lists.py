"""The watch's other sources: an ADS-B drop folder (the bundled Mahan Air track raises
its sanctioned-route alert) and a scheduled list fetch from a local publisher that is
down at first (backoff), then up (a new version loaded, the stored screening subjects
re-screened, not fetched again before its interval)."""

from __future__ import annotations

import functools
import json
import os
import shutil
import socket
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.conftest import DATA
from watchkeeper.alerts.notify import read_notifications
from watchkeeper.io import read_bytes
from watchkeeper.screening.rescreen import read_subjects, store_subjects
from watchkeeper.settings import Settings
from watchkeeper.store import Store
from watchkeeper.watch.config import SourceConfig, WatchConfig
from watchkeeper.watch.loop import Watch

MAHAN = DATA / "adsb" / "handmade_mahan_OIIE_SVMI.jsonl.gz"  # HAND-MADE track (SOURCES.md)
UN = DATA / "lists" / "un" / "consolidated.xml.gz"


def _old(path: Path) -> None:
    old = time.time() - 60
    os.utime(path, (old, old))


def test_adsb_drop_file_is_ingested_once_alerts_and_notifies(tmp_path: Path) -> None:
    drop = tmp_path / "air"
    drop.mkdir()
    shutil.copy(MAHAN, drop / MAHAN.name)
    _old(drop / MAHAN.name)
    notify = tmp_path / "notify.toml"
    notify.write_text('[channels.archive]\nkind = "jsonl"\npath = "sent.jsonl"\n')
    cfg = WatchConfig(
        sources=(SourceConfig("adsb_drop", "air", folder=drop),),
        health_port=-1,
        poll_s=0.05,
        notify_config=notify,
    )
    with Store(tmp_path / "w.duckdb") as store:
        w = Watch(store, cfg, Settings(data_dir=DATA))
        w.start()
        w.run(until_idle=True)  # first look: size noted; second: stable, ingested
        w.run(until_idle=True)
        flights = store.con.execute("SELECT count(*) FROM air_flights").fetchone()
        assert flights is not None and flights[0] >= 1
        rules = {r[0] for r in store.con.execute("SELECT rule_id FROM alerts").fetchall()}
        assert "sanctioned-route" in rules
        # Every alert the batch raised was delivered, with its id for deduplication.
        sent = read_notifications(tmp_path / "sent.jsonl")
        ids = {r[0] for r in store.con.execute("SELECT alert_id FROM alerts").fetchall()}
        assert ids and {n["alert_id"] for n in sent} == ids
        cp = json.loads(
            store.con.execute(
                "SELECT position FROM checkpoints WHERE name LIKE 'watch:adsb:%'"
            ).fetchone()[0]  # type: ignore[index]
        )
        assert cp["size"] == (drop / MAHAN.name).stat().st_size
        before = w.health.batches
        w.run(until_idle=True)
        assert w.health.batches == before  # the same file is not read again
        w.close()


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return


def test_list_fetch_backs_off_while_the_publisher_is_down_then_loads(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "consolidated.xml").write_bytes(read_bytes(UN))
    port = _free_port()
    settings = Settings(
        list_urls={"un_sc": f"http://127.0.0.1:{port}/consolidated.xml"},
        download_dir=tmp_path / "downloads",
    )
    cfg = WatchConfig(
        sources=(SourceConfig("lists", "lists", names=("un_sc",), interval_s=3600.0),),
        health_port=-1,
        poll_s=0.05,
        backoff_initial_s=0.05,
        backoff_max_s=0.2,
    )
    subjects = tmp_path / "subjects.jsonl"
    subjects.write_text(
        json.dumps({"id": "c1", "schema": "Person", "properties": {"name": ["Eric Badege"]}}) + "\n"
    )
    with Store(tmp_path / "w.duckdb") as store:
        # A customer the bank screens: on the UN list it is about to fetch.
        store_subjects(store, read_subjects(subjects))
        w = Watch(store, cfg, settings)
        w.start()
        h = w.health.sources["lists"]
        deadline = time.monotonic() + 30
        while h.failures < 2 and time.monotonic() < deadline:
            w.step()
            time.sleep(0.05)
        assert h.failures >= 2 and h.last_error
        assert not store.list_versions()
        server = ThreadingHTTPServer(
            ("127.0.0.1", port), functools.partial(Quiet, directory=str(site))
        )
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            deadline = time.monotonic() + 60
            while not store.list_versions() and time.monotonic() < deadline:
                w.step()
                time.sleep(0.05)
            versions = store.list_versions()
            assert [v.source for v in versions] == ["un_sc"]
            assert h.failures == 0 and h.last_success is not None
            assert w.health.last_batch is not None
            assert w.health.last_batch["events"]["rescreen_new_hits:un_sc"] == 1
            hits = store.con.execute("SELECT subject_id FROM screening_subject_hits").fetchall()
            assert hits == [("c1",)]
            batches = w.health.batches
            w.step()
            assert w.health.batches == batches  # fetched again only after its interval
        finally:
            server.shutdown()
            server.server_close()
            w.close()
