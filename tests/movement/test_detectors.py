"""Detectors on real tracks, and on small hand-made tracks (named as such) for each
threshold edge: just under and just over."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import DATA
from tests.movement import samples
from watchkeeper.movement.detect import build_references, detect_events, run_detectors
from watchkeeper.movement.detectors import EVENT_TYPES, PAIR_DETECTORS, TRACK_DETECTORS
from watchkeeper.movement.detectors.ais_gaps import AisGapParams, find_gaps
from watchkeeper.movement.detectors.base import Points, ReceptionCoverage, References
from watchkeeper.movement.detectors.encounters import Encounters
from watchkeeper.movement.detectors.escorts import Escorts
from watchkeeper.movement.detectors.identity import (
    Identity,
    PositionJumpParams,
    position_jumps,
)
from watchkeeper.movement.detectors.loitering import LoiteringParams, find_loitering
from watchkeeper.movement.detectors.port_calls import PortCalls
from watchkeeper.movement.detectors.voyages import Voyages
from watchkeeper.movement.geo import shore_distance
from watchkeeper.movement.ports import port_index
from watchkeeper.movement.tracks import StaticReports, Track, load_track
from watchkeeper.movement.vessels import Observed, VesselIdentity
from watchkeeper.store import Store

T0 = samples.utc(2024, 3, 1).timestamp()
KM_PER_DEG = 111.195
OPEN_SEA = (30.0, -40.0)  # mid-Atlantic: > 500 nm from shore, no port for 1000 km


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = samples.real_store(tmp=tmp_path_factory.mktemp("lists"))
    yield store
    store.close()


@pytest.fixture(scope="module")
def real_events(real: Store) -> dict[str, list]:  # type: ignore[type-arg]
    refs = build_references(real)
    out: dict[str, list] = {t: [] for t in EVENT_TYPES}  # type: ignore[type-arg]
    for e in detect_events(real, refs):
        out[e.type].append(e)
    return out


def refs(**kw: object) -> References:
    return References(ports=port_index(), shore=shore_distance(), **kw)  # type: ignore[arg-type]


def track(
    mmsi: int,
    hours: list[float] | np.ndarray,
    lat: list[float] | np.ndarray | float,
    lon: list[float] | np.ndarray | float,
    sog: list[float] | np.ndarray | float = 0.0,
    cog: float = 0.0,
    static: StaticReports | None = None,
) -> Track:
    """A hand-made track: positions at ``hours`` after T0."""
    h = np.asarray(hours, dtype=float)
    n = h.size
    return Track.from_arrays(
        mmsi,
        np.arange(mmsi % 1000 * 10000, mmsi % 1000 * 10000 + n),
        T0 + h * 3600,
        np.broadcast_to(np.asarray(lat, dtype=float), (n,)),
        np.broadcast_to(np.asarray(lon, dtype=float), (n,)),
        np.broadcast_to(np.asarray(sog, dtype=float), (n,)),
        np.full(n, cog),
        static,
    )


# ------------------------------------------------------------------ port calls


def _port(name: str, country: str):  # type: ignore[no-untyped-def]
    return next(p for p in port_index().ports if p.name == name and p.country == country)


def test_real_port_call_at_a_sanctioned_country_port(real_events: dict[str, list]) -> None:  # type: ignore[type-arg]
    """Real Baltic track: MMSI 212536000 stops at Kronshtadt (Russia)."""
    calls = [e for e in real_events["port_call"] if "mmsi:212536000" in e.subjects]
    assert calls and calls[0].params["port_name"] == "Kronshtadt"
    assert calls[0].params["sanctioned"] is True and calls[0].score == 0.9
    assert "RU is a sanctioned country" in calls[0].detail
    assert all(ev.startswith("ais:") for ev in calls[0].evidence)
    danish = [e for e in real_events["port_call"] if e.params["port_country"] == "dk"]
    assert danish and all(not e.params["sanctioned"] and e.score == 0.3 for e in danish)


def test_port_call_entry_edge_hand_made() -> None:
    """Hand-made: stopped 2.9 km from Bandar Abbas -> call; 3.1 km -> none."""
    port = _port("Bandar Abbas", "ir")
    det = PortCalls()
    for km, expected in ((2.9, 1), (3.1, 0)):
        t = track(422000001, [0, 1, 2, 3], port.lat + km / KM_PER_DEG, port.lon, sog=0.0)
        got = det.detect(t, refs())
        assert len(got) == expected, km
    [call] = det.detect(track(422000001, [0, 1, 2], port.lat + 2.9 / KM_PER_DEG, port.lon), refs())
    assert call.params["sanctioned"] and call.params["port_country"] == "ir"


def test_port_call_stop_speed_edge_hand_made() -> None:
    """Hand-made: inside the port at 0.19 kn -> a call; at 0.21 kn -> only a passage."""
    port = _port("Bandar Abbas", "ir")
    det = PortCalls()
    assert len(det.detect(track(422000001, [0, 1], port.lat, port.lon, sog=0.19), refs())) == 1
    assert det.detect(track(422000001, [0, 1], port.lat, port.lon, sog=0.21), refs()) == []


def test_port_call_needs_more_than_one_stopped_report_hand_made() -> None:
    """Hand-made: one stopped report inside Bandar Abbas is a sighting; two make a call."""
    port = _port("Bandar Abbas", "ir")
    det = PortCalls()
    assert det.detect(track(422000001, [0], port.lat, port.lon, sog=0.0), refs()) == []
    one_slow = track(422000001, [0, 1], port.lat, port.lon, sog=[0.0, 5.0])
    assert det.detect(one_slow, refs()) == []
    assert len(det.detect(track(422000001, [0, 1], port.lat, port.lon, sog=0.0), refs())) == 1


def test_port_call_hysteresis_hand_made() -> None:
    """Hand-made: in at 1 km, out to 3.5 km (between entry 3 and exit 4 km) and back:
    one visit; out to 4.5 km and back: two visits."""
    port = _port("Bandar Abbas", "ir")
    det = PortCalls()
    for away, visits in ((3.5, 1), (4.5, 2)):
        km = np.array([1.0, 1.0, away, away, 1.0, 1.0])
        t = track(422000001, range(6), port.lat + km / KM_PER_DEG, port.lon, sog=0.0)
        assert len(det.detect(t, refs())) == visits, away


# ----------------------------------------------------------------------- gaps


def test_real_ais_gap(real_events: dict[str, list]) -> None:  # type: ignore[type-arg]
    """Real Baltic: MMSI 219593000 silent for 6.4 h, near the coast: not disabling."""
    gaps = [e for e in real_events["ais_gap"] if "mmsi:219593000" in e.subjects]
    assert len(gaps) == 1
    g = gaps[0]
    assert g.params["gap_h"] == pytest.approx(6.4, abs=0.05)
    assert g.params["suspected_disabling"] is False and len(g.evidence) == 2
    assert all(e.params["gap_h"] > 6 for e in real_events["ais_gap"])


def test_gap_threshold_edges_hand_made() -> None:
    p = AisGapParams()
    for h, n in ((5.9, 0), (6.1, 1)):
        assert len(find_gaps(track(1, [0, h], *OPEN_SEA), refs(), p)) == n, h


def test_suspected_disabling_edges_hand_made() -> None:
    """Hand-made: 12.1 h in open sea -> disabling; 11.9 h -> plain gap; 12.1 h ending
    near Bandar Abbas (< 50 nm from shore) -> plain gap."""
    p = AisGapParams()
    [g] = find_gaps(track(1, [0, 12.1], *OPEN_SEA), refs(), p)
    assert g.params["suspected_disabling"] and g.score == p.score_disabling
    [g] = find_gaps(track(1, [0, 11.9], *OPEN_SEA), refs(), p)
    assert not g.params["suspected_disabling"]
    port = _port("Bandar Abbas", "ir")
    [g] = find_gaps(
        track(1, [0, 12.1], [OPEN_SEA[0], port.lat], [OPEN_SEA[1], port.lon]), refs(), p
    )
    assert not g.params["suspected_disabling"] and g.params["end_shore_nm"] < 50
    assert g.params["implied_speed_kn"] > 100  # thousands of km in 12 h


def test_gap_draught_change_hand_made() -> None:
    """Hand-made static reports: draught 8.0 m before the gap, 14.5 m after."""
    static = StaticReports(
        np.array([900, 901]),
        np.array([T0, T0 + 13 * 3600]),
        np.zeros(2, np.int64),
        np.array(["X", "X"], dtype=object),
        np.array(["", ""], dtype=object),
        np.zeros(2, np.int64),
        np.array([8.0, 14.5]),
    )
    [g] = find_gaps(track(1, [0, 13], *OPEN_SEA, static=static), refs(), AisGapParams())
    assert g.params["draught_before_m"] == 8.0 and g.params["draught_after_m"] == 14.5
    assert "ais:900" in g.evidence and "ais:901" in g.evidence


def test_real_gaps_stay_inside_one_observation(bundled_gaps: list) -> None:  # type: ignore[type-arg]
    """Real bundled samples (2008 to 2023, seven files): before, 179 gaps, 93 of them
    longer than 30 days (2010 -> 2023 between two unrelated files), 40 with a negative
    distance from shore. Now every gap lies inside one stretch the receivers kept
    hearing, and no distance from shore is negative."""
    p = AisGapParams()
    assert bundled_gaps, "the bundled samples hold real gaps"
    assert all(6 < g.params["gap_h"] <= p.max_gap_hours for g in bundled_gaps)
    assert all(g.end - g.start < timedelta(days=2) for g in bundled_gaps)
    assert all(g.params["start_shore_nm"] >= 0 <= g.params["end_shore_nm"] for g in bundled_gaps)
    # Unrelated files that the same MMSIs appear in: no gap across them.
    assert not [g for g in bundled_gaps if g.start.year != g.end.year]
    # Reports on land (a 0.1-degree grid over port basins) are said to be.
    landed = [g for g in bundled_gaps if g.params["start_on_land"] or g.params["end_on_land"]]
    assert all("on land" in g.detail for g in landed)


@pytest.fixture(scope="module")
def bundled_gaps() -> list:  # type: ignore[type-arg]
    from watchkeeper.movement.ais.ingest import ingest_paths

    with Store(":memory:") as store:
        ingest_paths(store, [DATA / "ais"])
        return detect_events(store, build_references(store), ["ais_gap"])


def covered(mmsi: int, hours: list[float] | np.ndarray, lat: float, lon: float) -> Track:
    """Another vessel heard at ``hours`` near (lat, lon): the receivers' coverage."""
    return track(mmsi, hours, lat, lon)


def coverage_of(*tracks: Track) -> ReceptionCoverage:
    t = np.concatenate([tr.t for tr in tracks])
    lat = np.concatenate([tr.lat for tr in tracks])
    lon = np.concatenate([tr.lon for tr in tracks])
    return ReceptionCoverage.from_bins(np.floor(lat), np.floor(lon), np.floor(t / 3600))


def test_gap_needs_the_area_heard_hand_made() -> None:
    """Hand-made: a vessel silent 7 h in open sea. A neighbour 0.3 degrees away heard
    every hour -> a gap; the neighbour silent for 3 whole hours -> still a gap; for 4
    -> none (the receiver, not the vessel, went quiet); heard only 2 degrees away ->
    none; no neighbour at all -> none."""
    lat, lon = OPEN_SEA
    vessel = track(1, [0, 7], lat, lon)
    every_hour = np.arange(0.5, 7.0, 1.0)
    cases = (
        (every_hour, lon + 0.3, 1),
        (np.r_[0.5, 1.5, 5.5, 6.5], lon + 0.3, 1),  # hours 2, 3, 4 empty
        (np.r_[0.5, 5.5, 6.5], lon + 0.3, 0),  # hours 1-4 empty
        (every_hour, lon + 2.0, 0),
    )
    for hours_heard, other_lon, n in cases:
        cov = coverage_of(vessel, covered(2, hours_heard, lat, other_lon))
        assert len(find_gaps(vessel, refs(coverage=cov), AisGapParams())) == n, hours_heard
    assert find_gaps(vessel, refs(coverage=coverage_of(vessel)), AisGapParams()) == []


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-90, 90), st.floats(-180, 180), st.integers(0, 48)),
        max_size=30,
    ),
    st.floats(-89.9, 89.9),
    st.floats(-180, 180),
    st.integers(0, 40),
    st.integers(0, 10),
)
def test_longest_silence_is_the_longest_run_of_empty_hours(
    heard: list[tuple[float, float, int]], lat: float, lon: float, h0: int, span: int
) -> None:
    """Property, against a brute-force count: the empty whole hours strictly between
    the two ends, counting only reports within one 1-degree cell (either way, across
    the antimeridian) of the asked point."""
    base = 480_000  # hours since 1970: 2024
    cov = ReceptionCoverage.from_bins(
        [np.floor(a) for a, _, _ in heard],
        [np.floor(b) for _, b, _ in heard],
        [base + h for _, _, h in heard],
    )
    t0, t1 = (base + h0) * 3600.0 + 1, (base + h0 + span) * 3600.0 + 2

    def near(a: float, b: float) -> bool:
        dlat = int(np.floor(min(a, 89.999))) - int(np.floor(lat))
        dlon = (int(np.floor(b)) - int(np.floor(lon)) + 180) % 360 - 180
        return abs(dlat) <= 1 and abs(dlon) <= 1

    on = {h for a, b, h in heard if near(a, b) and h0 < h < h0 + span}
    longest = run = 0
    for h in range(h0 + 1, h0 + span):
        run = 0 if h in on else run + 1
        longest = max(longest, run)
    assert cov.longest_silence_hours(lat, lon, t0, t1) == longest


def test_gap_end_area_must_be_heard_too_hand_made() -> None:
    """Hand-made: silent 7 h, reappearing 5 degrees east; only the start area is heard
    -> none; both areas heard -> a gap."""
    lat, lon = OPEN_SEA
    vessel = track(1, [0, 7], lat, [lon, lon + 5])
    hours_heard = np.arange(0.5, 7.0, 1.0)
    start_only = coverage_of(vessel, covered(2, hours_heard, lat, lon))
    assert find_gaps(vessel, refs(coverage=start_only), AisGapParams()) == []
    both = coverage_of(
        vessel, covered(2, hours_heard, lat, lon), covered(3, hours_heard, lat, lon + 5)
    )
    assert len(find_gaps(vessel, refs(coverage=both), AisGapParams())) == 1


def test_gap_longest_edge_hand_made() -> None:
    """Hand-made: 14 days is still one observation; a minute more is not."""
    p = AisGapParams()
    longest = p.max_gap_hours
    assert len(find_gaps(track(1, [0, longest], *OPEN_SEA), refs(), p)) == 1
    assert find_gaps(track(1, [0, longest + 1 / 60], *OPEN_SEA), refs(), p) == []
    assert len(find_gaps(track(1, [0, 400], *OPEN_SEA), refs(), replace(p, max_gap_hours=500))) == 1


def test_gap_on_land_is_zero_from_shore_hand_made() -> None:
    """Hand-made: a silence starting in Tehran (the coastline grid says about -300 nm)
    reports 0 nm from shore, on land, never a negative distance."""
    assert shore_distance().one_nm(35.7, 51.4) < 0
    [g] = find_gaps(
        track(1, [0, 7], [35.7, OPEN_SEA[0]], [51.4, OPEN_SEA[1]]), refs(), AisGapParams()
    )
    assert g.params["start_shore_nm"] == 0 and g.params["start_on_land"] is True
    assert g.params["end_shore_nm"] > 50 and g.params["end_on_land"] is False
    assert "last report on land" in g.detail and not g.params["suspected_disabling"]


# ------------------------------------------------------------------ loitering


def test_real_loitering_in_the_baltic(real_events: dict[str, list]) -> None:  # type: ignore[type-arg]
    """Real: two ships waiting for 10 h+ in the open Baltic, > 20 nm from shore."""
    found = {s for e in real_events["loitering"] for s in e.subjects if s.startswith("mmsi:")}
    assert {"mmsi:210550000", "mmsi:212335000"} <= found
    assert all(e.params["min_shore_nm"] >= 20 for e in real_events["loitering"])


def test_loitering_edges_hand_made() -> None:
    p = LoiteringParams()
    hours = np.linspace(0, 3.9, 40)
    assert find_loitering(track(1, hours, *OPEN_SEA, sog=1.0), refs(), p) == []
    assert (
        len(find_loitering(track(1, np.linspace(0, 4.1, 40), *OPEN_SEA, sog=1.0), refs(), p)) == 1
    )
    assert find_loitering(track(1, np.linspace(0, 5, 40), *OPEN_SEA, sog=2.1), refs(), p) == []
    # Distance from shore edge: shift the threshold around the point's own distance.
    d = float(shore_distance().nm([OPEN_SEA[0]], [OPEN_SEA[1]])[0])
    t = track(1, np.linspace(0, 5, 40), *OPEN_SEA, sog=1.0)
    assert find_loitering(t, refs(), replace(p, min_shore_nm=d + 1)) == []
    assert len(find_loitering(t, refs(), replace(p, min_shore_nm=d - 1))) == 1


# ----------------------------------------------------------------- encounters


def _pair_events(det: Encounters | Escorts, tracks: list[Track], r: References) -> list:  # type: ignore[type-arg]
    return det.detect(Points.concat([det.select(t, r) for t in tracks]), r)


def test_real_encounters(real_events: dict[str, list]) -> None:  # type: ignore[type-arg]
    """Real Gibraltar: MMSI 248000612 and 319077700 stay within 500 m, both slow, for 2 h."""
    pairs = {(e.params["mmsi_a"], e.params["mmsi_b"]) for e in real_events["encounter"]}
    assert (248000612, 319077700) in pairs
    for e in real_events["encounter"]:
        assert e.params["median_distance_m"] <= 500
        assert (e.end - e.start).total_seconds() >= 2 * 3600


def _encounter(
    dist_m: float, hours: float, sog: float = 1.0, where: tuple[float, float] = OPEN_SEA
) -> list:  # type: ignore[type-arg]
    h = np.arange(0, hours + 1e-9, 1 / 6)
    a = track(111000001, h, where[0], where[1], sog=sog)
    b = track(111000002, h, where[0] + dist_m / 1000 / KM_PER_DEG, where[1], sog=sog)
    return _pair_events(Encounters(), [a, b], refs())


def test_encounter_edges_hand_made() -> None:
    assert len(_encounter(450, 2.5)) == 1
    assert _encounter(550, 2.5) == []  # just over 500 m
    assert _encounter(450, 1.8) == []  # just under 2 h
    assert _encounter(450, 2.5, sog=2.1) == []  # just over 2 kn
    port = _port("Bandar Abbas", "ir")
    assert _encounter(450, 2.5, where=(port.lat + 9.5 / KM_PER_DEG, port.lon)) == []  # < 10 km
    assert len(_encounter(450, 2.5, where=(port.lat + 10.5 / KM_PER_DEG, port.lon))) == 1


def test_encounter_gap_and_merge_hand_made() -> None:
    """Hand-made: together 0-2.5 h and 5-7.5 h (2.5 h apart): merged into one;
    with 4.5 h between them: two. A 1.5 h reporting gap is never interpolated."""

    def run(second_start: float) -> list:  # type: ignore[type-arg]
        h = np.r_[np.arange(0, 2.51, 1 / 6), np.arange(second_start, second_start + 2.51, 1 / 6)]
        a = track(111000001, h, *OPEN_SEA, sog=1.0)
        b = track(111000002, h, OPEN_SEA[0] + 0.2 / KM_PER_DEG, OPEN_SEA[1], sog=1.0)
        return _pair_events(Encounters(), [a, b], refs())

    [merged] = run(5.0)
    assert merged.params["merged"] == 2
    assert len(run(7.0)) == 2
    # 2.3 h with a 1.5 h hole in the middle: neither side reaches 2 h.
    h = np.r_[np.arange(0, 0.41, 1 / 6), np.arange(1.9, 2.31, 1 / 6)]
    a = track(111000001, h, *OPEN_SEA, sog=1.0)
    b = track(111000002, h, OPEN_SEA[0] + 0.2 / KM_PER_DEG, OPEN_SEA[1], sog=1.0)
    assert _pair_events(Encounters(), [a, b], refs()) == []


# -------------------------------------------------------------------- escorts


def _guard_refs(*mmsis: int) -> References:
    identities = {}
    for m in mmsis:
        ident = VesselIdentity(m, str(m)[:3], None, None)
        ident.ship_types.append(Observed("55", None, None, 1, "ais:1"))
        identities[m] = ident
    return refs(identities=identities)


def _convoy(dist_km: float, hours: float, guard: bool = True, sog: float = 10.0) -> list:  # type: ignore[type-arg]
    h = np.arange(0, hours + 1e-9, 1 / 6)
    lat = OPEN_SEA[0] + h * sog * 1.852 / KM_PER_DEG  # steaming north
    a = track(422000001, h, lat, OPEN_SEA[1], sog=sog, cog=0.0)
    b = track(422000002, h, lat + dist_km / KM_PER_DEG, OPEN_SEA[1], sog=sog, cog=0.0)
    r = _guard_refs(422000001) if guard else refs()
    det = Escorts()
    det.prepare([a] if guard else [], r)
    return _pair_events(det, [a, b], r)


def test_escort_edges_hand_made() -> None:
    """Hand-made: a law-enforcement vessel (type 55) and a tanker steaming together."""
    [e] = _convoy(2.5, 2.5)
    assert e.subjects[0] == "mmsi:422000001" and "law_enforcement" in e.detail
    assert _convoy(3.5, 2.5) == []  # just over 3 km apart
    assert _convoy(2.5, 1.8) == []  # just under 2 h
    assert _convoy(2.5, 2.5, guard=False) == []  # no guard vessel
    assert _convoy(2.5, 2.5, sog=1.9) == []  # not moving


def test_real_law_enforcement_vessels_are_guards(real: Store) -> None:
    """Real Baltic: ships broadcasting LAW_ENFORCEMENT/MILITARY count as guards; the
    sample has no convoy (no escort event is made up)."""
    r = build_references(real)
    guards = [m for m in r.identities if r.is_guard(m)]
    assert len(guards) >= 5
    assert detect_events(real, r, ["escort"]) == []


# ------------------------------------------------------------------- identity


def test_real_identity_findings(real_events: dict[str, list]) -> None:  # type: ignore[type-arg]
    kinds = {(e.params["kind"], e.subjects[0]) for e in real_events["identity_change"]}
    assert ("invalid_mid", "mmsi:365973420") in kinds  # real NOAA MMSI, MID 365 unallocated
    assert ("imo_checksum", "mmsi:366050100") in kinds  # real NOAA: IMO 9163265 bad check digit
    listed = [
        e for e in real_events["identity_change"] if e.params["kind"] == "listed_imo_other_name"
    ]
    [pantelis] = [e for e in listed if "mmsi:209448000" in e.subjects]
    assert pantelis.params["explained_by_registry"] is True and pantelis.score == 0.3
    assert "ofac-47221" in pantelis.subjects


def test_name_and_callsign_change_hand_made() -> None:
    static = StaticReports(
        np.array([1, 2, 3]),
        T0 + np.array([0.0, 3600, 7200]),
        np.array([9187629, 9187629, 9187629]),
        np.array(["ALPHA", "ALPHA", "ARTAVIL"], dtype=object),
        np.array(["T2EU4", "T2EU4", "9HA1"], dtype=object),
        np.array([80, 80, 80]),
        np.full(3, np.nan),
    )
    got = Identity().detect(track(422000001, [0, 2], *OPEN_SEA, static=static), refs())
    kinds = {e.params["kind"]: e for e in got}
    assert kinds["name"].params["old"] == "ALPHA" and kinds["name"].params["new"] == "ARTAVIL"
    assert kinds["name"].evidence == ("ais:2", "ais:3")
    assert "callsign" in kinds and "imo" not in kinds


def test_position_jump_edges_hand_made() -> None:
    """Hand-made: 100 km in 1 h is 54 kn -> jump; 90 km in 1 h (48.6 kn) -> none."""
    p = PositionJumpParams()
    for km, n in ((100, 1), (90, 0)):
        t = track(1, [0, 1], [OPEN_SEA[0], OPEN_SEA[0] + km / KM_PER_DEG], OPEN_SEA[1])
        assert len(position_jumps(t, refs(), p)) == n, km
    # Two transmitters sharing one MMSI, alternating: one episode with many jumps.
    lat = np.where(np.arange(12) % 2 == 0, OPEN_SEA[0], OPEN_SEA[0] + 1.0)
    [ep] = position_jumps(track(1, np.arange(12) / 6, lat, OPEN_SEA[1]), refs(), p)
    assert ep.params["jumps"] == 11 and ep.score == 1.0


# -------------------------------------------------------------------- voyages


def test_real_voyages_between_port_calls(real_events: dict[str, list]) -> None:  # type: ignore[type-arg]
    """Real Baltic: the Rodby ferries shuttle between port calls."""
    rodby = [e for e in real_events["voyage"] if e.params["origin"] == "Rodby Havn"]
    assert len(rodby) >= 5
    assert all(e.start < e.end and e.score == 0.2 for e in rodby)


def test_voyage_linking_a_sanctioned_port_hand_made() -> None:
    """Hand-made: a call at Bandar Abbas (Iran), a passage, a call at Jebel Ali (UAE)."""
    a = _port("Bandar Abbas", "ir")
    b = _port("Mina Jabal Ali", "ae")
    lat = [a.lat, a.lat, (a.lat + b.lat) / 2, b.lat, b.lat]
    lon = [a.lon, a.lon, (a.lon + b.lon) / 2, b.lon, b.lon]
    t = track(422000001, [0, 5, 10, 20, 25], lat, lon, sog=[0, 0, 12, 0, 0])
    [v] = Voyages().detect(t, refs())
    assert v.params["origin_sanctioned"] and not v.params["destination_sanctioned"]
    assert v.score == 0.8 and "IR (origin)" in v.detail


# -------------------------------------------------------------- whole store


def test_registry_covers_every_event_type() -> None:
    covered = {
        t for d in [*TRACK_DETECTORS.values(), *PAIR_DETECTORS.values()] for t in d.event_types
    }
    assert covered == set(EVENT_TYPES)


def test_run_detectors_writes_and_replaces(real: Store) -> None:
    first = run_detectors(real, ["ais_gap", "loitering"])
    stored = real.read_events(types=["ais_gap", "loitering"])
    assert len(stored) == first["ais_gap"] + first["loitering"] and first["loitering"] > 0
    again = run_detectors(real, ["ais_gap", "loitering"])
    assert again == first
    assert len(real.read_events(types=["ais_gap", "loitering"])) == len(stored)


def test_tracks_load_sorted_and_deduplicated(real: Store) -> None:
    t = load_track(real, 209448000)
    assert t is not None and len(t) == 46 and bool(np.all(np.diff(t.t) >= 0))
    # Hand-made: the same report heard twice is kept once.
    d = Track.from_arrays(1, [5, 6, 7], [10.0, 10.0, 5.0], [1.0, 1.0, 2.0], [3.0, 3.0, 4.0])
    assert d.msg_id.tolist() == [7, 5] and d.t.tolist() == [5.0, 10.0]


def test_run_detectors_since_keeps_older_events() -> None:
    """Hand-made store: two 7 h gaps, 1 h apart. Re-running from between them keeps
    the first event and finds the second again (no duplicate, nothing lost)."""
    import pandas as pd

    store = Store(":memory:")
    hours = np.array([0.0, 7.0, 8.0, 15.0])
    neighbour = np.arange(0.5, 15.0, 1.0)  # heard every hour: the area is covered
    samples.insert(
        store,
        pd.DataFrame(
            {
                "mmsi": [636000001] * hours.size + [636000002] * neighbour.size,
                "time": pd.to_datetime(T0 + np.r_[hours, neighbour] * 3600, unit="s", utc=True),
                "lat": OPEN_SEA[0],
                "lon": OPEN_SEA[1] + np.r_[np.zeros(hours.size), np.full(neighbour.size, 0.3)],
                "sog": 0.0,
            }
        ),
    )
    assert run_detectors(store, ["ais_gap"])["ais_gap"] == 2
    since = samples.utc(2024, 3, 1, 7, 30)
    assert run_detectors(store, ["ais_gap"], since)["ais_gap"] == 1
    gaps = store.read_events(types=["ais_gap"])
    assert [e.start.hour for e in gaps] == [0, 8]
