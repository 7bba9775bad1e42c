"""Web pages with large data, timed in Debian's Chromium: how long until the map has
drawn (MapLibre's ``idle`` after the page's data is on it), measured by the page itself
(``performance.now()`` from navigation start, in ``window.wkTimings``).

Input (generated, named as such): one vessel with 100,000 position reports, 30 s apart
along a Gibraltar-Suez-Gibraltar route with three silences (2 h, 5 h, 30 h); and 100,000
events with positions over the Mediterranean and the Atlantic, of eleven types, scores
uniform in 0..1, a one-line detail each.

Watchkeeper: ``/vessel/<mmsi>`` (the map opens on the track's bounds; the track thinned
for that zoom, at most 5,000 points, gaps as dashed jumps; identity timeline; events)
and ``/map`` (the events in view as compact points, those a few pixels apart at the
zoom merged into one dot for the most severe with a count; the first 50 listed; the
sanctioned ports and airports).
Peer, "raw GeoJSON dump": the same MapLibre map, base map and styling, fed the data
unsimplified as plain GeoJSON in one response: the whole track as one LineString of
100,000 points, and every event as a GeoJSON Feature with its properties (id, type,
score, severity, detail). What a page does without the thinning and the compact points.

Each page is loaded ``--runs`` times in a fresh browser context (cold cache); the median
is reported, with the bytes the page's data requests carried.

    python benchmarks/web.py [--runs 3] [--positions 100000] [--events 100000]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from _report import table, write_section  # noqa: E402

CHROMIUM = Path(os.environ.get("WATCHKEEPER_CHROMIUM", "/usr/bin/chromium"))
MMSI = 999_000_001
T0 = datetime(2024, 1, 1, tzinfo=UTC)
TYPES = (
    "port_call", "voyage", "ais_gap", "loitering", "encounter", "escort", "identity_change",
    "transponder_gap", "sanctioned_route", "listed_operator_flight", "position_jump",
)  # fmt: skip
# Gibraltar, Sicily channel, Crete, Port Said and back: waypoints (lat, lon).
ROUTE = [(36.0, -5.6), (37.3, 11.0), (35.0, 24.0), (31.3, 32.3), (35.0, 24.0), (37.3, 11.0)]


def track(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GENERATED: ``n`` reports 30 s apart along ``ROUTE`` with GPS noise and three gaps."""
    rng = np.random.default_rng(7)
    legs = np.array(ROUTE + [ROUTE[0]], dtype=np.float64)
    f = np.linspace(0, len(legs) - 1, n)
    i = np.minimum(f.astype(int), len(legs) - 2)
    w = (f - i)[:, None]
    pos = legs[i] * (1 - w) + legs[i + 1] * w + rng.normal(0, 0.0005, (n, 2))
    seconds = np.arange(n, dtype=np.float64) * 30.0
    for at, hours in ((n // 5, 2), (n // 2, 5), (4 * n // 5, 30)):
        seconds[at:] += hours * 3600.0
    return seconds, pos[:, 0], pos[:, 1]


def build_store(path: Path, positions: int, events: int) -> None:
    from watchkeeper.store import Store

    seconds, lat, lon = track(positions)
    rng = np.random.default_rng(11)
    with Store(path) as s:
        s.con.execute(
            "INSERT INTO ais_positions (msg_id, ingest_id, mmsi, time, lat, lon, msg_type) "
            "SELECT g.i + 1, 0, ?, ?::TIMESTAMPTZ + to_seconds(t.v), a.v, o.v, 1 "
            "FROM (SELECT unnest(range(?)) AS i) g "
            "POSITIONAL JOIN (SELECT unnest(?::DOUBLE[]) AS v) t "
            "POSITIONAL JOIN (SELECT unnest(?::DOUBLE[]) AS v) a "
            "POSITIONAL JOIN (SELECT unnest(?::DOUBLE[]) AS v) o",
            [MMSI, T0, positions, seconds.tolist(), lat.tolist(), lon.tolist()],
        )
        s.con.execute(
            "INSERT INTO ais_static (msg_id, ingest_id, mmsi, time, msg_type, imo, name) "
            "VALUES (?, 0, ?, ?, 5, 9000001, 'GENERATED TANKER')",
            [positions + 1, MMSI, T0],
        )
        ev_lat = rng.uniform(30.0, 45.0, events)
        ev_lon = rng.uniform(-30.0, 35.0, events)
        start = rng.uniform(0, 90 * 86400, events)
        s.con.execute(
            "INSERT INTO events SELECT 'gen-' || g.i, ?[1 + g.i % ?], ['mmsi:' || (200000000 + g.i)], "
            "?::TIMESTAMPTZ + to_seconds(t.v), ?::TIMESTAMPTZ + to_seconds(t.v + 3600), a.v, o.v, "
            "sc.v, 'GENERATED event ' || g.i || ': a finding with a one-line detail', '{}', "
            "['ais:' || (1 + g.i % 1000)], now() "
            "FROM (SELECT unnest(range(?)) AS i) g "
            "POSITIONAL JOIN (SELECT unnest(?::DOUBLE[]) AS v) t "
            "POSITIONAL JOIN (SELECT unnest(?::DOUBLE[]) AS v) a "
            "POSITIONAL JOIN (SELECT unnest(?::DOUBLE[]) AS v) o "
            "POSITIONAL JOIN (SELECT unnest(?::DOUBLE[]) AS v) sc",
            [
                list(TYPES), len(TYPES), T0, T0, events, start.tolist(), ev_lat.tolist(),
                ev_lon.tolist(), rng.uniform(0, 1, events).round(3).tolist(),
            ],
        )  # fmt: skip


# -- the peer: the same map fed raw GeoJSON ---------------------------------------------

PEER_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="/static/vendor/maplibre-gl.css">
<style>body{margin:0} #map{width:100%;height:32rem}</style></head>
<body><div id="map"></div><script type="module">
import * as maplibregl from "/static/vendor/maplibre-gl.mjs";
const kind = new URLSearchParams(location.search).get("kind");
const map = new maplibregl.Map({container: "map", center: [10, 30], zoom: 1.2, style: {
  version: 8, sources: {land: {type: "geojson", data: "/static/vendor/countries-110m.geojson"}},
  layers: [{id: "sea", type: "background", paint: {"background-color": "#dbe7f0"}},
    {id: "land", type: "fill", source: "land", paint: {"fill-color": "#f3f1ea"}},
    {id: "borders", type: "line", source: "land", paint: {"line-color": "#9aa3ad", "line-width": 0.6}}]}});
map.on("load", async () => {
  window.wkTimings = {mapLoad: performance.now()};
  const data = await (await fetch(`/bench/raw/${kind}`)).json();
  map.addSource("d", {type: "geojson", data});
  if (kind === "track") {
    map.addLayer({id: "d", type: "line", source: "d", paint: {"line-color": "#0b57a4", "line-width": 2}});
    map.fitBounds([[-6, 30], [33, 38]], {padding: 30, duration: 0});
  } else {
    map.addLayer({id: "d", type: "circle", source: "d", paint: {"circle-radius": 3,
      "circle-color": ["match", ["get", "severity"], "critical", "#7f0a0e", "high", "#c0161c",
        "medium", "#c26a00", "#1d6b2f"]}});
  }
  map.once("idle", () => {
    window.wkTimings[kind] = performance.now();
    document.body.dataset.mapReady = kind;
  });
});
</script></body></html>"""


def add_peer_routes(app: Any, store: Any) -> None:
    from fastapi.responses import HTMLResponse, Response

    from watchkeeper.web.map import severity_of
    from watchkeeper.web.vessels import load_positions

    @app.get("/bench/peer")
    async def peer_page() -> HTMLResponse:
        return HTMLResponse(PEER_PAGE)

    @app.get("/bench/raw/track")
    async def raw_track() -> Response:
        pts = load_positions(store, MMSI)
        coords = np.column_stack([pts.lon, pts.lat]).tolist()
        body = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": coords},
                "properties": {}}  # fmt: skip
        return Response(json.dumps(body), media_type="application/json")

    @app.get("/bench/raw/events")
    async def raw_events() -> Response:
        rows = store.con.execute(
            "SELECT event_id, type, score, detail, lon, lat FROM events WHERE lat IS NOT NULL"
        ).fetchall()
        features = [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [r[4], r[5]]},
                "properties": {
                    "id": r[0],
                    "type": r[1],
                    "score": r[2],
                    "severity": severity_of(r[2]),
                    "detail": r[3],
                },
            }  # fmt: skip
            for r in rows
        ]
        body = {"type": "FeatureCollection", "features": features}
        return Response(json.dumps(body), media_type="application/json")


# -- serving and measuring --------------------------------------------------------------


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclasses.dataclass
class Load:
    ms: float  # navigation start to the map idle with the data drawn
    map_load_ms: float  # navigation start to MapLibre's 'load' (style and base map ready)
    data_bytes: int  # bytes of the page's own JSON requests (decoded)
    errors: list[str]


RESOURCES = """() => performance.getEntriesByType("resource")
  .filter(e => e.name.includes("/web/api/") || e.name.includes("/bench/raw/"))
  .reduce((n, e) => n + (e.decodedBodySize || 0), 0)"""


def load(browser: Any, url: str, ready: str) -> Load:
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(url)
        page.wait_for_selector(f'body[data-map-ready="{ready}"]', state="attached", timeout=120_000)
        ms = float(page.evaluate(f"window.wkTimings[{ready!r}]"))
        map_load = float(page.evaluate("window.wkTimings.mapLoad"))
        size = int(page.evaluate(RESOURCES))
    finally:
        context.close()
    return Load(ms, map_load, size, errors)


def measure(browser: Any, url: str, ready: str, runs: int) -> Load:
    loads = [load(browser, url, ready) for _ in range(runs)]
    return Load(
        statistics.median(x.ms for x in loads),
        statistics.median(x.map_load_ms for x in loads),
        loads[-1].data_bytes,
        [e for x in loads for e in x.errors],
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--positions", type=int, default=100_000)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md")
    args = ap.parse_args()
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    from watchkeeper.api import create_app
    from watchkeeper.settings import Settings
    from watchkeeper.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "web-bench.duckdb"
        t = time.perf_counter()
        build_store(path, args.positions, args.events)
        print(f"store built in {time.perf_counter() - t:.1f} s")
        store = Store(path)
        app = create_app(Settings(db_path=path), store)
        add_peer_routes(app, store)
        rows: list[list[object]] = []
        results: dict[str, Load] = {}
        with serve(app) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
            )
            cases = [
                ("vessel", f"{base}/vessel/{MMSI}", "vessel", "Watchkeeper /vessel"),
                ("vessel-peer", f"{base}/bench/peer?kind=track", "track", "raw GeoJSON dump"),
                ("map", f"{base}/map", "events", "Watchkeeper /map"),
                ("map-peer", f"{base}/bench/peer?kind=events", "events", "raw GeoJSON dump"),
            ]
            for key, url, ready, _label in cases:
                load(browser, url, ready)  # warm the server's caches (graph view, places)
                results[key] = measure(browser, url, ready, args.runs)
                r = results[key]
                print(f"{key}: {r.ms:.0f} ms (MapLibre load {r.map_load_ms:.0f}), "
                      f"{r.data_bytes / 1e6:.2f} MB, errors {r.errors[:2]}")  # fmt: skip
            browser.close()
        store.close()
    targets = {"vessel": 1000.0, "map": 2000.0}
    for page_name, what, n in (
        ("vessel", f"{args.positions:,}-report track", args.positions),
        ("map", f"{args.events:,} events", args.events),
    ):
        ours, peer = results[page_name], results[f"{page_name}-peer"]
        rows.append([
            f"{page_name} ({what})", f"{ours.ms:,.0f}", f"{ours.map_load_ms:,.0f}",
            f"{ours.data_bytes / 1e6:.2f}", f"{peer.ms:,.0f}", f"{peer.map_load_ms:,.0f}",
            f"{peer.data_bytes / 1e6:.2f}", f"{peer.ms / ours.ms:.1f}x",
            f"< {targets[page_name]:,.0f} ms: {'met' if ours.ms < targets[page_name] else 'NOT met'}",
        ])  # fmt: skip
        _ = n
    body = __doc__.split("\n\n    python")[0] + "\n\n" + table(
        ["page", "Watchkeeper ms", "of which MapLibre start", "its data MB", "peer ms",
         "peer MapLibre start", "peer data MB", "peer/ours", "target"],
        rows,
    )  # fmt: skip
    errors = [e for r in results.values() for e in r.errors]
    body += f"\n\nMedian of {args.runs} cold loads each, 1366x768, Chromium with SwiftShader "
    body += "(software WebGL: no GPU here), server and browser on the same 2 cores. "
    body += f"Console errors: {len(errors)}."
    print(body)
    if not args.no_write:
        write_section("web", body)


if __name__ == "__main__":
    main()
