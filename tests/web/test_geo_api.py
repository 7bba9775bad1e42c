"""The JSON behind the map, vessel, aircraft and network pages, over HTTP.

Real data first: the bundled Gibraltar AIS sample with the detectors' events on it, the
bundled ADS-B (the HAND-MADE Mahan rotations), the bundled SDN with a hand-made register
(tests/graph/_views.py). Edge cases on HAND-MADE rows: a 100k-report track with three
gaps, events either side of the antimeridian, and a vessel named with markup."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import DATA
from tests.graph._views import questions_store
from watchkeeper.api import create_app
from watchkeeper.events import Event
from watchkeeper.settings import Settings
from watchkeeper.store import Store
from watchkeeper.web.map import SEVERITIES, severity_of
from watchkeeper.web.vessels import MAX_TRACK_POINTS, TrackPoints, simplify

GIBRALTAR_FILE = (
    "decoded_traffic_Gibraltar_Straight_all_ships_2016A_micro_20k_sample_ais_data.csv.gz"
)
GIBRALTAR = DATA / "ais" / "argenni" / GIBRALTAR_FILE
LONG_MMSI = 999_000_001  # HAND-MADE: 100k reports, three silences
HOSTILE_MMSI = 999_000_002  # HAND-MADE: broadcasts a name with markup
HOSTILE = '<script>alert("x")</script> & "Ôdd" \u202eNAME'
T0 = datetime(2020, 1, 1, tzinfo=UTC)
LOCAL = ("127.0.0.1", 50000)


def _long_track(store: Store) -> None:
    """A HAND-MADE spiral of 100,000 reports a minute apart, silent for 2 h, 5 h and
    30 h at three places."""
    n = 100_000
    i = np.arange(n, dtype=np.float64)
    seconds = i * 60.0
    for at, hours in ((20_000, 2), (50_000, 5), (80_000, 30)):
        seconds[at:] += hours * 3600.0
    lat = 30.0 + 5.0 * np.sin(i / 3000.0) * (i / n)
    lon = -40.0 + 5.0 * np.cos(i / 3000.0) * (i / n)
    row = store.con.execute("SELECT coalesce(max(msg_id), 0) + 1 FROM ais_positions").fetchone()
    start = int(row[0]) if row else 1
    store.con.execute(
        "INSERT INTO ais_positions (msg_id, ingest_id, mmsi, time, lat, lon, msg_type) "
        "SELECT ?::BIGINT + g.i, 0, ?, ?::TIMESTAMPTZ + to_seconds(s.v), l.v, o.v, 1 "
        "FROM (SELECT unnest(range(?)) AS i) g "
        "POSITIONAL JOIN (SELECT unnest(?::DOUBLE[]) AS v) s "
        "POSITIONAL JOIN (SELECT unnest(?::DOUBLE[]) AS v) l "
        "POSITIONAL JOIN (SELECT unnest(?::DOUBLE[]) AS v) o",
        [start, LONG_MMSI, T0, n, seconds.tolist(), lat.tolist(), lon.tolist()],
    )


def _hostile_vessel(store: Store) -> None:
    store.con.execute(
        "INSERT INTO ais_positions (msg_id, ingest_id, mmsi, time, lat, lon, msg_type) "
        "VALUES (900000001, 0, ?, ?, 10, 10, 1), (900000002, 0, ?, ?, 10.1, 10.1, 1)",
        [HOSTILE_MMSI, T0, HOSTILE_MMSI, T0 + timedelta(minutes=5)],
    )
    store.con.execute(
        "INSERT INTO ais_static (msg_id, ingest_id, mmsi, time, msg_type, name) "
        "VALUES (900000003, 0, ?, ?, 5, ?)",
        [HOSTILE_MMSI, T0, HOSTILE],
    )


def _edge_events() -> list[Event]:
    """HAND-MADE events either side of the antimeridian and one far from it (named by
    their second subject), one with markup in its detail."""

    def event(name: str, lat: float, lon: float, score: float, detail: str) -> Event:
        return Event(
            type="handmade_edge",
            subjects=(f"mmsi:{HOSTILE_MMSI}", f"handmade:{name}"),
            start=T0,
            end=T0 + timedelta(hours=1),
            lat=lat,
            lon=lon,
            score=score,
            detail=detail,
            params={"port_country": "ir"},
            evidence=("ais:900000001",),
        )

    return [
        event("east", -17.0, 179.5, 0.95, "just west of the antimeridian"),
        event("west", -17.0, -179.5, 0.5, HOSTILE),
        event("far", -17.0, 0.0, 0.1, "far from it"),
    ]


EDGE = {e.subjects[1].split(":")[1]: e.event_id for e in _edge_events()}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, sdn_db_path: Path) -> Iterator[Store]:
    from watchkeeper.movement.air import ingest_paths as ingest_air
    from watchkeeper.movement.air import run_detectors as air_detectors
    from watchkeeper.movement.ais import ingest_paths as ingest_ais
    from watchkeeper.movement.detect import build_references, detect_events, save_detected
    from watchkeeper.movement.detectors import EVENT_TYPES

    path = questions_store(sdn_db_path, tmp_path_factory.mktemp("web-geo") / "g.duckdb")
    s = Store(path)
    ingest_ais(s, [GIBRALTAR])
    events = detect_events(s, build_references(s))
    save_detected(s, events, list(EVENT_TYPES), None)
    ingest_air(s, [DATA / "adsb" / "handmade_mahan_OIIE_SVMI.jsonl.gz"])
    air_detectors(s)
    _long_track(s)
    _hostile_vessel(s)
    s.write_events(_edge_events(), replace_types=["handmade_edge"])
    yield s
    s.close()


@pytest.fixture(scope="module")
def client(store: Store) -> TestClient:
    return TestClient(create_app(Settings(), store), client=LOCAL)


def _all_events(store: Store) -> list[dict[str, Any]]:
    rows = store.con.execute(
        "SELECT event_id, type, lat, lon, score, start_time, end_time FROM events"
    ).fetchall()
    return [
        dict(zip(("id", "type", "lat", "lon", "score", "start", "end"), r, strict=True))
        for r in rows
    ]


# -- tracks ---------------------------------------------------------------------------


@pytest.mark.parametrize("zoom", [0, 4, 8, 14, 22])
def test_a_100k_track_is_capped_and_keeps_its_gaps(client: TestClient, zoom: int) -> None:
    resp = client.get(f"/web/api/vessel/{LONG_MMSI}/track", params={"zoom": zoom})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    props = body["properties"]
    assert props["points_total"] == 100_000
    assert 2 <= props["points_sent"] <= 5_000
    gaps = [f for f in body["features"] if f["properties"]["kind"] == "gap"]
    assert sorted(round(g["properties"]["hours"]) for g in gaps) == [2, 5, 30]
    (line,) = [f for f in body["features"] if f["properties"]["kind"] == "track"]
    assert len(line["geometry"]["coordinates"]) == 4  # split at the three gaps
    assert sum(len(seg) for seg in line["geometry"]["coordinates"]) == props["points_sent"]
    assert len(resp.content) < 1_000_000


def test_zoomed_out_sends_fewer_points_than_zoomed_in(client: TestClient) -> None:
    sent = [
        client.get(
            f"/web/api/vessel/{LONG_MMSI}/track",
            params={"zoom": z, "max_points": MAX_TRACK_POINTS},
        ).json()["properties"]["points_sent"]
        for z in (2, 6, 10)
    ]
    assert sent[0] < sent[1] < sent[2] <= MAX_TRACK_POINTS


def test_max_points_is_bounded(client: TestClient) -> None:
    for n in (2, 50):
        got = client.get(
            f"/web/api/vessel/{LONG_MMSI}/track", params={"zoom": 22, "max_points": n}
        ).json()
        assert got["properties"]["points_sent"] <= n
    too_many = {"max_points": MAX_TRACK_POINTS + 1}
    assert client.get(f"/web/api/vessel/{LONG_MMSI}/track", params=too_many).status_code == 422


def test_a_real_track_and_a_time_window(client: TestClient, store: Store) -> None:
    mmsi, n = store.con.execute(
        "SELECT mmsi, count(*) FROM ais_positions WHERE source IS NULL OR mmsi < 999000000 "
        "GROUP BY mmsi ORDER BY 2 DESC LIMIT 1"
    ).fetchone()  # type: ignore[misc]
    got = client.get(f"/web/api/vessel/{mmsi}/track", params={"zoom": 22}).json()
    assert got["properties"]["points_total"] == n
    lo_lon, lo_lat, hi_lon, hi_lat = got["bbox"]
    for seg in got["features"][0]["geometry"]["coordinates"]:
        for x, y in seg:
            assert lo_lon - 1e-5 <= x <= hi_lon + 1e-5 and lo_lat - 1e-5 <= y <= hi_lat + 1e-5
    first, last = store.con.execute(
        "SELECT min(time), max(time) FROM ais_positions WHERE mmsi = ?", [mmsi]
    ).fetchone()  # type: ignore[misc]
    mid = first + (last - first) / 2
    half = client.get(
        f"/web/api/vessel/{mmsi}/track", params={"zoom": 22, "start": mid.isoformat()}
    ).json()
    in_db = store.con.execute(
        "SELECT count(*) FROM ais_positions WHERE mmsi = ? AND time >= ?", [mmsi, mid]
    ).fetchone()[0]  # type: ignore[index]
    assert half["properties"]["points_total"] == in_db < n


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(st.floats(0.1, 20_000.0), min_size=0, max_size=400),
    zoom=st.floats(0, 22),
    cap=st.integers(2, 300),
    gap_s=st.floats(60.0, 10_000.0),
)
def test_simplify_keeps_order_ends_and_cap(
    steps: list[float], zoom: float, cap: int, gap_s: float
) -> None:
    n = len(steps)
    t = np.cumsum(np.asarray(steps, dtype=np.float64))
    rng = np.random.default_rng(n)
    pts = TrackPoints(t, rng.uniform(-80, 80, n), rng.uniform(-180, 180, n), np.arange(n))
    keep = simplify(pts, zoom, cap, gap_s)
    assert keep.size <= max(cap, 2) or n <= 2
    assert np.all(np.diff(keep) > 0)  # sorted, unique
    if n:
        assert keep[0] == 0 and keep[-1] == n - 1 or keep.size == cap
    gaps = np.flatnonzero(np.diff(t) > gap_s)
    if 2 * gaps.size + 2 <= cap:  # room for every gap's ends: all kept
        assert set(gaps.tolist()) | set((gaps + 1).tolist()) <= set(keep.tolist())


# -- events ---------------------------------------------------------------------------


def test_bbox_filter_matches_the_stored_positions(client: TestClient, store: Store) -> None:
    bbox = (-6.0, 35.5, -5.0, 36.5)  # the Strait of Gibraltar
    got = client.get(
        "/web/api/events", params={"bbox": ",".join(map(str, bbox)), "limit": 1000}
    ).json()
    expected = {
        e["id"]
        for e in _all_events(store)
        if e["lat"] is not None
        and bbox[1] <= e["lat"] <= bbox[3]
        and bbox[0] <= e["lon"] <= bbox[2]
    }
    assert expected, "the Gibraltar sample has events in the strait"
    assert got["total"] == len(expected)
    assert {e["id"] for e in got["events"]} == expected


def test_bbox_across_the_antimeridian(client: TestClient) -> None:
    got = client.get("/web/api/events", params={"bbox": "179,-20,-179,-10"}).json()
    assert {e["id"] for e in got["events"]} == {EDGE["east"], EDGE["west"]}
    for bad in ("1,2,3", "a,b,c,d", "0,50,10,40", "0,0,200,10"):
        assert client.get("/web/api/events", params={"bbox": bad}).status_code == 400


def test_type_severity_country_and_time_filters(client: TestClient, store: Store) -> None:
    everything = _all_events(store)
    got = client.get(
        "/web/api/events", params={"type": "port_call", "severity": "low", "limit": 1000}
    ).json()
    want = {e["id"] for e in everything if e["type"] == "port_call" and e["score"] < 0.4}
    assert {e["id"] for e in got["events"]} == want and got["total"] == len(want)
    assert all(e["severity"] == "low" for e in got["events"])
    ir = client.get("/web/api/events", params={"country": "IR", "limit": 1000}).json()
    assert set(EDGE.values()) <= {e["id"] for e in ir["events"]}
    assert all("ir" in e["countries"] for e in ir["events"])
    before = client.get(
        "/web/api/events", params={"end": (T0 - timedelta(days=1)).isoformat(), "limit": 1000}
    ).json()
    assert not set(EDGE.values()) & {e["id"] for e in before["events"]}
    assert client.get("/web/api/events", params={"severity": "grave"}).status_code == 400


def test_pages_are_disjoint_and_cover_the_total(client: TestClient) -> None:
    seen: list[str] = []
    offset = 0
    while True:
        page = client.get("/web/api/events", params={"offset": offset, "limit": 37}).json()
        if not page["events"]:
            break
        seen += [e["id"] for e in page["events"]]
        offset += len(page["events"])
    assert len(seen) == len(set(seen)) == page["total"]
    scores = [
        e["score"] for e in client.get("/web/api/events", params={"limit": 1000}).json()["events"]
    ]
    assert scores == sorted(scores, reverse=True)
    assert client.get("/web/api/events", params={"limit": 1001}).status_code == 422


def test_points_are_capped_most_severe_first(client: TestClient, store: Store) -> None:
    placed = [e for e in _all_events(store) if e["lat"] is not None]
    full = client.get("/web/api/events/points").json()
    assert not full["capped"] and len(full["id"]) == len(placed)
    capped = client.get("/web/api/events/points", params={"cap": 5}).json()
    assert capped["capped"] and len(capped["id"]) == 5
    top = sorted(e["score"] for e in placed)[-5:]
    sev = [capped["severities"][i] for i in capped["severity"]]
    assert sev == [severity_of(s) for s in sorted(top, reverse=True)]
    assert set(SEVERITIES) == {"low", "medium", "high", "critical"}


def test_sanctioned_places_are_in_sanctioned_countries(client: TestClient) -> None:
    places = client.get("/web/api/places").json()["features"]
    countries = {f["properties"]["country"] for f in places}
    assert countries <= set(Settings().sanctioned_countries)
    kinds = {f["properties"]["kind"] for f in places}
    assert kinds == {"port", "airport"}
    labels = {f["properties"]["label"] for f in places}
    assert any("OIIE" in label for label in labels)  # Tehran Imam Khomeini


# -- evidence, vessel, aircraft -------------------------------------------------------


def test_evidence_returns_the_cited_row(client: TestClient, store: Store) -> None:
    msg_id, lat, lon = store.con.execute(
        "SELECT msg_id, lat, lon FROM ais_positions WHERE mmsi = ? LIMIT 1", [HOSTILE_MMSI]
    ).fetchone()  # type: ignore[misc]
    got = client.get(f"/web/api/evidence/ais:{msg_id}").json()
    assert (got["position"]["lat"], got["position"]["lon"]) == (lat, lon)
    static = client.get("/web/api/evidence/ais:900000003").json()
    assert static["fields"]["name"] == HOSTILE
    flight = store.con.execute("SELECT flight_id, icao24 FROM air_flights LIMIT 1").fetchone()
    assert flight is not None
    got = client.get(f"/web/api/evidence/flight:{flight[0]}").json()
    assert got["link"] == f"/aircraft/{flight[1]}"
    assert client.get("/web/api/evidence/list:ofac-1").json()["link"] == "/entity/ofac-1"
    assert client.get("/web/api/evidence/ais:x").status_code == 400
    assert client.get("/web/api/evidence/ais:123456789012").status_code == 404


def test_markup_in_names_and_details_is_escaped(client: TestClient) -> None:
    page = client.get(f"/vessel/{HOSTILE_MMSI}")
    assert page.status_code == 200, page.text
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert" in page.text  # the title, escaped
    ident = client.get(f"/web/api/vessel/{HOSTILE_MMSI}").json()
    assert ident["identity"]["names"][0]["value"] == HOSTILE  # JSON keeps it as data
    events = client.get("/web/api/events", params={"subject": f"mmsi:{HOSTILE_MMSI}"}).json()[
        "events"
    ]
    assert HOSTILE in {e["detail"] for e in events}
    assert client.get("/vessel/12345678901").status_code == 400
    assert client.get("/vessel/123456789").status_code == 404


def test_aircraft_flights_and_page(client: TestClient, store: Store) -> None:
    icao24, n = store.con.execute(
        "SELECT icao24, count(*) FROM air_flights GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
    ).fetchone()  # type: ignore[misc]
    got = client.get(f"/web/api/aircraft/{icao24}/flights").json()
    flights = [f for f in got["features"] if f["properties"]["kind"] == "flight"]
    airports = [f for f in got["features"] if f["properties"]["kind"] == "airport"]
    assert len(flights) == n
    codes = {f["properties"]["departure"] for f in flights} | {
        f["properties"]["arrival"] for f in flights
    }
    assert {a["properties"]["label"].split()[0] for a in airports} == codes - {None}
    page = client.get(f"/aircraft/{icao24}")
    assert page.status_code == 200 and icao24 in page.text
    assert client.get("/aircraft/zzzzzz").status_code == 400
    assert client.get("/web/api/aircraft/zzzzzz/flights").status_code == 422


def test_pages_are_closed_to_other_machines(store: Store) -> None:
    remote = TestClient(create_app(Settings(), store), client=("203.0.113.9", 50000))
    assert remote.get("/web/api/events").status_code == 403
    assert remote.get(f"/web/api/vessel/{LONG_MMSI}/track").status_code == 403


# -- network --------------------------------------------------------------------------


def test_network_flags_the_blocked_chain(client: TestClient) -> None:
    params = {"entity": "register:subsub", "as_of": "2024-06-01"}
    got = client.get("/web/api/network", params=params)
    assert got.status_code == 200, got.text
    net = got.json()
    status = {n["id"]: n["status"] for n in net["nodes"]}
    assert status["register:subsub"] == "blocked" and status["register:sub"] == "blocked"
    blocked = {r["id"] for r in net["relations"] if r["blocked_path"]}
    assert "register:r2" in blocked  # sub holds subsub: a step of the chain
    assert all(r["share"] is None or r["share"]["text"] for r in net["relations"])
    # Expanding the parent adds its neighbours and keeps what was there.
    grown = client.get("/web/api/network", params={**params, "expand": "register:sub"}).json()
    assert {n["id"] for n in net["nodes"]} < {n["id"] for n in grown["nodes"]}
    assert "register:r1" in {r["id"] for r in grown["relations"] if r["blocked_path"]}
    graphml = client.get("/web/api/network", params={**params, "format": "graphml"})
    g = nx.read_graphml(io.BytesIO(graphml.content))
    assert g.number_of_nodes() == len(net["nodes"])
    assert g.number_of_edges() == len(net["relations"])
    assert client.get("/web/api/network", params={"entity": "Nobody At All"}).status_code == 404


def test_network_page_escapes_and_handles_unknowns(client: TestClient) -> None:
    page = client.get("/network", params={"entity": "register:subsub", "as_of": "2024-06-01"})
    assert page.status_code == 200
    assert client.get("/network").status_code == 200  # the form alone
    missing = client.get("/network", params={"entity": "<b>Nobody</b>"})
    assert missing.status_code == 404 and "<b>Nobody</b>" not in missing.text


def test_severity_bands() -> None:
    assert [severity_of(s) for s in (0.0, 0.39, 0.4, 0.69, 0.7, 0.89, 0.9, 1.0)] == [
        "low", "low", "medium", "medium", "high", "high", "critical", "critical",
    ]  # fmt: skip


def test_points_merge_per_zoom_without_losing_events(client: TestClient, store: Store) -> None:
    placed = [e for e in _all_events(store) if e["lat"] is not None]
    score = {e["id"]: e["score"] for e in placed}
    dots = []
    for zoom in (0, 4, 12):
        got = client.get("/web/api/events/points", params={"zoom": zoom}).json()
        assert sum(got["count"]) == len(placed)  # every event stands in one dot
        dots.append(len(got["id"]))
        # A dot is the most severe event of its cell: none of the events it stands for
        # scores higher, so the dots' scores are the top of the list.
        top = sorted(score.values(), reverse=True)[: len(got["id"])]
        assert max(score[i] for i in got["id"]) == top[0]
    assert dots[0] < dots[1] <= dots[2] <= len(placed)
    assert client.get("/web/api/events/points", params={"zoom": 23}).status_code == 422


def test_a_tile_server_setting_reaches_the_map_and_its_policy(store: Store) -> None:
    import dataclasses
    import json

    url = "https://tiles.example.org:8443/osm/{z}/{x}/{y}.png"
    app = create_app(dataclasses.replace(Settings(), tile_url=url), store)
    page = TestClient(app, client=LOCAL).get("/map")
    policy = page.headers["Content-Security-Policy"]
    for directive in ("connect-src", "img-src"):
        (part,) = [p for p in policy.split(";") if p.strip().startswith(directive)]
        assert "https://tiles.example.org:8443" in part
    assert "https://tiles.example.org:8443" not in policy.split("script-src")[1].split(";")[0]
    data = page.text.split('id="page-data">')[1].split("</script>")[0]
    assert json.loads(data)["tile_url"] == url
    default = TestClient(create_app(Settings(), store), client=LOCAL).get("/map")
    assert "example.org" not in default.headers["Content-Security-Policy"]
    assert (
        json.loads(default.text.split('id="page-data">')[1].split("</script>")[0])["tile_url"]
        is None
    )


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=40),
        st.lists(
            st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5)),
            min_size=0,
            max_size=6,
        ).map(lambda xs: ",".join(str(x) for x in xs)),
    )
)
def test_bbox_text_parses_or_is_refused_with_400(text: str) -> None:
    from fastapi import HTTPException

    from watchkeeper.web.map import parse_bbox

    try:
        got = parse_bbox(text)
    except HTTPException as exc:
        assert exc.status_code == 400 and "bbox" in str(exc.detail)
        return
    if got is None:
        assert not text.strip()
        return
    w, s, e, n = got
    assert all(math.isfinite(v) for v in got)
    assert -180 <= w <= 180 and -180 <= e <= 180 and -90 <= s <= n <= 90
