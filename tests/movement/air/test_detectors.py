"""Flight events. The listed-operator, listed-aircraft, route and bridge tests run on the
HAND-MADE Mahan Air tracks (``handmade.py``: no real Iranian track is available); gaps and
position jumps also run on real tracks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.movement.air._support import (
    FULL_FLIGHT,
    HANDMADE,
    NOISY,
    QUICKSTART_PART,
    load_sdn_subset,
)
from tests.movement.air.handmade import HANDMADE_ICAO24, write
from watchkeeper.io import read_bytes
from watchkeeper.movement.air import AirRules, ingest_paths, run_detectors
from watchkeeper.settings import Settings
from watchkeeper.store import Store


@pytest.fixture
def mahan_store(tmp_path: Path) -> Store:
    """Real SDN rows + the HAND-MADE Mahan Air rotations OIIE <-> SVMI (regenerated here so
    the test checks the generator and the bundled copy agree)."""
    store = Store(":memory:")
    load_sdn_subset(store, tmp_path)
    fresh = tmp_path / "handmade.jsonl.gz"
    write(fresh)
    assert read_bytes(fresh) == read_bytes(HANDMADE)
    ingest_paths(store, [HANDMADE])
    return store


def _evidence_rows_exist(store: Store, evidence: tuple[str, ...]) -> None:
    rows = [int(e.split(":")[1]) for e in evidence if e.startswith("adsb:")]
    assert rows
    found = store.con.execute(
        "SELECT count(*) FROM air_states WHERE row_id IN (SELECT unnest(?))", [rows]
    ).fetchone()
    assert found == (len(set(rows)),)


def test_listed_operator_and_aircraft_flights(mahan_store: Store) -> None:
    """HAND-MADE track: callsign IRM..., registration EP-MNG (listed, operator MAHAN AIR)."""
    counts = run_detectors(mahan_store, settings=Settings())
    assert counts["listed_operator_flight"] == 4
    assert counts["listed_aircraft_flight"] == 4
    op = mahan_store.read_events(types=["listed_operator_flight"])
    for e in op:
        assert f"icao24:{HANDMADE_ICAO24}" in e.subjects and "ofac-12927" in e.subjects
        assert "reg:EP-MNG" in e.subjects
        assert "list:ofac-12927" in e.evidence
        assert "IRM" in e.detail and "MAHAN AIR" in e.detail
        _evidence_rows_exist(mahan_store, e.evidence)
    ac = mahan_store.read_events(types=["listed_aircraft_flight"])
    assert all({"ofac-15438", "ofac-12927"} <= set(e.subjects) for e in ac)
    assert all("registration EP-MNG" in e.detail for e in ac)


def test_sanctioned_route_between_and_into(mahan_store: Store) -> None:
    """HAND-MADE track: OIIE (IR) <-> SVMI (VE)."""
    run_detectors(mahan_store, settings=Settings(sanctioned_countries=("ir", "ve")))
    events = mahan_store.read_events(types=["sanctioned_route"])
    assert len(events) == 4
    assert all(e.score == 0.8 and "between two sanctioned" in e.detail for e in events)
    # Only Venezuela sanctioned: the two flights into SVMI, from anywhere.
    run_detectors(mahan_store, settings=Settings(sanctioned_countries=("ve",)))
    events = mahan_store.read_events(types=["sanctioned_route"])
    assert [e.params["arrival"] for e in events] == ["SVMI", "SVMI"]
    assert all("into a sanctioned jurisdiction" in e.detail for e in events)
    run_detectors(mahan_store, settings=Settings(sanctioned_countries=("kp",)))
    assert mahan_store.read_events(types=["sanctioned_route"]) == []


def test_air_bridge_is_one_event(mahan_store: Store) -> None:
    """HAND-MADE track: four rotations in 16 days make one bridge; a longer minimum, none."""
    run_detectors(mahan_store, settings=Settings())
    bridges = mahan_store.read_events(types=["air_bridge"])
    assert len(bridges) == 1
    b = bridges[0]
    assert b.subjects[0] == "ofac-12927" and b.params["route"] == "OIIE-SVMI"
    assert len(b.params["flights"]) == 4
    assert sum(1 for e in b.evidence if e.startswith("flight:")) == 4
    run_detectors(mahan_store, settings=Settings(), rules=replace(AirRules(), bridge_min_flights=5))
    assert mahan_store.read_events(types=["air_bridge"]) == []
    run_detectors(mahan_store, settings=Settings(), rules=replace(AirRules(), bridge_window_days=3))
    assert mahan_store.read_events(types=["air_bridge"]) == []


def test_transponder_gap_in_the_air(mahan_store: Store) -> None:
    """HAND-MADE track: the third rotation goes silent over the Atlantic."""
    run_detectors(mahan_store, settings=Settings())
    gaps = mahan_store.read_events(types=["transponder_gap"])
    assert len(gaps) == 1
    g = gaps[0]
    assert g.start.date().isoformat() == "2024-04-16"
    assert g.params["distance_km"] > 1000 and g.params["gap_s"] > 3600
    _evidence_rows_exist(mahan_store, g.evidence)


def test_no_flight_events_without_lists_on_real_european_traffic(store: Store) -> None:
    ingest_paths(store, [QUICKSTART_PART, FULL_FLIGHT])
    counts = run_detectors(store, settings=Settings(sanctioned_countries=("ir", "ve", "sy")))
    assert set(counts.values()) == {0}


def test_position_jump_on_the_real_spoofed_track(store: Store) -> None:
    """noisy_spoofing: positions freeze near Lviv reporting 50 kt at 38,000 ft, then jump
    hundreds of km back to the real track over Poland."""
    ingest_paths(store, [NOISY])
    run_detectors(store, settings=Settings())
    jumps = store.read_events(types=["position_jump"])
    assert len(jumps) == 1
    e = jumps[0]
    assert e.subjects == ("icao24:4baac6",)
    assert (
        datetime(2024, 9, 17, 9, 20, tzinfo=UTC)
        < e.start
        < datetime(2024, 9, 17, 9, 30, tzinfo=UTC)
    )
    assert (
        datetime(2024, 9, 17, 9, 55, tzinfo=UTC) < e.end < datetime(2024, 9, 17, 10, 5, tzinfo=UTC)
    )
    assert max(j["distance_km"] for j in e.params["jumps"]) > 500
    assert e.params["slow_at_altitude"]
    _evidence_rows_exist(store, e.evidence)
