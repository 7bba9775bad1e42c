"""``watchkeeper vessels show MMSI|IMO|NAME`` and ``watchkeeper detect``."""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING, Annotated, Any

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

if TYPE_CHECKING:
    from watchkeeper.movement.vessels import (
        ListedVessels,
        RegistryVessel,
        VesselCandidate,
        VesselIdentity,
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
    if not (digits.isascii() and digits.isdigit()):  # '¹' and '٣' are digits to isdigit()
        raise InputError(None, f"{value!r} is not an MMSI or IMO number", field="vessel")
    if kind is None:
        kind = "imo" if len(digits) == 7 else "mmsi"
    return kind, str(int(digits)) if kind == "mmsi" else digits


def _vessel_report(
    store: Store, ident: VesselIdentity, listed: ListedVessels, registry: Any
) -> dict[str, Any]:
    from watchkeeper.movement.vessels import link_identity, owner_links

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


MAX_SHOWN = 3  # exact name matches shown in full; more are listed as candidates


def parse_vessel_query(value: str) -> tuple[str, str]:
    """An MMSI or IMO as ``parse_vessel_id`` reads it; text with a letter in it that is
    not one is a vessel name (or a listed vessel's id): ``('name', text)``."""
    try:
        return parse_vessel_id(value)
    except InputError:
        if re.search(r"[^\W\d_]", value):
            return "name", " ".join(value.split())
        raise


def show(
    vessel: Annotated[
        str,
        typer.Argument(
            help="MMSI (9 digits), IMO (7 digits, or 'IMO n'), a vessel name, or a listed "
            "vessel's id (ofac-15036)."
        ),
    ],
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """What a vessel has broadcast over time, its flag, why it links to listed parties,
    and its listing (sanctions, owners) even when it was never heard on AIS. A name is
    matched against listed vessels (names, aliases, former names) and broadcast names:
    an exact match is shown in full, near ones are listed as candidates."""
    from watchkeeper.movement.vessels import (
        ListedVessels,
        build_identities,
        imo_digits,
        imo_valid,
        listing,
        mmsis_for_imo,
        shadow_fleet,
        vessels_named,
    )

    kind, value = parse_vessel_query(vessel)
    registry = shadow_fleet()
    candidates: list[VesselCandidate] = []
    entity_ids: list[str] = []
    with open_db(db, read_only=True) as store:
        listed = ListedVessels.from_store(store)
        imos: set[str] = set()
        if kind == "name" and value in listed.entities:  # a listed vessel's id
            kind = "entity"
            entity_ids = [value]
            imos = {i for i in map(imo_digits, listed.entities[value].get("imoNumber")) if i}
            mmsis = [m for imo in sorted(imos) for m in mmsis_for_imo(store, imo)]
        elif kind == "name":
            candidates = vessels_named(store, listed, value)
            exact = [c for c in candidates if c.exact]
            shown = exact if len(exact) <= MAX_SHOWN else []
            mmsis = [c.mmsi for c in shown if c.mmsi is not None]
            entity_ids = [c.entity_id for c in shown if c.entity_id is not None]
            imos = {c.imo for c in shown if c.entity_id is not None and c.imo}
            for imo in sorted(imos):
                mmsis += mmsis_for_imo(store, imo)
        elif kind == "mmsi":
            mmsis = [int(value)]
            entity_ids = list(listed.by_mmsi.get(value, []))
        else:
            mmsis = mmsis_for_imo(store, value)
            imos = {value}
        mmsis = sorted(set(mmsis))
        identities = build_identities(store, mmsis) if mmsis else {}
        reports = [_vessel_report(store, i, listed, registry) for i in identities.values()]
        for i in identities.values():
            imos |= {o.value for o in i.imos if imo_valid(o.value)}
        records = _registry_records(registry, imos, list(identities) or mmsis)
        listed_by_imo = {
            imo: [listed.entities[e].caption + f" ({e})" for e in listed.by_imo.get(imo, [])]
            for imo in sorted(imos)
        }
        for imo in sorted(imos):
            entity_ids += listed.by_imo.get(imo, [])
        for rep in reports:
            entity_ids += [
                lk["entity_id"]
                for lk in rep["links"]
                if lk["method"] not in ("owner", "operator") and lk["entity_id"] in listed.entities
            ]
        listings = [
            found for e in dict.fromkeys(entity_ids) if (found := listing(store, e)) is not None
        ]
        # Owner or manager listed or blocked by ownership (graph.events, kept current).
        owner_flags = [
            e.to_dict()
            for subject in [*(f"imo:{i}" for i in sorted(imos)), *dict.fromkeys(entity_ids)]
            for e in store.read_events(types=["vessel_owner_blocked"], subject=subject)
        ]
        owner_flags = list({f["id"]: f for f in owner_flags}.values())
    if not reports and not records and not listings and not candidates and not owner_flags:
        if kind == "name":
            console.print(f"no listed vessel and no AIS name like {value!r}", markup=False)
        else:
            console.print(
                f"no AIS reports, no listing and no registry history for {kind.upper()} {value}",
                markup=False,
            )
        raise typer.Exit(1)
    if json_out:
        print_json(
            {
                "query": {"kind": kind, "value": value},
                "vessels": reports,
                "listed": listings,
                "registry": [r.to_dict() for r in records],
                "listed_by_imo": listed_by_imo,
                "owner_blocked": owner_flags,
                **({"candidates": [c.to_dict() for c in candidates]} if kind == "name" else {}),
            }
        )
        return
    for rep in reports:
        _print_vessel(rep)
    for imo, names in listed_by_imo.items():
        if names:
            console.print(f"IMO {imo} is listed: {', '.join(names)}", markup=False)
    for found in listings:
        _print_listing(found)
    for flag in owner_flags:
        console.print(f"[bold red]owner blocked:[/bold red] {flag['detail']}", highlight=False)
    for rec in records:
        _print_registry(rec)
    if kind == "name":
        _print_candidates(value, candidates, shown=bool(reports or listings))


def _print_listing(found: dict[str, Any]) -> None:
    """A listed vessel as published: properties, provenance, sanctions, linked parties."""
    console.rule(f"listed: {found['caption']} ({found['id']})", characters="=")
    table = Table("listed", "value")
    for prop, values in sorted(found["properties"].items()):
        if prop not in ("addressEntity", "topics"):
            table.add_row(prop, "; ".join(values))
    console.print(table)
    for prov in found["provenance"]:
        console.print(
            f"on {prov['source']} entry {prov['entry_id']}, version {prov['version']} "
            f"(first seen {prov['first_seen']}, last seen {prov['last_seen']})",
            markup=False,
            highlight=False,
        )
    for sanction in found["sanctions"]:
        parts = [
            f"{label} {'; '.join(sanction[key])}"
            for label, key in (
                ("by", "authority"),
                ("programme", "program"),
                ("since", "start_date"),
            )
            if sanction[key]
        ]
        provisions = f" ({'; '.join(sanction['provisions'])})" if sanction["provisions"] else ""
        console.print("sanctioned " + ", ".join(parts) + provisions, markup=False, highlight=False)
    if not found["sanctions"]:
        console.print("no sanction record in the lists for this entry", markup=False)
    for party in found["parties"]:
        ref = (
            f" ({party['entity_id']}, {party['schema']})" if party["entity_id"] else " (not listed)"
        )
        console.print(
            f"{party['role']}: {party['caption']}{ref}, from {party['via']}",
            markup=False,
            highlight=False,
        )


def _print_candidates(name: str, candidates: list[VesselCandidate], *, shown: bool) -> None:
    if not candidates:
        return
    exact = sum(c.exact for c in candidates)
    if not shown:
        why = f"{exact} vessels have that exact name" if exact else "no exact match"
        console.print(f"{why}; vessels named like {name!r} (show one by its id):", markup=False)
    elif len(candidates) > exact:
        console.print(f"other vessels named like {name!r}:", markup=False)
    else:
        return
    table = Table("id", "name", "similarity", "IMO", "listed as")
    for c in candidates:
        if shown and c.exact:
            continue
        ref = c.entity_id or f"mmsi:{c.mmsi}"
        table.add_row(ref, c.name, f"{c.score:.2f}", c.imo or "", c.caption or "")
    console.print(table)


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
    from watchkeeper.movement.detect import run_detectors

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
