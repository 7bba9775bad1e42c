"""``watchkeeper vessels show MMSI|IMO`` and ``watchkeeper detect``."""

from __future__ import annotations

import re
from collections import Counter
from typing import Annotated, Any

import typer
from rich.table import Table

from watchkeeper.cli.common import (
    DbOption,
    JsonOption,
    console,
    open_db,
    parse_time,
    print_json,
    settings,
)
from watchkeeper.errors import InputError
from watchkeeper.movement.detect import run_detectors
from watchkeeper.movement.vessels import (
    ListedVessels,
    RegistryVessel,
    VesselIdentity,
    build_identities,
    imo_valid,
    link_identity,
    mmsis_for_imo,
    owner_links,
    shadow_fleet,
)
from watchkeeper.store import Store

vessels_app = typer.Typer(help="Vessels: identity over time and links to the lists.")


def parse_vessel_id(value: str) -> tuple[str, str]:
    """``'273449250'``/``'mmsi:273...'`` -> ('mmsi', ...); ``'IMO 9187629'``, seven
    digits -> ('imo', ...)."""
    text = value.strip().lower()
    kind = None
    for prefix in ("mmsi:", "imo:", "imo", "mmsi"):
        if text.startswith(prefix):
            kind = prefix.rstrip(":")
            text = text[len(prefix) :]
            break
    digits = re.sub(r"[\s-]", "", text)
    if not digits.isdigit():
        raise InputError(None, f"{value!r} is not an MMSI or IMO number", field="vessel")
    if kind is None:
        kind = "imo" if len(digits) == 7 else "mmsi"
    return kind, str(int(digits)) if kind == "mmsi" else digits


def _vessel_report(
    store: Store, ident: VesselIdentity, listed: ListedVessels, registry: Any
) -> dict[str, Any]:
    links = link_identity(ident, listed, registry)
    links += owner_links(store, links, listed, registry, ident)
    events = Counter(e.type for e in store.read_events(subject=f"mmsi:{ident.mmsi}"))
    return {
        **ident.to_dict(),
        "links": [lk.to_dict() for lk in links],
        "events": dict(sorted(events.items())),
    }


def _registry_records(registry: Any, imos: set[str], mmsi_list: list[int]) -> list[RegistryVessel]:
    for m in mmsi_list:
        imos |= {imo for imo, _ in registry.imos_for_mmsi(m)}
    return [r for imo in sorted(imos) if (r := registry.get(imo)) is not None]


def show(
    vessel: Annotated[str, typer.Argument(help="MMSI (9 digits) or IMO (7 digits, or 'IMO n').")],
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """What a vessel has broadcast over time, its flag, and why it links to listed parties."""
    kind, value = parse_vessel_id(vessel)
    registry = shadow_fleet()
    with open_db(db, read_only=True) as store:
        mmsis = [int(value)] if kind == "mmsi" else mmsis_for_imo(store, value)
        identities = build_identities(store, mmsis) if mmsis else {}
        listed = ListedVessels.from_store(store)
        reports = [_vessel_report(store, i, listed, registry) for i in identities.values()]
        imos = {value} if kind == "imo" else set()
        for i in identities.values():
            imos |= {o.value for o in i.imos if imo_valid(o.value)}
        records = _registry_records(registry, imos, list(identities) or mmsis)
        listed_by_imo = {
            imo: [listed.entities[e].caption + f" ({e})" for e in listed.by_imo.get(imo, [])]
            for imo in sorted(imos)
        }
    if not reports and not records:
        console.print(f"no AIS reports and no registry history for {kind.upper()} {value}")
        raise typer.Exit(1)
    if json_out:
        print_json(
            {
                "query": {"kind": kind, "value": value},
                "vessels": reports,
                "registry": [r.to_dict() for r in records],
                "listed_by_imo": listed_by_imo,
            }
        )
        return
    for rep in reports:
        _print_vessel(rep)
    for imo, names in listed_by_imo.items():
        if names:
            console.print(f"[bold]IMO {imo}[/bold] is listed: {', '.join(names)}")
    for rec in records:
        _print_registry(rec)


def _print_vessel(rep: dict[str, Any]) -> None:
    flag = f"{rep['flag'].upper()} ({rep['flag_name']})" if rep["flag"] else "no valid MID"
    console.rule(f"MMSI {rep['mmsi']}")
    console.print(
        f"flag from MID {rep['mid']}: {flag}; seen {rep['first_seen']} to {rep['last_seen']}, "
        f"{rep['positions']:,} positions"
    )
    table = Table("broadcast", "value", "first seen", "last seen", "reports")
    for key in ("names", "imos", "callsigns", "ship_types", "dimensions"):
        for obs in rep[key]:
            value = obs["value"]
            if key == "imos" and not obs["valid"]:
                value += " (bad check digit)"
            table.add_row(
                key.rstrip("s"),
                value,
                obs["first_seen"] or "",
                obs["last_seen"] or "",
                str(obs["reports"]),
            )
    console.print(table)
    if rep["links"]:
        links = Table("linked to", "method", "score", "why")
        for lk in rep["links"]:
            links.add_row(
                f"{lk['caption']} ({lk['entity_id']})",
                lk["method"],
                f"{lk['score']:.2f}",
                lk["detail"],
            )
        console.print(links)
    else:
        console.print("not linked to any listed vessel")
    if rep["events"]:
        console.print("events: " + ", ".join(f"{k} {v}" for k, v in rep["events"].items()))


def _print_registry(rec: RegistryVessel) -> None:
    console.rule(f"shadow-fleet registry: IMO {rec.imo} {rec.name}")
    table = Table("history", "value", "from", "to")
    for label, periods in (("mmsi", rec.mmsis), ("name", rec.names), ("flag", rec.flags)):
        for p in periods:
            table.add_row(label, p.value, str(p.start or ""), str(p.end or ""))
    for role, p in rec.companies:
        table.add_row(role, f"company IMO {p.value}", str(p.start or ""), str(p.end or ""))
    console.print(table)
    if rec.sanctions:
        console.print("sanctioned: " + ", ".join(f"{by} {d}" for d, by in rec.sanctions))


def detect(
    event_type: Annotated[
        list[str] | None,
        typer.Option("--type", help="Event type(s): port_call, ais_gap, encounter, ..."),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only positions at or after this UTC date/time.")
    ] = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Link vessels to the lists and run the detectors over the stored AIS."""
    since_dt = parse_time(since)
    with open_db(db) as store, console.status("linking vessels and detecting events") as status:

        def progress(vessels: int, positions: int) -> None:
            status.update(f"detecting: {vessels:,} vessels, {positions:,} positions")

        counts = run_detectors(
            store, event_type, since_dt, settings=settings(db), progress=progress
        )
        links = store.con.execute("SELECT count(*) FROM vessel_links").fetchone()
    if json_out:
        print_json({"events": counts, "vessel_links": int(links[0]) if links else 0})
        return
    print_detection(counts, int(links[0]) if links else 0)


def print_detection(counts: dict[str, int], n_links: int, note: str = "") -> None:
    """Events found per type and the vessel links made, as `detect` and `detect-spark` say it."""
    table = Table("event type", "events")
    for t, n in counts.items():
        table.add_row(t, f"{n:,}")
    console.print(table)
    console.print(f"{n_links:,} vessel links{note}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    vessels_app.command("show")(show)
    app.add_typer(vessels_app, name="vessels")
    app.command("detect")(detect)
