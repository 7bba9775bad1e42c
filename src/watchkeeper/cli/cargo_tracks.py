"""``watchkeeper cargo tracks``: the stored shipment lines against the stored tracks."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from watchkeeper.cli.common import DbOption, JsonOption, console, open_db, print_json, settings

if TYPE_CHECKING:
    from datetime import date

    from watchkeeper.cargo.tracks import FlagOf, IdentityHistory


def _flag_of() -> FlagOf:
    """The flag an MMSI claims (its MID), from ``movement``: cargo may not import it, the
    CLI passes it in."""
    from watchkeeper.movement.vessels import mmsi_flag

    def flag_of(mmsi: int) -> str | None:
        entry = mmsi_flag(mmsi)
        return entry.country if entry else None

    return flag_of


def _identity_history() -> IdentityHistory:
    """The MMSIs an IMO used in a period, from the shadow-fleet registry ``movement``
    reads (bundled ``data/shadow_fleet``)."""
    from watchkeeper.movement.vessels import shadow_fleet

    registry = shadow_fleet()

    def history(imo: int, first: date, last: date) -> list[tuple[int, str]]:
        vessel = registry.get(f"{imo:07d}")
        if vessel is None:
            return []
        return [
            (int(p.value), f"{p.span()}, shadow-fleet registry")
            for p in vessel.mmsis
            if (p.start is None or p.start <= last) and (p.end is None or first < p.end)
        ]

    return history


def tracks(
    shipment: Annotated[
        str | None, typer.Option("--shipment", help="Only the lines of this shipment id.")
    ] = None,
    save: Annotated[
        bool,
        typer.Option(
            "--save/--no-save",
            help="Store a manifest_track_mismatch event per contradicted line (replacing "
            "the lines' earlier ones).",
        ),
    ] = True,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Shipment lines against the tracks of their declared vessel or flight.

    Undeclared port calls (sanctioned countries first), declared ports with no call,
    encounters and AIS gaps during the voyage, flights that landed elsewhere. Run
    `watchkeeper detect` and `watchkeeper flights detect` first: the check reads their
    events. Exit 1 when --shipment names no stored shipment."""
    from watchkeeper.cargo.store import read_lines
    from watchkeeper.cargo.tracks import (
        TrackCheckParams,
        check_tracks,
        mismatch_events,
        save_mismatch_events,
    )

    params = TrackCheckParams(sanctioned=settings(db).sanctioned_countries)
    with open_db(db, read_only=not save) as store:
        lines = read_lines(store, shipment_id=shipment)
        if shipment is not None and not lines:
            console.print(f"no shipment {shipment!r} is stored", highlight=False)
            raise typer.Exit(1)
        findings = check_tracks(
            store, lines, params, flag_of=_flag_of(), history=_identity_history()
        )
        events = mismatch_events(lines, findings, params)
        if save:
            save_mismatch_events(store, [ln.line_id for ln in lines], events)
    mismatched = sorted({f.line_id for f in findings if f.mismatch})
    if json_out:
        print_json(
            {
                "lines": len(lines),
                "mismatched_lines": mismatched,
                "findings": [f.to_dict() for f in findings],
                "events": [e.to_dict() for e in events],
            }
        )
        return
    table = Table("line", "finding", "score", "detail")
    for f in findings:
        style = "bold red" if f.mismatch else None
        table.add_row(f.line_id, f.kind, f"{f.score:.2f}", f.detail, style=style)
    console.print(table)
    kinds = Counter(f.kind for f in findings)
    console.print(
        f"{len(lines):,} lines, {len(mismatched):,} contradicted by their tracks; "
        + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())),
        highlight=False,
    )


def register(cargo_app: typer.Typer) -> None:
    cargo_app.command("tracks")(tracks)
