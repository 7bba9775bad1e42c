"""A case file: one self-contained HTML page (and a PDF of it) with everything an analyst
needs to read a case away from Watchkeeper: its score and the parts of it, a timeline,
a map, the network, the evidence tables and the sources with their versions.

Self-contained means no external URL at all: the CSS is inline, the timeline, map and
network are inline SVG drawn here, and a URL found in the data (a regulation cited by a
cargo rule) is shown as text, never as a link. Every piece of text from the store is
HTML-escaped. The map is an equirectangular projection; the repository bundles no
coastline, so its base is a graticule and the World Port Index ports inside the frame
(grey dots, which trace the coasts where ports are dense).
"""

from __future__ import annotations

import csv
import html
import json
import math
import shutil
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from watchkeeper.alerts.cases import Case, find_case
from watchkeeper.alerts.evidence import Evidence, resolve_evidence
from watchkeeper.alerts.exports import (
    TRACK_PAD,
    EventQuery,
    ExportEvent,
    Provenance,
    Track,
    export_metadata,
    select_events,
    select_tracks,
    subject_labels,
)
from watchkeeper.alerts.store import Alert, list_alerts
from watchkeeper.errors import WatchkeeperError
from watchkeeper.store import Store

CHROMIUM = Path("/usr/bin/chromium")
GRAVITY = 1.0  # network layout: pull towards the centre, against FR repulsion
LAYOUT_PAIR_BUDGET = 2_000_000  # node pairs visited by the network layout, all iterations
EDGE_LABELS_UP_TO = 30  # more links than this: kinds only in the edges' tooltips
PDF_TIMEOUT_S = 120
# Colours by event type family, so the timeline, the map and the legend agree.
PALETTE = (
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
    "#17becf", "#bcbd22", "#7f7f7f",
)  # fmt: skip
NODE_COLOURS = {
    "listed": "#d62728",
    "mmsi": "#1f77b4",
    "imo": "#1f77b4",
    "icao24": "#9467bd",
    "reg": "#9467bd",
    "doc": "#7f7f7f",
    "cargo": "#ff7f0e",
}


class RendererMissing(WatchkeeperError):
    """No PDF renderer is installed."""


# -- gathering -------------------------------------------------------------------------


@dataclass
class CaseFile:
    """Everything a case file shows, read from the store."""

    case: Case
    alerts: list[Alert]
    events: list[ExportEvent]
    tracks: list[Track]
    labels: dict[str, str]
    list_entries: list[dict[str, Any]]
    statements: list[dict[str, Any]]
    shipment_lines: list[dict[str, Any]]
    sentences: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    meta: dict[str, Any]
    missing: list[str] = field(default_factory=list)  # evidence ids the store cannot resolve

    def to_dict(self) -> dict[str, Any]:
        c = self.case
        return {
            "case": {
                "case_id": c.case_id,
                "title": c.title,
                "score": c.score,
                "score_parts": c.score_parts,
                "start_time": c.start_time.isoformat(),
                "end_time": c.end_time.isoformat(),
                "subjects": [{"id": s, "name": self.labels.get(s)} for s in c.subjects],
                "links": c.links,
                "built_at": c.built_at.isoformat(),
            },
            "alerts": [a.to_dict() for a in self.alerts],
            "events": [{**e.properties(), "lat": e.lat, "lon": e.lon} for e in self.events],
            "positions": [_track_summary(t) for t in self.tracks],
            "list_entries": self.list_entries,
            "statements": self.statements,
            "shipment_lines": self.shipment_lines,
            "report_sentences": self.sentences,
            "review": self.actions,
            "unresolved_evidence": self.missing,
            "sources": self.meta,
        }


def _evidence_ids(events: list[ExportEvent], prefix: str) -> list[str]:
    return sorted({e[len(prefix) :] for ev in events for e in ev.evidence if e.startswith(prefix)})


def _list_entries(store: Store, ids: list[str]) -> list[dict[str, Any]]:
    """Every list version naming each id (not evidence.py's current versions only, and
    secondary entries too: an owner a vessel's entry names), with its latest caption."""
    if not ids:
        return []
    rows = store.con.execute(
        "SELECT e.id, arg_max(e.caption, e.version_id), arg_max(e.schema, e.version_id), "
        "arg_max(e.properties, e.version_id), "
        "list(DISTINCT v.source || ' ' || v.version ORDER BY v.source || ' ' || v.version) "
        "FROM entities e JOIN list_versions v USING (version_id) "
        "WHERE e.id IN (SELECT unnest(?)) GROUP BY e.id ORDER BY e.id",
        [ids],
    ).fetchall()
    out = []
    for eid, caption, schema, props, versions in rows:
        p = json.loads(props) if isinstance(props, str) else props or {}
        out.append(
            {
                "id": eid,
                "name": caption,
                "schema": schema,
                "country": ", ".join(p.get("country", [])),
                "program": ", ".join(p.get("program", [])),
                "versions": list(versions),
            }
        )
    return out


def _resolved(store: Store, prefix: str, ids: list[str]) -> list[Evidence]:
    """The evidence rows behind ``<prefix>:<id>`` (evidence.py reads them for cases too),
    the ones the store holds, by id."""
    found = resolve_evidence(store, {f"{prefix}:{i}": [] for i in ids})
    return sorted((e for e in found if e.kind != "unresolved"), key=lambda e: e.id)


def _statements(store: Store, ids: list[str]) -> list[dict[str, Any]]:
    """Graph loads' statements, then the lists' own relations (an OFAC vessel's owner),
    which are not graph loads: their source says so."""
    rows = _resolved(store, "rel", ids)
    graph = [e.data for e in rows if e.data.get("source") != "lists"]
    lists = {e.data["id"]: e.data for e in rows if e.data.get("source") == "lists"}
    out = [
        {
            "id": d["id"], "kind": d["kind"], "holder": d["holder"], "held": d["held"],
            "role": d["role"], "start": d["start_date"], "end": d["end_date"],
            "source": d["source_ref"],
        }
        for d in graph
    ]  # fmt: skip
    found = {d["id"] for d in graph}
    for i in ids:
        if i in found:
            continue
        d = lists.get(i, {})
        out.append(
            {"id": i, "kind": d.get("kind", "list relation"), "holder": d.get("holder"),
             "held": d.get("held"), "role": d.get("role"), "start": None, "end": None,
             "source": "stated by the list"}
        )  # fmt: skip
    return out


def _shipment_lines(store: Store, ids: list[str]) -> list[dict[str, Any]]:
    out = []
    for e in _resolved(store, "cargo", ids):
        d = e.data
        parties = d["parties"] or []
        names = [
            f"{p.get('role', '?')}: {p.get('name', '?')}" for p in parties if isinstance(p, dict)
        ]
        imo = d["vessel_imo"]
        out.append(
            {
                "line_id": d["line_id"], "source": d["source_ref"], "goods": d["goods"],
                "hs": d["hs_code"],
                "route": f"{d['origin_country'] or '?'} -> {d['destination_country'] or '?'}",
                "ports": f"{d['port_of_loading'] or '?'} -> {d['port_of_discharge'] or '?'}",
                "carrier": " ".join(
                    str(x) for x in (d["vessel_name"], imo and f"IMO {imo}", d["flight_number"])
                    if x
                ),
                "loaded": d["loading_date"],
                "parties": "; ".join(names),
            }
        )  # fmt: skip
    return out


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence around text[start:end]: back to the previous and on to the next
    full stop or line break, at most 400 characters each way."""
    lo = max(text.rfind(c, max(0, start - 400), start) for c in (".", "!", "?", "\n")) + 1
    his = [i for i in (text.find(c, end, end + 400) for c in (".", "!", "?", "\n")) if i >= 0]
    hi = min(his) + 1 if his else min(len(text), end + 400)
    return " ".join(text[lo:hi].split())


def _report_sentences(store: Store, refs: list[str]) -> list[dict[str, Any]]:
    """Each mention's sentence, once per report (evidence.py gives the whole text block
    around a mention, too long for the case file's table)."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for ref in refs:
        doc, _, span = ref.partition("#")
        lo, _, hi = span.partition("-")
        if lo.isdigit() and hi.isdigit():
            spans.setdefault(doc, []).append((int(lo), int(hi)))
    if not spans:
        return []
    out = []
    for doc_id, title, text in store.con.execute(
        "SELECT doc_id, title, text FROM documents WHERE doc_id IN (SELECT unnest(?)) "
        "ORDER BY doc_id",
        [sorted(spans)],
    ).fetchall():
        seen: set[str] = set()
        for a, b in sorted(set(spans[doc_id])):
            sentence = _sentence(text or "", a, b)
            if sentence in seen:
                continue
            seen.add(sentence)
            out.append(
                {"doc": doc_id, "title": title, "span": f"{a}-{b}", "named": (text or "")[a:b],
                 "sentence": sentence}
            )  # fmt: skip
    return out


def _actions(store: Store, alert_ids: list[str]) -> list[dict[str, Any]]:
    rows = store.con.execute(
        "SELECT alert_id, actor, acted_at, action, state_from, state_to, assignee, note, link "
        "FROM alert_actions WHERE alert_id IN (SELECT unnest(?)) ORDER BY acted_at, action_id",
        [alert_ids],
    ).fetchall()
    keys = ("alert_id", "actor", "acted_at", "action", "state_from", "state_to", "assignee",
            "note", "link")  # fmt: skip
    return [dict(zip(keys, r, strict=True)) for r in rows]


def gather_case(store: Store, case_id: str) -> CaseFile:
    """The case ``case_id`` with its alerts, their events, the evidence those name
    (alert -> event -> positions, list entries, statements, shipment lines, report
    sentences) and the sources; InputError when there is no such case."""
    case = find_case(store, case_id)
    wanted = set(case.alert_ids)
    alerts = [a for a in list_alerts(store) if a.alert_id in wanted or a.case_id == case_id]
    alerts.sort(key=lambda a: (a.start_time, a.alert_id))
    event_ids = tuple(i for a in alerts for i in a.event_ids)
    events = select_events(store, EventQuery(event_ids=event_ids))
    subjects = sorted(set(case.subjects) | {s for e in events for s in e.subjects})
    tracks = select_tracks(store, subjects, case.start_time - TRACK_PAD, case.end_time + TRACK_PAD)
    labels = subject_labels(store, subjects)
    listed = sorted(set(_evidence_ids(events, "list:")) | {s for s in subjects if ":" not in s})
    entries = _list_entries(store, listed)
    cargo = sorted(set(_evidence_ids(events, "cargo:")) | {
        s[6:] for s in subjects if s.startswith("cargo:")
    })  # fmt: skip
    lines = _shipment_lines(store, cargo)
    prov = Provenance().add_events(events).add_tracks(tracks).add_subjects(subjects)
    meta = export_metadata(store, prov, what=f"case file {case_id}", query={"case": case_id})
    missing = sorted(set(case.alert_ids) - {a.alert_id for a in alerts})
    missing += sorted(set(event_ids) - {e.event_id for e in events})
    missing += sorted(set(listed) - {e["id"] for e in entries})
    return CaseFile(
        case=case,
        alerts=alerts,
        events=events,
        tracks=tracks,
        labels=labels,
        list_entries=entries,
        statements=_statements(store, _evidence_ids(events, "rel:")),
        shipment_lines=lines,
        sentences=_report_sentences(store, _evidence_ids(events, "doc:")),
        actions=_actions(store, [a.alert_id for a in alerts]),
        meta=meta,
        missing=missing,
    )


def case_file_json(store: Store, case_id: str) -> dict[str, Any]:
    """The case file's content as JSON-ready data (what the HTML page shows)."""
    return gather_case(store, case_id).to_dict()


# -- rendering helpers -----------------------------------------------------------------


def h(value: Any) -> str:
    """Any value as escaped HTML text (quotes too, so it is safe in attributes)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    elif isinstance(value, float):
        value = f"{value:.3g}"
    return html.escape(str(value), quote=True)


def _table(headers: list[str], rows: list[list[Any]], empty: str = "none") -> str:
    if not rows:
        return f"<p class='none'>{h(empty)}</p>"
    head = "".join(f"<th>{h(x)}</th>" for x in headers)
    body = "".join("<tr>" + "".join(f"<td>{h(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _colours(types: list[str]) -> dict[str, str]:
    return {t: PALETTE[i % len(PALETTE)] for i, t in enumerate(sorted(set(types)))}


def _track_summary(t: Track) -> dict[str, Any]:
    lats = [p[1] for p in t.points]
    lons = [p[2] for p in t.points]
    return {
        "subject": t.subject,
        "kind": t.kind,
        "name": t.label,
        "flight_id": t.flight_id,
        "reported": t.reported,
        "first": t.start_time.isoformat(),
        "last": t.end_time.isoformat(),
        "lat": [min(lats), max(lats)],
        "lon": [min(lons), max(lons)],
    }


# -- timeline --------------------------------------------------------------------------


def timeline_svg(events: list[ExportEvent], colours: dict[str, str], width: int = 900) -> str:
    """One lane per event type, each event a mark (a bar when it lasts) at its time."""
    if not events:
        return "<p class='none'>no events</p>"
    t0 = min(e.start_time for e in events).timestamp()
    t1 = max(e.end_time for e in events).timestamp()
    span = max(t1 - t0, 3600.0)
    types = sorted({e.type for e in events})
    left, lane, top = 170, 22, 10
    plot = width - left - 45  # room for the last date label
    height = top + lane * len(types) + 40
    parts = [f"<svg class='timeline' viewBox='0 0 {width} {height}' width='{width}' "
             f"height='{height}' role='img' aria-label='timeline'>"]  # fmt: skip
    for i, t in enumerate(types):
        y = top + i * lane
        parts.append(
            f"<text x='{left - 6}' y='{y + 15}' text-anchor='end'>{h(t)}</text>"
            f"<line x1='{left}' x2='{left + plot}' y1='{y + 11}' y2='{y + 11}' class='lane'/>"
        )
    for e in events:
        y = top + types.index(e.type) * lane
        x0 = left + plot * (e.start_time.timestamp() - t0) / span
        x1 = left + plot * (e.end_time.timestamp() - t0) / span
        w = max(x1 - x0, 4.0)
        parts.append(
            f"<rect x='{x0:.1f}' y='{y + 5}' width='{w:.1f}' height='12' rx='2' "
            f"fill='{colours[e.type]}'><title>{h(e.start_time)} {h(e.type)}: {h(e.detail)}"
            "</title></rect>"
        )
    ticks = 6
    for k in range(ticks + 1):
        x = left + plot * k / ticks
        when = datetime.fromtimestamp(t0 + span * k / ticks, UTC)
        parts.append(
            f"<line x1='{x:.1f}' x2='{x:.1f}' y1='{top}' y2='{height - 28}' class='tick'/>"
            f"<text x='{x:.1f}' y='{height - 12}' text-anchor='middle'>"
            f"{when:%Y-%m-%d}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


# -- map -------------------------------------------------------------------------------


def _graticule_step(extent: float) -> float:
    for step in (0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 45):
        if extent / step <= 8:
            return step
    return 60.0


@dataclass(frozen=True)
class Frame:
    """An equirectangular frame: degrees to SVG pixels at one scale for both axes."""

    west: float
    south: float
    east: float
    north: float
    scale: float
    pad: int = 30

    def x(self, lon: float) -> float:
        return self.pad + (lon - self.west) * self.scale

    def y(self, lat: float) -> float:
        return self.pad + (self.north - lat) * self.scale

    @property
    def width(self) -> int:
        return int(2 * self.pad + (self.east - self.west) * self.scale)

    @property
    def height(self) -> int:
        return int(2 * self.pad + (self.north - self.south) * self.scale)


def map_frame(points: list[tuple[float, float]], width: int = 900, height: int = 480) -> Frame:
    """The frame that holds every (lat, lon) point with a margin, within width x height."""
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    south, north, west, east = min(lats), max(lats), min(lons), max(lons)
    margin = max(0.5, 0.08 * max(north - south, east - west))
    south, north = max(-90.0, south - margin), min(90.0, north + margin)
    west, east = max(-180.0, west - margin), min(180.0, east + margin)
    pad = 30
    scale = min((width - 2 * pad) / (east - west), (height - 2 * pad) / (north - south))
    return Frame(west, south, east, north, scale, pad)


@lru_cache(maxsize=1)
def port_positions() -> tuple[tuple[float, float], ...]:
    """(lat, lon) of every World Port Index port, read straight from the bundled CSV
    (``movement.ports`` would load FtM and scipy, seconds, for two columns)."""
    from watchkeeper.io import open_text
    from watchkeeper.settings import Settings

    relative = Path("reference") / "UpdatedPub150.csv.gz"
    for folder in (Settings.from_env().data_dir, Path(__file__).resolve().parents[3] / "data"):
        path = folder / relative
        if path.exists():
            break
    else:
        return ()  # no bundled WPI: the graticule alone
    out: list[tuple[float, float]] = []
    with open_text(path, encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            try:
                lat, lon = float(row["Latitude"]), float(row["Longitude"])
            except (KeyError, TypeError, ValueError):
                continue  # the map base only: a bad row is one dot fewer
            if -90 <= lat <= 90 and -180 <= lon <= 180:
                out.append((lat, lon))
    return tuple(out)


def _port_dots(frame: Frame) -> list[tuple[float, float]]:
    return [
        (lat, lon)
        for lat, lon in port_positions()
        if frame.south <= lat <= frame.north and frame.west <= lon <= frame.east
    ]


def map_svg(
    events: list[ExportEvent], tracks: list[Track], colours: dict[str, str], labels: dict[str, str]
) -> str:
    """The case's tracks (vessels solid, flights dashed) and located events on an
    equirectangular graticule with the WPI ports as a faint base."""
    points = [(p[1], p[2]) for t in tracks for p in t.points]
    points += [(e.lat, e.lon) for e in events if e.lat is not None and e.lon is not None]
    if not points:
        return "<p class='none'>no positions: nothing of this case is located</p>"
    f = map_frame(points)
    out = [f"<svg class='map' viewBox='0 0 {f.width} {f.height}' width='{f.width}' "
           f"height='{f.height}' role='img' aria-label='map'>"
           f"<rect x='0' y='0' width='{f.width}' height='{f.height}' class='sea'/>"]  # fmt: skip
    step = _graticule_step(max(f.east - f.west, f.north - f.south))
    lon = math.ceil(f.west / step) * step
    while lon <= f.east:
        x = f.x(lon)
        out.append(
            f"<line x1='{x:.1f}' x2='{x:.1f}' y1='{f.pad}' y2='{f.height - f.pad}' class='grat'/>"
            f"<text x='{x:.1f}' y='{f.height - 10}' text-anchor='middle'>{lon:g}°</text>"
        )
        lon += step
    lat = math.ceil(f.south / step) * step
    while lat <= f.north:
        y = f.y(lat)
        out.append(
            f"<line x1='{f.pad}' x2='{f.width - f.pad}' y1='{y:.1f}' y2='{y:.1f}' class='grat'/>"
            f"<text x='4' y='{y + 4:.1f}'>{lat:g}°</text>"
        )
        lat += step
    for plat, plon in _port_dots(f):
        out.append(f"<circle cx='{f.x(plon):.1f}' cy='{f.y(plat):.1f}' r='1.2' class='port'/>")
    track_colours = {
        s: PALETTE[i % len(PALETTE)] for i, s in enumerate(sorted({t.subject for t in tracks}))
    }
    for t in tracks:
        pts = " ".join(f"{f.x(lon_):.1f},{f.y(lat_):.1f}" for _t, lat_, lon_ in t.points)
        dash = " stroke-dasharray='6 4'" if t.kind == "flight" else ""
        out.append(
            f"<polyline points='{pts}' class='track' stroke='{track_colours[t.subject]}'{dash}>"
            f"<title>{h(t.label)} ({h(t.subject)}): {t.reported} positions, "
            f"{h(t.start_time)} to {h(t.end_time)}</title></polyline>"
        )
    for e in events:
        if e.lat is None or e.lon is None:
            continue
        out.append(
            f"<circle cx='{f.x(e.lon):.1f}' cy='{f.y(e.lat):.1f}' r='5' class='ev' "
            f"fill='{colours[e.type]}'><title>{h(e.start_time)} {h(e.type)}: {h(e.detail)}"
            "</title></circle>"
        )
    out.append("</svg>")
    legend = "".join(
        f"<span class='key'><i style='background:{c}'></i>{h(labels.get(s) or s)} ({h(s)})</span>"
        for s, c in track_colours.items()
    )
    note = (
        "<p class='note'>Equirectangular projection, WGS 84. No coastline is bundled: "
        "the base is a graticule and the World Port Index ports (grey dots). Vessel tracks "
        "are solid, flight routes dashed; dots are events.</p>"
    )
    return "".join(out) + (f"<p>{legend}</p>" if legend else "") + note


# -- network ---------------------------------------------------------------------------


def layout(
    nodes: list[str], edges: list[tuple[str, str]], iterations: int = 150
) -> dict[str, tuple[float, float]]:
    """Node positions in the unit square: Fruchterman-Reingold from a circle (sorted ids,
    so the same case draws the same picture every time)."""
    nodes = sorted(set(nodes))  # float sums in one order: the same input, the same picture
    n = len(nodes)
    # each iteration costs n^2/2 pairs: a big network gets fewer (a few seconds at most)
    iterations = min(iterations, max(10, LAYOUT_PAIR_BUDGET // max(n * n, 1)))
    if n == 0:
        return {}
    pos = {
        v: (0.5 + 0.4 * math.cos(2 * math.pi * i / n), 0.5 + 0.4 * math.sin(2 * math.pi * i / n))
        for i, v in enumerate(sorted(nodes))
    }
    if n == 1:
        return {nodes[0]: (0.5, 0.5)}
    k = math.sqrt(1.0 / n)
    temp = 0.1
    for _ in range(iterations):
        disp = {v: [0.0, 0.0] for v in nodes}
        for i, a in enumerate(nodes):
            ax, ay = pos[a]
            for b in nodes[i + 1 :]:
                dx, dy = ax - pos[b][0], ay - pos[b][1]
                d = max(math.hypot(dx, dy), 1e-4)
                force = k * k / d
                disp[a][0] += dx / d * force
                disp[a][1] += dy / d * force
                disp[b][0] -= dx / d * force
                disp[b][1] -= dy / d * force
        for a, b in edges:
            dx, dy = pos[a][0] - pos[b][0], pos[a][1] - pos[b][1]
            d = max(math.hypot(dx, dy), 1e-4)
            force = d * d / k
            disp[a][0] -= dx / d * force
            disp[a][1] -= dy / d * force
            disp[b][0] += dx / d * force
            disp[b][1] += dy / d * force
        for v in nodes:
            # Gravity towards the centre keeps unconnected parts on the page.
            disp[v][0] -= GRAVITY * (pos[v][0] - 0.5)
            disp[v][1] -= GRAVITY * (pos[v][1] - 0.5)
            dx, dy = disp[v]
            d = max(math.hypot(dx, dy), 1e-9)
            step = min(d, temp)
            pos[v] = (pos[v][0] + dx / d * step, pos[v][1] + dy / d * step)
        temp *= 0.97
    # Stretch to the square so the drawing uses the room it has.
    xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]
    sx, sy = max(max(xs) - min(xs), 1e-6), max(max(ys) - min(ys), 1e-6)
    return {v: ((p[0] - min(xs)) / sx, (p[1] - min(ys)) / sy) for v, p in pos.items()}


def network_svg(case: Case, labels: dict[str, str], width: int = 900, height: int = 560) -> str:
    """The case's subjects and the links that join them (``cases.links``)."""
    links = [
        (str(ln["from"]), str(ln["to"]), str(ln.get("kind") or ""))
        for ln in case.links
        if isinstance(ln, dict) and ln.get("from") and ln.get("to")
    ]
    nodes = sorted(set(case.subjects) | {x for a, b, _ in links for x in (a, b)})
    if not nodes:
        return "<p class='none'>no subjects</p>"
    pos = layout(nodes, [(a, b) for a, b, _ in links if a != b])
    left, right = 30, 210  # room for the labels, written to the right of each node

    def xy(v: str) -> tuple[float, float]:
        return left + pos[v][0] * (width - left - right), 30 + pos[v][1] * (height - 60)

    out = [f"<svg class='network' viewBox='0 0 {width} {height}' width='{width}' "
           f"height='{height}' role='img' aria-label='network'>"]  # fmt: skip
    for a, b, kind in links:
        (x1, y1), (x2, y2) = xy(a), xy(b)
        out.append(
            f"<line x1='{x1:.1f}' y1='{y1:.1f}' x2='{x2:.1f}' y2='{y2:.1f}' class='edge'>"
            f"<title>{h(a)} -&gt; {h(b)}: {h(kind)}</title></line>"
        )
        if len(links) <= EDGE_LABELS_UP_TO:
            out.append(
                f"<text x='{(x1 + x2) / 2:.1f}' y='{(y1 + y2) / 2:.1f}' class='ekind' "
                f"text-anchor='middle'>{h(kind)}</text>"
            )
    for v in nodes:
        x, y = xy(v)
        kind = "listed" if ":" not in v else v.partition(":")[0]
        name = labels.get(v) or v
        short = name if len(name) <= 28 else name[:27] + "…"
        out.append(
            f"<circle cx='{x:.1f}' cy='{y:.1f}' r='7' fill='{NODE_COLOURS.get(kind, '#555')}'>"
            f"<title>{h(name)} ({h(v)})</title></circle>"
            f"<text x='{x + 10:.1f}' y='{y + 4:.1f}'>{h(short)}</text>"
        )
    out.append("</svg>")
    key = "".join(
        f"<span class='key'><i style='background:{c}'></i>{h(k)}</span>"
        for k, c in NODE_COLOURS.items()
        if k not in ("imo", "reg")
    )
    return "".join(out) + f"<p>{key}</p>"


# -- the page --------------------------------------------------------------------------

CSS = """
body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:24px;color:#222;
max-width:1100px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ccc}
h3{font-size:14px;margin:16px 0 6px}
table{border-collapse:collapse;width:100%;margin:6px 0;font-size:12px}
th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top;
word-break:break-word}th{background:#f3f3f3}
.score{font-size:28px;font-weight:bold}.meta{color:#555}.none{color:#888;font-style:italic}
.note{color:#666;font-size:12px}
.tl td:nth-child(-n+3){white-space:nowrap}
.sev-critical{color:#b00;font-weight:bold}.sev-high{color:#d60}.sev-medium{color:#a80}
svg text{font-size:11px;fill:#333}svg .ekind{font-size:9px;fill:#888}
.lane{stroke:#eee}.tick{stroke:#ddd;stroke-dasharray:2 3}
.sea{fill:#eef4fa}.grat{stroke:#c9d6e3;stroke-width:.6}.port{fill:#9aa}
.track{fill:none;stroke-width:2;opacity:.85}.ev{stroke:#fff;stroke-width:1}
.edge{stroke:#999;stroke-width:1.2}
.key{display:inline-block;margin-right:14px;font-size:12px}
.key i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
@page{size:A4;margin:12mm}
@media print{body{margin:0}h2{break-after:avoid}svg{max-width:100%;height:auto}}
"""


def _score_parts(case: Case) -> str:
    rows = [
        [p.get("part"), p.get("value"), p.get("weight"), p.get("why")]
        for p in case.score_parts
        if isinstance(p, dict)
    ]
    return _table(["part", "value", "weight", "why"], rows, "no parts recorded")


def _sources(meta: dict[str, Any]) -> str:
    versions = _table(
        ["list", "version", "published", "fetched", "sha256", "entries", "entries in this case"],
        [
            [v["source"], v["version"], v["published"], v["fetched"], v["sha256"],
             v["entries"], v["entries_cited"]]
            for v in meta["list_versions"]
        ],
        "no list versions in the store",
    )  # fmt: skip
    rows = []
    for kind, items in meta["data_sources"].items():
        for item in items:
            name = item.get("file") or " ".join(item.get("files", [])) or item.get("source")
            what = (
                item.get("format") or item.get("layout") or item.get("title") or item.get("version")
            )
            rows.append(
                [kind, name, what, item.get("sha256"), item.get("loaded") or item.get("read")]
            )
    files = _table(["kind", "file", "format / title", "sha256", "loaded"], rows, "no input files")
    return (
        f"<h3>List versions</h3>{versions}<h3>Input files</h3>{files}"
        f"<p class='note'>Generated by {h(meta['generator'])} at {h(meta['generated_at'])}.</p>"
    )


def render_html(cf: CaseFile) -> str:
    """The case file as one self-contained HTML page."""
    c = cf.case
    colours = _colours([e.type for e in cf.events])
    sev = Counter(a.severity for a in cf.alerts)
    sev_text = ", ".join(f"{n} {s}" for s, n in sev.most_common())
    items: list[tuple[datetime, str, str, str, str]] = [
        (a.start_time, "alert", a.severity, a.alert_id, a.title) for a in cf.alerts
    ]
    items += [(e.start_time, "event", e.type, e.event_id, e.detail) for e in cf.events]
    items.sort(key=lambda x: (x[0], x[1], x[3]))
    timeline_rows = [[t, kind, what, ident, text] for t, kind, what, ident, text in items]
    alert_rows = "".join(
        f"<tr id='{h(a.alert_id)}'><td>{h(a.alert_id)}</td>"
        f"<td class='sev-{h(a.severity)}'>{h(a.severity)}</td><td>{h(a.state)}</td>"
        f"<td>{h(a.title)}</td><td>{h(a.start_time)} to {h(a.end_time)}</td>"
        f"<td>{h(a.score)}</td><td>{h(' '.join(a.event_ids))}</td></tr>"
        for a in cf.alerts
    )
    alerts = (
        "<table><thead><tr><th>alert</th><th>severity</th><th>state</th><th>title</th>"
        f"<th>window</th><th>score</th><th>events</th></tr></thead><tbody>{alert_rows}"
        "</tbody></table>"
        if cf.alerts
        else "<p class='none'>no alerts</p>"
    )
    events = _table(
        ["event", "type", "start", "end", "score", "subjects", "detail", "evidence"],
        [
            [e.event_id, e.type, e.start_time, e.end_time, e.score, " ".join(e.subjects),
             e.detail, " ".join(e.evidence[:12]) + (" ..." if len(e.evidence) > 12 else "")]
            for e in cf.events
        ],
    )  # fmt: skip
    subjects = _table(
        ["subject", "name"], [[s, cf.labels.get(s, "")] for s in c.subjects], "no subjects"
    )
    links = _table(
        ["from", "to", "kind", "evidence"],
        [
            [ln.get("from"), ln.get("to"), ln.get("kind"),
             " ".join(map(str, ln["evidence"])) if isinstance(ln.get("evidence"), list)
             else ln.get("evidence")]
            for ln in c.links if isinstance(ln, dict)
        ],
        "no links",
    )  # fmt: skip
    entries = _table(
        ["id", "name", "schema", "country", "program", "in list versions"],
        [[x["id"], x["name"], x["schema"], x["country"], x["program"], ", ".join(x["versions"])]
         for x in cf.list_entries],
    )  # fmt: skip
    positions = _table(
        ["subject", "name", "kind", "positions", "first", "last", "lat range", "lon range"],
        [
            [t.subject, t.label, t.kind, t.reported, t.start_time, t.end_time,
             f"{min(p[1] for p in t.points):.3f} to {max(p[1] for p in t.points):.3f}",
             f"{min(p[2] for p in t.points):.3f} to {max(p[2] for p in t.points):.3f}"]
            for t in cf.tracks
        ],
        "no positions stored for the case's vessels and aircraft in its window",
    )  # fmt: skip
    statements = _table(
        ["statement", "kind", "holder", "held", "role", "from", "to", "source"],
        [[s["id"], s["kind"], s["holder"], s["held"], s["role"], s["start"], s["end"],
          s["source"]] for s in cf.statements],
    )  # fmt: skip
    lines = _table(
        ["line", "source", "goods", "HS", "route", "ports", "carrier", "loaded", "parties"],
        [[x["line_id"], x["source"], x["goods"], x["hs"], x["route"], x["ports"], x["carrier"],
          x["loaded"], x["parties"]] for x in cf.shipment_lines],
    )  # fmt: skip
    sentences = _table(
        ["report", "names", "sentence"],
        [[f"{x['title']} ({x['doc']}#{x['span']})", x["named"], x["sentence"]]
         for x in cf.sentences],
    )  # fmt: skip
    review = _table(
        ["when", "alert", "who", "action", "from", "to", "assignee", "note", "link"],
        [[x["acted_at"], x["alert_id"], x["actor"], x["action"], x["state_from"], x["state_to"],
          x["assignee"], x["note"], x["link"]] for x in cf.actions],
        "no review actions yet",
    )  # fmt: skip
    missing = (
        f"<p class='note'>Not found in the store: {h(', '.join(cf.missing))}</p>"
        if cf.missing
        else ""
    )
    legend = "".join(
        f"<span class='key'><i style='background:{col}'></i>{h(t)}</span>"
        for t, col in colours.items()
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="{h(cf.meta["generator"])}">
<title>{h(c.title)} ({h(c.case_id)})</title>
<style>{CSS}</style></head><body>
<header><h1>{h(c.title)}</h1>
<p class="meta">{h(c.case_id)} · {h(c.start_time)} to {h(c.end_time)} · {len(cf.alerts)} alerts
({h(sev_text)}) · {len(cf.events)} events · {len(c.subjects)} subjects · built {h(c.built_at)}</p>
<p><span class="score">{c.score:.2f}</span> risk score, from these parts:</p>
{_score_parts(c)}</header>
<section><h2>Timeline</h2>{timeline_svg(cf.events, colours)}<p>{legend}</p>
<div class="tl">{_table(["time", "kind", "type / severity", "id", "what"], timeline_rows)}</div></section>
<section><h2>Map</h2>{map_svg(cf.events, cf.tracks, colours, cf.labels)}</section>
<section><h2>Network</h2>{network_svg(c, cf.labels)}<h3>Subjects</h3>{subjects}
<h3>Why they are joined</h3>{links}</section>
<section><h2>Evidence</h2><h3>Alerts</h3>{alerts}<h3>Events</h3>{events}
<h3>List entries</h3>{entries}<h3>Ownership and control statements</h3>{statements}
<h3>Positions</h3>{positions}<h3>Shipment lines</h3>{lines}
<h3>Report sentences</h3>{sentences}{missing}</section>
<section><h2>Review</h2>{review}</section>
<section><h2>Sources and list versions</h2>{_sources(cf.meta)}</section>
</body></html>
"""


def case_file_html(store: Store, case_id: str) -> str:
    """The case ``case_id`` as one self-contained HTML page (no external URL)."""
    return render_html(gather_case(store, case_id))


def html_to_pdf(page: str, chromium: Path = CHROMIUM) -> bytes:
    """``page`` printed to PDF by headless Chromium; RendererMissing when ``chromium``
    is not installed, WatchkeeperError when it fails."""
    if not chromium.exists():
        found = shutil.which("chromium") or shutil.which("chromium-browser")
        if found is None:
            raise RendererMissing(
                f"a PDF needs headless Chromium: {chromium} is not installed and no "
                "'chromium' is on PATH (install the chromium package, or export HTML)"
            )
        chromium = Path(found)
    with tempfile.TemporaryDirectory(prefix="watchkeeper-pdf-") as tmp:
        src = Path(tmp) / "case.html"
        out = Path(tmp) / "case.pdf"
        src.write_text(page, encoding="utf-8")
        cmd = [
            str(chromium), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={Path(tmp) / 'profile'}", "--no-pdf-header-footer",
            f"--print-to-pdf={out}", src.as_uri(),
        ]  # fmt: skip
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=PDF_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as exc:
            raise WatchkeeperError(f"chromium took over {PDF_TIMEOUT_S} s to print") from exc
        if not out.exists() or out.stat().st_size == 0:
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
            raise WatchkeeperError(
                f"chromium printed no PDF (exit {done.returncode}): {' / '.join(tail)}"
            )
        return out.read_bytes()


def case_file_pdf(store: Store, case_id: str) -> bytes:
    """The case file as PDF, rendered by headless Chromium (see ``html_to_pdf``)."""
    return html_to_pdf(case_file_html(store, case_id))
