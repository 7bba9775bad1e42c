"""Exports: GeoJSON, KML, CSV, XLSX, GraphML and GEXF of events, tracks, alerts and a
case's network, on a store of real bundled data (OFAC SDN 2023-12-28, the Argenni Baltic
AIS sample) with a hand-made case written into the contract tables."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.alerts._export_store import (
    CASE,
    HALLAND,
    HOSTILE,
    HOSTILE_MMSI,
    OTHER_CASE,
    build,
    port,
)
from tests.cli_helpers import run_cli
from watchkeeper.alerts import exports as ex
from watchkeeper.alerts.cases import find_case
from watchkeeper.errors import InputError
from watchkeeper.movement.ports import PortIndex, load_ports
from watchkeeper.store import Store

KML = "{http://www.opengis.net/kml/2.2}"


def _cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    """The watchkeeper command as a user runs it: exit code, and stdout + stderr."""
    code, out, err = run_cli(monkeypatch, capsys, *args)
    return code, out + err


GRAPHML = "{http://graphml.graphdrawing.org/xmlns}"
GEXF = "{http://www.gexf.net/1.2draft}"


@pytest.fixture(scope="module")
def store_path(sdn_db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("exports") / "exports.duckdb"
    build(sdn_db_path, path).close()
    return path


@pytest.fixture
def store(store_path: Path) -> Iterator[Store]:
    s = Store(store_path, read_only=True)
    yield s
    s.close()


def _case_export(store: Store) -> tuple[list[ex.ExportEvent], list[ex.Track], dict]:  # type: ignore[type-arg]
    events = ex.select_events(store, ex.EventQuery(case_id=CASE))
    case = find_case(store, CASE)
    tracks = ex.select_tracks(store, case.subjects, case.start_time - ex.TRACK_PAD,
                              case.end_time + ex.TRACK_PAD)  # fmt: skip
    prov = ex.Provenance().add_events(events).add_tracks(tracks)
    return events, tracks, ex.export_metadata(store, prov, what="case")


# -- selecting -------------------------------------------------------------------------


def test_filters_select_what_they_say(store: Store) -> None:
    every = ex.select_events(store, ex.EventQuery())
    assert len(every) == 5
    assert [e.start_time for e in every] == sorted(e.start_time for e in every)
    cased = ex.select_events(store, ex.EventQuery(case_id=CASE))
    assert {e.type for e in cased} == {
        "port_call", "listed_operator_flight", "prohibited_cargo", "report_mention"
    }  # fmt: skip
    assert [e.type for e in ex.select_events(store, ex.EventQuery(case_id=OTHER_CASE))] == [
        "ais_gap"
    ]
    assert [e.type for e in ex.select_events(store, ex.EventQuery(alert_id="alert-b"))] == [
        "listed_operator_flight",
        "report_mention",
    ]
    by_subject = ex.select_events(store, ex.EventQuery(subject="ofac-12927"))
    assert {e.type for e in by_subject} == {"listed_operator_flight", "report_mention"}
    by_type = ex.select_events(store, ex.EventQuery(types=("port_call", "ais_gap")))
    assert {e.type for e in by_type} == {"port_call", "ais_gap"}
    t = datetime(2018, 4, 2, 6, tzinfo=UTC)
    window = ex.select_events(store, ex.EventQuery(since=t, until=t + timedelta(hours=1)))
    assert [e.type for e in window] == ["listed_operator_flight"]  # 2018-04-02 00:00-12:00
    both = ex.select_events(store, ex.EventQuery(case_id=CASE, types=("ais_gap",)))
    assert both == []


def test_unknown_alert_or_case_is_bad_input(store: Store) -> None:
    with pytest.raises(InputError, match="no alert 'nope'"):
        ex.select_events(store, ex.EventQuery(alert_id="nope"))
    with pytest.raises(InputError, match="no case 'nope'"):
        ex.select_events(store, ex.EventQuery(case_id="nope"))


def test_real_track_of_halland(store: Store) -> None:
    tracks = ex.select_tracks(store, [f"mmsi:{HALLAND}"])
    assert [t.subject for t in tracks] == [f"mmsi:{HALLAND}"]
    t = tracks[0]
    reported = store.con.execute(
        "SELECT count(*) FROM ais_positions WHERE mmsi = ?", [HALLAND]
    ).fetchone()
    assert reported is not None and t.reported == reported[0] > 10
    assert t.label == "HALLAND" and t.ais_ingests == (7,)
    assert [p[0] for p in t.points] == sorted(p[0] for p in t.points)  # type: ignore[type-var]
    thin = ex.select_tracks(store, [f"mmsi:{HALLAND}"], max_points=5)[0]
    assert len(thin.points) <= 6 and thin.points[-1] == t.points[-1]


# -- GeoJSON ---------------------------------------------------------------------------


def _coords(geometry: dict) -> list[list[float]]:  # type: ignore[type-arg]
    c = geometry["coordinates"]
    if geometry["type"] == "Point":
        return [c]
    if geometry["type"] == "LineString":
        return list(c)
    return [p for part in c for p in part]


def test_geojson_is_rfc7946_lon_lat(store: Store) -> None:
    events, tracks, meta = _case_export(store)
    doc = json.loads(ex.to_geojson(events, tracks, meta))
    assert doc["type"] == "FeatureCollection"
    for f in doc["features"]:
        assert f["type"] == "Feature"
        if f["geometry"] is None:
            continue
        for lon, lat in _coords(f["geometry"]):
            assert -180 <= lon <= 180 and -90 <= lat <= 90
    # the port call sits on the WPI's Kronshtadt: [lon, lat], the nearest port of that point
    call = next(f for f in doc["features"] if f["properties"].get("type") == "port_call")
    lon, lat = call["geometry"]["coordinates"]
    kron = port("Kronshtadt")
    assert (lon, lat) == (round(kron.lon, 6), round(kron.lat, 6))
    nearest, km = PortIndex(load_ports()).nearest_one(lat, lon)
    assert nearest.name == "Kronshtadt" and km < 0.01
    swapped, km = PortIndex(load_ports()).nearest_one(lon, lat)  # read as [lat, lon]: wrong
    assert swapped.name != "Kronshtadt" and km > 100
    # HALLAND's real track is in the Gulf of Finland: lat about 60, lon about 28-30
    track = next(f for f in doc["features"] if f["properties"].get("subject") == f"mmsi:{HALLAND}")
    assert track["geometry"]["type"] == "LineString"
    for lon, lat in track["geometry"]["coordinates"]:
        assert 55 < lat < 66 and 10 < lon < 31
    # an event with no position stays, with a null geometry; properties name it fully
    cargo = next(f for f in doc["features"] if f["properties"].get("type") == "prohibited_cargo")
    assert cargo["geometry"] is None
    assert {"event_id", "type", "score", "detail", "evidence"} <= set(cargo["properties"])


def test_geojson_names_sources_and_list_versions(store: Store) -> None:
    events, tracks, meta = _case_export(store)
    wk = json.loads(ex.to_geojson(events, tracks, meta))["watchkeeper"]
    stored = store.list_versions()
    assert [(v["source"], v["version"], v["sha256"]) for v in wk["list_versions"]] == [
        (v.source, v.version, v.file_hash) for v in stored
    ]
    sdn = next(v for v in wk["list_versions"] if v["version"] == "2023-12-28")
    assert sdn["published"] == "2023-12-28" and sdn["fetched"]
    assert sdn["entries_cited"] == 2  # ofac-12927 MAHAN AIR, ofac-15117 NITC
    sources = wk["data_sources"]
    assert [a["file"] for a in sources["ais"]] == [
        "data/ais/argenni/decoded_reports_baltic_all_ships_april_2018_micro_20k_sample_ais_data.csv.gz"
    ]
    assert [c["files"] for c in sources["cargo"]] == [["data/cargo/test.csv"]]
    assert [r["doc"] for r in sources["reports"]] == ["doc-test"]


@given(
    st.lists(st.tuples(st.floats(-89.9, 89.9), st.floats(-179.99, 179.99)), min_size=1, max_size=40)
)
def test_geojson_tracks_any_positions(points: list[tuple[float, float]]) -> None:
    t0 = datetime(2020, 1, 1, tzinfo=UTC)
    track = ex.Track("mmsi:1", "vessel", "X", t0, t0, [(t0, lat, lon) for lat, lon in points], 1)
    doc = json.loads(ex.to_geojson([], [track], {"what": "t"}))
    geometry = doc["features"][0]["geometry"]
    coords = _coords(geometry)
    for lon, lat in coords:
        assert -180 <= lon <= 180 and -90 <= lat <= 90
    if geometry["type"] == "MultiLineString":  # cut only where it crossed the antimeridian
        for part in geometry["coordinates"]:
            assert len(part) >= 2
            assert all(abs(a[0] - b[0]) <= 180 for a, b in zip(part, part[1:], strict=False))
        assert sum(len(p) for p in geometry["coordinates"]) == len(points) + 2 * (
            len(geometry["coordinates"]) - 1
        )
    elif geometry["type"] == "LineString" and len(points) > 1:
        assert coords == [[round(lon, 6), round(lat, 6)] for lat, lon in points]


def test_antimeridian_track_is_cut() -> None:
    t0 = datetime(2020, 1, 1, tzinfo=UTC)
    pts = [(t0, 50.0, 179.5), (t0, 50.1, 179.9), (t0, 50.2, -179.8), (t0, 50.3, -179.4)]
    g = json.loads(ex.to_geojson([], [ex.Track("mmsi:1", "vessel", "X", t0, t0, pts, 4)], {}))[
        "features"
    ][0]["geometry"]
    assert g["type"] == "MultiLineString"
    # cut where the segment 179.9 -> -179.8 (0.3 degrees east) meets the meridian
    assert g["coordinates"] == [
        [[179.5, 50.0], [179.9, 50.1], [180.0, 50.133333]],
        [[-180.0, 50.133333], [-179.8, 50.2], [-179.4, 50.3]],
    ]


# -- KML -------------------------------------------------------------------------------


def test_kml_parses_with_placemarks_and_escaped_text(store: Store) -> None:
    events, tracks, meta = _case_export(store)
    root = ET.fromstring(ex.to_kml(events, tracks, meta))
    assert root.tag == f"{KML}kml"
    placemarks = root.findall(f".//{KML}Placemark")
    located = [e for e in events if e.lat is not None]
    assert len(placemarks) == len(located) + len(tracks)
    call = next(p for p in placemarks if (p.findtext(f"{KML}name") or "").startswith("port_call"))
    assert call.findtext(f"{KML}description") == f"Port call at Kronshtadt by {HOSTILE}"
    lon, lat = map(float, (call.findtext(f".//{KML}coordinates") or "").split(","))
    kron = port("Kronshtadt")
    assert math.isclose(lon, kron.lon, abs_tol=1e-6) and math.isclose(lat, kron.lat, abs_tol=1e-6)
    ncname = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")  # XML IDs, as KML's schema wants
    assert all(ncname.match(p.get("id") or "") for p in placemarks)
    lines = root.findall(f".//{KML}LineString")
    assert len(lines) == len(tracks) >= 1
    doc_data = {
        d.get("name"): d.findtext(f"{KML}value")
        for d in root.findall(f"{KML}Document/{KML}ExtendedData/{KML}Data")
    }
    versions = json.loads(doc_data["list_versions"] or "[]")
    assert {v["sha256"] for v in versions} == {v.file_hash for v in store.list_versions()}
    assert "2023-12-28" in (root.findtext(f"{KML}Document/{KML}description") or "")


@given(st.text(max_size=60))
def test_kml_keeps_any_text(text: str) -> None:
    t0 = datetime(2020, 1, 1, tzinfo=UTC)
    e = ex.ExportEvent("e1", "port_call", [], t0, t0, 1.0, 2.0, 0.5, text, {}, [])
    root = ET.fromstring(ex.to_kml([e], [], {"what": text, "generator": "g",
                                             "generated_at": "t", "list_versions": [],
                                             "data_sources": {}}))  # fmt: skip
    got = root.findtext(f".//{KML}Placemark/{KML}description") or ""
    # XML 1.0 cannot hold control characters: those (only) become U+FFFD; an XML parser
    # reads a carriage return as a line feed
    legal = "".join(
        c if c in "\t\n\r" or ("\x20" <= c <= "\ud7ff") or ("\ue000" <= c <= "\ufffd")
        or c > "\uffff" else "\ufffd"
        for c in text
    )  # fmt: skip
    assert got == legal.replace("\r\n", "\n").replace("\r", "\n")


# -- CSV and XLSX ----------------------------------------------------------------------


def _read_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_events_csv_round_trips(store: Store) -> None:
    events = ex.select_events(store, ex.EventQuery())
    rows = _read_csv(ex.events_csv(events))
    assert [r["event_id"] for r in rows] == [e.event_id for e in events]
    for row, e in zip(rows, events, strict=True):
        assert ex.unguard_cell(row["detail"]) == e.detail
        assert row["subjects"].split() == e.subjects
        assert row["evidence"].split() == e.evidence
        assert datetime.fromisoformat(row["start_time"]) == e.start_time
        assert float(row["score"]) == e.score
        if e.lat is None:
            assert row["lat"] == row["lon"] == ""
        else:
            assert (float(row["lat"]), float(row["lon"])) == (e.lat, e.lon)


@given(st.text(max_size=80))
@example("'\t")  # a text's own leading quote before a formula start (found by hypothesis)
@example("'abc")
def test_csv_cells_round_trip_and_never_start_a_formula(text: str) -> None:
    t0 = datetime(2020, 1, 1, tzinfo=UTC)
    e = ex.ExportEvent("e1", "t", ["a"], t0, t0, None, None, 0.5, text, {}, [])
    row = _read_csv(ex.events_csv([e]))[0]
    assert not row["detail"].startswith(ex.FORMULA_START)
    assert ex.unguard_cell(row["detail"]) == text


def test_alerts_csv_has_a_sidecar_through_the_cli(
    store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    out = tmp_path / "alerts.csv"
    code, text = _cli(monkeypatch, capsys, "--db", str(store_path), "export", "alerts",
                      "--case", CASE, "-f", "csv", "-o", str(out))  # fmt: skip
    assert code == 0, text
    rows = _read_csv(out.read_bytes())
    assert sorted(r["alert_id"] for r in rows) == ["alert-a", "alert-b", "alert-c"]
    hostile = next(r for r in rows if r["alert_id"] == "alert-a")
    assert ex.unguard_cell(hostile["title"]) == f"Port call of {HOSTILE}"
    meta = json.loads((tmp_path / "alerts.csv.meta.json").read_text())
    assert meta["list_versions"] and meta["query"] == {"case": CASE}
    code, text = _cli(monkeypatch, capsys, "--db", str(store_path), "export", "alerts", "-f", "csv")
    assert code == 2 and "needs --out" in text


def test_alerts_xlsx_opens_with_a_sources_sheet(store: Store) -> None:
    import openpyxl  # type: ignore[import-untyped]

    alerts = ex.select_alerts(store)
    events = ex.events_of_alerts(store, alerts)
    meta = ex.export_metadata(store, ex.Provenance().add_events(events), what="alerts")
    book = openpyxl.load_workbook(io.BytesIO(ex.alerts_xlsx(alerts, events, meta)))
    assert book.sheetnames == ["Alerts", "Events", "Sources"]
    sheet = book["Alerts"]
    ids = [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(ids) == ["alert-a", "alert-b", "alert-c", "alert-z"]
    titles = [r[4] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert f"Port call of {HOSTILE}" in titles
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)  # no formulas
    sources = [[c for c in r if c is not None] for r in book["Sources"].iter_rows(values_only=True)]
    flat = {str(c) for r in sources for c in r}
    assert {v.file_hash for v in store.list_versions()} <= flat
    assert any("decoded_reports_baltic" in c for c in flat)
    assert len(list(book["Events"].iter_rows(min_row=2))) == len(events) == 5


def test_xlsx_cuts_cells_excel_cannot_hold() -> None:
    import openpyxl

    t0 = datetime(2020, 1, 1, tzinfo=UTC)
    e = ex.ExportEvent("e1", "t", [], t0, t0, None, None, 0.5, "x\x07" * 20_000, {}, [])
    meta = {"generator": "g", "generated_at": "t", "what": "w", "query": {},
            "list_versions": [], "data_sources": {}}  # fmt: skip
    book = openpyxl.load_workbook(io.BytesIO(ex.alerts_xlsx([], [e], meta)))
    detail = book["Events"].cell(row=2, column=9).value
    assert len(detail) == ex.XLSX_CELL_MAX and detail.endswith(ex.XLSX_CUT)
    assert detail.startswith("x\ufffdx")  # a control character Excel cannot hold


def test_alerts_filters(store: Store) -> None:
    assert [a.alert_id for a in ex.select_alerts(store, severity="critical")] == ["alert-c"]
    assert [a.alert_id for a in ex.select_alerts(store, case_id=OTHER_CASE)] == ["alert-z"]
    assert [a.alert_id for a in ex.select_alerts(store, rule_id="port-call")] == ["alert-a"]


# -- network ---------------------------------------------------------------------------


def test_case_network_as_graphml_and_gexf(store: Store) -> None:
    case = find_case(store, CASE)
    nodes, relations, listed = ex.case_graph(store, case)
    meta = ex.export_metadata(store, ex.Provenance().add_subjects(case.subjects), what="net")
    assert {n.id for n in nodes} == set(case.subjects)
    names = {n.id: n.name for n in nodes}
    assert names["ofac-12927"] == "MAHAN AIR" and names[f"mmsi:{HALLAND}"] == "HALLAND"
    assert listed["ofac-12927"] == ["ofac_sdn"]

    g = ET.fromstring(ex.network_export(nodes, relations, listed, "graphml", meta))
    assert len(g.findall(f".//{GRAPHML}node")) == len(case.subjects)
    edges = g.findall(f".//{GRAPHML}edge")
    assert len(edges) == len(case.links)
    assert {(e.get("source"), e.get("target")) for e in edges} == {
        (ln["from"], ln["to"]) for ln in case.links
    }
    roles = {d.text for d in g.findall(f".//{GRAPHML}edge/{GRAPHML}data[@key='e_role']")}
    assert HOSTILE in roles  # a link kind the model does not know is kept, escaped
    wk = g.find(f"{GRAPHML}graph/{GRAPHML}data[@key='g_watchkeeper']")
    assert wk is not None and json.loads(wk.text or "")["list_versions"]
    import networkx as nx

    graph = nx.read_graphml(
        io.BytesIO(ex.network_export(nodes, relations, listed, "graphml", meta))
    )
    assert graph.number_of_nodes() == len(case.subjects)

    x = ET.fromstring(ex.network_export(nodes, relations, listed, "gexf", meta))
    assert len(x.findall(f".//{GEXF}node")) == len(case.subjects)
    assert len(x.findall(f".//{GEXF}edge")) == len(case.links)
    desc = x.findtext(f"{GEXF}meta/{GEXF}description") or ""
    assert "2023-12-28" in json.loads(desc)["list_versions"][0]["version"] or "2023-12-28" in desc
    nx.read_gexf(io.BytesIO(ex.network_export(nodes, relations, listed, "gexf", meta)))


def test_cli_exports_write_parseable_files(
    store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    base = ["--db", str(store_path), "export"]
    for args, name in (
        (["events", "--case", CASE, "--tracks", "-f", "geojson"], "e.geojson"),
        (["events", "--type", "port_call", "-f", "kml"], "e.kml"),
        (["tracks", "--subject", f"mmsi:{HALLAND}", "-f", "csv"], "t.csv"),
        (["network", "--case", CASE, "-f", "gexf"], "n.gexf"),
    ):
        out = tmp_path / name
        code, text = _cli(monkeypatch, capsys, *base, *args, "-o", str(out))
        assert code == 0, text
        assert out.stat().st_size > 0
    assert len(json.loads((tmp_path / "e.geojson").read_text())["features"]) == 4 + 1
    assert len(ET.parse(tmp_path / "e.kml").getroot().findall(f".//{KML}Placemark")) == 1
    rows = _read_csv((tmp_path / "t.csv").read_bytes())
    assert {r["subject"] for r in rows} == {f"mmsi:{HALLAND}"}
    assert (tmp_path / "t.csv.meta.json").exists()
    code, text = _cli(monkeypatch, capsys, *base, "events", "--type", "port_cal", "-f", "kml")
    assert code == 2 and "did you mean 'port_call'" in text
    code, text = _cli(monkeypatch, capsys, *base, "network", "-f", "gexf")
    assert code == 2 and "either --case or --entity" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "e.geojson", "e.kml", "n.gexf", "t.csv", "t.csv.meta.json"
    ]  # fmt: skip


def test_tracks_of_another_vessel_are_not_in_the_case(store: Store) -> None:
    events, tracks, _meta = _case_export(store)
    assert f"mmsi:{HOSTILE_MMSI}" not in {t.subject for t in tracks}
    assert all(f"mmsi:{HOSTILE_MMSI}" not in e.subjects for e in events)
