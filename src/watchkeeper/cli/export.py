"""``watchkeeper export``: events, tracks, alerts, networks and case files in the formats
analysts open elsewhere (GeoJSON, KML, CSV, XLSX, GraphML, GEXF, HTML, PDF), each naming
its sources and list versions."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from watchkeeper.cli.common import DbOption, err_console, open_db, parse_time
from watchkeeper.errors import InputError

FormatOption = Annotated[str, typer.Option("--format", "-f", help="Output format.")]
OutOption = Annotated[
    Path | None, typer.Option("--out", "-o", help="Write to this file (default: stdout).")
]
SinceOption = Annotated[
    str | None, typer.Option("--since", help="From this ISO date or time (UTC).")
]
UntilOption = Annotated[
    str | None, typer.Option("--until", help="Up to this ISO date or time (UTC).")
]
CaseOption = Annotated[str | None, typer.Option("--case", help="Only this case's.")]

# Formats that must go to a file: CSV has its sources in a sidecar beside it, the others
# are binary.
FILE_ONLY = {"csv", "xlsx", "pdf"}


def _check_format(fmt: str, allowed: tuple[str, ...], out: Path | None) -> None:
    if fmt not in allowed:
        raise InputError(
            None, f"unknown format {fmt!r} (known: {', '.join(allowed)})", field="format"
        )
    if out is None and fmt in FILE_ONLY:
        why = "its sources go in a sidecar .meta.json beside it" if fmt == "csv" else "it is binary"
        raise InputError(None, f"--format {fmt} needs --out ({why})", field="out")


def _write(data: bytes, out: Path | None, what: str) -> None:
    """``data`` to ``out`` (complete or not at all: written beside it, then renamed) or
    to stdout."""
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    tmp = out.with_name(f".{out.name}.part")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(out, f"cannot write: {exc.strerror or exc}", field="out") from exc
    err_console.print(f"{what} -> {out} ({len(data):,} bytes)", highlight=False)


def _write_csv(data: bytes, meta: dict[str, Any], out: Path | None, what: str) -> None:
    from watchkeeper.alerts.exports import sidecar_json

    assert out is not None  # _check_format refused csv without --out
    _write(data, out, what)
    _write(sidecar_json(meta), out.with_name(out.name + ".meta.json"), "sources")


def events(
    types: Annotated[
        list[str] | None, typer.Option("--type", help="Event type (repeatable).")
    ] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    subject: Annotated[
        str | None, typer.Option("--subject", help="A subject: mmsi:.., imo:.., ofac-..")
    ] = None,
    alert: Annotated[str | None, typer.Option("--alert", help="Only this alert's.")] = None,
    case: CaseOption = None,
    tracks: Annotated[
        bool, typer.Option("--tracks", help="Add the tracks of the events' vessels and aircraft.")
    ] = False,
    fmt: FormatOption = "geojson",
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """Events as GeoJSON, KML or CSV (with --tracks: their subjects' tracks too)."""
    from watchkeeper.alerts import exports as ex
    from watchkeeper.cli.events import check_event_types

    _check_format(fmt, ("geojson", "kml", "csv"), out)
    query = ex.EventQuery(
        types=tuple(types or ()),
        since=parse_time(since),
        until=parse_time(until, "until"),
        subject=subject,
        alert_id=alert,
        case_id=case,
    )
    with open_db(db, read_only=True) as store:
        check_event_types(store, types)
        found = ex.select_events(store, query)
        track_list: list[ex.Track] = []
        if tracks and found:
            track_list = ex.select_tracks(
                store,
                {s for e in found for s in e.subjects},
                min(e.start_time for e in found) - ex.TRACK_PAD,
                max(e.end_time for e in found) + ex.TRACK_PAD,
            )
        prov = ex.Provenance().add_events(found).add_tracks(track_list)
        meta = ex.export_metadata(
            store,
            prov,
            what=f"{len(found)} events" + (f", {len(track_list)} tracks" if track_list else ""),
            query={"types": types, "since": since, "until": until, "subject": subject,
                   "alert": alert, "case": case},
        )  # fmt: skip
    what = f"{len(found):,} events"
    if fmt == "csv":
        _write_csv(ex.events_csv(found), meta, out, what)
    elif fmt == "kml":
        _write(ex.to_kml(found, track_list, meta), out, what)
    else:
        _write(ex.to_geojson(found, track_list, meta), out, what)


def tracks(
    subjects: Annotated[
        list[str] | None,
        typer.Option("--subject", help="mmsi:.., imo:.. or icao24:.. (repeatable)."),
    ] = None,
    case: CaseOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    fmt: FormatOption = "geojson",
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """Vessel tracks and flight routes as GeoJSON, KML or CSV (one row per position)."""
    from watchkeeper.alerts import exports as ex
    from watchkeeper.alerts.cases import find_case

    _check_format(fmt, ("geojson", "kml", "csv"), out)
    if not subjects and case is None:
        raise InputError(None, "name at least one --subject, or a --case", field="subject")
    start, end = parse_time(since), parse_time(until, "until")
    with open_db(db, read_only=True) as store:
        wanted = list(subjects or ())
        if case is not None:
            row = find_case(store, case)
            wanted += row.subjects
            start = start or row.start_time - ex.TRACK_PAD
            end = end or row.end_time + ex.TRACK_PAD
        found = ex.select_tracks(store, wanted, start, end)
        meta = ex.export_metadata(
            store,
            ex.Provenance().add_tracks(found),
            what=f"{len(found)} tracks",
            query={"subjects": subjects, "case": case, "since": since, "until": until},
        )
    what = f"{len(found):,} tracks"
    if fmt == "csv":
        _write_csv(ex.tracks_csv(found), meta, out, what)
    elif fmt == "kml":
        _write(ex.to_kml([], found, meta), out, what)
    else:
        _write(ex.to_geojson([], found, meta), out, what)


def alerts(
    state: Annotated[str | None, typer.Option("--state", help="new, in_review, ...")] = None,
    severity: Annotated[
        str | None, typer.Option("--severity", help="low, medium, high, critical")
    ] = None,
    rule: Annotated[str | None, typer.Option("--rule", help="Only this rule's.")] = None,
    case: CaseOption = None,
    fmt: FormatOption = "xlsx",
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """Alerts as CSV or XLSX (sheets Alerts, Events, Sources)."""
    from watchkeeper.alerts import exports as ex

    _check_format(fmt, ("csv", "xlsx"), out)
    with open_db(db, read_only=True) as store:
        found = ex.select_alerts(store, state=state, severity=severity, rule_id=rule, case_id=case)
        behind = ex.events_of_alerts(store, found)
        meta = ex.export_metadata(
            store,
            ex.Provenance().add_events(behind).add_subjects(s for a in found for s in a.subjects),
            what=f"{len(found)} alerts",
            query={"state": state, "severity": severity, "rule": rule, "case": case},
        )
    what = f"{len(found):,} alerts"
    if fmt == "csv":
        _write_csv(ex.alerts_csv(found), meta, out, what)
    else:
        _write(ex.alerts_xlsx(found, behind, meta), out, what)


def network(
    case: CaseOption = None,
    entity: Annotated[
        str | None, typer.Option("--entity", help="Or: the parties around this one.")
    ] = None,
    depth: Annotated[int, typer.Option("--depth", min=0, help="With --entity.")] = 1,
    fmt: FormatOption = "graphml",
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """A case's network (its subjects and links) or the graph around an entity, as
    GraphML or GEXF."""
    from watchkeeper.alerts import exports as ex
    from watchkeeper.alerts.cases import find_case

    _check_format(fmt, ("graphml", "gexf"), out)
    if (case is None) == (entity is None):
        raise InputError(None, "name either --case or --entity", field="case")
    with open_db(db, read_only=True) as store:
        nodes: list[Any]
        if case is not None:
            row = find_case(store, case)
            nodes, relations, listed = ex.case_graph(store, row)
            prov = ex.Provenance().add_subjects(row.subjects)
            query: dict[str, Any] = {"case": case}
        else:
            from watchkeeper.graph.queries import neighbourhood
            from watchkeeper.graph.view import load_view

            assert entity is not None
            view = load_view(store, datetime.now(UTC).date())
            hood = neighbourhood(view, entity, depth)
            nodes, relations, listed = list(hood.nodes), hood.relations, hood.listed
            prov = ex.Provenance().add_subjects(n.id for n in nodes)
            prov.evidence.update(f"rel:{r.id}" for r in relations)
            query = {"entity": entity, "depth": depth}
        meta = ex.export_metadata(store, prov, what=f"network of {len(nodes)} parties", query=query)
    _write(
        ex.network_export(nodes, relations, listed, fmt, meta),
        out,
        f"{len(nodes):,} parties, {len(relations):,} links",
    )


def case_file(
    case_id: Annotated[str, typer.Argument(help="A case id.")],
    fmt: FormatOption = "html",
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """A case file: one self-contained HTML page, a PDF of it (headless Chromium), or
    JSON."""
    from watchkeeper.alerts import casefile

    _check_format(fmt, ("html", "pdf", "json"), out)
    with open_db(db, read_only=True) as store:
        if fmt == "json":
            import json

            data = casefile.case_file_json(store, case_id)
            body = (json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n").encode()
        else:
            page = casefile.case_file_html(store, case_id)
            body = page.encode("utf-8")
    if fmt == "pdf":
        body = casefile.html_to_pdf(page)
    _write(body, out, f"case {case_id}")


def register(app: typer.Typer) -> None:
    export_app = typer.Typer(
        help="Export events, tracks, alerts, networks and case files, naming their sources.",
        no_args_is_help=True,
    )
    export_app.command("events")(events)
    export_app.command("tracks")(tracks)
    export_app.command("alerts")(alerts)
    export_app.command("network")(network)
    export_app.command("case")(case_file)
    app.add_typer(export_app, name="export")
