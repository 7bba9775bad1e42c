// Watchkeeper's maps: the map view (/map), the vessel page and the aircraft page.
// MapLibre GL from /static/vendor (no CDN); the base map is the bundled Natural Earth
// countries unless the server names a tile server (WATCHKEEPER_TILE_URL).
// Every value from the server is put in the page with textContent, never as HTML.
import * as maplibregl from "/static/vendor/maplibre-gl.mjs";

const SEVERITY_COLOURS = { critical: "#7f0a0e", high: "#c0161c", medium: "#c26a00", low: "#1d6b2f" };
const EVENT_PAGE = 50;

function pageData() {
  const el = document.getElementById("page-data");
  return el ? JSON.parse(el.textContent) : {};
}

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
}

async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
    throw new Error(`${url}: ${detail}`);
  }
  return response.json();
}

function baseStyle(tileUrl) {
  if (tileUrl) {
    return {
      version: 8,
      sources: { base: { type: "raster", tiles: [tileUrl], tileSize: 256 } },
      layers: [{ id: "base", type: "raster", source: "base" }],
    };
  }
  return {
    version: 8,
    sources: { land: { type: "geojson", data: "/static/vendor/countries-110m.geojson" } },
    layers: [
      { id: "sea", type: "background", paint: { "background-color": "#dbe7f0" } },
      { id: "land", type: "fill", source: "land", paint: { "fill-color": "#f3f1ea" } },
      { id: "borders", type: "line", source: "land", paint: { "line-color": "#9aa3ad", "line-width": 0.6 } },
    ],
  };
}

// A map in `container` (fitted to `bounds` [w, s, e, n] when given) and a promise of
// its style having loaded: pages start fetching their data before that, in parallel.
export function makeMap(container, tileUrl, bounds) {
  const view = bounds
    ? { bounds: [[bounds[0], bounds[1]], [bounds[2], bounds[3]]], fitBoundsOptions: { padding: 30, maxZoom: 11 } }
    : { center: [10, 30], zoom: 1.2 };
  const map = new maplibregl.Map({
    container, style: baseStyle(tileUrl), ...view,
    attributionControl: { compact: true, customAttribution: tileUrl ? "" : "Natural Earth" },
    // The tests and the PNG a user saves read the canvas back.
    canvasContextAttributes: { preserveDrawingBuffer: true },
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  window.wk = Object.assign(window.wk || {}, { map });
  const loaded = new Promise((resolve) => map.on("load", () => { mark("mapLoad"); resolve(map); }));
  return { map, loaded };
}

// Resolves when the map has drawn everything it has (its 'idle' event).
function idle(map) {
  return new Promise((resolve) => {
    if (map.loaded() && !map.isMoving()) map.once("idle", resolve), map.triggerRepaint();
    else map.once("idle", resolve);
  });
}

function mark(name) {
  window.wkTimings = Object.assign(window.wkTimings || {}, { [name]: performance.now() });
}

function markReady(map, name) {
  return idle(map).then(() => {
    const t = performance.now();
    window.wkTimings = Object.assign(window.wkTimings || {}, { [name]: t });
    document.body.dataset.mapReady = name;
  });
}

// -- evidence ------------------------------------------------------------------------

// A list of evidence references; clicking one shows the stored row and, when it has a
// position, flies the map there and drops a marker.
function evidenceList(refs, map) {
  const list = el("ul", null, { class: "evidence" });
  for (const ref of refs || []) {
    const li = el("li");
    const button = el("button", ref, { type: "button", class: "link mono", "data-ref": ref });
    const out = el("div", null, { class: "evidence-row" });
    button.addEventListener("click", () => showEvidence(ref, out, map));
    li.append(button, out);
    list.append(li);
  }
  return list;
}

let evidenceMarker = null;

async function showEvidence(ref, out, map) {
  out.replaceChildren(el("span", "loading…", { class: "muted" }));
  let found;
  try {
    found = await getJSON(`/web/api/evidence/${encodeURIComponent(ref).replace(/%3A/g, ":")}`);
  } catch (err) {
    out.replaceChildren(el("span", err.message, { class: "error" }));
    return;
  }
  out.replaceChildren();
  if (found.link) {
    out.append(el("a", `open ${found.link}`, { href: found.link }));
  }
  if (found.fields) {
    const dl = el("dl", null, { class: "facts small" });
    for (const [k, v] of Object.entries(found.fields)) {
      if (v === null || v === undefined) continue;
      dl.append(el("dt", k), el("dd", typeof v === "object" ? JSON.stringify(v) : v));
    }
    out.append(dl);
  }
  if (!found.link && !found.fields) out.append(el("span", "recorded as cited; no stored row to show", { class: "muted" }));
  if (found.position && map) {
    const at = [found.position.lon, found.position.lat];
    if (evidenceMarker) evidenceMarker.remove();
    evidenceMarker = new maplibregl.Marker({ color: "#0b57a4" }).setLngLat(at).addTo(map);
    map.flyTo({ center: at, zoom: Math.max(map.getZoom(), 9), duration: 0 });
    document.body.dataset.evidenceShown = ref;
  }
}

// One event as a list item: severity, type, time, detail, zoom button, evidence.
function eventItem(ev, map, onZoom) {
  const li = el("li", null, { class: "event", "data-event": ev.id });
  const head = el("div");
  head.append(el("span", ev.severity, { class: `badge sev-${ev.severity}` }), " ",
    el("strong", ev.type.replace(/_/g, " ")), " ", el("span", (ev.start || "").slice(0, 16).replace("T", " "), { class: "muted" }));
  li.append(head, el("p", ev.detail, { class: "detail" }));
  const tools = el("div", null, { class: "row" });
  if (ev.lat !== null && ev.lon !== null) {
    const zoom = el("button", "Zoom to", { type: "button", class: "secondary zoom-to" });
    zoom.addEventListener("click", () => {
      map.flyTo({ center: [ev.lon, ev.lat], zoom: 9, duration: 0 });
      document.body.dataset.zoomedTo = ev.id;
      if (onZoom) onZoom(ev);
    });
    tools.append(zoom);
  }
  for (const s of ev.subjects) {
    if (s.startsWith("mmsi:")) tools.append(el("a", `vessel ${s.slice(5)}`, { href: `/vessel/${s.slice(5)}` }));
    else if (s.startsWith("icao24:")) tools.append(el("a", `aircraft ${s.slice(7)}`, { href: `/aircraft/${s.slice(7)}` }));
    else if (!s.includes(":")) tools.append(el("a", `network ${s}`, { href: `/network?entity=${encodeURIComponent(s)}` }));
  }
  li.append(tools);
  const details = el("details");
  details.append(el("summary", `Evidence (${ev.evidence.length})`), evidenceList(ev.evidence, map));
  li.append(details);
  return li;
}

function pointsToGeoJSON(points) {
  const features = new Array(points.id.length);
  for (let i = 0; i < points.id.length; i++) {
    features[i] = {
      type: "Feature", id: i,
      geometry: { type: "Point", coordinates: [points.lon[i], points.lat[i]] },
      properties: { id: points.id[i], type: points.types[points.type[i]],
        severity: points.severities[points.severity[i]], count: points.count[i] },
    };
  }
  return { type: "FeatureCollection", features };
}

function addPlaces(map, fetched) {
  return fetched.then((places) => {
    map.addSource("places", { type: "geojson", data: places });
    map.addLayer({
      id: "places", type: "circle", source: "places", minzoom: 2,
      paint: {
        "circle-radius": 3, "circle-color": "#ffffff", "circle-stroke-width": 1.5,
        "circle-stroke-color": ["match", ["get", "kind"], "airport", "#5b2a8e", "#3a3f47"],
      },
    }, map.getLayer("events") ? "events" : undefined);
    popupOnClick(map, "places", (p) => `${p.kind}: ${p.label}`);
    return places.features.length;
  });
}

function popupOnClick(map, layer, text) {
  map.on("click", layer, (e) => {
    const f = e.features && e.features[0];
    if (!f) return;
    const box = el("div", text(f.properties));
    new maplibregl.Popup({ closeButton: true }).setLngLat(e.lngLat).setDOMContent(box).addTo(map);
  });
  map.on("mouseenter", layer, () => { map.getCanvas().style.cursor = "pointer"; });
  map.on("mouseleave", layer, () => { map.getCanvas().style.cursor = ""; });
}

// -- the map view --------------------------------------------------------------------

function filterQuery(form) {
  const q = new URLSearchParams();
  const data = new FormData(form);
  for (const [k, v] of data.entries()) {
    if (v === "") continue;
    // A day picked is the whole day, UTC.
    if (k === "start" && /^\d{4}-\d{2}-\d{2}$/.test(v)) q.append(k, `${v}T00:00:00Z`);
    else if (k === "end" && /^\d{4}-\d{2}-\d{2}$/.test(v)) q.append(k, `${v}T23:59:59.999Z`);
    else q.append(k, v);
  }
  return q;
}

async function initMapPage(page) {
  const { map, loaded } = makeMap("map", page.tile_url);
  const form = document.getElementById("filters");
  const list = document.getElementById("event-list");
  const summary = document.getElementById("event-summary");
  const more = document.getElementById("more-events");
  let offset = 0;
  let query = filterQuery(form);
  // The points for the map's view and zoom: events a few pixels apart share one dot.
  function pointsUrl() {
    const q = new URLSearchParams(query);
    q.set("zoom", Math.round(map.getZoom() * 2) / 2);
    const b = map.getBounds();
    if (!q.has("bbox") && b.getEast() - b.getWest() < 360) {
      const lon = (x) => ((((x + 180) % 360) + 360) % 360) - 180;
      const lat = (y) => Math.max(-90, Math.min(90, y));
      q.set("bbox", [lon(b.getWest()), lat(b.getSouth()), lon(b.getEast()), lat(b.getNorth())]
        .map((v) => v.toFixed(4)).join(","));
    }
    window.wk.pointsQuery = q.toString();
    return `/web/api/events/points?${q}`;
  }
  // The first data asked for while MapLibre starts.
  let early = { points: getJSON(pointsUrl()), places: getJSON("/web/api/places") };
  await loaded;

  map.addSource("events", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  map.addLayer({
    id: "events", type: "circle", source: "events",
    paint: {
      // Bigger for a dot that stands for more events.
      "circle-radius": ["interpolate", ["linear"], ["zoom"],
        1, ["+", 3, ["min", 5, ["ln", ["get", "count"]]]], 8, ["+", 6, ["min", 5, ["ln", ["get", "count"]]]]],
      "circle-color": ["match", ["get", "severity"], "critical", SEVERITY_COLOURS.critical, "high", SEVERITY_COLOURS.high,
        "medium", SEVERITY_COLOURS.medium, SEVERITY_COLOURS.low],
      "circle-stroke-color": "#ffffff", "circle-stroke-width": 0.8, "circle-opacity": 0.85,
    },
  });
  map.on("click", "events", async (e) => {
    const f = e.features && e.features[0];
    if (!f) return;
    const found = await getJSON(`/web/api/evidence/event:${encodeURIComponent(f.properties.id)}`);
    const box = el("div");
    box.append(el("strong", found.fields.type.replace(/_/g, " ")), el("p", found.fields.detail));
    if (f.properties.count > 1) box.append(el("p", `The most severe of ${f.properties.count} events here: zoom in to see them apart.`, { class: "muted" }));
    new maplibregl.Popup().setLngLat(e.lngLat).setDOMContent(box).addTo(map);
  });
  map.on("mouseenter", "events", () => { map.getCanvas().style.cursor = "pointer"; });
  map.on("mouseleave", "events", () => { map.getCanvas().style.cursor = ""; });
  const placesLoaded = addPlaces(map, early.places);

  async function loadPage() {
    const q = new URLSearchParams(query);
    q.set("offset", offset);
    q.set("limit", EVENT_PAGE);
    const found = await getJSON(`/web/api/events?${q}`);
    for (const ev of found.events) list.append(eventItem(ev, map));
    offset += found.events.length;
    summary.textContent = `${found.total.toLocaleString("en")} events match; ${offset.toLocaleString("en")} listed, most severe first.`;
    more.hidden = offset >= found.total;
  }

  async function reload() {
    query = filterQuery(form);
    offset = 0;
    list.replaceChildren();
    const pointsP = early.points || getJSON(pointsUrl());
    early = {};
    const [points] = await Promise.all([pointsP, loadPage()]);
    mark("eventsFetched");
    drawPoints(points);
    mark("eventsSet");
  }

  function drawPoints(points) {
    map.getSource("events").setData(pointsToGeoJSON(points));
    const events = points.count.reduce((a, b) => a + b, 0);
    const dots = points.id.length;
    document.getElementById("drawn").textContent =
      `${events.toLocaleString("en")} events with a position in this view, as ${dots.toLocaleString("en")} dots ` +
      `(events a few pixels apart share the most severe one's dot)` +
      (points.capped ? "; only the most severe dots are drawn: zoom in or narrow the filters." : ".");
    window.wk.eventFeatures = dots;
    window.wk.eventsDrawn = events;
  }

  // Moved or zoomed: the points again for the new view.
  let moves = 0;
  map.on("moveend", async () => {
    const mine = ++moves;
    const points = await getJSON(pointsUrl());
    if (mine === moves) drawPoints(points);
  });

  form.addEventListener("submit", (e) => { e.preventDefault(); reload().then(() => markReady(map, "events")); });
  document.getElementById("use-view").addEventListener("click", () => {
    const b = map.getBounds();
    const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
    form.elements.bbox.value = [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90),
      clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90)].map((v) => v.toFixed(3)).join(",");
  });
  more.addEventListener("click", () => loadPage());
  await Promise.all([reload(), placesLoaded.then((n) => { window.wk.placeFeatures = n; })]);
  await markReady(map, "events");
  if (page.focus) focusOn(page.focus, map);
}

// Opened from an alert, a case or an entity (/map?event=<id>): zoom to the event and
// show what it is with its evidence.
function focusOn(focus, map) {
  const notice = document.getElementById("focus");
  if (focus.missing) {
    notice.hidden = false;
    notice.textContent = `Event ${focus.id}: ${focus.missing}.`;
    return;
  }
  map.jumpTo({ center: [focus.lon, focus.lat], zoom: 9 });
  const box = el("div");
  box.append(el("strong", focus.type.replace(/_/g, " ")), el("p", focus.detail), evidenceList(focus.evidence, map));
  new maplibregl.Popup({ maxWidth: "22rem" }).setLngLat([focus.lon, focus.lat]).setDOMContent(box).addTo(map);
  document.body.dataset.zoomedTo = focus.id;
}

// -- the vessel page -----------------------------------------------------------------

const PINNED = { port_call: "#0b57a4", loitering: "#c26a00", encounter: "#c0161c", escort: "#7f0a0e",
  ais_gap: "#4a5360", manifest_track_mismatch: "#5b2a8e" };

function trackLayers(map, id, colour, dashed) {
  map.addSource(id, { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  map.addLayer({ id: `${id}-line`, type: "line", source: id, filter: ["==", ["get", "kind"], "track"],
    paint: { "line-color": colour, "line-width": 2 } });
  map.addLayer({ id: `${id}-gap`, type: "line", source: id, filter: ["==", ["get", "kind"], "gap"],
    paint: { "line-color": colour, "line-width": 1.5, "line-dasharray": dashed } });
  popupOnClick(map, `${id}-gap`, (p) => `No reports for ${p.hours} h, ${p.from.slice(0, 16)} to ${p.to.slice(0, 16)} UTC`);
}

async function initVesselPage(page) {
  // The map opens on the track's bounds, so its zoom is known before it loads and the
  // track, thinned for that zoom, and the events are fetched meanwhile.
  const { map, loaded } = makeMap("map", page.tile_url, page.bbox);
  const trackUrl = (zoom) => `/web/api/vessel/${page.mmsi}/track?zoom=${zoom}`;
  let lastZoom = Math.round(map.getZoom());
  const firstTrack = getJSON(trackUrl(lastZoom));
  const eventsP = getJSON(`/web/api/events?subject=mmsi:${page.mmsi}&limit=1000`);
  await loaded;
  trackLayers(map, "track", "#0b57a4", [2, 2]);
  trackLayers(map, "other", "#c0161c", [2, 2]);
  function drawTrack(track) {
    map.getSource("track").setData(track);
    const p = track.properties;
    document.getElementById("track-summary").textContent =
      `${p.points_total.toLocaleString("en")} reports; ${p.points_sent.toLocaleString("en")} drawn at this zoom; ${p.gaps} gaps over 1 h (dashed).`;
    window.wk.trackPoints = p.points_sent;
  }
  // Zoomed by a whole level: the track again, thinned for the new zoom.
  map.on("moveend", async () => {
    const zoom = Math.round(map.getZoom());
    if (zoom === lastZoom) return;
    lastZoom = zoom;
    drawTrack(await getJSON(trackUrl(zoom)));
  });
  drawTrack(await firstTrack);

  const found = await eventsP;
  const pins = { type: "FeatureCollection", features: [] };
  const list = document.getElementById("event-list");
  for (const ev of found.events) {
    list.append(eventItem(ev, map, (e) => showOther(e)));
    if (ev.lat !== null && ev.lon !== null) {
      pins.features.push({ type: "Feature", geometry: { type: "Point", coordinates: [ev.lon, ev.lat] },
        properties: { id: ev.id, type: ev.type, detail: ev.detail } });
    }
  }
  document.getElementById("event-summary").textContent = `${found.total} events about this vessel.`;
  map.addSource("pins", { type: "geojson", data: pins });
  map.addLayer({ id: "pins", type: "circle", source: "pins", paint: {
    "circle-radius": 6, "circle-stroke-width": 2, "circle-stroke-color": "#ffffff",
    "circle-color": ["match", ["get", "type"], ...Object.entries(PINNED).flat(), "#3a3f47"] } });
  popupOnClick(map, "pins", (p) => `${p.type.replace(/_/g, " ")}: ${p.detail}`);
  window.wk.pinFeatures = pins.features.length;

  // An encounter draws the other vessel's track around it too.
  async function showOther(ev) {
    if (ev.type !== "encounter") return;
    const other = ev.subjects.find((s) => s.startsWith("mmsi:") && s !== `mmsi:${page.mmsi}`);
    if (!other) return;
    const from = new Date(Date.parse(ev.start) - 6 * 3600e3).toISOString();
    const to = new Date(Date.parse(ev.end) + 6 * 3600e3).toISOString();
    const track = await getJSON(`/web/api/vessel/${other.slice(5)}/track?zoom=12&start=${encodeURIComponent(from)}&end=${encodeURIComponent(to)}`);
    map.getSource("other").setData(track);
    window.wk.otherPoints = track.properties.points_sent;
    document.getElementById("other-summary").textContent = `Red: ${other} from ${from.slice(0, 16)} to ${to.slice(0, 16)} UTC.`;
  }
  const firstEncounter = found.events.find((e) => e.type === "encounter");
  if (firstEncounter) await showOther(firstEncounter);
  await markReady(map, "vessel");
}

// -- the aircraft page ---------------------------------------------------------------

async function initAircraftPage(page) {
  const { map, loaded } = makeMap("map", page.tile_url);
  const flightsP = getJSON(`/web/api/aircraft/${page.icao24}/flights`);
  const eventsP = getJSON(`/web/api/events?subject=icao24:${page.icao24}&limit=1000`);
  await loaded;
  const flights = await flightsP;
  map.addSource("flights", { type: "geojson", data: flights });
  map.addLayer({ id: "flight-lines", type: "line", source: "flights", filter: ["==", ["get", "kind"], "flight"],
    paint: { "line-color": "#5b2a8e", "line-width": 2 } });
  map.addLayer({ id: "airports", type: "circle", source: "flights", filter: ["==", ["get", "kind"], "airport"],
    paint: { "circle-radius": 6, "circle-color": "#ffffff", "circle-stroke-width": 2.5, "circle-stroke-color": "#5b2a8e" } });
  popupOnClick(map, "airports", (p) => p.label);
  popupOnClick(map, "flight-lines", (p) => `${p.callsign || "?"} ${p.departure || "?"} → ${p.arrival || "?"}, ${p.start.slice(0, 16)} UTC`);
  const bounds = new maplibregl.LngLatBounds();
  for (const f of flights.features) {
    const coords = f.geometry.type === "Point" ? [f.geometry.coordinates] : f.geometry.coordinates;
    for (const c of coords) bounds.extend(c);
  }
  if (!bounds.isEmpty()) map.fitBounds(bounds, { padding: 30, duration: 0, maxZoom: 9 });
  window.wk.flightFeatures = flights.features.length;
  const found = await eventsP;
  const list = document.getElementById("event-list");
  for (const ev of found.events) list.append(eventItem(ev, map));
  document.getElementById("event-summary").textContent = `${found.total} events about this aircraft.`;
  await markReady(map, "aircraft");
}

const page = pageData();
const init = { map: initMapPage, vessel: initVesselPage, aircraft: initAircraftPage }[page.kind];
if (init) {
  init(page).catch((err) => {
    const box = document.getElementById("map-error");
    if (box) { box.hidden = false; box.textContent = `The map could not load: ${err.message}`; }
    throw err;
  });
}
