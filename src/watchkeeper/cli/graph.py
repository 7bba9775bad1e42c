"""``watchkeeper graph``: load ownership and control relations, list the loads."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from watchkeeper.cli.common import (
    DbOption,
    JsonOption,
    console,
    open_db,
    print_json,
    recompute_graph_events,
)
from watchkeeper.errors import InputError

if TYPE_CHECKING:
    from watchkeeper.graph.model import GraphBatch

graph_app = typer.Typer(
    help="The ownership and control graph: load relations, list the loads.",
    no_args_is_help=True,
)

FORMATS = ("ftm", "bods", "csv", "shadow_fleet")


def _is_shadow_fleet(paths: list[Path]) -> bool:
    return len(paths) == 1 and any(
        (paths[0] / name).is_file() for name in ("vessel_company.csv", "vessel_company.csv.gz")
    )


def read_batch(
    paths: list[Path], source: str | None, fmt: str | None, mapping: str | None
) -> GraphBatch:
    """The files read as one batch: the shadow-fleet folder, or any format the graph
    readers know (``graph.formats.read_graph_files``; ``mapping`` is ``--map``'s
    ``field=column,...`` for CSV edge lists)."""
    if fmt is not None and fmt not in FORMATS:
        raise InputError(
            None, f"unknown format {fmt!r} (known: {', '.join(FORMATS)})", field="format"
        )
    for path in paths:
        if not path.exists():
            raise InputError(path, "no such file or folder")
    if fmt == "shadow_fleet" or (fmt is None and _is_shadow_fleet(paths)):
        from watchkeeper.graph.shadow_fleet import SOURCE, read_shadow_fleet

        if len(paths) != 1 or not paths[0].is_dir():
            raise InputError(
                paths[0] if paths else None,
                "the shadow-fleet history is read from its folder (vessel_company.csv...)",
                field="format",
            )
        batch = read_shadow_fleet(paths[0])
        if source is not None:
            batch.source = source
        else:
            batch.source = SOURCE
        return batch
    for path in paths:
        if path.is_dir():
            raise InputError(path, "is a folder; give the files", field="path")
    from watchkeeper.graph.formats import read_graph_files
    from watchkeeper.graph.formats.edges import EdgeMapping

    name = source or _default_source(paths)
    edges = EdgeMapping.parse(mapping) if mapping is not None else None
    return read_graph_files(paths, name, fmt=fmt, mapping=edges)


def _default_source(paths: list[Path]) -> str:
    name = paths[0].name
    for suffix in (".gz", ".json", ".jsonl", ".ndjson", ".csv"):
        name = name.removesuffix(suffix)
    return name


def load(
    paths: Annotated[list[Path], typer.Argument(help="Files (or the shadow-fleet folder).")],
    source: Annotated[
        str | None,
        typer.Option(help="Name of the source (default: the folder or first file's name)."),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="ftm, bods, csv or shadow_fleet; detected when not given."),
    ] = None,
    mapping: Annotated[
        str | None,
        typer.Option(
            "--map",
            help="CSV columns: owner=COL,owned=COL[,share=COL,role=COL,start=COL,end=COL,"
            "source=COL].",
        ),
    ] = None,
    label: Annotated[
        str | None, typer.Option(help="Version label (default: today's date, UTC).")
    ] = None,
    names: Annotated[
        bool,
        typer.Option("--names/--no-names", help="Also resolve nodes by name (screening); slower."),
    ] = True,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Load relations as a new version of their source, all or nothing; resolve their
    nodes to list entities (identifiers first, then names)."""
    from watchkeeper.graph.resolve import resolve_nodes
    from watchkeeper.graph.store import loaded_graph_version, store_graph_batch

    with console.status("reading", spinner="dots"):
        batch = read_batch(paths, source, fmt, mapping)
    with open_db(db) as store:
        known = loaded_graph_version(store, batch)
        if known is not None:
            version, new, resolved = known, False, known.counts.get("resolved", {})
        else:
            with console.status("resolving nodes", spinner="dots"):
                resolutions = resolve_nodes(store, batch.nodes, by_name=names)
            with console.status("storing", spinner="dots"):
                version, new = store_graph_batch(store, batch, label=label, resolutions=resolutions)
            if new:
                recompute_graph_events(store)
            resolved = version.counts.get("resolved", {})
    if json_out:
        print_json({**version.to_dict(), "new": new, "resolved": resolved})
        return
    state = "loaded" if new else "already loaded (same files), nothing changed"
    console.print(
        f"{version.source} {version.version}: {state}: {version.node_count:,} nodes, "
        f"{version.relation_count:,} relations (graph version id {version.version_id})",
        markup=False,
        highlight=False,
    )
    kinds = version.counts.get("kinds", {})
    if kinds:
        console.print(
            "  relations: " + ", ".join(f"{k} {n:,}" for k, n in sorted(kinds.items())),
            markup=False,
            highlight=False,
        )
    total = sum(resolved.values())
    by_reason = ", ".join(f"{k} {n:,}" for k, n in sorted(resolved.items())) or "none"
    console.print(
        f"  resolved to list entities: {total:,} ({by_reason})", markup=False, highlight=False
    )


def resolve(
    version: Annotated[
        list[int] | None,
        typer.Option("--version", help="Graph version id(s) (default: every current one)."),
    ] = None,
    names: Annotated[
        bool,
        typer.Option("--names/--no-names", help="Also resolve nodes by name (screening)."),
    ] = True,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Resolve the nodes of graph loads again, against the lists as they are now (after
    a list was loaded), replacing the resolutions stored with them."""
    from watchkeeper.graph.resolve import resolve_nodes
    from watchkeeper.graph.store import (
        current_graph_versions,
        find_graph_version,
        read_graph_version,
        store_resolutions,
    )

    out: list[dict[str, Any]] = []
    with open_db(db) as store:
        chosen = (
            [find_graph_version(store, v) for v in version]
            if version
            else current_graph_versions(store)
        )
        for v in chosen:
            batch = read_graph_version(store, v.version_id)
            with console.status(f"resolving {v.source} {v.version}", spinner="dots"):
                found = resolve_nodes(store, batch.nodes, by_name=names)
            store_resolutions(store, v.version_id, found)
            reasons: dict[str, int] = {}
            for res in found.values():
                reasons[res.reason] = reasons.get(res.reason, 0) + 1
            out.append({"version_id": v.version_id, "source": v.source, "resolved": reasons})
    if json_out:
        print_json(out)
        return
    for item in out:
        by_reason = ", ".join(f"{k} {n:,}" for k, n in sorted(item["resolved"].items()))
        console.print(
            f"{item['source']} (graph version id {item['version_id']}): resolved "
            f"{sum(item['resolved'].values()):,} ({by_reason or 'none'})",
            markup=False,
            highlight=False,
        )


def versions(db: DbOption = None, json_out: JsonOption = False) -> None:
    """Every graph load, with counts; the newest of each source is current."""
    from watchkeeper.graph.store import current_graph_versions, graph_versions

    with open_db(db, read_only=True) as store:
        loads = graph_versions(store)
        current = {v.version_id for v in current_graph_versions(store)}
    if json_out:
        out: list[dict[str, Any]] = [
            {**v.to_dict(), "current": v.version_id in current} for v in loads
        ]
        print_json(out)
        return
    # The load time is in --json: the table stays within 80 columns.
    table = Table("id", "source", "version", "nodes", "relations", "resolved", "")
    for v in loads:
        resolved = sum(v.counts.get("resolved", {}).values())
        table.add_row(
            str(v.version_id),
            escape(v.source),
            escape(v.version),
            f"{v.node_count:,}",
            f"{v.relation_count:,}",
            f"{resolved:,}",
            "current" if v.version_id in current else "",
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    graph_app.command("load")(load)
    graph_app.command("versions")(versions)
    graph_app.command("resolve")(resolve)
    app.add_typer(graph_app, name="graph")
