"""The watch killed with SIGKILL inside a batch (its input stored, not yet committed),
then restarted, ends with exactly the store a clean run leaves: the same positions,
events, alerts and checkpoints, nothing lost and nothing twice. SIGTERM inside a batch
finishes it and exits 0."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.conftest import DATA
from watchkeeper.events import Event
from watchkeeper.store import Store

SAMPLE = (
    DATA / "ais" / "argenni" / "decoded_traffic_Gibraltar_Straight_all_ships_2016A_micro_20k"
    "_sample_ais_data.csv.gz"
)
NMEA = DATA / "ais" / "aisdb" / "test_data_20211101.nm4.gz"
# Vessels of the Gibraltar sample with AIS gaps and encounters in it. HAND-MADE: a
# blocking event names them so the alert rules on listed vessels fire on their events.
MARKED = ["mmsi:211225990", "mmsi:224144850", "mmsi:319077700", "mmsi:224022920"]
WATCH = [sys.executable, "-c", "from watchkeeper.cli import main; main()"]


def _setup(root: Path, pause: float) -> tuple[Path, Path]:
    drop = root / "drop"
    drop.mkdir(parents=True)
    for src in (SAMPLE, NMEA):
        target = drop / src.name
        shutil.copy(src, target)
        old = time.time() - 60  # written a minute ago: whole files, nothing to wait for
        os.utime(target, (old, old))
    config = root / "watch.toml"
    config.write_text(
        "[watch]\nbatch_bytes = 400000\nhealth_port = -1\npoll_seconds = 0.1\n"
        f"pause_in_batch_seconds = {pause}\n"
        '[[source]]\nkind = "ais_drop"\nname = "spool"\nfolder = "drop"\n'
    )
    db = root / "store.duckdb"
    with Store(db) as store:
        start = datetime(2016, 1, 1, tzinfo=UTC)
        store.write_events(
            [
                Event(
                    type="vessel_owner_blocked",
                    subjects=tuple(MARKED),
                    start=start,
                    end=start,
                    score=1.0,
                    detail="HAND-MADE for the crash test: these vessels count as blocked",
                )
            ]
        )
    return config, db


def _watch(config: Path, db: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*WATCH, "watch", "--config", str(config), "--db", str(db), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _contents(db: Path) -> dict[str, Any]:
    """What the watch stored; file paths relative to the test's folder."""
    con = duckdb.connect(str(db), read_only=True)
    root = str(db.parent)
    try:
        found = {
            "positions": con.execute(
                "SELECT msg_id, mmsi, time, lat, lon, sog, cog, heading, nav_status, msg_type "
                "FROM ais_positions ORDER BY ALL"
            ).fetchall(),
            "statics": con.execute(
                "SELECT msg_id, mmsi, time, imo, name, callsign, ship_type FROM ais_static "
                "ORDER BY ALL"
            ).fetchall(),
            "events": con.execute(
                "SELECT event_id, type, subjects, start_time, end_time, score, detail, params, "
                "evidence FROM events ORDER BY event_id"
            ).fetchall(),
            "alerts": con.execute(
                "SELECT alert_id, rule_id, subjects, start_time, end_time, score, event_ids, "
                "revision FROM alerts ORDER BY alert_id"
            ).fetchall(),
            "checkpoints": con.execute(
                "SELECT name, position FROM checkpoints ORDER BY name"
            ).fetchall(),
            "ingests": con.execute("SELECT source FROM ais_ingests ORDER BY ALL").fetchall(),
        }
        for key in ("checkpoints", "ingests"):
            found[key] = [tuple(str(v).replace(root, "<root>") for v in r) for r in found[key]]
        return found
    finally:
        con.close()


def _wait_for(proc: subprocess.Popen[str], text: str, times: int, timeout: float) -> list[str]:
    """Read the watch's log until ``text`` has appeared ``times`` times."""
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if sum(text in s for s in seen) >= times:
            return seen
    raise AssertionError(f"{text!r} not seen {times} times:\n{''.join(seen)}")


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    config, db = _setup(tmp_path_factory.mktemp("clean"), 0.0)
    done = subprocess.run(
        [*WATCH, "watch", "--config", str(config), "--db", str(db), "--until-idle"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return _contents(db)


def test_clean_run_finds_positions_events_and_alerts(clean: dict[str, Any]) -> None:
    assert len(clean["positions"]) > 15_000
    types = {e[1] for e in clean["events"]}
    assert {"port_call", "ais_gap", "encounter"} <= types
    assert any(a[1] == "listed-vessel-encounter" for a in clean["alerts"])
    assert len(clean["checkpoints"]) == 2  # one per file, both read to the end


def test_kill_mid_batch_then_restart_equals_a_clean_run(
    tmp_path: Path, clean: dict[str, Any]
) -> None:
    config, db = _setup(tmp_path, 3.0)
    proc = _watch(config, db)
    try:
        # The second batch has stored its positions and waits before its commit.
        _wait_for(proc, "input stored, pausing before commit", 2, 120)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    half = _contents(db)
    assert 0 < len(half["positions"]) < len(clean["positions"])  # died halfway
    assert len(half["ingests"]) == 1  # the committed batch, not the second
    config.write_text(config.read_text().replace("pause_in_batch_seconds = 3.0", ""))
    done = subprocess.run(
        [*WATCH, "watch", "--config", str(config), "--db", str(db), "--until-idle"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    after = _contents(db)
    for key in ("positions", "statics", "events", "alerts", "checkpoints", "ingests"):
        assert after[key] == clean[key], key


def test_sigterm_mid_batch_finishes_it_and_exits_0(tmp_path: Path) -> None:
    config, db = _setup(tmp_path, 2.0)
    proc = _watch(config, db)
    try:
        _wait_for(proc, "input stored, pausing before commit", 1, 120)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    got = _contents(db)
    assert len(got["ingests"]) == 1  # the batch under way was finished, no other begun
    assert len(got["checkpoints"]) == 1
    assert got["positions"]
