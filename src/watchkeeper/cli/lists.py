"""``watchkeeper lists ...`` and ``watchkeeper entities ...``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from watchkeeper.cli.common import DbOption, JsonOption, console, open_db, print_json, settings
from watchkeeper.lists import parse_files
from watchkeeper.lists.fetch import fetch_lists

lists_app = typer.Typer(help="Official sanctions lists: load, show versions, diff, fetch.")
entities_app = typer.Typer(help="Entities from the lists: get one, plain name search.")


@lists_app.command("load")
def load(
    paths: Annotated[list[Path], typer.Argument(help="List files of one publication.")],
    source: Annotated[
        str | None, typer.Option(help="List format; detected when not given.")
    ] = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Load one publication of a list, as a new version, all or nothing."""
    with console.status(f"parsing {', '.join(p.name for p in paths)}", spinner="dots"):
        parsed = parse_files(paths, source)
    with open_db(db) as store, console.status("storing", spinner="dots"):
        version, new = store.add_list_version(parsed)
    if json_out:
        print_json({**version.to_dict(), "new": new})
        return
    state = "loaded" if new else "already loaded (same files), nothing changed"
    console.print(
        f"{version.source} {version.version}: {state}: {version.entity_count:,} entries "
        f"(version id {version.version_id})"
    )


@lists_app.command("show")
def show(db: DbOption = None, json_out: JsonOption = False) -> None:
    """Every list version loaded, with counts."""
    with open_db(db, read_only=True) as store:
        versions = store.list_versions()
    if json_out:
        print_json([v.to_dict() for v in versions])
        return
    table = Table("id", "source", "version", "entries", "by schema", "loaded at")
    for v in versions:
        schemas = ", ".join(f"{k} {n:,}" for k, n in sorted(v.counts.get("schemas", {}).items()))
        table.add_row(
            str(v.version_id),
            v.source,
            v.version,
            f"{v.entity_count:,}",
            schemas,
            v.loaded_at.strftime("%Y-%m-%d %H:%M"),
        )
    console.print(table)


@lists_app.command("diff")
def diff(
    source: Annotated[str, typer.Argument(help="List source, e.g. ofac_sdn.")],
    from_version: Annotated[str | None, typer.Option("--from", help="Older version.")] = None,
    to_version: Annotated[str | None, typer.Option("--to", help="Newer version.")] = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Entries added, removed and changed between two versions of one list."""
    with open_db(db, read_only=True) as store:
        result = store.diff_versions(source, from_version, to_version)
    if json_out:
        print_json(result.to_dict())
        return
    console.print(
        f"{source}: {result.from_version.version} -> {result.to_version.version}: "
        f"{len(result.added):,} added, {len(result.removed):,} removed, "
        f"{len(result.changed):,} changed"
    )
    for c in result.changed[:20]:
        console.print(f"  changed {c.id}: {', '.join(c.properties)}", highlight=False)
    if len(result.changed) > 20:
        console.print(f"  ... {len(result.changed) - 20:,} more (use --json)")


@lists_app.command("fetch")
def fetch(
    names: Annotated[list[str] | None, typer.Argument(help="Which lists (default: all).")] = None,
    load_after: Annotated[
        bool, typer.Option("--load/--no-load", help="Load after download.")
    ] = True,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Download the current official files from the publishers' URLs in settings."""
    cfg = settings(db)
    fetched = fetch_lists(cfg, names or None)
    results = []
    with open_db(db) as store:
        for group in fetched:
            item: dict[str, object] = {
                "files": [str(p) for p in group.paths],
                "source": group.source,
            }
            if load_after:
                version, new = store.add_list_version(parse_files(group.paths, group.source))
                item.update(version=version.version, entities=version.entity_count, new=new)
            results.append(item)
    if json_out:
        print_json(results)
        return
    for item in results:
        console.print(item)


@entities_app.command("get")
def get(
    entity_id: Annotated[str, typer.Argument(help="Entity id, e.g. ofac-12927.")],
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """One entity, as FtM, with its list provenance and related entities."""
    with open_db(db, read_only=True) as store:
        found = store.get_entity(entity_id)
    if found is None:
        console.print(f"no entity {entity_id!r} in the current lists")
        raise typer.Exit(1)
    entity, related = found
    if json_out:
        print_json({**entity.to_dict(), "related": [r.to_dict() for r in related]})
        return
    console.print(f"[bold]{entity.caption}[/bold]  {entity.id}  ({entity.schema})")
    for prop, values in sorted(entity.properties.items()):
        console.print(f"  {prop}: {'; '.join(values)}", highlight=False)
    for p in entity.provenance:
        console.print(
            f"  from {p.source} entry {p.entry_id}, version {p.version} "
            f"(first seen {p.first_seen}, last seen {p.last_seen})"
        )
    for r in related:
        props = "; ".join(f"{k}={'|'.join(v)}" for k, v in sorted(r.properties.items()))
        console.print(f"  related {r.schema} {r.id}: {props}", highlight=False)


@entities_app.command("search")
def search(
    text: Annotated[str, typer.Argument(help="Name, or the start of a name or word.")],
    limit: Annotated[int, typer.Option(help="Most results.")] = 20,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Plain name search (exact, then prefix); fuzzy matching is `watchkeeper screen`."""
    with open_db(db, read_only=True) as store:
        hits = store.search_entities(text, limit=limit)
    if json_out:
        print_json([{**e.to_dict(), "matched_name": name} for e, name in hits])
        return
    table = Table("id", "schema", "name", "matched", "lists")
    for e, name in hits:
        table.add_row(e.id, e.schema, e.caption, name, ", ".join(e.datasets))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(lists_app, name="lists")
    app.add_typer(entities_app, name="entities")
