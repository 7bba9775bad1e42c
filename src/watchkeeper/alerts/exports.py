"""Exports for the tools analysts already use: events and tracks as GeoJSON (RFC 7946),
KML 2.2 and CSV; alerts as CSV and XLSX; a case's network as GraphML or GEXF.

Every export names where it came from: the list versions the store holds (source,
version, published and fetched dates, file hash, and how many of the exported list
entries each version holds) and the input files behind the exported events (AIS and
ADS-B files, shipment files, reports, graph loads), resolved from the events' evidence
ids. GeoJSON carries it as a top-level ``watchkeeper`` member, KML in the document's
``<ExtendedData>``, XLSX in a ``Sources`` sheet, GraphML and GEXF in their own
description elements, and CSV in a sidecar ``<file>.meta.json``: a commented header
would be read as data rows by Excel, LibreOffice and ``pandas.read_csv``, so the CSV
stays a plain rectangle of cells.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from watchkeeper.alerts.cases import Case, find_case
from watchkeeper.alerts.store import Alert, list_alerts
from watchkeeper.errors import InputError
from watchkeeper.graph.export import _clean, to_gexf, to_graphml
from watchkeeper.graph.model import RELATION_KINDS, Node, Relation
from watchkeeper.store import Store

KML_NS = "http://www.opengis.net/kml/2.2"
# Tracks longer than this are thinned (every k-th position, the last always kept).
MAX_TRACK_POINTS = 5000
# Positions read around a case's window, so a track shows the approach and departure.
TRACK_PAD = timedelta(days=1)
# A spreadsheet evaluates a cell that starts with one of these as a formula (CSV
# injection): a vessel may broadcast any name. Such text cells get a leading quote.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_CELL_MAX = 32767  # characters in one Excel cell
XLSX_CUT = " [cut: the CSV export holds all of it]"


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


# -- reading ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EventQuery:
    """Which events to export; every field that is set must hold (times in UTC)."""

    types: tuple[str, ...] = ()
    since: datetime | None = None  # events that end at or after
    until: datetime | None = None  # events that start at or before
    subject: str | None = None
    alert_id: str | None = None
    case_id: str | None = None
    event_ids: tuple[str, ...] | None = None  # only these


@dataclass(frozen=True)
class ExportEvent:
    event_id: str
    type: str
    subjects: list[str]
    start_time: datetime
    end_time: datetime
    lat: float | None
    lon: float | None
    score: float
    detail: str
    params: dict[str, Any]
    evidence: list[str]

    def properties(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "type": self.type,
            "subjects": self.subjects,
            "start_time": _iso(self.start_time),
            "end_time": _iso(self.end_time),
            "score": self.score,
            "detail": self.detail,
            "evidence": self.evidence,
        }


def _alert_event_ids(store: Store, alert_ids: Sequence[str]) -> list[str]:
    rows = store.con.execute(
        "SELECT DISTINCT unnest(event_ids) FROM alerts WHERE alert_id IN (SELECT unnest(?))",
        [list(alert_ids)],
    ).fetchall()
    return sorted(r[0] for r in rows)


def select_events(store: Store, query: EventQuery) -> list[ExportEvent]:
    """The events ``query`` selects, by start time then id. An alert or a case selects
    the events behind its alerts; an unknown alert or case is an InputError."""
    ids: list[str] | None = None if query.event_ids is None else sorted(set(query.event_ids))
    if query.alert_id is not None:
        if (
            store.con.execute(
                "SELECT 1 FROM alerts WHERE alert_id = ?", [query.alert_id]
            ).fetchone()
            is None
        ):
            raise InputError(None, f"no alert {query.alert_id!r}", field="alert")
        alert_ids = _alert_event_ids(store, [query.alert_id])
        ids = alert_ids if ids is None else sorted(set(ids) & set(alert_ids))
    if query.case_id is not None:
        case_ids = _alert_event_ids(store, find_case(store, query.case_id).alert_ids)
        ids = case_ids if ids is None else sorted(set(ids) & set(case_ids))
    rows = store.con.execute(
        "SELECT event_id, type, subjects, start_time, end_time, lat, lon, score, detail, "
        "params, evidence FROM events "
        "WHERE (? OR event_id IN (SELECT unnest(?))) "
        "AND (len(?) = 0 OR type IN (SELECT unnest(?))) "
        "AND (?::TIMESTAMPTZ IS NULL OR end_time >= ?) "
        "AND (?::TIMESTAMPTZ IS NULL OR start_time <= ?) "
        "AND (? IS NULL OR list_contains(subjects, ?)) "
        "ORDER BY start_time, event_id",
        [
            ids is None,
            ids or [],
            list(query.types),
            list(query.types),
            query.since,
            query.since,
            query.until,
            query.until,
            query.subject,
            query.subject,
        ],
    ).fetchall()
    return [
        ExportEvent(
            r[0],
            r[1],
            list(r[2]),
            r[3],
            r[4],
            r[5],
            r[6],
            float(r[7]),
            r[8],
            json.loads(r[9]) if isinstance(r[9], str) else (r[9] or {}),
            list(r[10]),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class Track:
    """A vessel's reported positions or a flight's route, oldest first. ``points`` are
    (time or None, lat, lon) in degrees; flights carry times only at their ends."""

    subject: str  # 'mmsi:...' or 'icao24:...'
    kind: str  # 'vessel' | 'flight'
    label: str
    start_time: datetime
    end_time: datetime
    points: list[tuple[datetime | None, float, float]]
    reported: int  # positions before thinning
    ais_ingests: tuple[int, ...] = ()
    air_ingests: tuple[int, ...] = ()
    flight_id: str | None = None

    def properties(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "subject": self.subject,
            "kind": self.kind,
            "name": self.label,
            "start_time": _iso(self.start_time),
            "end_time": _iso(self.end_time),
            "points": len(self.points),
            "reported": self.reported,
        }
        if self.flight_id:
            out["flight_id"] = self.flight_id
        return out


def _thin(points: list[Any], limit: int) -> list[Any]:
    if len(points) <= limit:
        return points
    step = -(-len(points) // limit)
    kept = points[::step]
    return kept if kept[-1] is points[-1] else [*kept, points[-1]]


def vessel_mmsis(store: Store, subjects: Iterable[str]) -> list[int]:
    """The MMSIs among ``subjects``, and those that broadcast an ``imo:`` subject's IMO."""
    mmsis: set[int] = set()
    imos: list[int] = []
    for s in subjects:
        kind, _, value = s.partition(":")
        if kind in ("mmsi", "imo") and value.isdigit():
            (mmsis.add(int(value)) if kind == "mmsi" else imos.append(int(value)))
    if imos:
        rows = store.con.execute(
            "SELECT DISTINCT mmsi FROM ais_static WHERE imo IN (SELECT unnest(?))", [imos]
        ).fetchall()
        mmsis.update(int(r[0]) for r in rows)
    return sorted(mmsis)


def select_tracks(
    store: Store,
    subjects: Iterable[str],
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    max_points: int = MAX_TRACK_POINTS,
) -> list[Track]:
    """The tracks of the vessels (``mmsi:``, ``imo:``) and aircraft (``icao24:``) among
    ``subjects`` between ``since`` and ``until`` (UTC; None: unbounded): one track per
    vessel, one per flight."""
    subjects = list(subjects)
    labels = subject_labels(store, subjects)
    tracks: list[Track] = []
    for mmsi in vessel_mmsis(store, subjects):
        rows = store.con.execute(
            "SELECT time, lat, lon, ingest_id FROM ais_positions WHERE mmsi = ? "
            "AND lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180 "
            "AND (?::TIMESTAMPTZ IS NULL OR time >= ?) AND (?::TIMESTAMPTZ IS NULL OR time <= ?) "
            "ORDER BY time, msg_id",
            [mmsi, since, since, until, until],
        ).fetchall()
        if not rows:
            continue
        subject = f"mmsi:{mmsi}"
        label = labels.get(subject) or _vessel_name(store, mmsi) or subject
        tracks.append(
            Track(
                subject,
                "vessel",
                label,
                rows[0][0],
                rows[-1][0],
                _thin([(r[0], float(r[1]), float(r[2])) for r in rows], max_points),
                len(rows),
                ais_ingests=tuple(sorted({int(r[3]) for r in rows})),
            )
        )
    icaos = sorted({s.partition(":")[2] for s in subjects if s.startswith("icao24:")})
    for icao in icaos:
        rows = store.con.execute(
            "SELECT f.flight_id, f.callsign, f.departure, f.arrival, f.start_time, f.end_time, "
            "f.path, s.ingest_id FROM air_flights f "
            "LEFT JOIN air_states s ON s.row_id = f.first_row WHERE f.icao24 = ? "
            "AND (?::TIMESTAMPTZ IS NULL OR f.end_time >= ?) "
            "AND (?::TIMESTAMPTZ IS NULL OR f.start_time <= ?) ORDER BY f.start_time",
            [icao, since, since, until, until],
        ).fetchall()
        for fid, callsign, dep, arr, start, end, path, ingest in rows:
            coords = [
                (float(p[0]), float(p[1]))
                for p in (json.loads(path) if isinstance(path, str) else path or [])
                if -90 <= float(p[0]) <= 90 and -180 <= float(p[1]) <= 180
            ]
            if not coords:
                continue
            points: list[tuple[datetime | None, float, float]] = [
                (None, lat, lon) for lat, lon in coords
            ]
            points[0] = (start, *coords[0])
            points[-1] = (end, *coords[-1])
            route = f"{dep or '?'}->{arr or '?'}"
            tracks.append(
                Track(
                    f"icao24:{icao}",
                    "flight",
                    f"{callsign or icao} {route}",
                    start,
                    end,
                    _thin(points, max_points),
                    len(points),
                    air_ingests=(int(ingest),) if ingest is not None else (),
                    flight_id=fid,
                )
            )
    return tracks


def _vessel_name(store: Store, mmsi: int) -> str | None:
    row = store.con.execute(
        "SELECT name FROM ais_static WHERE mmsi = ? AND name IS NOT NULL AND name <> '' "
        "ORDER BY time DESC LIMIT 1",
        [mmsi],
    ).fetchone()
    return str(row[0]).strip() if row else None


def subject_labels(store: Store, subjects: Iterable[str]) -> dict[str, str]:
    """A readable name for each subject the store can name: a list entry's caption, a
    vessel's broadcast name, an aircraft's registration, a report's title, a shipment
    line's goods. Subjects it cannot name are left out."""
    subjects = sorted(set(subjects))
    labels: dict[str, str] = {}
    listed = [s for s in subjects if ":" not in s]
    if listed:
        for sid, caption in store.con.execute(
            "SELECT e.id, arg_max(e.caption, e.version_id) FROM entities e "
            "WHERE e.id IN (SELECT unnest(?)) GROUP BY e.id",
            [listed],
        ).fetchall():
            labels[sid] = caption
    by_kind: dict[str, list[str]] = {}
    for s in subjects:
        kind, sep, value = s.partition(":")
        if sep:
            by_kind.setdefault(kind, []).append(value)
    for kind, sql in (
        (
            "mmsi",
            "SELECT mmsi::VARCHAR, arg_max(trim(name), time) FROM ais_static WHERE "
            "mmsi::VARCHAR IN (SELECT unnest(?)) AND name IS NOT NULL AND trim(name) <> '' "
            "GROUP BY mmsi",
        ),
        (
            "imo",
            "SELECT imo::VARCHAR, arg_max(trim(name), time) FROM ais_static WHERE "
            "imo::VARCHAR IN (SELECT unnest(?)) AND name IS NOT NULL AND trim(name) <> '' "
            "GROUP BY imo",
        ),
        (
            "icao24",
            "SELECT icao24, coalesce(registration, icao24) || coalesce(' ' || owner_operator, '') "
            "FROM air_aircraft WHERE icao24 IN (SELECT unnest(?))",
        ),
        ("doc", "SELECT doc_id, title FROM documents WHERE doc_id IN (SELECT unnest(?))"),
        (
            "cargo",
            "SELECT line_id, coalesce(goods, shipment_id) FROM shipment_lines "
            "WHERE line_id IN (SELECT unnest(?))",
        ),
    ):
        values = by_kind.get(kind)
        if values:
            for value, label in store.con.execute(sql, [values]).fetchall():
                if label:
                    labels[f"{kind}:{value}"] = str(label)
    for value in by_kind.get("reg", []):
        labels.setdefault(f"reg:{value}", value)
    return labels


# -- provenance ------------------------------------------------------------------------


@dataclass
class Provenance:
    """What an export was made from: evidence ids, list entries, input ingests."""

    evidence: set[str] = field(default_factory=set)
    entities: set[str] = field(default_factory=set)
    ais_ingests: set[int] = field(default_factory=set)
    air_ingests: set[int] = field(default_factory=set)

    def add_events(self, events: Iterable[ExportEvent]) -> Provenance:
        for e in events:
            self.evidence.update(e.evidence)
            self.entities.update(s for s in e.subjects if ":" not in s)
        return self

    def add_tracks(self, tracks: Iterable[Track]) -> Provenance:
        for t in tracks:
            self.ais_ingests.update(t.ais_ingests)
            self.air_ingests.update(t.air_ingests)
        return self

    def add_subjects(self, subjects: Iterable[str]) -> Provenance:
        self.entities.update(s for s in subjects if ":" not in s)
        return self


def _evidence_of(store: Store, evidence: set[str]) -> set[str]:
    """The evidence plus that of the events it names (``event:<id>``), one step."""
    nested = [e.partition(":")[2] for e in evidence if e.startswith("event:")]
    if not nested:
        return set(evidence)
    rows = store.con.execute(
        "SELECT DISTINCT unnest(evidence) FROM events WHERE event_id IN (SELECT unnest(?))",
        [nested],
    ).fetchall()
    return set(evidence) | {r[0] for r in rows}


def _ids(evidence: set[str], prefix: str) -> list[str]:
    return sorted({e[len(prefix) :].split("#", 1)[0] for e in evidence if e.startswith(prefix)})


def _ints(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()]


def list_versions_block(store: Store, entity_ids: Iterable[str]) -> list[dict[str, Any]]:
    """Every list version the store holds, oldest first per source, with how many of
    ``entity_ids`` it lists (``entries_cited``): the versions an analyst must name."""
    ids = sorted(set(entity_ids))
    cited: dict[int, int] = {}
    if ids:
        cited = dict(
            store.con.execute(
                "SELECT version_id, count(DISTINCT id) FROM entities "
                "WHERE id IN (SELECT unnest(?)) GROUP BY version_id",
                [ids],
            ).fetchall()
        )
    return [
        {
            "source": v.source,
            "version": v.version,
            "published": v.published.isoformat() if v.published else None,
            "fetched": _iso(v.loaded_at),
            "sha256": v.file_hash,
            "files": v.files,
            "entries": v.entity_count,
            "entries_cited": cited.get(v.version_id, 0),
        }
        for v in store.list_versions()
    ]


def data_sources(store: Store, prov: Provenance) -> dict[str, list[dict[str, Any]]]:
    """The input files behind ``prov``: AIS and ADS-B ingests, shipment batches, reports
    and graph loads, each with its file and hash."""
    evidence = _evidence_of(store, prov.evidence)
    ais = set(prov.ais_ingests)
    msg_ids = _ints(_ids(evidence, "ais:"))
    if msg_ids:
        ais.update(
            int(r[0])
            for r in store.con.execute(
                "SELECT DISTINCT ingest_id FROM (SELECT msg_id, ingest_id FROM ais_positions "
                "UNION ALL SELECT msg_id, ingest_id FROM ais_static UNION ALL "
                "SELECT msg_id, ingest_id FROM ais_other) WHERE msg_id IN (SELECT unnest(?))",
                [msg_ids],
            ).fetchall()
        )
    air = set(prov.air_ingests)
    rows_ = _ints(_ids(evidence, "adsb:"))
    flights = _ids(evidence, "flight:")
    if rows_ or flights:
        air.update(
            int(r[0])
            for r in store.con.execute(
                "SELECT DISTINCT ingest_id FROM air_states WHERE row_id IN (SELECT unnest(?)) "
                "OR row_id IN (SELECT first_row FROM air_flights "
                "WHERE flight_id IN (SELECT unnest(?)))",
                [rows_, flights],
            ).fetchall()
        )
    out: dict[str, list[dict[str, Any]]] = {"ais": [], "adsb": [], "cargo": [], "reports": []}
    out["graph"] = []
    if ais:
        for iid, src, fmt, sha, finished in store.con.execute(
            "SELECT ingest_id, source, format, file_hash, finished_at FROM ais_ingests "
            "WHERE ingest_id IN (SELECT unnest(?)) ORDER BY ingest_id",
            [sorted(ais)],
        ).fetchall():
            out["ais"].append(
                {"ingest": iid, "file": src, "format": fmt, "sha256": sha, "loaded": _iso(finished)}
            )
    if air:
        for iid, src, fmt, sha, finished in store.con.execute(
            "SELECT ingest_id, source, format, file_hash, finished_at FROM air_ingests "
            "WHERE ingest_id IN (SELECT unnest(?)) ORDER BY ingest_id",
            [sorted(air)],
        ).fetchall():
            out["adsb"].append(
                {"ingest": iid, "file": src, "format": fmt, "sha256": sha, "loaded": _iso(finished)}
            )
    lines = _ids(evidence, "cargo:")
    if lines:
        for bid, layout, sources, sha, at in store.con.execute(
            "SELECT batch_id, layout, sources, source_hash, ingested_at FROM cargo_batches "
            "WHERE batch_id IN (SELECT batch_id FROM shipment_lines "
            "WHERE line_id IN (SELECT unnest(?))) ORDER BY batch_id",
            [lines],
        ).fetchall():
            out["cargo"].append(
                {"batch": bid, "layout": layout, "files": list(sources), "sha256": sha,
                 "loaded": _iso(at)}
            )  # fmt: skip
    docs = _ids(evidence, "doc:")
    if docs:
        for did, src, title, published, read_at in store.con.execute(
            "SELECT doc_id, source, title, published, read_at FROM documents "
            "WHERE doc_id IN (SELECT unnest(?)) ORDER BY doc_id",
            [docs],
        ).fetchall():
            out["reports"].append(
                {"doc": did, "file": src, "title": title, "published": published,
                 "read": _iso(read_at)}
            )  # fmt: skip
    rels = _ids(evidence, "rel:")
    if rels:
        for vid, src, version, sha, at in store.con.execute(
            "SELECT version_id, source, version, file_hash, loaded_at FROM graph_versions "
            "WHERE version_id IN (SELECT version_id FROM graph_relations "
            "WHERE id IN (SELECT unnest(?))) ORDER BY version_id",
            [rels],
        ).fetchall():
            out["graph"].append(
                {"load": vid, "source": src, "version": version, "sha256": sha,
                 "loaded": _iso(at)}
            )  # fmt: skip
    return out


def export_metadata(
    store: Store, prov: Provenance, *, what: str, query: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The metadata block every export carries (see the module docstring)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        generator = f"watchkeeper {version('watchkeeper')}"
    except PackageNotFoundError:  # a source tree that was never installed
        from watchkeeper import __version__

        generator = f"watchkeeper {__version__}"
    entities = set(prov.entities) | set(_ids(_evidence_of(store, prov.evidence), "list:"))
    return {
        "generator": generator,
        "generated_at": _iso(datetime.now(UTC)),
        "what": what,
        "query": {k: v for k, v in (query or {}).items() if v not in (None, [], ())},
        "list_versions": list_versions_block(store, entities),
        "data_sources": data_sources(store, prov),
    }


def metadata_text(meta: dict[str, Any]) -> str:
    """The metadata block as plain lines, for places that show text (KML description)."""
    lines = [f"{meta['what']} exported by {meta['generator']} at {meta['generated_at']}"]
    for v in meta["list_versions"]:
        lines.append(
            f"list {v['source']} version {v['version']} (published {v['published'] or '?'}, "
            f"fetched {v['fetched']}, sha256 {v['sha256'][:16]}..., "
            f"{v['entries_cited']} exported entries listed)"
        )
    for kind, items in meta["data_sources"].items():
        for item in items:
            name = item.get("file") or ", ".join(item.get("files", [])) or item.get("source")
            sha = item.get("sha256")
            lines.append(f"{kind}: {name}" + (f" (sha256 {sha[:16]}...)" if sha else ""))
    return "\n".join(lines)


# -- GeoJSON ---------------------------------------------------------------------------


def _round(lon: float, lat: float) -> list[float]:
    return [round(lon, 6), round(lat, 6)]


def _line_geometry(points: Sequence[tuple[Any, float, float]]) -> dict[str, Any]:
    """A LineString, or a MultiLineString cut where the track crosses the antimeridian
    (RFC 7946 section 3.1.9), or a Point for a single position."""
    if len(points) == 1:
        return {"type": "Point", "coordinates": _round(points[0][2], points[0][1])}
    parts: list[list[list[float]]] = [[]]
    prev: tuple[float, float] | None = None
    for _t, lat, lon in points:
        if prev is not None and abs(lon - prev[1]) > 180:
            # the short way round crosses +-180: end at the meridian, go on from its far side
            plat, plon = prev
            unwrapped = lon + 360 if lon < plon else lon - 360
            edge = 180.0 if unwrapped > plon else -180.0
            at = plat + (lat - plat) * (edge - plon) / (unwrapped - plon)
            parts[-1].append(_round(edge, at))
            parts.append([_round(-edge, at)])
        parts[-1].append(_round(lon, lat))
        prev = (lat, lon)
    if len(parts) == 1:
        return {"type": "LineString", "coordinates": parts[0]}
    return {"type": "MultiLineString", "coordinates": parts}


def to_geojson(
    events: Sequence[ExportEvent], tracks: Sequence[Track], meta: dict[str, Any]
) -> bytes:
    """A GeoJSON FeatureCollection (RFC 7946: WGS 84, [lon, lat]): one Point feature per
    located event (an event with no position has a null geometry), one LineString per
    track; ``meta`` as the top-level ``watchkeeper`` member."""
    features: list[dict[str, Any]] = []
    for e in events:
        located = e.lat is not None and e.lon is not None
        features.append(
            {
                "type": "Feature",
                "id": e.event_id,
                "geometry": {"type": "Point", "coordinates": _round(e.lon, e.lat)}  # type: ignore[arg-type]
                if located
                else None,
                "properties": {"feature": "event", **e.properties(), "params": e.params},
            }
        )
    for t in tracks:
        features.append(
            {
                "type": "Feature",
                "id": f"track:{t.flight_id or t.subject}",
                "geometry": _line_geometry(t.points),
                "properties": {"feature": "track", **t.properties()},
            }
        )
    doc = {"type": "FeatureCollection", "watchkeeper": meta, "features": features}
    return (json.dumps(doc, ensure_ascii=False, indent=1, default=str) + "\n").encode()


# -- KML -------------------------------------------------------------------------------


def _xml_id(text: str) -> str:
    """An XML ID (an NCName: no colon, no leading digit) standing for ``text``; the
    exact id is in the Placemark's ExtendedData."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


def _kml_data(parent: ET.Element, values: dict[str, Any]) -> None:
    box = ET.SubElement(parent, f"{{{KML_NS}}}ExtendedData")
    for name, value in values.items():
        if value is None:
            continue
        data = ET.SubElement(box, f"{{{KML_NS}}}Data", {"name": name})
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        ET.SubElement(data, f"{{{KML_NS}}}value").text = _clean(text)


def to_kml(events: Sequence[ExportEvent], tracks: Sequence[Track], meta: dict[str, Any]) -> bytes:
    """KML 2.2 (UTF-8): a folder of event Placemarks (Points with a TimeSpan) and one of
    track Placemarks (LineStrings); ``meta`` in the Document's description and
    ExtendedData. Text is escaped by the XML writer."""
    k = f"{{{KML_NS}}}"
    ET.register_namespace("", KML_NS)
    root = ET.Element(f"{k}kml")
    doc = ET.SubElement(root, f"{k}Document")
    ET.SubElement(doc, f"{k}name").text = _clean(f"Watchkeeper: {meta['what']}")
    ET.SubElement(doc, f"{k}description").text = _clean(metadata_text(meta))
    _kml_data(
        doc,
        {
            "generator": meta["generator"],
            "generated_at": meta["generated_at"],
            "list_versions": meta["list_versions"],
            "data_sources": meta["data_sources"],
        },
    )
    folder = ET.SubElement(doc, f"{k}Folder")
    ET.SubElement(folder, f"{k}name").text = "Events"
    for e in events:
        if e.lat is None or e.lon is None:
            continue  # KML has no unlocated Placemark; the GeoJSON and CSV keep them
        pm = ET.SubElement(folder, f"{k}Placemark", {"id": _xml_id(f"event-{e.event_id}")})
        ET.SubElement(pm, f"{k}name").text = _clean(f"{e.type} {e.event_id}")
        ET.SubElement(pm, f"{k}description").text = _clean(e.detail)
        span = ET.SubElement(pm, f"{k}TimeSpan")
        ET.SubElement(span, f"{k}begin").text = _iso(e.start_time)
        ET.SubElement(span, f"{k}end").text = _iso(e.end_time)
        _kml_data(
            pm,
            {
                "event_id": e.event_id,
                "type": e.type,
                "score": f"{e.score:g}",
                "subjects": " ".join(e.subjects),
                "evidence": " ".join(e.evidence),
            },
        )
        point = ET.SubElement(pm, f"{k}Point")
        ET.SubElement(point, f"{k}coordinates").text = f"{e.lon:.6f},{e.lat:.6f}"
    folder = ET.SubElement(doc, f"{k}Folder")
    ET.SubElement(folder, f"{k}name").text = "Tracks"
    for t in tracks:
        pm = ET.SubElement(
            folder, f"{k}Placemark", {"id": _xml_id(f"track-{t.flight_id or t.subject}")}
        )
        ET.SubElement(pm, f"{k}name").text = _clean(t.label)
        span = ET.SubElement(pm, f"{k}TimeSpan")
        ET.SubElement(span, f"{k}begin").text = _iso(t.start_time)
        ET.SubElement(span, f"{k}end").text = _iso(t.end_time)
        _kml_data(pm, {k2: str(v) for k2, v in t.properties().items()})
        line = ET.SubElement(pm, f"{k}LineString")
        ET.SubElement(line, f"{k}tessellate").text = "1"
        pts = t.points if len(t.points) > 1 else [t.points[0], t.points[0]]
        ET.SubElement(line, f"{k}coordinates").text = " ".join(
            f"{lon:.6f},{lat:.6f}" for _t, lat, lon in pts
        )
    ET.indent(root)
    out: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return out


# -- CSV and XLSX ----------------------------------------------------------------------


# A leading quote is guarded too: a spreadsheet hides it (so "'abc" would read "abc"),
# and without it "'=x" and a guarded "=x" would be the same cell.
_GUARDED_START = (*FORMULA_START, "'")


def guard_cell(text: str) -> str:
    """Text a spreadsheet will not evaluate: a leading quote before a formula start
    (or before a quote of the text's own)."""
    return "'" + text if text.startswith(_GUARDED_START) else text


def unguard_cell(text: str) -> str:
    """The text ``guard_cell`` was given."""
    return text[1:] if text.startswith("'") and text[1:].startswith(_GUARDED_START) else text


EVENT_COLUMNS = (
    "event_id", "type", "start_time", "end_time", "lat", "lon", "score", "subjects",
    "detail", "evidence",
)  # fmt: skip
ALERT_COLUMNS = (
    "alert_id", "rule_id", "severity", "state", "title", "subjects", "start_time",
    "end_time", "score", "events", "event_ids", "case_id", "assignee", "revision",
    "updated_at",
)  # fmt: skip


def _event_row(e: ExportEvent) -> list[Any]:
    return [
        e.event_id, e.type, _iso(e.start_time), _iso(e.end_time),
        e.lat, e.lon, e.score, " ".join(e.subjects), e.detail, " ".join(e.evidence),
    ]  # fmt: skip


def _alert_row(a: Alert) -> list[Any]:
    return [
        a.alert_id, a.rule_id, a.severity, a.state, a.title, " ".join(a.subjects),
        _iso(a.start_time), _iso(a.end_time), a.score, len(a.event_ids),
        " ".join(a.event_ids), a.case_id, a.assignee, a.revision, _iso(a.updated_at),
    ]  # fmt: skip


def _csv(columns: Sequence[str], rows: Iterable[list[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            ["" if v is None else guard_cell(v) if isinstance(v, str) else repr(v) for v in row]
        )
    # UTF-8 with a BOM: Excel reads it as UTF-8 (names in Farsi, Cyrillic) without asking.
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def events_csv(events: Sequence[ExportEvent]) -> bytes:
    """Events as CSV (RFC 4180, UTF-8 with BOM); lists are space-separated, times UTC."""
    return _csv(EVENT_COLUMNS, (_event_row(e) for e in events))


def alerts_csv(alerts: Sequence[Alert]) -> bytes:
    """Alerts as CSV, as ``events_csv``."""
    return _csv(ALERT_COLUMNS, (_alert_row(a) for a in alerts))


TRACK_COLUMNS = ("subject", "kind", "name", "flight_id", "seq", "time", "lat", "lon")


def tracks_csv(tracks: Sequence[Track]) -> bytes:
    """Track points as CSV, one row per position (a flight's inner points have no time)."""
    return _csv(
        TRACK_COLUMNS,
        (
            [t.subject, t.kind, t.label, t.flight_id, i, _iso(when), lat, lon]
            for t in tracks
            for i, (when, lat, lon) in enumerate(t.points)
        ),
    )


def sidecar_json(meta: dict[str, Any]) -> bytes:
    """The ``<file>.meta.json`` that goes beside a CSV export."""
    return (json.dumps(meta, ensure_ascii=False, indent=2, default=str) + "\n").encode()


def alerts_xlsx(
    alerts: Sequence[Alert], events: Sequence[ExportEvent], meta: dict[str, Any]
) -> bytes:
    """An XLSX workbook: ``Alerts`` (one row each, times as UTC), ``Events`` (the events
    behind them) and ``Sources`` (list versions and input files). Every text cell is
    stored as text, never a formula."""
    import openpyxl  # type: ignore[import-untyped]
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]

    def put(ws: Any, rows: Iterable[Sequence[Any]]) -> None:
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if isinstance(value, datetime):
                    value = value.astimezone(UTC).replace(tzinfo=None)
                if isinstance(value, str):
                    value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
                    if len(value) > XLSX_CELL_MAX:  # Excel refuses longer cells
                        value = value[: XLSX_CELL_MAX - len(XLSX_CUT)] + XLSX_CUT
                cell = ws.cell(row=r, column=c, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # openpyxl would make "=..." a formula
        ws.freeze_panes = "A2"
        if ws.max_row > 1:
            ws.auto_filter.ref = ws.dimensions

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Alerts"
    put(ws, [
        [f"{c} (UTC)" if c.endswith(("_time", "_at")) else c for c in ALERT_COLUMNS],
        *([a.alert_id, a.rule_id, a.severity, a.state, a.title, " ".join(a.subjects),
           a.start_time, a.end_time, a.score, len(a.event_ids), " ".join(a.event_ids),
           a.case_id, a.assignee, a.revision, a.updated_at] for a in alerts),
    ])  # fmt: skip
    put(book.create_sheet("Events"), [
        [f"{c} (UTC)" if c.endswith("_time") else c for c in EVENT_COLUMNS],
        *([e.event_id, e.type, e.start_time, e.end_time, e.lat, e.lon, e.score,
           " ".join(e.subjects), e.detail, " ".join(e.evidence)] for e in events),
    ])  # fmt: skip
    src = book.create_sheet("Sources")
    rows: list[list[Any]] = [
        ["generator", meta["generator"]],
        ["generated_at (UTC)", meta["generated_at"]],
        ["what", meta["what"]],
        ["query", json.dumps(meta["query"], ensure_ascii=False, default=str)],
        [],
        ["list source", "version", "published", "fetched (UTC)", "sha256", "entries",
         "entries cited", "files"],
    ]  # fmt: skip
    for v in meta["list_versions"]:
        rows.append([
            v["source"], v["version"], v["published"], v["fetched"], v["sha256"],
            v["entries"], v["entries_cited"], " ".join(v["files"]),
        ])  # fmt: skip
    rows += [[], ["data source", "file(s)", "format / layout / title", "sha256", "loaded (UTC)"]]
    for kind, items in meta["data_sources"].items():
        for item in items:
            rows.append([
                kind,
                item.get("file") or " ".join(item.get("files", [])) or item.get("source"),
                item.get("format") or item.get("layout") or item.get("title")
                or item.get("version"),
                item.get("sha256"),
                item.get("loaded") or item.get("read"),
            ])  # fmt: skip
    put(src, rows)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def select_alerts(
    store: Store,
    *,
    state: str | None = None,
    severity: str | None = None,
    rule_id: str | None = None,
    case_id: str | None = None,
) -> list[Alert]:
    """Alerts as ``list_alerts`` orders them, filtered also by rule and case."""
    alerts = list_alerts(store, state=state, severity=severity)
    if case_id is not None:
        wanted = set(find_case(store, case_id).alert_ids)
        alerts = [a for a in alerts if a.alert_id in wanted or a.case_id == case_id]
    if rule_id is not None:
        alerts = [a for a in alerts if a.rule_id == rule_id]
    return alerts


def events_of_alerts(store: Store, alerts: Sequence[Alert]) -> list[ExportEvent]:
    """The events behind ``alerts``, by start time."""
    return select_events(store, EventQuery(event_ids=tuple(i for a in alerts for i in a.event_ids)))


# -- network ---------------------------------------------------------------------------


def _schema_of(subject: str, store_schema: dict[str, str]) -> str:
    kind = subject.partition(":")[0] if ":" in subject else ""
    return {
        "mmsi": "Vessel",
        "imo": "Vessel",
        "icao24": "Airplane",
        "reg": "Airplane",
        "doc": "Document",
        "cargo": "Shipment",
    }.get(kind, store_schema.get(subject, "LegalEntity"))


def case_graph(store: Store, case: Case) -> tuple[list[Node], list[Relation], dict[str, list[str]]]:
    """The case's subjects as nodes and its ``links`` as relations (a link kind the
    graph model does not know is an ``unknown_link`` whose role names it; the link's
    evidence is its source), and the list sources naming each listed subject."""
    subjects = sorted(
        set(case.subjects)
        | {str(x) for ln in case.links for x in (ln.get("from"), ln.get("to")) if x}
    )
    labels = subject_labels(store, subjects)
    listed_ids = [s for s in subjects if ":" not in s]
    schema: dict[str, str] = {}
    listed: dict[str, list[str]] = {}
    country: dict[str, str] = {}
    if listed_ids:
        for sid, sch, sources, ctry in store.con.execute(
            "SELECT e.id, arg_max(e.schema, e.version_id), list(DISTINCT v.source ORDER BY v.source), "
            "arg_max(json_extract_string(e.properties, '$.country[0]'), e.version_id) "
            "FROM entities e JOIN list_versions v USING (version_id) "
            "WHERE e.id IN (SELECT unnest(?)) GROUP BY e.id",
            [listed_ids],
        ).fetchall():
            schema[sid] = sch
            listed[sid] = list(sources)
            if ctry:
                country[sid] = ctry
    nodes = [
        Node(id=s, name=labels.get(s, s), schema=_schema_of(s, schema), country=country.get(s))
        for s in subjects
    ]
    relations: list[Relation] = []
    for i, link in enumerate(case.links):
        a, b = link.get("from"), link.get("to")
        if not a or not b:
            continue
        kind = str(link.get("kind") or "unknown_link")
        evidence = link.get("evidence")
        ev = " ".join(map(str, evidence)) if isinstance(evidence, list) else str(evidence or "")
        relations.append(
            Relation(
                id=f"{case.case_id}-link-{i}",
                kind=kind if kind in RELATION_KINDS else "unknown_link",
                holder=str(a),
                held=str(b),
                role=kind,
                source_ref=ev,
            )
        )
    return nodes, relations, listed


def with_graph_meta(data: bytes, fmt: str, meta: dict[str, Any]) -> bytes:
    """GraphML or GEXF bytes from ``graph.export`` with ``meta`` added: GraphML as a
    graph-level ``watchkeeper`` data item (and a plain-text ``desc``), GEXF as the
    meta ``description``."""
    text = json.dumps(meta, ensure_ascii=False, default=str)
    root = ET.fromstring(data)
    if fmt == "graphml":
        from watchkeeper.graph.export import GRAPHML_NS

        ns = f"{{{GRAPHML_NS}}}"
        ET.register_namespace("", GRAPHML_NS)
        desc = ET.Element(f"{ns}desc")
        desc.text = _clean(metadata_text(meta))
        root.insert(0, desc)
        keys = [i for i, el in enumerate(root) if el.tag == f"{ns}key"]
        key = ET.Element(
            f"{ns}key",
            {
                "id": "g_watchkeeper",
                "for": "graph",
                "attr.name": "watchkeeper",
                "attr.type": "string",
            },
        )
        root.insert((keys[-1] if keys else 0) + 1, key)
        graph = root.find(f"{ns}graph")
        if graph is not None:
            item = ET.Element(f"{ns}data", {"key": "g_watchkeeper"})
            item.text = _clean(text)
            graph.insert(0, item)
    else:
        from watchkeeper.graph.export import GEXF_NS

        ns = f"{{{GEXF_NS}}}"
        ET.register_namespace("", GEXF_NS)
        box = root.find(f"{ns}meta")
        if box is None:
            box = ET.Element(f"{ns}meta")
            root.insert(0, box)
        box.set("lastmodifieddate", meta["generated_at"][:10])
        ET.SubElement(box, f"{ns}description").text = _clean(text)
    ET.indent(root)
    out: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return out


def network_export(
    nodes: Sequence[Any], relations: Sequence[Relation], listed: dict[str, list[str]],
    fmt: str, meta: dict[str, Any],
) -> bytes:  # fmt: skip
    """GraphML or GEXF (``fmt``) of these nodes and relations, with ``meta``."""
    if fmt not in ("graphml", "gexf"):
        raise InputError(None, f"unknown network format {fmt!r} (graphml, gexf)", field="format")
    writer = to_graphml if fmt == "graphml" else to_gexf
    return with_graph_meta(writer(nodes, relations, listed), fmt, meta)
