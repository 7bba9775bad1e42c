"""The aircraft job: ``ingest_paths(store, paths)`` and ``run_detectors(store)``.

Every file is read and checked before anything is stored; then all of them are stored in
one transaction (a file that cannot be read changes nothing). A file already ingested
(same content hash) is skipped. After loading, the flights and identities of every
aircraft that got new states are rebuilt from all its stored states.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from watchkeeper.movement.air.airports import AirportIndex, default_airports
from watchkeeper.movement.air.detectors import EVENT_TYPES, AirContext, AirRules, detect_all
from watchkeeper.movement.air.flights import FlightRules
from watchkeeper.movement.air.formats import ParsedFile, read_air_file
from watchkeeper.movement.air.identity import ListedIndex, load_airlines, load_registers
from watchkeeper.movement.air.states import AircraftFacts
from watchkeeper.movement.air.storage import (
    insert_frames,
    insert_states,
    load_tracks,
    next_id,
    read_aircraft,
    read_flights,
    rebuild,
)
from watchkeeper.settings import Settings
from watchkeeper.store import Store

# What ``make run`` loads (under the data folder): real samples, and one hand-made track.
BUNDLED_ADSB: list[str] = [
    "adsb/full_flight_short.jsonl.gz",
    "adsb/sample_data_adsb.csv.gz",
    "adsb/trace_full_ac671b.json.gz",
    "adsb/noisy_spoofing.json.gz",
    "adsb/quickstart_part.jsonl.gz",
    "adsb/handmade_mahan_OIIE_SVMI.jsonl.gz",
]


@dataclass
class FileReport:
    """What one file gave: states and frames stored, rejects and repairs by reason."""

    path: str
    format: str
    skipped: bool = False
    rows_read: int = 0
    states: int = 0
    frames: int = 0
    aircraft: int = 0
    rejects: dict[str, int] = field(default_factory=dict)
    repaired: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class IngestReport:
    """The result of one ``ingest_paths`` call."""

    files: list[FileReport] = field(default_factory=list)
    flights: int = 0
    aircraft: int = 0

    @property
    def states(self) -> int:
        return sum(f.states for f in self.files)

    @property
    def rejects(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for f in self.files:
            total.update(f.rejects)
        return dict(total)

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": [f.to_dict() for f in self.files],
            "states": self.states,
            "flights_rebuilt": self.flights,
            "aircraft_rebuilt": self.aircraft,
            "rejects": self.rejects,
        }


def _already(store: Store, file_hash: str) -> tuple[str, str] | None:
    row = store.con.execute(
        "SELECT source, format FROM air_ingests WHERE file_hash = ? LIMIT 1", [file_hash]
    ).fetchone()
    return (str(row[0]), str(row[1])) if row else None


def ingest_paths(
    store: Store,
    paths: Sequence[str | Path],
    *,
    beast_start: datetime | None = None,
    receiver: tuple[float, float] | None = None,
    airports: AirportIndex | None = None,
    rules: FlightRules | None = None,
    settings: Settings | None = None,
) -> IngestReport:
    """Read, check and store aircraft data files (any supported format, see ``formats``),
    then rebuild the flights and identities of the aircraft they touch. All or nothing."""
    settings = settings or Settings.from_env()
    airports = airports or default_airports()
    registers = load_registers(settings.data_dir if settings.data_dir.exists() else None)
    report = IngestReport()
    parsed: list[tuple[ParsedFile, FileReport, datetime]] = []
    seen_hashes: set[str] = set()
    for path in paths:
        started = datetime.now(UTC)
        pf = read_air_file(path, beast_start=beast_start, receiver=receiver)
        fr = FileReport(path=str(path), format=pf.format, rows_read=pf.rows_read)
        known = _already(store, pf.file_hash)
        if known is not None or pf.file_hash in seen_hashes:
            fr.skipped = True
            fr.notes.append(
                f"already ingested from {known[0]}" if known else "same content as an earlier file"
            )
            report.files.append(fr)
            continue
        seen_hashes.add(pf.file_hash)
        fr.states = len(pf.states)
        fr.frames = len(pf.frames) if pf.frames is not None else 0
        fr.aircraft = len(set(pf.states.icao24.tolist()))
        fr.rejects = dict(pf.rejects)
        fr.repaired = dict(pf.repaired)
        fr.counts = dict(pf.counts)
        fr.notes = list(pf.notes)
        parsed.append((pf, fr, started))
        report.files.append(fr)

    if not parsed:
        return report
    touched: set[str] = set()
    facts: dict[str, AircraftFacts] = {}
    with store.transaction() as con:
        for pf, fr, started in parsed:
            ingest_id = next_id(con, "air_ingests", "ingest_id")
            frame_base = None
            if pf.frames is not None:
                frame_base = next_id(con, "air_frames", "frame_id")
                insert_frames(con, pf.frames, ingest_id, frame_base)
            insert_states(
                con, pf.states, ingest_id, next_id(con, "air_states", "row_id"), frame_base
            )
            counts = {
                "rows_read": pf.rows_read,
                "states": fr.states,
                "frames": fr.frames,
                **fr.counts,
            }
            con.execute(
                "INSERT INTO air_ingests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    ingest_id,
                    str(pf.path),
                    pf.format,
                    pf.file_hash,
                    started,
                    datetime.now(UTC),
                    json.dumps(counts),
                    json.dumps(fr.rejects),
                    json.dumps(fr.repaired),
                    json.dumps(fr.notes),
                ],
            )
            touched.update(pf.states.icao24.tolist())
            for icao24, fact in pf.facts.items():
                facts.setdefault(icao24, AircraftFacts()).merge(fact)
        if touched:
            report.flights, report.aircraft = rebuild(
                con, sorted(touched), facts, airports, registers, rules
            )
    return report


def build_context(
    store: Store,
    *,
    settings: Settings | None = None,
    rules: AirRules | None = None,
    airports: AirportIndex | None = None,
) -> AirContext:
    """Everything the detectors read, from the store and the reference tables."""
    settings = settings or Settings.from_env()
    data_dir = settings.data_dir if settings.data_dir.exists() else None
    registers = load_registers(data_dir)
    return AirContext(
        flights=read_flights(store.con),
        tracks={t.icao24: t for t in load_tracks(store.con)},
        aircraft={row["icao24"]: row for row in read_aircraft(store.con)},
        listed=ListedIndex.from_store(store, registers),
        airlines=load_airlines(data_dir),
        airports=airports or default_airports(),
        registers=registers,
        sanctioned_countries=settings.sanctioned_countries,
        rules=rules or AirRules(),
    )


def run_detectors(
    store: Store, *, settings: Settings | None = None, rules: AirRules | None = None
) -> dict[str, int]:
    """Run every flight detector over all stored flights; replaces earlier flight events.
    Returns the number of events of each type."""
    ctx = build_context(store, settings=settings, rules=rules)
    found = detect_all(ctx)
    store.write_events(
        [e for events in found.values() for e in events], replace_types=list(EVENT_TYPES)
    )
    return {t: len(found.get(t, [])) for t in EVENT_TYPES}
