"""The questions users ask of the graph: ``exposure``, ``owners``, ``holdings``,
``paths``, ``network``, and ``graph diff`` (which parties a new list version blocks or
unblocks). Every one reads the graph as of ``--as-of`` (default: today, UTC).

Exit codes as everywhere: 0 answered, 1 no such party (or no path), 2 bad input (an
ambiguous name lists its candidates), 3 store error."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from watchkeeper.cli.common import (
    EXIT_FAILURE,
    DbOption,
    JsonOption,
    console,
    err_console,
    open_db,
    print_json,
)
from watchkeeper.errors import InputError

if TYPE_CHECKING:
    from watchkeeper.graph.queries import TreeNode
    from watchkeeper.graph.view import GraphView

REGIMES = ("ofac", "eu", "uk")
FORMATS = ("json", "graphml", "gexf")

AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="The day asked about (ISO date; default today UTC).")
]
RegimeOption = Annotated[
    str, typer.Option("--regime", help="Whose rule: ofac (50% rule), eu or uk.")
]
DepthOption = Annotated[int, typer.Option("--depth", min=0, help="Levels to follow.")]


def as_of_day(value: str | None) -> date:
    """An ``--as-of`` value as a date; today (UTC) when not given."""
    if value is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InputError(None, f"{value!r} is not an ISO date (YYYY-MM-DD)", field="as-of") from exc


def _regime(value: str) -> Any:
    if value not in REGIMES:
        raise InputError(
            None, f"unknown regime {value!r} (known: {', '.join(REGIMES)})", field="regime"
        )
    return value


def _view(db: Path | None, day: date) -> GraphView:
    from watchkeeper.graph.view import load_view

    with open_db(db, read_only=True) as store:
        return load_view(store, day)


def _resolve(view: GraphView, entity: str) -> str:
    """The party's id; a party the graph does not know is "not found" (exit 1)."""
    from watchkeeper.graph.queries import EntityNotFound, resolve

    try:
        return resolve(view, entity)
    except EntityNotFound as exc:
        err_console.print(f"[red]not found:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(EXIT_FAILURE) from exc


def _name(view: GraphView, node_id: str) -> str:
    node = view.nodes.get(node_id)
    return node.name if node is not None else node_id


# -- exposure -----------------------------------------------------------------------


def exposure(
    entity: Annotated[str, typer.Argument(help="A party's id or exact name.")],
    regime: RegimeOption = "ofac",
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Is this party blocked under the regime's ownership rule, why, and the chain of
    statements from the listed parties to it."""
    from watchkeeper.graph.control import assess

    name = _regime(regime)
    day = as_of_day(as_of)
    view = _view(db, day)
    node_id = _resolve(view, entity)
    listed = view.listed.get(name, set())
    result = assess(view.relations, listed, name, as_of=day, unknown=view.unknown)
    found = result.exposure(node_id)
    if json_out:
        print_json({**found.to_dict(), "name": _name(view, node_id)})
        return
    colour = {"blocked": "red", "possibly_blocked": "yellow"}.get(found.status, "green")
    console.print(
        f"[bold]{escape(_name(view, node_id))}[/bold] ({escape(node_id)}) under "
        f"{name.upper()} on {day.isoformat()}: [{colour}]{found.status.replace('_', ' ')}"
        f"[/{colour}]" + (" (listed itself)" if found.listed else ""),
        highlight=False,
    )
    if not found.listed:
        console.print(
            f"held by blocked parties: {found.aggregate.describe()} (test: {found.measure}); "
            f"{escape(found.margin)}",
            highlight=False,
        )
    console.print(f"rule: {escape(found.rule)}", highlight=False)
    console.print(f"source: {escape(found.citation)} <{found.url}>", highlight=False)
    if found.chain:
        table = Table("holder", "holds", "of", "holder status", "dates", "source", title="chain")
        for step in found.chain:
            dates = " to ".join(d.isoformat() if d else "…" for d in (step.start, step.end))
            table.add_row(
                escape(_name(view, step.holder)) + (" [listed]" if step.holder_listed else ""),
                f"{escape(step.share)} ({step.kind})",
                escape(_name(view, step.held)),
                step.holder_status.replace("_", " "),
                "" if dates == "… to …" else dates,
                escape(step.source_ref),
            )
        console.print(table)


# -- owners and holdings ------------------------------------------------------------


def _label(tree: TreeNode) -> str:
    node = tree.node
    text = f"[bold]{escape(node.name)}[/bold] ({escape(node.id)})"
    if tree.listed:
        text += f" [red]listed: {', '.join(tree.listed)}[/red]"
    if tree.relation is not None:
        rel = tree.relation
        share = rel.share.describe() if rel.share is not None else rel.kind
        text += f" — {escape(share)} {rel.kind}" if rel.share is not None else f" — {rel.kind}"
        if rel.start or rel.end:
            text += f", {rel.start or '…'} to {rel.end or '…'}"
        if rel.source_ref:
            text += f" [dim]{escape(rel.source_ref)}[/dim]"
    if tree.cycle:
        text += " [yellow](cycle: already above)[/yellow]"
    if tree.cut:
        text += " [dim](more beyond --depth)[/dim]"
    return text


def _print_tree(tree: TreeNode) -> None:
    root = Tree(_label(tree))

    def add(branch: Tree, node: TreeNode) -> None:
        for child in node.children:
            add(branch.add(_label(child)), child)

    add(root, tree)
    console.print(root, highlight=False)


def owners(
    entity: Annotated[str, typer.Argument(help="A party's id or exact name.")],
    depth: DepthOption = 3,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Who owns or controls this party, level by level, with shares, dates and sources."""
    from watchkeeper.graph.queries import owners as owners_tree

    view = _view(db, as_of_day(as_of))
    tree = owners_tree(view, _resolve(view, entity), depth)
    if json_out:
        print_json(tree.to_dict())
    else:
        _print_tree(tree)


def holdings(
    entity: Annotated[str, typer.Argument(help="A party's id or exact name.")],
    depth: DepthOption = 3,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """What this party owns or controls, level by level, with shares, dates and sources."""
    from watchkeeper.graph.queries import holdings as holdings_tree

    view = _view(db, as_of_day(as_of))
    tree = holdings_tree(view, _resolve(view, entity), depth)
    if json_out:
        print_json(tree.to_dict())
    else:
        _print_tree(tree)


# -- paths and network --------------------------------------------------------------


def paths(
    a: Annotated[str, typer.Argument(help="One party (id or exact name).")],
    b: Annotated[str, typer.Argument(help="The other party.")],
    max_len: Annotated[int, typer.Option("--max-len", min=1, help="Most steps.")] = 6,
    kind: Annotated[
        list[str] | None, typer.Option("--kind", help="Only these relation kinds.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Most paths shown.")] = 10,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """The shortest chains of statements joining two parties, over any relation
    (ownership, directorship, family, association, vessel owner or manager, aircraft
    operator, links), each step told in words with its source and dates. Exit 1 when
    none is at most --max-len steps."""
    from watchkeeper.graph.model import RELATION_KINDS
    from watchkeeper.graph.queries import paths as find_paths

    for k in kind or ():
        if k not in RELATION_KINDS:
            raise InputError(
                None, f"unknown relation kind {k!r} (known: {', '.join(RELATION_KINDS)})",
                field="kind",
            )  # fmt: skip
    view = _view(db, as_of_day(as_of))
    start, goal = _resolve(view, a), _resolve(view, b)
    found = find_paths(view, start, goal, max_len, set(kind) if kind else None, limit=limit)
    if json_out:
        print_json({"from": start, "to": goal, "paths": [p.to_dict() for p in found]})
    else:
        for number, path in enumerate(found, start=1):
            console.print(f"[bold]path {number}[/bold] ({len(path)} steps)", highlight=False)
            for step in path.steps:
                src = f" [dim]{escape(step.relation.source_ref)}[/dim]"
                console.print(f"  {escape(step.text)}{src}", highlight=False)
        if not found:
            err_console.print(f"no path of at most {max_len} steps joins {start} and {goal}")
    if not found:
        raise typer.Exit(EXIT_FAILURE)


def network(
    entity: Annotated[str, typer.Argument(help="A party's id or exact name.")],
    depth: DepthOption = 1,
    fmt: Annotated[
        str | None, typer.Option("--format", help="json, graphml or gexf (default: a table).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
    max_nodes: Annotated[int, typer.Option("--max-nodes", min=1, help="Most parties.")] = 5000,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """The parties within --depth relations of a party and the statements among them,
    for a graph view (GraphML and GEXF open in Gephi, Cytoscape, yEd)."""
    from watchkeeper.graph.export import to_gexf, to_graphml
    from watchkeeper.graph.queries import neighbourhood

    if json_out and fmt is None:
        fmt = "json"
    if fmt is not None and fmt not in FORMATS:
        raise InputError(
            None, f"unknown format {fmt!r} (known: {', '.join(FORMATS)})", field="format"
        )
    view = _view(db, as_of_day(as_of))
    hood = neighbourhood(view, _resolve(view, entity), depth, max_nodes=max_nodes)
    if fmt is None:
        if out is not None:
            raise InputError(None, "--out needs --format json, graphml or gexf", field="out")
        _network_table(hood)
        return
    if fmt == "json":
        import json

        data = (json.dumps(hood.to_dict(), ensure_ascii=False, indent=2) + "\n").encode()
    else:
        writer = to_graphml if fmt == "graphml" else to_gexf
        data = writer(hood.nodes, hood.relations, hood.listed)
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise InputError(out, f"cannot write: {exc.strerror or exc}", field="out") from exc
    err_console.print(
        f"{len(hood.nodes):,} parties, {len(hood.relations):,} statements -> {out}",
        highlight=False,
    )


def _network_table(hood: Any) -> None:
    nodes = Table("id", "name", "schema", "listed", title=f"parties around {hood.center}")
    for n in hood.nodes:
        nodes.add_row(escape(n.id), escape(n.name), n.schema, ", ".join(hood.listed.get(n.id, ())))
    console.print(nodes)
    rels = Table("kind", "holder", "held", "share", "dates", "source", title="statements")
    for r in hood.relations:
        dates = " to ".join(d.isoformat() if d else "…" for d in (r.start, r.end))
        rels.add_row(
            r.kind,
            escape(r.holder),
            escape(r.held),
            r.share.describe() if r.share is not None else "",
            "" if dates == "… to …" else dates,
            escape(r.source_ref),
        )
    console.print(rels)
    more = " (truncated at --max-nodes)" if hood.truncated else ""
    console.print(f"{len(hood.nodes):,} parties, {len(hood.relations):,} statements{more}")


# -- graph diff ---------------------------------------------------------------------


def diff(
    from_version: Annotated[
        int | None,
        typer.Option("--from", help="Older list version id (default: the one before --to)."),
    ] = None,
    to_version: Annotated[
        int | None, typer.Option("--to", help="Newer list version id (default: the newest).")
    ] = None,
    regime: RegimeOption = "ofac",
    source: Annotated[
        str | None, typer.Option("--source", help="The list (default: ofac_sdn for ofac).")
    ] = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Which parties became blocked or unblocked (listed themselves, or through their
    owners) between two versions of a list."""
    from watchkeeper.graph.diff import graph_diff

    name = _regime(regime)
    day = as_of_day(as_of)
    with open_db(db, read_only=True) as store:
        found = graph_diff(store, from_version, to_version, as_of=day, regime=name, source=source)
    if json_out:
        print_json(found.to_dict())
        return
    table = Table("change", "id", "name", "how", "why")
    for c in found.changes:
        how = "by ownership" if c.by_ownership else "listing"
        why = c.exposure.get("margin", "") if c.by_ownership else ""
        table.add_row(
            c.change.replace("_", " "), escape(c.entity), escape(c.name), how, escape(why)
        )
    console.print(table)
    counts = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in found.to_dict()["counts"].items())
    console.print(
        f"{found.source} version {found.from_version} -> {found.to_version}, "
        f"{name.upper()} on {day.isoformat()}: {counts}",
        highlight=False,
    )


def graph_events(
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Recompute the events owned_by_blocked and vessel_owner_blocked on the current
    lists and graph (run after a list or graph load); the earlier ones are replaced."""
    from watchkeeper.graph.events import write_graph_events

    day = as_of_day(as_of)
    with open_db(db) as store:
        counts = write_graph_events(store, day)
    if json_out:
        print_json({"as_of": day.isoformat(), "events": counts})
        return
    said = ", ".join(f"{k}: {v:,}" for k, v in counts.items())
    console.print(f"graph events on {day.isoformat()}: {said}", highlight=False)


def register(app: typer.Typer) -> None:
    """The questions on the main app; ``diff`` under ``watchkeeper graph``."""
    from watchkeeper.cli.graph import graph_app

    app.command("exposure")(exposure)
    app.command("owners")(owners)
    app.command("holdings")(holdings)
    app.command("paths")(paths)
    app.command("network")(network)
    graph_app.command("diff")(diff)
    graph_app.command("events")(graph_events)
