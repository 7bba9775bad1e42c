"""Flights from real tracks: take-off and landing, gaps, departure and arrival airports."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from tests.conftest import shared_path
from tests.movement.air._support import FULL_FLIGHT, QUICKSTART_PART, TRACE_FULL
from watchkeeper.io import read_bytes
from watchkeeper.movement.air import ingest_paths
from watchkeeper.movement.air.airports import default_airports
from watchkeeper.movement.air.flights import FlightRules, Track, split_flights
from watchkeeper.movement.air.geodesy import haversine_km
from watchkeeper.movement.air.storage import read_flights
from watchkeeper.store import Store


def test_raw_frame_flight_departs_from_charles_de_gaulle(store: Store) -> None:
    """The one-flight raw-frame sample (rs1090, icao24 393322) departs LFPG: found from the
    surface positions decoded before take-off."""
    ingest_paths(store, [FULL_FLIGHT])
    flights = read_flights(store.con)
    assert len(flights) == 1
    f = flights[0]
    assert (f.icao24, f.callsign, f.departure) == ("393322", "AFR34ZG", "LFPG")
    assert f.arrival == "LFBO"  # it lands at Toulouse-Blagnac (last surface fixes there)
    assert f.takeoff is not None and datetime(2024, 7, 6, 6, 55, tzinfo=UTC) < f.takeoff
    assert f.takeoff < datetime(2024, 7, 6, 7, 5, tzinfo=UTC)
    assert f.departure_detail and "on the ground" in f.departure_detail
    assert 550 < f.gc_km < 650  # Paris CDG - Toulouse is about 600 km


def test_readsb_legs_match_our_flights() -> None:
    """readsb marks the start of each leg in trace_full (flag 2): our split agrees."""
    import json

    doc = json.loads(read_bytes(TRACE_FULL))
    legs = [p for p in doc["trace"] if p[6] & 2]
    store = Store(":memory:")
    ingest_paths(store, [TRACE_FULL])
    flights = read_flights(store.con)
    assert len(flights) == len(legs) + 1 == 4
    starts = sorted(doc["timestamp"] + p[0] for p in legs)
    for f, leg_start in zip(flights[1:], starts, strict=True):
        assert abs(f.start.timestamp() - leg_start) < 3600
    assert [f.callsign for f in flights] == ["DAL1812", "DAL2418", "DAL1615", "DAL2927"]
    assert flights[-1].departure == "KMSP" and flights[-1].arrival == "KDEN"


def test_border_control_patrol_is_one_flight_from_and_to_lydd() -> None:
    """The traffic sample labels this slow patrol flight EGMD -> EGMD; no on-ground flag is
    given, so ground is inferred (slow, level, at field elevation)."""
    store = Store(":memory:")
    ingest_paths(store, [shared_path("adsb", "traffic", "border_control.json.gz")])
    flights = read_flights(store.con)
    assert [(f.departure, f.arrival) for f in flights] == [("EGMD", "EGMD")]


def test_quickstart_airports_are_where_the_aircraft_stood() -> None:
    store = Store(":memory:")
    ingest_paths(store, [QUICKSTART_PART])
    flights = read_flights(store.con)
    assert len(flights) > 30
    found = {f.departure for f in flights} | {f.arrival for f in flights}
    assert {"LFPG", "LFPO"} <= found
    airports = default_airports()
    for f in flights:
        assert f.start <= f.end
        for code, row in ((f.departure, f.departure_row), (f.arrival, f.arrival_row)):
            if code is None:
                continue
            lat, lon, ground = store.con.execute(
                "SELECT lat, lon, onground FROM air_states WHERE row_id = ?", [row]
            ).fetchone()  # type: ignore[misc]
            ap = airports.get(code)
            assert ap is not None
            assert float(haversine_km(lat, lon, ap.lat, ap.lon)) < 15
    # Flights of one aircraft never overlap.
    by_aircraft: dict[str, list[tuple[datetime, datetime]]] = {}
    for f in flights:
        by_aircraft.setdefault(f.icao24, []).append((f.start, f.end))
    for spans in by_aircraft.values():
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert end < start


def _track(t: list[float], lat: list[float], alt: list[float], ground: list[int]) -> Track:
    n = len(t)
    return Track(
        icao24="abcdef",
        row_id=np.arange(n, dtype=np.int64),
        time=np.array(t, dtype=float),
        lat=np.array(lat, dtype=float),
        lon=np.zeros(n),
        altitude_ft=np.array(alt, dtype=float),
        groundspeed_kt=np.full(n, 400.0),
        onground=np.array(ground, dtype=np.int8),
        callsign=np.array(["TEST1"] * n, dtype=object),
        vertical_rate_fpm=np.zeros(n),
    )


def test_gap_rules_hand_made_edge_cases() -> None:
    """Hand-made tracks for the edge cases of the gap rule: a cruise gap covered at airliner
    speed stays one flight; the same gap with hardly any distance covered is two."""
    airports = default_airports()
    minutes = [0.0, 60.0, 120.0, 3720.0, 3780.0, 3840.0]  # a 1 h silence
    far = _track(minutes, [10.0, 10.01, 10.02, 10.0 + 7.0, 17.01, 17.02], [30000.0] * 6, [0] * 6)
    assert len(split_flights(far, airports)) == 1
    near = _track(minutes, [10.0, 10.01, 10.02, 10.03, 10.04, 10.05], [30000.0] * 6, [0] * 6)
    assert len(split_flights(near, airports)) == 2
    low = _track(minutes, [10.0, 10.01, 10.02, 17.0, 17.01, 17.02], [2000.0] * 6, [0] * 6)
    assert len(split_flights(low, airports, FlightRules())) == 2
