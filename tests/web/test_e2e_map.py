"""The map, vessel, aircraft and network pages in Debian's Chromium, on the store
``watchkeeper run`` builds from the bundled data (tests/web/conftest.py): the map
canvas really drew (pixels read back from WebGL), the layers hold the features the
store says they should, the network has the nodes its JSON has, a click on an event
zooms the map to it and a click on its evidence drops a marker at the report; no
console error; screenshots to docs/screenshots/. Skipped, saying why, without
/usr/bin/chromium or playwright."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import new_page, screenshot
from watchkeeper.store import Store

MAHAN = "ofac-12927"
SEVERITY_RGB = {
    "critical": (0x7F, 0x0A, 0x0E),
    "high": (0xC0, 0x16, 0x1C),
    "medium": (0xC2, 0x6A, 0x00),
    "low": (0x1D, 0x6B, 0x2F),
}

# Reads the map's WebGL canvas back through a 2D canvas: how many pixels differ from
# the top-left one, how many distinct colours, and how many pixels are near each RGB
# given (a drawn event dot, a track line).
READBACK = """(targets) => {
  const gl = window.wk.map.getCanvas();
  const c = document.createElement("canvas");
  c.width = gl.width; c.height = gl.height;
  const ctx = c.getContext("2d");
  ctx.drawImage(gl, 0, 0);
  const d = ctx.getImageData(0, 0, c.width, c.height).data;
  const bg = [d[0], d[1], d[2]];
  let differ = 0; const colours = new Set(); const near = targets.map(() => 0);
  for (let i = 0; i < d.length; i += 4) {
    const r = d[i], g = d[i + 1], b = d[i + 2];
    if (Math.abs(r - bg[0]) + Math.abs(g - bg[1]) + Math.abs(b - bg[2]) > 24) differ++;
    if (colours.size < 5000) colours.add((r << 16) | (g << 8) | b);
    targets.forEach((t, k) => {
      if (Math.abs(r - t[0]) + Math.abs(g - t[1]) + Math.abs(b - t[2]) < 40) near[k]++;
    });
  }
  return { pixels: d.length / 4, differ, colours: colours.size, near };
}"""


def _ready(page: Any, name: str) -> None:
    page.wait_for_selector(f'body[data-map-ready="{name}"]', state="attached", timeout=30_000)


def _drew(page: Any, targets: list[tuple[int, int, int]], share: float = 0.05) -> dict[str, Any]:
    """The canvas read back; at least ``share`` of it differs from its corner (a world
    map: land and sea; a vessel zoomed in over the sea may be nearly all one colour)."""
    got: dict[str, Any] = page.evaluate(READBACK, [list(t) for t in targets])
    assert got["pixels"] > 100_000
    assert got["differ"] > got["pixels"] * share, got
    assert got["colours"] > 20, got
    return got


def _in_view(store: Store, query: str, event_type: str | None = None) -> int:
    """Placed events inside the bbox of the map's points request (all when it has none),
    counted here in SQL, not by the endpoint under test."""
    from urllib.parse import parse_qs

    bbox = parse_qs(query).get("bbox")
    sql = "SELECT count(*) FROM events WHERE lat IS NOT NULL AND lon IS NOT NULL"
    args: list[Any] = []
    if event_type:
        sql += " AND type = ?"
        args.append(event_type)
    if bbox:
        w, s, e, n = (float(x) for x in bbox[0].split(","))
        sql += " AND lat BETWEEN ? AND ?"
        sql += " AND lon BETWEEN ? AND ?" if w <= e else " AND (lon >= ? OR lon <= ?)"
        args += [s, n, w, e]
    row = store.con.execute(sql, args).fetchone()
    return int(row[0]) if row else 0


def _overflow(page: Any) -> int:
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


def test_map_draws_every_placed_event_and_zooms_to_one(
    page: Any, live_url: str, web_store: Store
) -> None:
    placed = web_store.con.execute(
        "SELECT count(*) FROM events WHERE lat IS NOT NULL AND lon IS NOT NULL"
    ).fetchone()
    total = web_store.con.execute("SELECT count(*) FROM events").fetchone()
    assert placed and total and placed[0] > 0
    page.goto(f"{live_url}/map")
    _ready(page, "events")
    # Every placed event in the map's view is drawn, some sharing a dot.
    in_view = _in_view(web_store, page.evaluate("window.wk.pointsQuery"))
    assert 0 < in_view <= placed[0]
    assert page.evaluate("window.wk.eventsDrawn") == in_view
    assert 0 < page.evaluate("window.wk.eventFeatures") <= in_view
    assert page.evaluate("window.wk.placeFeatures") > 100  # sanctioned ports and airports
    summary = page.locator("#event-summary").inner_text()
    assert f"{total[0]:,} events match" in summary
    rendered = page.evaluate("window.wk.map.queryRenderedFeatures({layers: ['events']}).length")
    assert rendered > 0
    got = _drew(page, list(SEVERITY_RGB.values()))
    assert sum(got["near"]) > 50, got  # event dots in severity colours on the canvas
    screenshot(page, "map")

    # The first listed event with a position: zoom to it, then open its evidence.
    item = page.locator("li.event:has(button.zoom-to)").first
    event_id = item.get_attribute("data-event")
    lat, lon = web_store.con.execute(
        "SELECT lat, lon FROM events WHERE event_id = ?", [event_id]
    ).fetchone()  # type: ignore[misc]
    item.locator("button.zoom-to").click()
    page.wait_for_selector(f'body[data-zoomed-to="{event_id}"]', state="attached")
    centre = page.evaluate(
        "(() => { const c = window.wk.map.getCenter(); return [c.lat, c.lng]; })()"
    )
    assert abs(centre[0] - lat) < 1e-3 and abs(centre[1] - lon) < 1e-3
    assert page.evaluate("window.wk.map.getZoom()") >= 8
    item.locator("details > summary").click()
    ref_button = item.locator("button[data-ref^='ais:'], button[data-ref^='adsb:']").first
    ref = ref_button.get_attribute("data-ref")
    ref_button.click()
    page.wait_for_selector(f'body[data-evidence-shown="{ref}"]', state="attached")
    assert page.locator(".maplibregl-marker").count() == 1
    assert item.locator(".evidence-row dl").first.is_visible()


def test_map_filters_narrow_the_drawn_events(page: Any, live_url: str, web_store: Store) -> None:
    page.goto(f"{live_url}/map")
    _ready(page, "events")
    page.select_option("#f-type", ["port_call"])
    page.evaluate("document.body.removeAttribute('data-map-ready')")
    page.click("#filters button[type=submit]")
    _ready(page, "events")
    drawn = page.evaluate("window.wk.eventsDrawn")
    assert drawn == _in_view(web_store, page.evaluate("window.wk.pointsQuery"), "port_call") > 0
    types = page.evaluate(
        "[...new Set(window.wk.map.querySourceFeatures('events').map(f => f.properties.type))]"
    )
    assert types == ["port_call"]


def test_vessel_page_track_pins_encounter_and_timeline(
    page: Any, live_url: str, web_store: Store
) -> None:
    # Of the vessels in an encounter, the one with the longest track.
    row = web_store.con.execute(
        "SELECT p.mmsi FROM ais_positions p JOIN (SELECT DISTINCT CAST(replace(s, 'mmsi:', '') "
        "AS INTEGER) AS mmsi FROM (SELECT unnest(subjects) AS s FROM events WHERE type = "
        "'encounter') WHERE s LIKE 'mmsi:%') e USING (mmsi) GROUP BY 1 ORDER BY count(*) DESC, 1 "
        "LIMIT 1"
    ).fetchone()
    assert row is not None
    mmsi = int(row[0])
    pinned = web_store.con.execute(
        "SELECT count(*) FROM events WHERE list_contains(subjects, ?) AND lat IS NOT NULL",
        [f"mmsi:{mmsi}"],
    ).fetchone()
    reports = web_store.con.execute(
        "SELECT count(*) FROM ais_positions WHERE mmsi = ?", [mmsi]
    ).fetchone()
    assert pinned and reports
    page.goto(f"{live_url}/vessel/{mmsi}")
    _ready(page, "vessel")
    assert page.evaluate("window.wk.pinFeatures") == pinned[0]
    assert 2 <= page.evaluate("window.wk.trackPoints") <= reports[0]
    assert page.evaluate("window.wk.otherPoints") > 0  # the encounter's other vessel too
    assert page.locator("#other-summary").inner_text().startswith("Red: mmsi:")
    assert page.evaluate("window.wk.timelineItems") > 0
    assert page.locator(".vis-item").count() > 0
    got = _drew(page, [(0x0B, 0x57, 0xA4), (0xC0, 0x16, 0x1C)], share=0.0)
    assert sum(got["near"]) > 20, got  # the blue track and the red encounter pin
    screenshot(page, "vessel")


def test_aircraft_page_flights_and_airports(page: Any, live_url: str, web_store: Store) -> None:
    row = web_store.con.execute(
        "SELECT subjects[1] FROM events WHERE type = 'listed_operator_flight' LIMIT 1"
    ).fetchone()
    assert row is not None
    icao24 = str(row[0]).removeprefix("icao24:")
    flights = web_store.con.execute(
        "SELECT count(*), count(DISTINCT departure) + count(DISTINCT arrival) FROM air_flights "
        "WHERE icao24 = ?",
        [icao24],
    ).fetchone()
    assert flights and flights[0] > 0
    page.goto(f"{live_url}/aircraft/{icao24}")
    _ready(page, "aircraft")
    features = page.evaluate("window.wk.flightFeatures")
    assert flights[0] < features <= flights[0] + flights[1]  # lines plus their airports
    assert page.locator("#event-list li.event").count() > 0
    assert page.locator("a[href^='/entity/ofac-']").count() > 0  # the listed operator
    got = _drew(page, [(0x5B, 0x2A, 0x8E)])
    assert got["near"][0] > 20  # the purple flight lines
    screenshot(page, "aircraft")


def test_network_has_the_nodes_of_its_json_and_expands(
    page: Any, live_url: str, open_client: TestClient
) -> None:
    net = open_client.get("/web/api/network", params={"entity": MAHAN}).json()
    blocked = sum(r["blocked_path"] for r in net["relations"])
    assert blocked > 0
    page.goto(f"{live_url}/network?entity={MAHAN}")
    page.wait_for_selector('body[data-network-ready="0"]', state="attached")
    assert page.evaluate("window.wk.networkNodes") == len(net["nodes"])
    assert page.evaluate("window.wk.networkEdges") == len(net["relations"])
    assert page.evaluate("window.wk.cy.edges('[?blocked]').length") == blocked
    red = page.evaluate("window.wk.cy.edges('[?blocked]').first().renderedStyle('line-color')")
    assert red.replace(" ", "") == "rgb(192,22,28)"
    screenshot(page, "network")

    # A click on a neighbour adds its own neighbours, as the JSON with expand says.
    neighbour = next(n["id"] for n in net["nodes"] if not n["center"])
    grown = open_client.get(
        "/web/api/network", params={"entity": MAHAN, "expand": neighbour}
    ).json()
    page.evaluate(f"window.wk.cy.getElementById({neighbour!r}).emit('tap')")
    page.wait_for_selector('body[data-network-ready="1"]', state="attached")
    assert page.evaluate("window.wk.networkNodes") == len(grown["nodes"])
    assert page.locator("#selected dl").is_visible()
    # From the keyboard: the list of parties expands a party as a click on it does.
    assert page.locator("#party-list li").count() == len(grown["nodes"])
    more = page.locator("#party-list button.secondary").first
    more.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector('body[data-network-ready="2"]', state="attached")
    assert page.evaluate("window.wk.networkNodes") >= len(grown["nodes"])
    with page.expect_download() as download:
        page.click("#export-png")
    assert download.value.suggested_filename == "network.png"
    href = page.get_attribute("#export-graphml", "href")
    assert href is not None and "format=graphml" in href and "expand=" in href


@pytest.mark.parametrize(
    "path", ["/map", "/network?entity=ofac-12927", "/aircraft/7300f1", "/vessel/219000734"]
)
def test_phone_width_fits(browser: Any, live_url: str, path: str) -> None:
    context, pg, seen = new_page(browser, 375, 740)
    try:
        pg.goto(live_url + path)
        if path.startswith("/network"):
            pg.wait_for_selector("body[data-network-ready]", state="attached")
        else:
            _ready(pg, {"map": "events"}.get(path.split("/")[1], path.split("/")[1]))
        assert _overflow(pg) == 0
        pg.keyboard.press("Tab")  # the skip link first, then the menu
        assert pg.evaluate("document.activeElement.className") == "skip"
    finally:
        context.close()
    assert not seen.errors, seen.errors


def test_from_an_alert_to_its_position_on_the_map(
    page: Any, live_url: str, web_store: Store
) -> None:
    row = web_store.con.execute(
        "SELECT a.alert_id, e.event_id, e.lat, e.lon FROM alerts a, unnest(a.event_ids) u(id) "
        "JOIN events e ON e.event_id = u.id WHERE e.lat IS NOT NULL "
        "ORDER BY a.alert_id, e.event_id LIMIT 1"
    ).fetchone()
    assert row is not None, "make run's alerts include one on a placed event"
    alert_id, event_id, lat, lon = row
    page.goto(f"{live_url}/queue/{alert_id}")
    page.click(f"a[href='/map?event={event_id}']")
    page.wait_for_selector(f'body[data-zoomed-to="{event_id}"]', state="attached")
    centre = page.evaluate(
        "(() => { const c = window.wk.map.getCenter(); return [c.lat, c.lng]; })()"
    )
    assert abs(centre[0] - lat) < 1e-3 and abs(centre[1] - lon) < 1e-3
    assert page.locator(".maplibregl-popup").is_visible()
    # Its evidence is one more click away, and puts a marker on the report.
    popup = page.locator(".maplibregl-popup")
    ref_button = popup.locator("button[data-ref]").first
    ref = ref_button.get_attribute("data-ref")
    ref_button.click()
    if ref and ref.split(":")[0] in ("ais", "adsb"):
        page.wait_for_selector(f'body[data-evidence-shown="{ref}"]', state="attached")
        assert page.locator(".maplibregl-marker").count() == 1
    missing = page.goto(f"{live_url}/map?event=no-such-event")
    assert missing is not None and missing.status == 200
    page.wait_for_selector("#focus:not([hidden])")
    assert "no such event" in page.locator("#focus").inner_text()
