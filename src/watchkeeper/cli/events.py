"""``watchkeeper events``: every event any analysis wrote, filtered."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from watchkeeper.cli.common import DbOption, JsonOption, console, open_db, parse_time, print_json


def events(
    event_type: Annotated[
        list[str] | None, typer.Option("--type", help="Event type(s), e.g. port_call.")
    ] = None,
    vessel: Annotated[str | None, typer.Option(help="MMSI or IMO of a vessel.")] = None,
    subject: Annotated[
        str | None, typer.Option(help="Any subject id: icao24:..., ofac-...")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Only events ending on or after (UTC).")] = None,
    limit: Annotated[int | None, typer.Option(help="Most events.")] = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Events found by every analysis, oldest first."""
    with open_db(db, read_only=True) as store:
        found = store.read_events(
            types=event_type, subject=vessel or subject, since=parse_time(since), limit=limit
        )
    if json_out:
        print_json([e.to_dict() for e in found])
        return
    table = Table("type", "start (UTC)", "end", "subjects", "score", "detail")
    for e in found:
        table.add_row(
            e.type,
            e.start.strftime("%Y-%m-%d %H:%M"),
            e.end.strftime("%Y-%m-%d %H:%M"),
            " ".join(e.subjects),
            f"{e.score:.2f}",
            e.detail,
        )
    console.print(table)
    console.print(f"{len(found):,} events")


def register(app: typer.Typer) -> None:
    app.command("events")(events)
