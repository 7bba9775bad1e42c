"""The vessel page (``/vessel/<mmsi>``), the aircraft page (``/aircraft/<icao24>``) and
the JSON they draw from: a vessel's track simplified for the map's zoom
(``/web/api/vessel/<mmsi>/track``), an aircraft's flights, and any piece of evidence
by its id (``/web/api/evidence/<ref>``: an AIS report, an ADS-B state, a flight...).

A track is thinned on a grid about two screen pixels wide at the zoom asked
(consecutive reports in the same cell collapse to the first), then evenly if still over
the cap, always keeping both ends of every gap: a 100k-report track sends a few thousand
points. Gaps longer than ``gap_hours`` break the line and come back as their own
features, drawn as dashed jumps."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse

from watchkeeper.api.deps import StateDep
from watchkeeper.api.state import ApiState
from watchkeeper.errors import WatchkeeperError
from watchkeeper.graph.view import GraphView
from watchkeeper.movement.geo import FloatArray, IntArray
from watchkeeper.store import Store
from watchkeeper.web.map import allow_tiles
from watchkeeper.web.render import error_page, render
from watchkeeper.web.security import ReaderDep

router = APIRouter()

# The most points one track response carries, and the default.
MAX_TRACK_POINTS = 20_000
DEFAULT_TRACK_POINTS = 5_000
# Grid cell of the simplification, in screen pixels (MapLibre: the world is 512 pixels
# wide at zoom 0).
TOLERANCE_PX = 2.0
# Coordinates sent with 5 decimals (about 1 m): more only weighs the response.
DECIMALS = 5


@dataclass
class TrackPoints:
    """A track's reports sorted by time: seconds since the epoch (UTC), degrees, ids."""

    t: FloatArray
    lat: FloatArray
    lon: FloatArray
    msg_id: IntArray

    def __len__(self) -> int:
        return int(self.t.size)

    def take(self, index: IntArray) -> TrackPoints:
        return TrackPoints(self.t[index], self.lat[index], self.lon[index], self.msg_id[index])


def gap_after(t: FloatArray, gap_seconds: float) -> IntArray:
    """Indices ``i`` where the report after ``i`` comes more than ``gap_seconds`` later."""
    if t.size < 2:
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero(np.diff(t) > gap_seconds).astype(np.int64)


def _even(index: IntArray, n: int) -> IntArray:
    if index.size <= n:
        return index
    picks = np.unique(np.linspace(0, index.size - 1, n).round().astype(np.int64))
    return index[picks]


def simplify(points: TrackPoints, zoom: float, max_points: int, gap_seconds: float) -> IntArray:
    """Indices of the reports to draw at ``zoom`` (MapLibre zoom level, 0..22): the
    first report in each run of reports inside one ~2-pixel grid cell, the ends of the
    track and of every gap; evenly thinned to at most ``max_points`` (at least 2)."""
    n = len(points)
    max_points = max(2, max_points)
    if n <= 2:
        return np.arange(n, dtype=np.int64)
    cell = 360.0 / (512.0 * 2.0 ** max(0.0, min(zoom, 22.0))) * TOLERANCE_PX
    ix = np.floor(points.lon / cell).astype(np.int64)
    iy = np.floor(points.lat / cell).astype(np.int64)
    moved = np.empty(n, dtype=bool)
    moved[0] = True
    moved[1:] = (ix[1:] != ix[:-1]) | (iy[1:] != iy[:-1])
    gaps = gap_after(points.t, gap_seconds)
    keep = moved
    keep[-1] = True
    keep[gaps] = True
    keep[gaps + 1] = True
    kept = np.flatnonzero(keep).astype(np.int64)
    if kept.size <= max_points:
        return kept
    ends = np.unique(np.concatenate([[0, n - 1], gaps, gaps + 1]).astype(np.int64))
    if ends.size >= max_points:  # more gaps than the cap: thin them too
        return _even(ends, max_points)
    rest = np.setdiff1d(kept, ends, assume_unique=True)
    return np.union1d(ends, _even(rest, max_points - ends.size)).astype(np.int64)


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(float(seconds), tz=UTC).isoformat()


def _kept_gaps(gaps: IntArray, keep: IntArray) -> IntArray:
    """Positions in ``keep`` of the gaps (of the whole track) whose both ends are kept:
    a silence is one in the reports, not between two points the thinning left apart."""
    if gaps.size == 0 or keep.size < 2:
        return np.empty(0, dtype=np.int64)
    pos = np.searchsorted(keep, gaps)
    ok = pos + 1 < keep.size
    pos, gaps = pos[ok], gaps[ok]
    ok = (keep[pos] == gaps) & (keep[pos + 1] == gaps + 1)
    kept: IntArray = pos[ok].astype(np.int64)
    return kept


def track_geojson(
    points: TrackPoints, keep: IntArray, gap_seconds: float, **properties: Any
) -> dict[str, Any]:
    """A FeatureCollection of the kept reports: one ``track`` MultiLineString (split at
    gaps), one ``gap`` LineString per gap (from the last report before to the first
    after, with its hours), ``properties`` on the collection."""
    shown = points.take(keep)
    lon = np.round(shown.lon, DECIMALS).tolist()
    lat = np.round(shown.lat, DECIMALS).tolist()
    coords = [[x, y] for x, y in zip(lon, lat, strict=True)]
    breaks = _kept_gaps(gap_after(points.t, gap_seconds), keep).tolist()
    segments: list[list[list[float]]] = []
    start = 0
    for b in [*breaks, len(coords) - 1]:
        segments.append(coords[start : b + 1])
        start = b + 1
    features: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "geometry": {"type": "MultiLineString", "coordinates": segments},
            "properties": {"kind": "track"},
        }
    ]
    for b in breaks:
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [coords[b], coords[b + 1]]},
                "properties": {
                    "kind": "gap",
                    "hours": round((float(shown.t[b + 1]) - float(shown.t[b])) / 3600.0, 2),
                    "from": _iso(shown.t[b]),
                    "to": _iso(shown.t[b + 1]),
                    "evidence": [f"ais:{int(shown.msg_id[b])}", f"ais:{int(shown.msg_id[b + 1])}"],
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "properties": {"points_sent": len(coords), "gaps": len(breaks), **properties},
    }


def load_positions(
    store: Store, mmsi: int, start: datetime | None = None, end: datetime | None = None
) -> TrackPoints:
    """A vessel's position reports in ``[start, end]``, sorted by time."""
    where, params = ["mmsi = ?"], [mmsi]
    if start is not None:
        where.append("time >= ?")
        params.append(start)  # type: ignore[arg-type]
    if end is not None:
        where.append("time <= ?")
        params.append(end)  # type: ignore[arg-type]
    cols = store.con.execute(
        f"SELECT epoch(time) AS t, lat, lon, msg_id FROM ais_positions WHERE {' AND '.join(where)} "
        "ORDER BY time, msg_id",
        params,
    ).fetchnumpy()
    return TrackPoints(
        np.asarray(cols["t"], dtype=np.float64),
        np.asarray(cols["lat"], dtype=np.float64),
        np.asarray(cols["lon"], dtype=np.float64),
        np.asarray(cols["msg_id"], dtype=np.int64),
    )


Zoom = Annotated[float, Query(ge=0, le=22, description="The map's zoom level")]
MaxPoints = Annotated[
    int, Query(ge=2, le=MAX_TRACK_POINTS, description="Most points in the response")
]
GapHours = Annotated[
    float, Query(gt=0, le=24 * 30, description="A silence this long (hours) breaks the line")
]


@router.get("/web/api/vessel/{mmsi}/track")
async def vessel_track(
    mmsi: Annotated[int, Path(ge=0, le=999_999_999)],
    state: StateDep,
    _viewer: ReaderDep,
    zoom: Zoom = 4.0,
    max_points: MaxPoints = DEFAULT_TRACK_POINTS,
    gap_hours: GapHours = 1.0,
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[str, Any]:
    """The vessel's track as GeoJSON, simplified for ``zoom``, at most ``max_points``
    points, broken at silences over ``gap_hours``; only ``[start, end]`` when given."""
    points = load_positions(state.store, mmsi, start, end)
    gap_s = gap_hours * 3600.0
    keep = simplify(points, zoom, max_points, gap_s)
    out = track_geojson(points, keep, gap_s, mmsi=mmsi, zoom=zoom, points_total=len(points))
    if len(points):
        out["bbox"] = [
            float(points.lon.min()),
            float(points.lat.min()),
            float(points.lon.max()),
            float(points.lat.max()),
        ]
    return out


# -- evidence -------------------------------------------------------------------------


def _row(store: Store, sql: str, key: Any) -> dict[str, Any] | None:
    cur = store.con.execute(sql, [key])
    row = cur.fetchone()
    if row is None:
        return None
    names = [d[0] for d in cur.description or ()]
    out: dict[str, Any] = {}
    for name, value in zip(names, row, strict=True):
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out


_EVIDENCE_SQL = {
    "ais": (
        "SELECT msg_id, mmsi, time, lat, lon, sog, cog, heading, nav_status, msg_type, source "
        "FROM ais_positions WHERE msg_id = ?",
        "SELECT msg_id, mmsi, time, msg_type, imo, name, callsign, ship_type, ship_type_text, "
        "draught, destination, length, width, source FROM ais_static WHERE msg_id = ?",
    ),
    "adsb": (
        "SELECT row_id, icao24, time, lat, lon, altitude_ft, groundspeed_kt, track_deg, "
        "onground, callsign, squawk FROM air_states WHERE row_id = ?",
    ),
    "flight": (
        "SELECT flight_id, icao24, callsign, start_time, end_time, takeoff, landing, "
        "departure, arrival, departure_detail, arrival_detail, first_lat AS lat, "
        "first_lon AS lon, n_points, max_altitude_ft, distance_km FROM air_flights "
        "WHERE flight_id = ?",
    ),
    "event": (
        "SELECT event_id, type, start_time AS time, end_time, lat, lon, score, detail "
        "FROM events WHERE event_id = ?",
    ),
}
# References that name a page rather than a stored row.
_EVIDENCE_PAGES = {"list": "/entity/{}", "doc": "/document/{}", "mmsi": "/vessel/{}"}


def evidence(store: Store, ref: str) -> dict[str, Any]:
    """What an evidence reference (``ais:<msg_id>``, ``adsb:<row_id>``,
    ``flight:<id>``, ``event:<id>``, ``list:<entity>``, ``doc:<id>#a-b``...) points at:
    the stored row's fields, its position when it has one, or the page to open."""
    kind, _, key = ref.partition(":")
    out: dict[str, Any] = {"ref": ref, "kind": kind, "fields": None, "link": None}
    if kind in ("ais", "adsb"):
        if not key.isdigit():
            raise HTTPException(400, detail=f"evidence {ref!r}: {kind} ids are numbers")
        for sql in _EVIDENCE_SQL[kind]:
            found = _row(store, sql, int(key))
            if found is not None:
                out["fields"] = found
                break
    elif kind in ("flight", "event"):
        out["fields"] = _row(store, _EVIDENCE_SQL[kind][0], key)
        if kind == "flight" and out["fields"] is not None:
            out["link"] = f"/aircraft/{out['fields']['icao24']}"
    elif kind in _EVIDENCE_PAGES:
        out["link"] = _EVIDENCE_PAGES[kind].format(key.split("#", 1)[0])
        return out
    else:
        return out  # a reference with no page here (rel:, registry:, cargo:): shown as text
    if out["fields"] is None:
        raise HTTPException(404, detail=f"no stored {kind} row for evidence {ref!r}")
    fields = out["fields"]
    if fields.get("lat") is not None and fields.get("lon") is not None:
        out["position"] = {"lat": fields["lat"], "lon": fields["lon"], "time": fields.get("time")}
    return out


@router.get("/web/api/evidence/{ref:path}")
async def evidence_json(ref: str, state: StateDep, _viewer: ReaderDep) -> dict[str, Any]:
    """One piece of evidence by its reference, as events cite it."""
    return evidence(state.store, ref)


# -- identity -------------------------------------------------------------------------


def _period(
    first: str | None, last: str | None, label: str, group: str, ref: str
) -> dict[str, Any]:
    return {"group": group, "label": label, "start": first, "end": last, "evidence": ref}


def vessel_identity(store: Store, mmsi: int, view: GraphView | None) -> dict[str, Any] | None:
    """What the vessel broadcast (names, IMOs, call signs, flag by MMSI), other MMSIs
    seen with its IMO, the listed parties linked to it and their owner and manager
    statements: as periods for the identity timeline."""
    from watchkeeper.movement.vessels import build_identities, mmsis_for_imo

    ident = build_identities(store, [mmsi]).get(mmsi)
    if ident is None:
        return None
    data = ident.to_dict()
    periods: list[dict[str, Any]] = []
    for group, key in (("name", "names"), ("IMO", "imos"), ("call sign", "callsigns")):
        for obs in data[key]:
            periods.append(
                _period(obs["first_seen"], obs["last_seen"], obs["value"], group, obs["evidence"])
            )
    flag = ident.flag_name or ident.flag or "unallocated MID"
    periods.append(
        _period(data["first_seen"], data["last_seen"], f"{flag} (MMSI {mmsi})", "flag", "")
    )
    others: set[int] = set()
    for obs in ident.imos:
        others.update(m for m in mmsis_for_imo(store, obs.value) if m != mmsi)
    if others:
        for other, first, last in store.con.execute(
            "SELECT mmsi, min(time), max(time) FROM ais_positions "
            "WHERE mmsi IN (SELECT unnest(?)) GROUP BY mmsi ORDER BY 2",
            [sorted(others)],
        ).fetchall():
            periods.append(
                _period(
                    first.isoformat() if first else None,
                    last.isoformat() if last else None,
                    f"MMSI {other}",
                    "MMSI",
                    f"mmsi:{other}",
                )
            )
    links = [
        {"entity_id": e, "method": m, "score": s, "detail": d, "evidence": list(ev)}
        for e, m, s, d, ev in store.con.execute(
            "SELECT entity_id, method, score, detail, evidence FROM vessel_links "
            "WHERE mmsi = ? ORDER BY score DESC, entity_id",
            [mmsi],
        ).fetchall()
    ]
    if view is not None:
        refs = [link["entity_id"] for link in links] + [f"imo:{o.value}" for o in ident.imos]
        periods.extend(_owner_periods(view, refs))
    return {"identity": data, "links": links, "periods": periods, "other_mmsis": sorted(others)}


def _owner_periods(view: GraphView, refs: list[str]) -> list[dict[str, Any]]:
    """Owner and manager statements about the vessels these references name (an entity
    id of a link, ``imo:<n>``), with their dates, from the ownership graph."""
    from watchkeeper.graph.queries import AmbiguousEntity, EntityNotFound, resolve

    vessels: set[str] = set()
    for ref in refs:
        try:
            vessels.add(resolve(view, ref))
        except (EntityNotFound, AmbiguousEntity):
            continue
    out = []
    seen: set[str] = set()
    for vessel in sorted(vessels):
        for rel in view.holders_of(vessel):
            if rel.kind not in ("vessel_owner", "vessel_manager") or rel.id in seen:
                continue
            seen.add(rel.id)
            node = view.nodes.get(rel.holder)
            out.append(
                _period(
                    rel.start.isoformat() if rel.start else None,
                    rel.end.isoformat() if rel.end else None,
                    node.name if node is not None else rel.holder,
                    "owner" if rel.kind == "vessel_owner" else "manager",
                    f"list:{rel.holder}",
                )
            )
    return out


@router.get("/web/api/vessel/{mmsi}")
async def vessel_json(
    mmsi: Annotated[int, Path(ge=0, le=999_999_999)],
    request: Request,
    state: StateDep,
    _viewer: ReaderDep,
) -> dict[str, Any]:
    """The vessel's identity over time (see ``vessel_identity``)."""
    found = vessel_identity(state.store, mmsi, graph_view(request, state))
    if found is None:
        raise HTTPException(404, detail=f"no AIS reports from MMSI {mmsi}")
    return found


def graph_view(request: Request, state: ApiState) -> GraphView | None:
    """Today's ownership graph (cached by the API's graph router); None when the store
    has no graph loaded."""
    from watchkeeper.api.routers.graph import _view

    try:
        view = _view(request, state, datetime.now(UTC).date())
    except WatchkeeperError:
        return None
    return view if view.nodes else None


def _map_settings(state: Any) -> dict[str, Any]:
    return {"tile_url": state.settings.tile_url}


@router.get("/vessel/{mmsi}", response_class=HTMLResponse)
async def vessel_page(
    mmsi: str, request: Request, state: StateDep, _viewer: ReaderDep
) -> HTMLResponse:
    """A vessel: identity timeline, track with its events pinned, evidence."""
    if not mmsi.isdigit() or len(mmsi) > 9:
        return error_page(request, 400, "An MMSI is up to nine digits.")
    found = vessel_identity(state.store, int(mmsi), graph_view(request, state))
    if found is None:
        return error_page(request, 404, f"No AIS reports from MMSI {int(mmsi)}.")
    ident = found["identity"]
    names = ident["names"]
    title = names[-1]["value"] if names else f"MMSI {int(mmsi)}"
    box = state.store.con.execute(
        "SELECT min(lon), min(lat), max(lon), max(lat) FROM ais_positions WHERE mmsi = ?",
        [int(mmsi)],
    ).fetchone()
    page = {
        "kind": "vessel",
        "bbox": list(box) if box and box[0] is not None else None,
        "mmsi": int(mmsi),
        **_map_settings(state),
        "periods": found["periods"],
    }
    response = render(request, "vessel.html", title=title, vessel=found, page=page)
    return allow_tiles(response, state.settings.tile_url)


# -- aircraft -------------------------------------------------------------------------


def aircraft_flights(store: Store, icao24: str) -> dict[str, Any]:
    """The aircraft's flights as GeoJSON lines (their stored paths, at most 200 points
    each) and the airports they used, as points."""
    from watchkeeper.movement.air.airports import default_airports

    rows = store.con.execute(
        "SELECT flight_id, callsign, start_time, end_time, departure, arrival, path "
        "FROM air_flights WHERE icao24 = ? ORDER BY start_time",
        [icao24],
    ).fetchall()
    features: list[dict[str, Any]] = []
    used: set[str] = set()
    for flight_id, callsign, start, end, dep, arr, path in rows:
        coords = [[round(lon, DECIMALS), round(lat, DECIMALS)] for lat, lon in json.loads(path)]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": coords},
                "properties": {
                    "kind": "flight",
                    "flight_id": flight_id,
                    "callsign": callsign,
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                    "departure": dep,
                    "arrival": arr,
                },
            }
        )
        used.update(code for code in (dep, arr) if code)
    airports = default_airports()
    for code in sorted(used):
        port = airports.get(code)
        if port is None:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [port.lon, port.lat]},
                "properties": {"kind": "airport", "label": port.label(), "country": port.country},
            }
        )
    return {"type": "FeatureCollection", "features": features}


Icao24 = Annotated[str, Path(pattern="^[0-9a-fA-F]{6}$", description="ICAO 24-bit address")]


@router.get("/web/api/aircraft/{icao24}/flights")
async def aircraft_flights_json(icao24: Icao24, state: StateDep, _viewer: ReaderDep) -> Any:
    return aircraft_flights(state.store, icao24.lower())


@router.get("/aircraft/{icao24}", response_class=HTMLResponse)
async def aircraft_page(
    icao24: str, request: Request, state: StateDep, _viewer: ReaderDep
) -> HTMLResponse:
    """An aircraft: what is known of it, its flights on the map, airports, operators
    named by events, and its events."""
    code = icao24.lower()
    if len(code) != 6 or any(c not in "0123456789abcdef" for c in code):
        return error_page(request, 400, "An ICAO 24-bit address is six hex digits.")
    cur = state.store.con.execute("SELECT * FROM air_aircraft WHERE icao24 = ?", [code])
    row = cur.fetchone()
    if row is None:
        return error_page(request, 404, f"No aircraft {code} in the store.")
    aircraft = dict(zip([d[0] for d in cur.description or ()], row, strict=True))
    flights = state.store.con.execute(
        "SELECT flight_id, callsign, start_time, departure, arrival, distance_km "
        "FROM air_flights WHERE icao24 = ? ORDER BY start_time",
        [code],
    ).fetchall()
    operators = state.store.con.execute(
        "SELECT DISTINCT s FROM (SELECT unnest(subjects) AS s FROM events "
        "WHERE list_contains(subjects, ?) AND type IN "
        "('listed_operator_flight', 'listed_aircraft_flight', 'air_bridge')) "
        "WHERE s NOT LIKE 'icao24:%' AND s NOT LIKE 'reg:%' ORDER BY s",
        [f"icao24:{code}"],
    ).fetchall()
    page = {"kind": "aircraft", "icao24": code, **_map_settings(state)}
    response = render(
        request,
        "aircraft.html",
        aircraft=aircraft,
        flights=flights,
        operators=[o for (o,) in operators],
        page=page,
    )
    return allow_tiles(response, state.settings.tile_url)
