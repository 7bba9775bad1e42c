"""``watchkeeper events``: every event any analysis wrote, filtered."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from watchkeeper.cli.common import DbOption, JsonOption, console, open_db, parse_time, print_json
from watchkeeper.errors import InputError

if TYPE_CHECKING:
    from watchkeeper.store import Store

# Written by ``documents.read`` (it names no constant of its own).
REPORT_MENTION = "report_mention"


def known_event_types(store: Store) -> list[str]:
    """Every type an analysis can write (ships, aircraft, reports, cargo, ownership) and any other type
    already stored."""
    from watchkeeper.cargo.decide import EVENT_TYPES as CARGO_TYPES
    from watchkeeper.cargo.tracks import EVENT_TYPE as TRACK_MISMATCH
    from watchkeeper.graph.events import EVENT_TYPES as GRAPH_TYPES
    from watchkeeper.movement.air.detectors import EVENT_TYPES as AIR_TYPES
    from watchkeeper.movement.detectors import EVENT_TYPES as SHIP_TYPES

    return sorted(
        {
            *SHIP_TYPES,
            *AIR_TYPES,
            REPORT_MENTION,
            *CARGO_TYPES,
            TRACK_MISMATCH,
            *GRAPH_TYPES,
            *_stored_types(store),
        }
    )


def _stored_types(store: Store) -> set[str]:
    return {str(r[0]) for r in store.con.execute("SELECT DISTINCT type FROM events").fetchall()}


def check_event_types(store: Store, asked: Sequence[str] | None) -> None:
    """A type no analysis writes is a typo, not a filter that matches nothing: bad
    input naming the closest known type and all of them."""
    missing = [t for t in asked or () if t not in _stored_types(store)]
    if not missing:
        return  # the common case needs no registry (no detector imports)
    known = known_event_types(store)
    for asked_type in missing:
        if asked_type in known:
            continue
        close = difflib.get_close_matches(asked_type, known, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InputError(
            None,
            f"unknown event type {asked_type!r}{hint} (known: {', '.join(known)})",
            field="type",
        )


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
        check_event_types(store, event_type)
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
