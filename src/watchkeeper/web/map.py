"""The map view (``/map``) and the JSON it draws from: events in an area and a time
window, filtered by type, severity and country (``/web/api/events``, paged, with their
detail and evidence; ``/web/api/events/points``, every match as a compact point for the
map, most severe first, capped), and the ports and airports of sanctioned countries
(``/web/api/places``).

Events carry a score (0..1), not a severity; the map names bands of it the way alerts
name theirs (``SEVERITY_FLOORS``). An event's country is the one its parameters name:
the port called at, a voyage's or flight's ends."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from watchkeeper.api.deps import StateDep
from watchkeeper.store import Store
from watchkeeper.web.render import render
from watchkeeper.web.security import ReaderDep

router = APIRouter()

# Lowest score of each severity, highest band first.
SEVERITY_FLOORS: tuple[tuple[str, float], ...] = (
    ("critical", 0.9),
    ("high", 0.7),
    ("medium", 0.4),
    ("low", 0.0),
)
SEVERITIES = tuple(name for name, _ in SEVERITY_FLOORS)
# Event parameters that name a country (ISO alpha-2, lower case).
COUNTRY_PARAMS = (
    "port_country",
    "origin_country",
    "destination_country",
    "departure_country",
    "arrival_country",
)
MAX_PAGE = 1_000
MAX_POINTS = 50_000
# Events closer than this many screen pixels share one point on the map.
CELL_PX = 3.0


def allow_tiles(response: HTMLResponse, tile_url: str | None) -> HTMLResponse:
    """Let a map page fetch raster tiles from the tile server the user set
    (``WATCHKEEPER_TILE_URL``): its origin is added to the page's Content-Security-Policy
    ``connect-src`` and ``img-src``. Without one, nothing changes."""
    if not tile_url:
        return response
    parts = urlsplit(tile_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return response  # not a URL a browser can fetch tiles from: left to fail visibly
    origin = f"{parts.scheme}://{parts.netloc}"
    policy = response.headers.get("Content-Security-Policy", "")
    directives = []
    for directive in policy.split(";"):
        name = directive.strip().split(" ", 1)[0]
        directives.append(
            f"{directive.strip()} {origin}" if name in ("connect-src", "img-src") else directive
        )
    response.headers["Content-Security-Policy"] = ";".join(directives)
    return response


def severity_of(score: float) -> str:
    for name, floor in SEVERITY_FLOORS:
        if score >= floor:
            return name
    return "low"


def _severity_sql() -> str:
    cases = " ".join(f"WHEN score >= {floor} THEN '{name}'" for name, floor in SEVERITY_FLOORS)
    return f"CASE {cases} ELSE 'low' END"


def _country_sql() -> str:
    keys = ", ".join(f"lower(json_extract_string(params, '$.{k}'))" for k in COUNTRY_PARAMS)
    return f"list_filter([{keys}], x -> x IS NOT NULL)"


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """``west,south,east,north`` in degrees; west may exceed east across the antimeridian."""
    if text is None or not text.strip():
        return None
    parts = text.split(",")
    try:
        w, s, e, n = (float(p) for p in parts)
    except ValueError:
        raise HTTPException(
            400, detail=f"bbox {text!r}: four numbers west,south,east,north"
        ) from None
    if not (-180 <= w <= 180 and -180 <= e <= 180 and -90 <= s <= n <= 90):
        raise HTTPException(400, detail=f"bbox {text!r}: out of range or south above north")
    return w, s, e, n


def event_filter(
    bbox: tuple[float, float, float, float] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    types: list[str] | None = None,
    severities: list[str] | None = None,
    countries: list[str] | None = None,
    subject: str | None = None,
) -> tuple[str, list[Any]]:
    """The WHERE clause and parameters for events matching every filter given."""
    where: list[str] = []
    params: list[Any] = []
    if bbox is not None:
        w, s, e, n = bbox
        where.append("lat BETWEEN ? AND ?")
        params += [s, n]
        if w <= e:
            where.append("lon BETWEEN ? AND ?")
            params += [w, e]
        else:
            where.append("(lon >= ? OR lon <= ?)")
            params += [w, e]
    if start is not None:
        where.append("end_time >= ?")
        params.append(start)
    if end is not None:
        where.append("start_time <= ?")
        params.append(end)
    if types:
        where.append("type IN (SELECT unnest(?))")
        params.append(types)
    if severities:
        unknown = [s for s in severities if s not in SEVERITIES]
        if unknown:
            raise HTTPException(
                400, detail=f"unknown severity {unknown[0]!r}; one of {', '.join(SEVERITIES)}"
            )
        where.append(f"{_severity_sql()} IN (SELECT unnest(?))")
        params.append(severities)
    if countries:
        where.append(f"len(list_intersect({_country_sql()}, ?)) > 0")
        params.append([c.strip().lower() for c in countries])
    if subject:
        where.append("list_contains(subjects, ?)")
        params.append(subject)
    return (" AND ".join(where) or "TRUE"), params


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


def find_events(
    store: Store, where: str, params: list[Any], offset: int, limit: int
) -> dict[str, Any]:
    """A page of matching events, most severe then earliest first, and the total."""
    total = store.con.execute(f"SELECT count(*) FROM events WHERE {where}", params).fetchone()
    rows = store.con.execute(
        "SELECT event_id, type, subjects, start_time, end_time, lat, lon, score, detail, "
        f"evidence, {_country_sql()} FROM events WHERE {where} "
        "ORDER BY score DESC, start_time, event_id LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    events = [
        {
            "id": r[0],
            "type": r[1],
            "subjects": list(r[2]),
            "start": _iso(r[3]),
            "end": _iso(r[4]),
            "lat": r[5],
            "lon": r[6],
            "score": r[7],
            "severity": severity_of(r[7]),
            "detail": r[8],
            "evidence": list(r[9]),
            "countries": list(r[10]),
        }
        for r in rows
    ]
    return {
        "total": int(total[0]) if total else 0,
        "offset": offset,
        "limit": limit,
        "events": events,
    }


def cell_degrees(zoom: float) -> float:
    """The side of the grid cell that events share at ``zoom``: about ``CELL_PX`` screen
    pixels of a MapLibre map (the world is 512 pixels wide at zoom 0), in degrees."""
    return float(360.0 / (512.0 * 2.0 ** max(0.0, min(zoom, 22.0))) * CELL_PX)


def event_points(
    store: Store, where: str, params: list[Any], cap: int, zoom: float | None = None
) -> dict[str, Any]:
    """The matching events with a position, most severe first, at most ``cap``, as
    parallel arrays (id, type index, severity index, lon, lat, count) to stay small.
    With ``zoom``, events closer than a few pixels at that zoom share one point: the
    most severe of them, with ``count`` how many it stands for (dots under one another
    draw nothing more and cost the browser as much)."""
    placed = f"lat IS NOT NULL AND lon IS NOT NULL AND {where}"
    order = "score DESC, start_time, event_id"
    if zoom is None:
        sql = (
            f"SELECT event_id, type, {_severity_sql()} AS severity, round(lon, 4) AS lon, "
            f"round(lat, 4) AS lat, 1 AS n FROM events WHERE {placed} ORDER BY {order} LIMIT ?"
        )
        args = [*params, cap + 1]
    else:
        sql = (
            "SELECT event_id, type, severity, lon, lat, n FROM ("
            "SELECT *, count(*) OVER cell AS n, "
            f"row_number() OVER (cell ORDER BY {order}) AS rank FROM ("
            f"SELECT event_id, type, score, start_time, {_severity_sql()} AS severity, "
            "round(lon, 4) AS lon, round(lat, 4) AS lat, floor(lon / ?) AS cx, "
            f"floor(lat / ?) AS cy FROM events WHERE {placed}) "
            "WINDOW cell AS (PARTITION BY cx, cy)"
            f") WHERE rank = 1 ORDER BY {order} LIMIT ?"
        )
        cell = cell_degrees(zoom)
        args = [cell, cell, *params, cap + 1]
    cols = store.con.execute(sql, args).fetchnumpy()
    ids = [str(x) for x in cols["event_id"]]
    capped = len(ids) > cap
    n = min(len(ids), cap)
    types = sorted({str(t) for t in cols["type"][:n]})
    type_index = {t: i for i, t in enumerate(types)}
    sev_index = {s: i for i, s in enumerate(SEVERITIES)}
    return {
        "capped": capped,
        "zoom": zoom,
        "types": types,
        "severities": list(SEVERITIES),
        "id": ids[:n],
        "type": [type_index[str(t)] for t in cols["type"][:n]],
        "severity": [sev_index[str(s)] for s in cols["severity"][:n]],
        "lon": cols["lon"][:n].tolist(),
        "lat": cols["lat"][:n].tolist(),
        "count": [int(c) for c in cols["n"][:n]],
    }


BBox = Annotated[str | None, Query(description="west,south,east,north (degrees)")]
Types = Annotated[list[str] | None, Query(alias="type", description="Event types")]
Severities = Annotated[
    list[str] | None, Query(alias="severity", description="low, medium, high, critical")
]
Countries = Annotated[
    list[str] | None, Query(alias="country", description="ISO 3166 alpha-2 of a port or airport")
]


@router.get("/web/api/events")
async def events_json(
    state: StateDep,
    _viewer: ReaderDep,
    bbox: BBox = None,
    start: datetime | None = None,
    end: datetime | None = None,
    types: Types = None,
    severities: Severities = None,
    countries: Countries = None,
    subject: Annotated[str | None, Query(description="Only events about 'mmsi:...'")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> dict[str, Any]:
    """A page of the events in ``bbox`` overlapping ``[start, end]`` of the types,
    severities and countries asked, most severe first, with detail and evidence."""
    where, params = event_filter(
        parse_bbox(bbox), start, end, types, severities, countries, subject
    )
    return find_events(state.store, where, params, offset, limit)


@router.get("/web/api/events/points")
async def event_points_json(
    state: StateDep,
    _viewer: ReaderDep,
    bbox: BBox = None,
    start: datetime | None = None,
    end: datetime | None = None,
    types: Types = None,
    severities: Severities = None,
    countries: Countries = None,
    subject: Annotated[str | None, Query()] = None,
    cap: Annotated[int, Query(ge=1, le=MAX_POINTS)] = MAX_POINTS,
    zoom: Annotated[
        float | None, Query(ge=0, le=22, description="Merge events a few pixels apart")
    ] = None,
) -> dict[str, Any]:
    """The same filters as ``/web/api/events``, as compact points for the map."""
    where, params = event_filter(
        parse_bbox(bbox), start, end, types, severities, countries, subject
    )
    return event_points(state.store, where, params, cap, zoom)


@lru_cache(maxsize=4)
def sanctioned_places(countries: tuple[str, ...]) -> dict[str, Any]:
    """The ports (World Port Index) and airports (``airportsdata``, those with an IATA
    code: the rest are strips and heliports) of these countries, as GeoJSON points."""
    from watchkeeper.movement.air.airports import default_airports
    from watchkeeper.movement.ports import port_index

    wanted = {c.lower() for c in countries}
    features: list[dict[str, Any]] = []
    for port in port_index().ports:
        if port.country in wanted:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [port.lon, port.lat]},
                    "properties": {"kind": "port", "label": port.label(), "country": port.country},
                }
            )
    for airport in default_airports().airports:
        if airport.country.lower() in wanted and airport.iata:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [airport.lon, airport.lat]},
                    "properties": {
                        "kind": "airport",
                        "label": airport.label(),
                        "country": airport.country.lower(),
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features}


@router.get("/web/api/places")
async def places_json(state: StateDep, _viewer: ReaderDep) -> dict[str, Any]:
    """Ports and airports of the sanctioned countries (``WATCHKEEPER_SANCTIONED_COUNTRIES``)."""
    return sanctioned_places(tuple(sorted(state.settings.sanctioned_countries)))


def _focus(store: Store, event_id: str | None) -> dict[str, Any] | None:
    """The event a link asked the map to open on (``/map?event=<id>``), with its place."""
    if not event_id:
        return None
    row = store.con.execute(
        "SELECT event_id, type, lat, lon, detail, evidence FROM events WHERE event_id = ?",
        [event_id],
    ).fetchone()
    if row is None:
        return {"id": event_id, "missing": "no such event"}
    if row[2] is None or row[3] is None:
        return {"id": event_id, "missing": "this event has no position"}
    keys = ("id", "type", "lat", "lon", "detail", "evidence")
    return dict(zip(keys, [*row[:5], list(row[5])], strict=True))


@router.get("/map", response_class=HTMLResponse)
async def map_page(
    request: Request,
    state: StateDep,
    _viewer: ReaderDep,
    event: Annotated[str | None, Query(description="Open the map on this event")] = None,
) -> HTMLResponse:
    """Every event in a time window and area, filtered; sanctioned ports and airports;
    opened on one event when ``event`` names it."""
    rows = state.store.con.execute("SELECT DISTINCT type FROM events ORDER BY 1").fetchall()
    types = [t for (t,) in rows]
    span = state.store.con.execute("SELECT min(start_time), max(end_time) FROM events").fetchone()
    page = {
        "kind": "map",
        "tile_url": state.settings.tile_url,
        "types": types,
        "severities": list(SEVERITIES),
        "countries": sorted(state.settings.sanctioned_countries),
        "first": _iso(span[0]) if span else None,
        "last": _iso(span[1]) if span else None,
        "focus": _focus(state.store, event),
    }
    return allow_tiles(render(request, "map.html", page=page), state.settings.tile_url)
