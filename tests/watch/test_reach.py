"""A batch redoes at most ``max_reach`` before a vessel's new reports: a finding open
longer is extended by its redone tail, never written a second time beside it."""

from __future__ import annotations

import os
import shutil
import time
from collections import defaultdict
from pathlib import Path

from tests.conftest import DATA
from watchkeeper.settings import Settings
from watchkeeper.store import Store
from watchkeeper.watch.config import SourceConfig, WatchConfig
from watchkeeper.watch.loop import Watch

GIBRALTAR = (
    DATA / "ais" / "argenni" / "decoded_traffic_Gibraltar_Straight_all_ships_2016A_micro_20k"
    "_sample_ais_data.csv.gz"
)


def _watch(tmp_path: Path, reach_hours: float) -> dict[tuple[str, str], list[tuple[float, float]]]:
    drop = tmp_path / f"drop-{reach_hours}"
    drop.mkdir()
    shutil.copy(GIBRALTAR, drop / GIBRALTAR.name)
    old = time.time() - 60
    os.utime(drop / GIBRALTAR.name, (old, old))
    cfg = WatchConfig(
        sources=(SourceConfig("ais_drop", "spool", folder=drop),),
        batch_bytes=300_000,
        health_port=-1,
        max_reach_s=reach_hours * 3600,
    )
    spans: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    extended.clear()
    with Store(tmp_path / f"w-{reach_hours}.duckdb") as store:
        w = Watch(store, cfg, Settings())
        w.start()
        w.run(until_idle=True)
        w.close()
        for kind, subjects, a, b in store.con.execute(
            "SELECT type, subjects, epoch(start_time), epoch(end_time) FROM events "
            "WHERE type IN ('port_call', 'loitering')"
        ).fetchall():
            spans[(kind, subjects[0])].append((a, b))
        extended.extend(
            r[0]
            for r in store.con.execute(
                "SELECT event_id FROM events WHERE json_extract_string(params, '$.extended_from') "
                "IS NOT NULL"
            ).fetchall()
        )
    return spans


extended: list[str] = []


def test_a_short_reach_never_writes_a_finding_twice(tmp_path: Path) -> None:
    short = _watch(tmp_path, 1.0)
    for key, found in short.items():
        found.sort()
        for (a0, b0), (a1, b1) in zip(found, found[1:], strict=False):
            assert a1 > b0, f"{key}: {a0}-{b0} overlaps {a1}-{b1}"
    assert sum(len(v) for v in short.values()) > 50  # there were findings to check
    # Findings open past the reach were extended, not left with their first end.
    assert extended
