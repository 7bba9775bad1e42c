"""``watchkeeper lists ...`` and ``watchkeeper entities ...``."""

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
    err_console,
    open_db,
    print_json,
    recompute_graph_events,
    settings,
)

if TYPE_CHECKING:
    from watchkeeper.lists import ListParser, ParsedList
    from watchkeeper.store import Store
    from watchkeeper.store.entities import StoredEntity
    from watchkeeper.store.versions import ListVersion

lists_app = typer.Typer(help="Official sanctions lists: load, show versions, diff, fetch.")
entities_app = typer.Typer(help="Entities from the lists: get one, plain name search.")


AllowShrinkOption = Annotated[
    bool,
    typer.Option(
        "--allow-shrink",
        help="Load even when the list has lost more entries than WATCHKEEPER_MAX_LIST_SHRINK "
        "allows since its newest version (a cut download is refused without it).",
    ),
]


def _max_shrink(db: Path | None, allow_shrink: bool) -> float | None:
    return None if allow_shrink else settings(db).max_list_shrink


@lists_app.command("load")
def load(
    paths: Annotated[list[Path], typer.Argument(help="List files of one publication.")],
    source: Annotated[
        str | None, typer.Option(help="List format; detected when not given.")
    ] = None,
    allow_shrink: AllowShrinkOption = False,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Load one publication of a list, as a new version, all or nothing."""
    from watchkeeper.lists import detect_parser

    parser = detect_parser(paths, source)
    known = _already_loaded(db, parser, paths)
    if known is not None:
        version, new = known, False
    else:
        with console.status(f"parsing {', '.join(p.name for p in paths)}", spinner="dots"):
            parsed = parser.parse(paths)
        with open_db(db) as store, console.status("storing", spinner="dots"):
            version, new = store.add_list_version(parsed, max_shrink=_max_shrink(db, allow_shrink))
            if new:
                recompute_graph_events(store)
    if json_out:
        print_json({**version.to_dict(), "new": new})
        return
    state = "loaded" if new else "already loaded (same files), nothing changed"
    dated = f", dated by {version.dated_by}" if version.dated_by else ""
    console.print(
        f"{version.source} {version.version}: {state}: {version.entity_count:,} entries "
        f"(version id {version.version_id}{dated})",
        markup=False,
        highlight=False,
    )


def _already_loaded(db: Path | None, parser: ListParser, paths: list[Path]) -> ListVersion | None:
    """The version these very files were loaded as, if they were: files already loaded
    are not parsed again (a daily job re-running on the same files)."""
    from watchkeeper.lists.base import file_sha256

    if not settings(db).db_path.exists():
        return None  # a new store: nothing is loaded yet
    with open_db(db, read_only=True) as store:
        return store.loaded_version(parser.source, file_sha256(paths))


@lists_app.command("show")
def show(db: DbOption = None, json_out: JsonOption = False) -> None:
    """Every list version loaded, with counts."""
    with open_db(db, read_only=True) as store:
        versions = store.list_versions()
    if json_out:
        print_json([v.to_dict() for v in versions])
        return
    table = Table("id", "source", "version", "dated by", "entries", "by schema", "loaded at")
    for v in versions:
        schemas = ", ".join(f"{k} {n:,}" for k, n in sorted(v.counts.get("schemas", {}).items()))
        table.add_row(
            str(v.version_id),
            v.source,
            v.version,
            escape(v.dated_by or ""),
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
    """Entries added, removed and changed between two versions of one list.

    Two versions read from different files (a full OFAC set and a lone sdn.csv) are
    compared on what both carry, and the output says what was left out."""
    with open_db(db, read_only=True) as store:
        result = store.diff_versions(source, from_version, to_version)
    if json_out:
        print_json(result.to_dict())
        return
    console.print(
        f"{source}: {result.from_version.version} -> {result.to_version.version}: "
        f"{len(result.added):,} added, {len(result.removed):,} removed, "
        f"{len(result.changed):,} changed",
        markup=False,
        highlight=False,
    )
    note = result.compared_note()
    if note:
        console.print(f"  {note}", markup=False, highlight=False)
    shown = 20
    table = Table("change", "id", "name", "what changed")
    rows: list[tuple[str, list[tuple[str, str]]]] = [
        ("added", [(i, "") for i in result.added]),
        ("removed", [(i, "") for i in result.removed]),
        ("changed", [(c.id, ", ".join(c.properties)) for c in result.changed]),
    ]
    more: list[str] = []
    for kind, items in rows:
        for entity_id, what in items[:shown]:
            table.add_row(kind, entity_id, escape(result.names.get(entity_id, "")), what)
        if len(items) > shown:
            more.append(f"{len(items) - shown:,} more {kind}")
    if table.row_count:
        console.print(table)
    if more:
        console.print(f"  ... {', '.join(more)} (use --json)", markup=False, highlight=False)


@lists_app.command("fetch")
def fetch(
    names: Annotated[list[str] | None, typer.Argument(help="Which lists (default: all).")] = None,
    load_after: Annotated[
        bool, typer.Option("--load/--no-load", help="Load after download.")
    ] = True,
    allow_shrink: AllowShrinkOption = False,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Download the current official files from the publishers' URLs in settings.

    All or nothing: a failed download leaves no files, and the lists are stored only
    when every downloaded publication parsed, in one transaction."""
    from watchkeeper.lists import PARSERS, detect_parser
    from watchkeeper.lists.fetch import fetch_lists

    cfg = settings(db)
    with console.status("downloading", spinner="dots"):
        fetched = fetch_lists(cfg, names or None)
    results: list[dict[str, Any]] = [
        {"source": group.source, "files": [str(p) for p in group.paths]} for group in fetched
    ]
    if load_after:
        parsed: list[tuple[dict[str, Any], ParsedList]] = []
        for item, group in zip(results, fetched, strict=True):
            # A list name of the user's own (not a parser's source) is detected from its files.
            parser = detect_parser(group.paths, group.source if group.source in PARSERS else None)
            known = _already_loaded(db, parser, group.paths)
            if known is not None:
                item.update(version=known.version, entities=known.entity_count, new=False)
                continue
            with console.status(f"parsing {group.source}", spinner="dots"):
                parsed.append((item, parser.parse(group.paths)))
        if parsed:
            with open_db(db) as store, store.transaction():
                max_shrink = _max_shrink(db, allow_shrink)
                for item, publication in parsed:
                    version, new = store.add_list_version(publication, max_shrink=max_shrink)
                    item.update(version=version.version, entities=version.entity_count, new=new)
            if any(item["new"] for item, _ in parsed):
                with open_db(db) as store:
                    recompute_graph_events(store)
    if json_out:
        print_json(results)
        return
    for item in results:
        line = f"{item['source']}: downloaded {len(item['files'])} file(s)"
        if "version" in item:
            state = "loaded" if item["new"] else "already loaded"
            line += f"; {item['version']}: {state}, {item['entities']:,} entries"
        console.print(line, markup=False, highlight=False)
        for path in item["files"]:
            console.print(f"  {path}", markup=False, highlight=False)


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
            err_console.print(
                f"no entity {entity_id!r} in the current lists", markup=False, highlight=False
            )
            raise typer.Exit(1)
        entity, related = found
        if json_out:
            print_json({**entity.to_dict(), "related": [r.to_dict() for r in related]})
            return
        captions = _captions(store, [entity, *related])
    # List text is printed as is: '[w]' or '[d]' in an address is not rich markup.
    console.print(f"[bold]{escape(entity.caption)}[/bold]  {entity.id}  ({entity.schema})")
    for prop, values in sorted(entity.properties.items()):
        shown = "; ".join(_shown(v, captions) for v in values)
        console.print(f"  {prop}: {shown}", markup=False, highlight=False)
    for p in entity.provenance:
        console.print(
            f"  from {p.source} entry {p.entry_id}, version {p.version} "
            f"(first seen {p.first_seen}, last seen {p.last_seen})",
            markup=False,
            highlight=False,
        )
    for r in related:
        props = "; ".join(
            f"{k}={'|'.join(_shown(v, captions) for v in vs)}"
            for k, vs in sorted(r.properties.items())
        )
        console.print(f"  related {r.schema} {r.id}: {props}", markup=False, highlight=False)


def _captions(store: Store, entities: list[StoredEntity]) -> dict[str, str]:
    """Names of the entities these ones point at (an aircraft's operator, a link's
    subject), so the text output says 'MAHAN AIR (ofac-12927)' and not only the id."""
    from followthemoney import model

    wanted: set[str] = set()
    for e in entities:
        schema = model.get(e.schema)
        for prop, values in e.properties.items():
            p = schema.get(prop) if schema is not None else None
            if p is not None and p.type.name == "entity":
                wanted.update(values)
    captions: dict[str, str] = {}
    for ref in sorted(wanted):
        got = store.get_entity(ref)
        if got is not None:
            captions[ref] = got[0].caption
    return captions


def _shown(value: str, captions: dict[str, str]) -> str:
    caption = captions.get(value)
    return f"{caption} ({value})" if caption and caption != value else value


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
        table.add_row(e.id, e.schema, escape(e.caption), escape(name), ", ".join(e.datasets))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(lists_app, name="lists")
    app.add_typer(entities_app, name="entities")
