"""``watchkeeper run``: the main job on the bundled data (what ``make run`` does)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from watchkeeper.cli.common import DbOption, console, open_db, settings
from watchkeeper.errors import WatchkeeperError

if TYPE_CHECKING:
    from watchkeeper.store import Store

# The bundled list publications, oldest first, so the newest is "current".
BUNDLED_LISTS: list[tuple[str, list[str]]] = [
    (
        "ofac_sdn",
        [
            "lists/ofac/sdn_csv_2023-12-28/sdn.csv.gz",
            "lists/ofac/sdn_csv_2023-12-28/add.csv.gz",
            "lists/ofac/sdn_csv_2023-12-28/alt.csv.gz",
            "lists/ofac/sdn_csv_2023-12-28/sdn_comments.csv.gz",
        ],
    ),
    ("ofac_sdn", ["lists/ofac/sdn_csv_2024-05-03/sdn.csv.gz"]),
    (
        "ofac_cons",
        [
            "lists/ofac/cons_nonsdn_csv/cons_prim.csv.gz",
            "lists/ofac/cons_nonsdn_csv/cons_add.csv.gz",
            "lists/ofac/cons_nonsdn_csv/cons_alt.csv.gz",
            "lists/ofac/cons_nonsdn_csv/cons_comments.csv.gz",
        ],
    ),
    ("un_sc", ["lists/un/consolidated.xml.gz"]),
    ("us_csl", ["lists/us_csl/consolidated.csv.gz"]),
]


# Publications whose files carry no date: the date of the snapshot they were copied
# from (data/SOURCES.md), so the version label does not change with each checkout.
BUNDLED_DATES: dict[str, date] = {"ofac_cons": date(2025, 12, 19)}


def load_bundled_lists(store: Store, data_dir: Path) -> None:
    from watchkeeper.lists import parse_files

    for source, files in BUNDLED_LISTS:
        paths = [data_dir / f for f in files]
        missing = [p for p in paths if not p.exists()]
        if missing:
            console.print(f"  [yellow]skipped {source}: {missing[0]} is missing[/yellow]")
            continue
        try:
            parsed = parse_files(paths, source)
        except WatchkeeperError as exc:
            console.print(f"  [red]{source}: {exc}[/red]")
            continue
        if source in BUNDLED_DATES:
            parsed.published = BUNDLED_DATES[source]
            parsed.version = BUNDLED_DATES[source].isoformat()
        version, new = store.add_list_version(parsed)
        state = "loaded" if new else "already loaded"
        console.print(f"  {source} {version.version}: {version.entity_count:,} entries ({state})")


def ingest_bundled_ais(store: Store, data_dir: Path) -> None:
    from watchkeeper.movement.ais.ingest import ingest_paths

    folder = data_dir / "ais"
    if not folder.exists():
        console.print(f"  [yellow]skipped: {folder} is missing[/yellow]")
        return
    report = ingest_paths(store, [folder])
    for src in report.sources:
        name = Path(src.source).name
        if src.skipped:
            console.print(f"  {name}: already ingested")
            continue
        counts = ", ".join(f"{k} {v:,}" for k, v in sorted(src.counts.items()))
        rejects = sum(src.rejects.values())
        line = f"  {name} ({src.format}): {counts}"
        if rejects:
            reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(src.rejects.items()))
            line += f"; rejected {rejects:,} ({reasons})"
        console.print(line, highlight=False)


def detect_ship_events(store: Store, data_dir: Path) -> None:
    from watchkeeper.movement.detect import run_detectors

    counts = run_detectors(store)
    console.print("  ship events: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))


def flights(store: Store, data_dir: Path) -> None:
    from watchkeeper.cli.aircraft import run_step

    run_step(store, data_dir)


def read_founding_report(store: Store, data_dir: Path) -> None:
    from watchkeeper.cli.reports import show_reading
    from watchkeeper.documents.read import read_text, store_reading
    from watchkeeper.documents.service import gazetteer_for, linker_for
    from watchkeeper.documents.text import load_source

    path = data_dir / "articles" / "seed-iran-venezuela.txt"
    if not path.exists():
        console.print(f"  [yellow]skipped: {path} is missing[/yellow]")
        return
    reading = read_text(load_source(str(path)), gazetteer_for(store), linker_for(store))
    reading.list_versions = [v.version_id for v in store.list_versions()]
    written = store_reading(store, reading)
    show_reading(reading)
    console.print(f"  {written} report_mention event(s)")


def ownership(store: Store, data_dir: Path) -> None:
    """Load the shadow-fleet ownership and management history, join it with the lists'
    own relations, apply the OFAC 50% rule as of today and print who is blocked by
    ownership or by a listed owner or manager without being named on a list."""
    from watchkeeper.graph.control import assess
    from watchkeeper.graph.events import write_graph_events
    from watchkeeper.graph.resolve import resolve_nodes
    from watchkeeper.graph.shadow_fleet import read_shadow_fleet
    from watchkeeper.graph.store import loaded_graph_version, store_graph_batch
    from watchkeeper.graph.view import load_view

    folder = data_dir / "shadow_fleet"
    if folder.exists():
        batch = read_shadow_fleet(folder)
        known = loaded_graph_version(store, batch)
        if known is None:
            version, _ = store_graph_batch(
                store, batch, resolutions=resolve_nodes(store, batch.nodes, by_name=False)
            )
            state = "loaded"
        else:
            version, state = known, "already loaded"
        console.print(
            f"  {version.source}: {version.node_count:,} nodes, "
            f"{version.relation_count:,} relations ({state})",
            highlight=False,
        )
    else:
        console.print(f"  [yellow]skipped the shadow fleet: {folder} is missing[/yellow]")
    day = datetime.now(UTC).date()
    view = load_view(store, day)
    kinds = Counter(r.kind for r in view.relations)
    console.print(
        f"  graph on {day}: {len(view.nodes):,} nodes, {len(view.relations):,} relations in "
        "force (" + ", ".join(f"{k} {n:,}" for k, n in sorted(kinds.items())) + ")",
        highlight=False,
    )
    result = assess(view.relations, view.listed["ofac"], "ofac", as_of=day, unknown=view.unknown)
    blocked = result.blocked_unlisted()
    possibly = result.possibly_blocked()
    console.print(
        f"  OFAC 50% rule: {len(blocked):,} blocked and {len(possibly):,} possibly blocked "
        "by ownership without being named on a list",
        highlight=False,
    )
    for entity in [*blocked, *possibly][:15]:
        exp = result.exposure(entity)
        node = view.nodes.get(entity)
        name = node.name if node is not None else entity
        console.print(
            f"    {name} ({entity}): {exp.status}, {exp.aggregate.describe()} held by blocked "
            f"persons; {exp.margin}",
            highlight=False,
        )
    counts = write_graph_events(store, day)
    console.print(
        "  events: " + ", ".join(f"{k} {n:,}" for k, n in counts.items()), highlight=False
    )
    owned = store.read_events(types=["vessel_owner_blocked"])
    listed = set().union(*view.listed.values())
    unnamed = [e for e in owned if not listed.intersection(e.subjects)]
    console.print(
        f"  {len(owned):,} vessel(s) with a listed registered owner or manager, "
        f"{len(unnamed):,} of them not on a list themselves",
        highlight=False,
    )
    for e in [*unnamed, *(e for e in owned if e not in unnamed)][:8]:
        mark = "" if e in unnamed else " (vessel listed too)"
        console.print(f"    {e.detail}{mark}", highlight=False)
    if len(owned) > 8:
        console.print("    ... (all: watchkeeper events --type vessel_owner_blocked)")


def cargo_decisions(store: Store, data_dir: Path) -> None:
    from watchkeeper.cli.cargo_check import run_step

    run_step(store, data_dir)


def papers_against_tracks(store: Store, data_dir: Path) -> None:
    """The hand-made declarations written against the bundled real tracks: which the
    tracks contradict, and how."""
    from watchkeeper.cargo.ingest import ingest_files
    from watchkeeper.cargo.store import read_lines
    from watchkeeper.cargo.tracks import (
        TrackCheckParams,
        check_tracks,
        mismatch_events,
        save_mismatch_events,
    )
    from watchkeeper.cli.cargo_tracks import _flag_of, _identity_history

    path = data_dir / "cargo" / "handmade_track_declarations.csv"
    if not path.exists():
        console.print(f"  [yellow]skipped: {path} is missing[/yellow]")
        return
    report = ingest_files(store, [path], "customs_declaration")
    batch_ids = sorted({f.batch_id for f in report.files})
    lines = [ln for b in batch_ids for ln in read_lines(store, batch_id=b)]
    params = TrackCheckParams(sanctioned=settings(None).sanctioned_countries)
    findings = check_tracks(store, lines, params, flag_of=_flag_of(), history=_identity_history())
    events = mismatch_events(lines, findings, params)
    save_mismatch_events(store, [ln.line_id for ln in lines], events)
    for e in events:
        console.print(f"  {e.detail[:150]}", highlight=False)
    console.print(
        f"  {len(lines)} declared voyage line(s) (hand-made against real tracks): "
        f"{len(events)} manifest_track_mismatch event(s) (details: watchkeeper cargo tracks)",
        highlight=False,
    )


def alerts(store: Store, data_dir: Path) -> None:
    """The alert rules (alerts/rules/*.toml) over every event stored so far: one alert
    per rule, subjects and window, the same ids on a re-run."""
    from collections import Counter

    from watchkeeper.alerts.engine import raise_alerts
    from watchkeeper.alerts.store import list_alerts

    run = raise_alerts(store)
    found = list_alerts(store)
    for a in found[:8]:
        console.print(f"  {a.severity:8} {a.rule_id:26} {a.title[:100]}", highlight=False)
    by_rule = Counter((a.severity, a.rule_id) for a in found)
    console.print(
        f"  {len(found)} alert(s) ({len(run.created)} new, {len(run.updated)} updated): "
        + ", ".join(f"{rule} {n} ({sev})" for (sev, rule), n in sorted(by_rule.items()))
        + "  (see them: watchkeeper alerts)",
        highlight=False,
    )


FOUNDING_REPORT = "articles/seed-iran-venezuela.txt"


def founding_case(store: Store, data_dir: Path) -> None:
    """Group the alerts into cases, then print the one the founding report describes:
    the case holding the alerts its mentions raised, found from the data."""
    from watchkeeper.alerts.cases import build_cases, case_of_document, get_case
    from watchkeeper.cli.cases import print_case

    run = build_cases(store)
    console.print(
        f"  {run.cases} case(s) over {run.alerts} alert(s) ({len(run.created)} new, "
        f"{len(run.updated)} changed)  (see them: watchkeeper cases)",
        highlight=False,
    )
    case_id = case_of_document(store, FOUNDING_REPORT)
    if case_id is None:
        console.print(
            f"  [yellow]no case holds an alert raised from {FOUNDING_REPORT}: was the "
            "report read and did its mentions raise alerts?[/yellow]"
        )
        return
    detail = get_case(store, case_id)
    print_case(detail, compact=True)
    domains = [d for d, subjects in detail.subjects_by_domain.items() if subjects]
    console.print(
        f"  the founding report's case joins {len(detail.case.subjects)} subjects in "
        f"{len(domains)} groups ({', '.join(domains)})  "
        f"(all of it: watchkeeper cases show {case_id})",
        highlight=False,
    )


Step = Callable[["Store", Path], None]

STEPS: list[tuple[str, Step]] = [
    ("Sanctions lists", load_bundled_lists),
    ("AIS", ingest_bundled_ais),
    ("Ship events", detect_ship_events),
    ("Flights", flights),
    ("Founding report", read_founding_report),
    ("Ownership and control", ownership),
    ("Cargo", cargo_decisions),
    ("Papers against tracks", papers_against_tracks),
    ("Alerts", alerts),
    ("Case", founding_case),
]


def run(
    data: Annotated[Path | None, typer.Option(help="Folder of bundled data.")] = None,
    db: DbOption = None,
) -> None:
    """Load the bundled lists, AIS, flights and reports; detect events; print a summary."""
    cfg = settings(db)
    data_dir = data or cfg.data_dir
    console.print(f"[bold]Watchkeeper[/bold]: store {cfg.db_path}, data {data_dir}")
    with open_db(db) as store:
        for title, step in STEPS:
            console.rule(title)
            step(store, data_dir)
        console.rule("Summary")
        console.print(f"  {store.entity_count():,} listed entities in the current lists")
        for v in store.list_versions():
            console.print(f"  {v.source:10} {v.version:12} {v.entity_count:>7,} entries")
        by_type = store.con.execute(
            "SELECT type, count(*) FROM events GROUP BY type ORDER BY type"
        ).fetchall()
        console.print(
            "  events: "
            + ", ".join(f"{t} {n:,}" for t, n in by_type)
            + "  (see them: watchkeeper events)"
        )


def register(app: typer.Typer) -> None:
    app.command("run")(run)
