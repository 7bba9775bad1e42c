"""``watchkeeper read``: a report's mentions, links and claims."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from watchkeeper.cli.common import DbOption, JsonOption, console, open_db, print_json

if TYPE_CHECKING:
    from watchkeeper.documents.read import Reading


def read(
    source: Annotated[str, typer.Argument(help="A file, an http(s) URL, or - for stdin.")],
    store_it: Annotated[
        bool, typer.Option("--store/--no-store", help="Keep the document and its events.")
    ] = True,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Read a report: set aside captions and promo lines, link the parties it names to
    the lists, and list who claims what."""
    from watchkeeper.documents.read import read_text, store_reading
    from watchkeeper.documents.service import gazetteer_for, linker_for
    from watchkeeper.documents.text import load_source

    text = load_source(source)
    with open_db(db, read_only=not store_it) as store:
        gazetteer = gazetteer_for(store)
        reading = read_text(text, gazetteer, linker_for(store))
        reading.list_versions = [v.version_id for v in store.list_versions()]
        events = store_reading(store, reading) if store_it else 0
    if json_out:
        print_json({**reading.to_dict(), "events_written": events})
        return
    show_reading(reading)
    if store_it:
        console.print(f"{events} report_mention event(s) stored ({reading.doc_id})")


def show_reading(reading: Reading) -> None:
    data = reading.to_dict()
    console.print(f"[bold]{data['title'] or reading.source.source}[/bold]  ({reading.doc_id})")
    for b in reading.set_aside:
        console.print(f"  set aside ({b.kind}): {b.text[:80]!r} — {b.reason}", highlight=False)
    table = Table("text", "kind", "linked to", "score", "why")
    for m in reading.mentions:
        if m.kind in ("date", "money"):
            continue
        linked = f"{m.entity_id} {m.caption}" if m.entity_id else (m.country or "")
        table.add_row(m.text, m.kind, linked, f"{m.score:.2f}", m.reason)
    console.print(table)
    claims = Table("source", "form", "claim", "rule")
    for c in reading.claims:
        claims.add_row(c.source, c.form, c.content[:120], c.rule)
    console.print(claims)


def register(app: typer.Typer) -> None:
    app.command("read")(read)
