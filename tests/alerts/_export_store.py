"""Test helper (not tests): a store for the export and case file tests, built by writing
rows straight into the tables that are the contract (events, alerts, cases, documents,
shipment_lines...), on top of real bundled data: the OFAC SDN 2023-12-28 list and the
Argenni Baltic AIS sample (HALLAND, MMSI 212536000, calls at Kronshtadt on 2018-04-01)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import DATA, copy_store
from tests.movement.samples import BALTIC, load_baltic
from watchkeeper.events.model import Event
from watchkeeper.movement.ports import Port, load_ports
from watchkeeper.store import Store

BALTIC_FILE = DATA / "ais" / "argenni" / f"{BALTIC}.gz"
HALLAND = 212536000
HOSTILE = '<script>alert("pwn")</script> O\'Neil & "Sons" =HYPERLINK("x")'
HOSTILE_MMSI = 999000111
CASE = "case-test0001"
OTHER_CASE = "case-test0002"
DOC = "doc-test"
DOC_TEXT = (
    "Tankers sailed from Bandar Abbas. The carrier MAHAN AIR flew the Tehran route again. "
    f"A shipper called {HOSTILE} was named too."
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def port(name: str) -> Port:
    return next(p for p in load_ports() if p.name == name)


def halland_msg_ids(store: Store, n: int = 3) -> list[int]:
    rows = store.con.execute(
        "SELECT msg_id FROM ais_positions WHERE mmsi = ? ORDER BY time LIMIT ?", [HALLAND, n]
    ).fetchall()
    return [int(r[0]) for r in rows]


def build(sdn_db_path: Path, target: Path) -> Store:
    """A writable store: the real list and AIS sample, and a hand-made case around them."""
    store = Store(copy_store(sdn_db_path, target))
    load_baltic(store, BALTIC_FILE)
    sha = hashlib.sha256(BALTIC_FILE.read_bytes()).hexdigest()
    store.con.execute(
        "INSERT INTO ais_ingests (ingest_id, source, format, file_hash, started_at, finished_at, "
        "counts, rejects) VALUES (7, ?, 'csv:baltic_decoded', ?, ?, ?, '{}', '{}')",
        [f"data/ais/argenni/{BALTIC}.gz", sha, utc(2026, 1, 1), utc(2026, 1, 1)],
    )
    store.con.execute("UPDATE ais_positions SET ingest_id = 7")
    store.con.execute(
        "INSERT INTO ais_static (msg_id, ingest_id, mmsi, time, msg_type, name) "
        "VALUES (99999999, 7, ?, ?, 5, ?)",
        [HOSTILE_MMSI, utc(2018, 4, 1), HOSTILE],
    )
    kron = port("Kronshtadt")
    msgs = halland_msg_ids(store)
    store.con.execute(
        "INSERT INTO documents (doc_id, source, media_type, title, published, read_at, text, "
        "blocks, list_versions, entity) VALUES (?, 'data/articles/test.txt', 'text/plain', ?, "
        "'2020-05-01', ?, ?, '[]', [1], '{}')",
        [DOC, f"Report on {HOSTILE}", utc(2026, 1, 2), DOC_TEXT],
    )
    store.con.execute(
        "INSERT INTO cargo_batches VALUES (3, 'customs_declaration', ['data/cargo/test.csv'], "
        "'abc123', 1, 1, ?)",
        [utc(2026, 1, 3)],
    )
    store.con.execute(
        "INSERT INTO shipment_lines (line_id, batch_id, shipment_id, line_no, source_ref, layout, "
        "mode, parties, goods, hs_code, origin_country, destination_country, vessel_name, "
        "quantity_unit, transit_countries, end_use, notes) "
        "VALUES ('SHIP-1/1', 3, 'SHIP-1', 1, 'test.csv:2', 'customs_declaration', 'sea', ?, "
        "'Gasoline', '271012', 'IR', 'VE', 'HALLAND', 't', [], '', [])",
        [json.dumps([{"role": "consignee", "name": HOSTILE}])],
    )
    start = DOC_TEXT.index("MAHAN AIR")
    events = [
        Event(
            type="port_call",
            subjects=(f"mmsi:{HALLAND}",),
            start=utc(2018, 4, 1, 6, 2),
            end=utc(2018, 4, 1, 10, 40),
            score=0.9,
            detail=f"Port call at Kronshtadt by {HOSTILE}",
            evidence=tuple(f"ais:{m}" for m in msgs),
            lat=kron.lat,
            lon=kron.lon,
        ),
        Event(
            type="listed_operator_flight",
            subjects=("icao24:7300f1", "ofac-12927"),
            start=utc(2018, 4, 2),
            end=utc(2018, 4, 2, 12),
            score=0.8,
            detail="flight by MAHAN AIR",
            evidence=("list:ofac-12927",),
            lat=35.4161,
            lon=51.1522,
        ),
        Event(
            type="prohibited_cargo",
            subjects=("cargo:SHIP-1/1", "ofac-15117"),
            start=utc(2018, 3, 30),
            end=utc(2018, 3, 30),
            score=1.0,
            detail="Gasoline IR -> VE",
            evidence=("cargo:SHIP-1/1", "list:ofac-15117"),
        ),
        Event(
            type="report_mention",
            subjects=("ofac-12927", f"doc:{DOC}"),
            start=utc(2018, 4, 3),
            end=utc(2018, 4, 3),
            score=0.7,
            detail="report names MAHAN AIR",
            evidence=(f"doc:{DOC}#{start}-{start + 9}", "list:ofac-12927"),
        ),
        Event(
            type="ais_gap",
            subjects=(f"mmsi:{HOSTILE_MMSI}",),
            start=utc(2018, 4, 5),
            end=utc(2018, 4, 6),
            score=0.4,
            detail="gap elsewhere (another case)",
            lat=10.0,
            lon=-60.0,
        ),
    ]
    store.write_events(events)
    ids = [e.event_id for e in events]
    now = utc(2026, 1, 4)
    alerts = [
        ("alert-a", "port-call", "high", f"Port call of {HOSTILE}", [f"mmsi:{HALLAND}"], [ids[0]], CASE),
        ("alert-b", "listed-operator-flight", "high", "Flight by MAHAN AIR",
         ["icao24:7300f1", "ofac-12927"], [ids[1], ids[3]], CASE),
        ("alert-c", "prohibited-cargo", "critical", "Prohibited cargo SHIP-1/1",
         ["cargo:SHIP-1/1", "ofac-15117"], [ids[2]], CASE),
        ("alert-z", "ais-gap", "low", "Gap of another vessel", [f"mmsi:{HOSTILE_MMSI}"],
         [ids[4]], OTHER_CASE),
    ]  # fmt: skip
    for aid, rule, sev, title, subjects, evs, case in alerts:
        times = [e for e in events if e.event_id in evs]
        store.con.execute(
            "INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?, 0.9, ?, ?, 'new', NULL, ?, 1, ?, ?)",
            [aid, rule, sev, title, subjects, min(e.start for e in times),
             max(e.end for e in times), evs, json.dumps({evs[0]: ["held"]}), case, now, now],
        )  # fmt: skip
    links = [
        {"from": f"mmsi:{HALLAND}", "to": "cargo:SHIP-1/1", "kind": "carried", "evidence": [ids[2]]},
        {"from": "cargo:SHIP-1/1", "to": "ofac-15117", "kind": HOSTILE, "evidence": [ids[2]]},
        {"from": "icao24:7300f1", "to": "ofac-12927", "kind": "aircraft_operator",
         "evidence": [ids[1]]},
        {"from": "ofac-12927", "to": f"doc:{DOC}", "kind": "named_in", "evidence": [ids[3]]},
    ]  # fmt: skip
    parts = [
        {"part": "alerts", "value": 1.0, "weight": 0.5, "why": "a critical alert"},
        {"part": "listed", "value": 0.8, "weight": 0.5, "why": HOSTILE},
    ]
    subjects = sorted({s for ln in links for s in (ln["from"], ln["to"])})
    for case_id, title, alert_ids, subs in (
        (CASE, f"Fuel and flights: {HOSTILE}", ["alert-a", "alert-b", "alert-c"], subjects),
        (OTHER_CASE, "another", ["alert-z"], [f"mmsi:{HOSTILE_MMSI}"]),
    ):
        store.con.execute(
            "INSERT INTO cases VALUES (?, ?, ?, ?, 0.87, ?, ?, ?, ?, ?)",
            [case_id, title, subs, alert_ids, json.dumps(parts), utc(2018, 3, 30),
             utc(2018, 4, 3), json.dumps(links if case_id == CASE else []), now],
        )  # fmt: skip
    return store
