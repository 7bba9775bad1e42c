"""``watchkeeper flights ...`` and ``watchkeeper aircraft show``."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from watchkeeper.cli.common import DbOption, JsonOption, console, open_db, print_json, settings
from watchkeeper.errors import InputError
from watchkeeper.settings import Settings

if TYPE_CHECKING:
    from watchkeeper.movement.air.detectors import AirContext
    from watchkeeper.movement.air.storage import StoredFlight
    from watchkeeper.store import Store

flights_app = typer.Typer(
    help="Flights: ingest ADS-B / Mode-S data, list flights, detect flight events.",
    invoke_without_command=True,
)
aircraft_app = typer.Typer(help="Aircraft: identity, links to the lists, flights, events.")

_HEX6 = re.compile(r"^(icao24:)?[0-9a-fA-F]{6}$")


def _data_dir(db: Path | None) -> Path | None:
    d = settings(db).data_dir
    return d if d.exists() else None


def _parse_route(route: str | None) -> tuple[str | None, str | None]:
    if route is None:
        return None, None
    parts = route.upper().split("-")
    if len(parts) != 2 or not all(re.fullmatch(r"[A-Z0-9]{4}|\*|", p) for p in parts):
        raise InputError(
            None, f"--route {route!r} is not A-B with ICAO airport codes", field="route"
        )
    dep, arr = (p if p not in ("", "*") else None for p in parts)
    return dep, arr


def _operator_filter(
    store: Store, flights: list[StoredFlight], operator: str, db: Path | None
) -> tuple[list[StoredFlight], str]:
    """Flights whose operator matches: an ICAO designator (``IRM``), a listed entity id
    (``ofac-12927``, linked by name or through a listed aircraft), or part of the airline's
    or stated operator's name."""
    from watchkeeper.movement.air import build_context
    from watchkeeper.movement.air.identity import designator, load_airlines
    from watchkeeper.movement.air.storage import read_aircraft

    text = operator.strip()
    airlines = load_airlines(_data_dir(db))
    aircraft = {row["icao24"]: row for row in read_aircraft(store.con)}
    if re.fullmatch(r"[A-Za-z]{3}", text) and text.upper() in airlines:
        code = text.upper()
        return [f for f in flights if designator(f.callsign) == code], f"designator {code}"
    if store.get_entity(text) is not None:
        ctx: AirContext = build_context(store, settings=settings(db))
        chosen = []
        for f in flights:
            ids = {link.entity_id for c in ctx.operator_claims(f) for link in c.links}
            for link in ctx.aircraft_links(f.icao24):
                ids.add(link.entity_id)
                ids |= {op.entity_id for op in ctx.listed.operators_of_listed(link)}
            if text in ids:
                chosen.append(f)
        return chosen, f"linked to listed entity {text}"
    needle = text.lower()
    chosen = []
    for f in flights:
        maybe = designator(f.callsign)
        names = [airlines[maybe].name] if maybe and maybe in airlines else []
        owner = aircraft.get(f.icao24, {}).get("owner_operator")
        if owner:
            names.append(owner)
        if any(needle in n.lower() for n in names):
            chosen.append(f)
    return chosen, f"operator name containing {text!r}"


def _flight_json(
    f: StoredFlight, airlines: dict[str, Any], aircraft: dict[str, Any]
) -> dict[str, Any]:
    from watchkeeper.movement.air.identity import designator

    out = f.to_dict()
    code = designator(f.callsign)
    airline = airlines.get(code) if code else None
    out["operator"] = {
        "designator": code,
        "name": airline.name if airline else aircraft.get(f.icao24, {}).get("owner_operator"),
    }
    out["registration"] = aircraft.get(f.icao24, {}).get("registration")
    return out


def flights(
    ctx: typer.Context,
    operator: Annotated[
        str | None,
        typer.Option(help="ICAO airline designator (IRM), listed entity id, or part of a name."),
    ] = None,
    route: Annotated[
        str | None, typer.Option(help="A-B ICAO airport codes, e.g. OIIE-SVMI; '*' for any.")
    ] = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Stored flights, oldest first (or a subcommand: ingest, detect)."""
    if ctx.invoked_subcommand is not None:
        return
    from watchkeeper.movement.air.identity import load_airlines
    from watchkeeper.movement.air.storage import read_aircraft, read_flights

    dep, arr = _parse_route(route)
    with open_db(db, read_only=True) as store:
        found = read_flights(store.con, departure=dep, arrival=arr)
        how = ""
        if operator:
            found, how = _operator_filter(store, found, operator, db)
        airlines = load_airlines(_data_dir(db))
        aircraft = {row["icao24"]: row for row in read_aircraft(store.con)}
    if json_out:
        print_json([_flight_json(f, airlines, aircraft) for f in found])
        return
    table = Table("icao24", "callsign", "from", "to", "start (UTC)", "end", "points", "km")
    for f in found:
        table.add_row(
            f.icao24,
            f.callsign or "",
            f.departure or "-",
            f.arrival or "-",
            f.start.strftime("%Y-%m-%d %H:%M"),
            f.end.strftime("%Y-%m-%d %H:%M"),
            f"{f.n_points:,}",
            f"{f.distance_km:,.0f}",
        )
    console.print(table)
    console.print(f"{len(found):,} flights" + (f" ({how})" if how else ""))


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files: state vectors or raw frames.")],
    beast_start: Annotated[
        str | None,
        typer.Option(help="UTC time of the first frame of a Beast file (its clock is relative)."),
    ] = None,
    receiver: Annotated[
        str | None, typer.Option(help="LAT,LON of the receiver: a reference for surface positions.")
    ] = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Read, check and store ADS-B / Mode-S files; rebuild the flights they touch."""
    from watchkeeper.movement.air import ingest_paths

    start = None
    if beast_start:
        try:
            start = datetime.fromisoformat(beast_start)
        except ValueError as exc:
            raise InputError(
                None, f"{beast_start!r} is not an ISO time", field="beast-start"
            ) from exc
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
    ref = None
    if receiver:
        try:
            lat, lon = (float(x) for x in receiver.split(","))
        except ValueError as exc:
            raise InputError(None, f"{receiver!r} is not LAT,LON", field="receiver") from exc
        ref = (lat, lon)
    with open_db(db) as store:
        report = ingest_paths(store, paths, beast_start=start, receiver=ref, settings=settings(db))
    if json_out:
        print_json(report.to_dict())
        return
    table = Table(
        "file", "format", "states", "frames", "aircraft", "rejected (by reason)", "repaired"
    )
    for f in report.files:
        table.add_row(
            f.path,
            f.format + (" (skipped: already ingested)" if f.skipped else ""),
            f"{f.states:,}",
            f"{f.frames:,}",
            f"{f.aircraft:,}",
            ", ".join(f"{k} {v:,}" for k, v in sorted(f.rejects.items())) or "-",
            ", ".join(f"{k} {v:,}" for k, v in sorted(f.repaired.items())) or "-",
        )
    console.print(table)
    for f in report.files:
        for note in f.notes:
            console.print(f"  {f.path}: {note}")
    console.print(
        f"{report.states:,} states stored; {report.flights:,} flights of "
        f"{report.aircraft:,} aircraft rebuilt. Run 'watchkeeper flights detect' for events."
    )


def detect(db: DbOption = None, json_out: JsonOption = False) -> None:
    """Run the flight detectors over every stored flight (replaces earlier flight events)."""
    from watchkeeper.movement.air import run_detectors

    with open_db(db) as store:
        counts = run_detectors(store, settings=settings(db))
    if json_out:
        print_json(counts)
        return
    for kind, n in counts.items():
        console.print(f"  {kind:24} {n:>6,}")
    console.print("See them with 'watchkeeper events'.")


def _resolve(store: Store, key: str) -> tuple[str | None, str | None]:
    """(icao24, registration) for an address or a registration."""
    from watchkeeper.movement.air.identity import normal_registration
    from watchkeeper.movement.air.storage import read_aircraft

    text = key.strip()
    if _HEX6.match(text):
        return text[-6:].lower(), None
    reg = normal_registration(text)
    for row in read_aircraft(store.con):
        if row["registration"] and normal_registration(row["registration"]) == reg:
            return row["icao24"], row["registration"]
    return None, text.upper()


def show(
    aircraft: Annotated[
        str, typer.Argument(help="ICAO 24-bit address (6 hex digits) or registration.")
    ],
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """An aircraft: its register, registration, operators, links to the lists (with why),
    flights and events."""
    from watchkeeper.movement.air import build_context
    from watchkeeper.movement.air.identity import identify, load_registers, normal_registration

    with open_db(db, read_only=True) as store:
        icao24, registration = _resolve(store, aircraft)
        ctx = build_context(store, settings=settings(db))
        if icao24 is None:
            listed = ctx.listed.by_reg.get(normal_registration(registration or ""), [])
            if not listed:
                raise InputError(
                    None, f"no aircraft {aircraft!r} in the store or the lists", field="aircraft"
                )
            out: dict[str, Any] = {
                "icao24": None,
                "registration": registration,
                "flights": [],
                "events": [],
                "links": [
                    {
                        "entity_id": a.entity.id,
                        "caption": a.entity.caption,
                        "basis": "registration",
                        "detail": f"{registration} is the registration of listed {a.entity.caption} "
                        f"({a.entity.id}); no flight of it is stored",
                    }
                    for a in listed
                ],
            }
        else:
            ident = (
                ctx.identity(icao24)
                if icao24 in ctx.aircraft
                else identify(icao24, load_registers(_data_dir(db)))
            )
            links = [link.to_dict() for link in ctx.listed.aircraft_links(ident)]
            for link in ctx.listed.aircraft_links(ident):
                links += [op.to_dict() for op in ctx.listed.operators_of_listed(link)]
            flights_of = [f for f in ctx.flights if f.icao24 == icao24]
            operators = []
            seen: set[str] = set()
            for f in flights_of:
                for claim in ctx.operator_claims(f):
                    if claim.name in seen:
                        continue
                    seen.add(claim.name)
                    operators.append(
                        {
                            "name": claim.name,
                            "source": claim.source,
                            "links": [x.to_dict() for x in claim.links],
                        }
                    )
            events = store.read_events(subject=f"icao24:{icao24}")
            row = ctx.aircraft.get(icao24, {})
            first, last = row.get("first_seen"), row.get("last_seen")
            out = {
                **ident.to_dict(),
                "first_seen": first.isoformat() if first else None,
                "last_seen": last.isoformat() if last else None,
                "n_states": row.get("n_states", 0),
                "operators": operators,
                "links": links,
                "flights": [f.to_dict() for f in flights_of],
                "events": [e.to_dict() for e in events],
            }
    if json_out:
        print_json(out)
        return
    console.print(f"[bold]{out.get('icao24') or '-'}[/bold] {out.get('registration') or ''}")
    for key in ("country", "registration_source", "typecode", "description", "owner_operator"):
        if out.get(key):
            console.print(f"  {key}: {out[key]}")
    if out.get("callsigns"):
        console.print(f"  callsigns: {', '.join(out['callsigns'])}")
    for op in out.get("operators", []):
        console.print(f"  operator {op['name']}: {op['source']}")
    for link in out["links"]:
        console.print(
            f"  [red]listed[/red] {link['entity_id']} {link.get('caption', '')}: {link['detail']}"
        )
    table = Table("callsign", "from", "to", "start (UTC)", "end")
    for f in out["flights"]:
        table.add_row(
            f["callsign"] or "", f["departure"] or "-", f["arrival"] or "-", f["start"], f["end"]
        )
    console.print(table)
    for e in out["events"]:
        console.print(f"  {e['type']} {e['start']}: {e['detail']}")


def run_step(store: Store, data_dir: Path) -> None:
    """The flights part of ``watchkeeper run``: ingest the bundled ADS-B samples (real ones,
    and one HAND-MADE Mahan Air track, said so), then run the flight detectors."""
    from watchkeeper.movement.air import BUNDLED_ADSB, ingest_paths, run_detectors

    paths = [data_dir / p for p in BUNDLED_ADSB]
    present = [p for p in paths if p.exists()]
    for p in paths:
        if not p.exists():
            console.print(f"  [yellow]skipped {p}: missing[/yellow]")
    report = ingest_paths(store, present, settings=Settings.from_env())
    for f in report.files:
        name = Path(f.path).name
        if f.skipped:
            console.print(f"  {name}: already loaded")
            continue
        rejected = sum(f.rejects.values())
        console.print(
            f"  {name}: {f.format}, {f.states:,} states"
            + (f" from {f.frames:,} frames" if f.frames else "")
            + (f", {rejected:,} rejected" if rejected else "")
            + (" [yellow](HAND-MADE track, not real data)[/yellow]" if "handmade" in name else "")
        )
    counts = run_detectors(store, settings=Settings.from_env())
    flights = store.con.execute("SELECT count(*) FROM air_flights").fetchone()
    console.print(f"  {flights[0] if flights else 0:,} flights stored")
    console.print("  flight events: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))


def register(app: typer.Typer) -> None:
    """Add ``flights`` (list, ingest, detect) and ``aircraft show`` to the main app."""
    flights_app.callback(invoke_without_command=True)(flights)
    flights_app.command("ingest")(ingest)
    flights_app.command("detect")(detect)
    aircraft_app.command("show")(show)
    app.add_typer(flights_app, name="flights")
    app.add_typer(aircraft_app, name="aircraft")
