"""One definition, two engines: the detectors on Spark give exactly the events they
give on DuckDB, on the real bundled AIS samples (with the bundled OFAC list, so vessel
links and listed subjects are in play) and on hand-made edge cases of the pair join."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import typer
from typer.testing import CliRunner

from tests.conftest import DATA, OFAC_2023
from tests.scale import handmade
from watchkeeper.cli.spark import register
from watchkeeper.errors import InputError
from watchkeeper.events import Event
from watchkeeper.movement.ais.ingest import ingest_paths
from watchkeeper.movement.detect import build_references, detect_events
from watchkeeper.movement.detectors import PAIR_DETECTORS
from watchkeeper.movement.detectors.base import Points, References
from watchkeeper.movement.detectors.pairs import close_pairs
from watchkeeper.movement.geo import grid_cells, haversine_km
from watchkeeper.scale.frames import PairJoin
from watchkeeper.scale.spark import (
    candidate_pairs_sql,
    detect_events_spark,
    export_store,
    read_positions,
    read_statics,
)
from watchkeeper.store import Store


def canonical(events: list[Event]) -> list[str]:
    """Each event as sorted-key JSON (every field: type, subjects, start, end, score,
    detail, place, params, evidence ids), the list sorted: equal lists, equal events."""
    return sorted(json.dumps(e.to_dict(), sort_keys=True) for e in events)


def assert_same(local: list[Event], spark: list[Event]) -> None:
    a, b = canonical(local), canonical(spark)
    only_local = sorted(set(a) - set(b))[:3]
    only_spark = sorted(set(b) - set(a))[:3]
    assert a == b, f"DuckDB only: {only_local}\nSpark only: {only_spark}"


def on_spark(spark: Any, store: Store, refs: References, folder: Path, **kw: Any) -> list[Event]:
    positions, statics = export_store(store, folder)
    return detect_events_spark(
        spark, refs, read_positions(spark, positions), read_statics(spark, statics), **kw
    )


# ------------------------------------------------------------ real samples


@pytest.fixture(scope="module")
def bundled() -> Iterator[tuple[Store, References]]:
    """Every bundled AIS sample ingested, the bundled OFAC SDN 2023-12-28 loaded, and
    the references (identities, links to listed vessels) built from them."""
    from watchkeeper.lists import parse_files

    store = Store(":memory:")
    store.add_list_version(parse_files(OFAC_2023, "ofac_sdn"))
    ingest_paths(store, [DATA / "ais"])
    try:
        yield store, build_references(store)
    finally:
        store.close()


def test_same_events_on_the_bundled_samples(
    spark: Any, bundled: tuple[Store, References], tmp_path: Path
) -> None:
    store, refs = bundled
    local = detect_events(store, refs)
    found = on_spark(spark, store, refs, tmp_path)
    assert_same(local, found)
    types = Counter(e.type for e in found)
    # Not an empty agreement: track events, a pair event, identity checks, and links.
    assert {"port_call", "ais_gap", "voyage", "identity_change", "encounter"} <= set(types)
    assert sum(types.values()) > 500  # hundreds of real events, not a handful
    assert refs.links  # the list links were built (the linked vessels here have no events)


# ---------------------------------------------------------------- hand-made


@pytest.fixture(scope="module")
def handmade_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("handmade") / "wk.duckdb"
    with Store(path) as store:
        handmade.fill(store)
    return path


def test_handmade_encounter_across_cells_and_escort_convoy(
    spark: Any, handmade_db: Path, tmp_path: Path
) -> None:
    """HAND-MADE tracks: the encounter's two vessels are in different grid cells
    (``handmade.encounter_places`` checks it), so Spark finds them only through the
    neighbour cells of its join; the escort's three vessels cross cell after cell."""
    with Store(handmade_db) as store:
        refs = build_references(store)
        # A hand-made link (no list is loaded here): listed subjects and the listed
        # score bonus must reach Spark's workers with the broadcast references.
        refs.links = {handmade.MEET_A: [("ofac-handmade", "mmsi", 0.9)]}
        local = detect_events(store, refs)
        found = on_spark(spark, store, refs, tmp_path)
    assert_same(local, found)
    [encounter] = [e for e in found if e.type == "encounter"]
    assert encounter.params["mmsi_a"] == handmade.MEET_B
    assert encounter.params["mmsi_b"] == handmade.MEET_A
    assert "ofac-handmade" in encounter.subjects and encounter.score == pytest.approx(0.9)
    [escort] = [e for e in found if e.type == "escort"]
    assert escort.params["guards"] == [handmade.GUARD]
    assert escort.params["vessels"] == sorted(
        [handmade.GUARD, handmade.TANKER_1, handmade.TANKER_2]
    )
    renamed = [e for e in found if e.type == "identity_change" and e.params["kind"] == "name"]
    assert sorted(e.detail.split(" at ")[0] for e in renamed) == [
        "name changed from 'NEON STAR' to 'DARK STAR'",
        "name changed from '\\tDARK STAR' to 'NEON STAR'",
    ]


def test_handmade_chosen_types_since(spark: Any, handmade_db: Path, tmp_path: Path) -> None:
    """HAND-MADE tracks, only encounters and escorts, positions from 1 h in: both
    engines cut the tracks at the same report."""
    since = datetime.fromtimestamp(handmade.T0 + 3600, tz=UTC)
    with Store(handmade_db) as store:
        refs = build_references(store)
        local = detect_events(store, refs, ["encounter", "escort"], since)
        found = on_spark(spark, store, refs, tmp_path, types=["encounter", "escort"], since=since)
    assert_same(local, found)
    assert sorted(e.type for e in found) == ["encounter", "escort"]
    assert all(e.start >= since for e in found)


def test_pair_detector_without_a_spark_join_runs_on_the_driver(
    spark: Any, handmade_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HAND-MADE tracks; a pair detector Spark has no join for still gives the same
    events (its points are collected and its own ``detect`` runs on the driver)."""
    monkeypatch.setitem(PAIR_DETECTORS, "encounters", handmade.UnjoinedEncounters())
    with Store(handmade_db) as store:
        refs = build_references(store)
        local = detect_events(store, refs, ["encounter"])
        found = on_spark(spark, store, refs, tmp_path, types=["encounter"])
    assert_same(local, found)
    assert [e.type for e in found] == ["encounter"]


def test_candidate_join_finds_every_close_pair(spark: Any) -> None:
    """Random points (seeded) packed around many grid-cell boundaries: Spark SQL's
    (time bin, cell + neighbours) join, cut at the exact distance, gives exactly the
    pairs of the local ``close_pairs`` -- all vessels, and from guard points only."""
    rng = np.random.default_rng(11)
    vessels, bins = 300, 10
    n = vessels * bins
    pts = Points(
        mmsi=np.repeat(np.arange(vessels, dtype=np.int64) + 200_000_000, bins),
        bin=np.tile(np.arange(bins, dtype=np.int64), vessels),
        lat=30.0 + rng.uniform(0, 0.03, n),
        lon=-40.0 + rng.uniform(0, 0.03, n),
        sog=np.zeros(n),
        cog=np.zeros(n),
        msg_id=np.arange(n, dtype=np.int64),
    )
    seq = np.tile(np.arange(bins, dtype=np.int64), vessels)
    guard = np.isin(pts.mmsi, pts.mmsi[:: bins * 97])
    for join in (PairJoin(0.5), PairJoin(3.0, guard_side=True, per_pair=False)):
        left = np.flatnonzero(guard) if join.guard_side else None
        exact = close_pairs(pts, join.radius_km, left=left)
        expected = {
            frozenset({(int(pts.mmsi[i]), int(seq[i])), (int(pts.mmsi[j]), int(seq[j]))})
            for i, j in zip(exact.i, exact.j, strict=True)
        }
        table = pa.table(
            {
                "mmsi": pts.mmsi,
                "seq": seq,
                "bin": pts.bin,
                "cell": grid_cells(pts.lat, pts.lon, join.radius_km),
                "lat": pts.lat,
                "lon": pts.lon,
                "sog": pts.sog,
                "cog": pts.cog,
                "msg_id": pts.msg_id,
                "guard": guard,
            }
        )
        spark.createDataFrame(table).createOrReplaceTempView("handmade_points")
        rows = spark.sql(candidate_pairs_sql("handmade_points", join)).toArrow().to_pydict()
        got = set()
        for am, aseq, alat, alon, bm, bseq, blat, blon in zip(
            *(rows[c] for c in ("a_mmsi", "a_seq", "a_lat", "a_lon")),
            *(rows[c] for c in ("b_mmsi", "b_seq", "b_lat", "b_lon")),
            strict=True,
        ):
            lo, hi = ((alat, alon), (blat, blon)) if am < bm else ((blat, blon), (alat, alon))
            if haversine_km(*lo, *hi) <= join.radius_km:  # close_pairs' own cut
                got.add(frozenset({(am, aseq), (bm, bseq)}))
        assert got == expected
        assert len(expected) > 1000


# ---------------------------------------------------------------------- CLI


def cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Watchkeeper (test app with only this module's commands)."""

    register(app)
    return app


def test_cli_detect_spark_stores_the_events(spark: Any, handmade_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    db.write_bytes(handmade_db.read_bytes())
    res = CliRunner().invoke(cli(), ["detect-spark", "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["events"]["encounter"] == 1 and out["events"]["escort"] == 1
    assert out["spark"]["master"].startswith("local")
    with Store(db, read_only=True) as store:
        stored = Counter(e.type for e in store.read_events())
    assert stored["encounter"] == 1 and stored["escort"] == 1


def test_cli_positions_without_a_needed_column(
    spark: Any, handmade_db: Path, tmp_path: Path
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    bad = tmp_path / "positions.parquet"
    pq.write_table(pa.table({"mmsi": [1], "msg_id": [1], "lat": [0.0], "lon": [0.0]}), bad)
    db = tmp_path / "copy.duckdb"
    db.write_bytes(handmade_db.read_bytes())
    res = CliRunner().invoke(cli(), ["detect-spark", "--db", str(db), "--positions", str(bad)])
    assert isinstance(res.exception, InputError)
    assert str(bad) in str(res.exception) and "'time'" in str(res.exception)
    res = CliRunner().invoke(
        cli(), ["detect-spark", "--db", str(db), "--positions", str(tmp_path / "none.parquet")]
    )
    assert isinstance(res.exception, InputError) and "no such file" in str(res.exception)
