"""Evidence ids, resolved to the rows they name (step 2 of alert -> event -> evidence).

The ids events carry: ``ais:<msg_id>`` (an AIS position or static report),
``adsb:<row_id>`` (an ADS-B state vector), ``flight:<flight_id>``, ``list:<entity_id>``
(a list entry, in the current list versions), ``rel:<relation_id>`` (an ownership or
control statement, from a graph load or the lists), ``cargo:<line_id>`` (a shipment
line), ``doc:<doc_id>#<start>-<end>`` (a mention, with the sentence around it) and
``event:<event_id>``. An id whose row is gone, or of a kind not known here, is kept
with kind ``unresolved`` so nothing an event names is silently dropped.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from watchkeeper.store.entities import CURRENT_VERSIONS

if TYPE_CHECKING:
    from watchkeeper.store import Store


@dataclass(frozen=True)
class Evidence:
    """One evidence row: its id, what it is, the events naming it, a line of text and
    the row's fields."""

    id: str
    kind: str
    event_ids: list[str]
    summary: str
    data: dict[str, Any]


# Evidence id -> (kind, summary, row).
_Found = dict[str, tuple[str, str, dict[str, Any]]]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _rows(store: Store, sql: str, keys: list[Any]) -> list[dict[str, Any]]:
    if not keys:
        return []
    cursor = store.con.execute(sql, [keys])
    cols = [d[0] for d in cursor.description]
    return [{c: _plain(v) for c, v in zip(cols, row, strict=True)} for row in cursor.fetchall()]


def _ais(store: Store, ids: list[int]) -> _Found:
    out: _Found = {}
    for r in _rows(
        store,
        "SELECT msg_id, mmsi, time, lat, lon, sog, cog, nav_status, source FROM ais_positions "
        "WHERE msg_id IN (SELECT unnest(?))",
        ids,
    ):
        text = (
            f"AIS position of MMSI {r['mmsi']} at {r['time']}: {r['lat']:.4f}, {r['lon']:.4f}, "
            f"{r['sog']} kn"
        )
        out[f"ais:{r['msg_id']}"] = ("position", text, r)
    for r in _rows(
        store,
        "SELECT msg_id, mmsi, time, imo, name, callsign, ship_type_text, destination, source "
        "FROM ais_static WHERE msg_id IN (SELECT unnest(?))",
        ids,
    ):
        key = f"ais:{r['msg_id']}"
        if key not in out:
            text = (
                f"AIS static report of MMSI {r['mmsi']} at {r['time']}: {r['name']}, IMO {r['imo']}"
            )
            out[key] = ("static_report", text, r)
    return out


# Evidence read by one query each, keyed by its first column:
# prefix -> (kind, query, summary template over the query's columns).
_ONE_QUERY: dict[str, tuple[str, str, str]] = {
    "adsb": (
        "adsb_state",
        "SELECT row_id, icao24, time, lat, lon, altitude_ft, groundspeed_kt, callsign "
        "FROM air_states WHERE row_id IN (SELECT unnest(?))",
        "ADS-B state of {icao24} ({callsign}) at {time}: {lat}, {lon}, {altitude_ft} ft",
    ),
    "flight": (
        "flight",
        "SELECT flight_id, icao24, callsign, start_time, end_time, departure, arrival, "
        "distance_km FROM air_flights WHERE flight_id IN (SELECT unnest(?))",
        "flight {callsign} of {icao24} {departure}->{arrival}, {start_time} to {end_time}",
    ),
    "event": (
        "event",
        "SELECT event_id, type, subjects, start_time, end_time, detail FROM events "
        "WHERE event_id IN (SELECT unnest(?))",
        "{type}: {detail}",
    ),
}


def _one_query(store: Store, prefix: str, ids: list[Any]) -> _Found:
    kind, sql, summary = _ONE_QUERY[prefix]
    return {
        f"{prefix}:{next(iter(r.values()))}": (kind, summary.format(**r), r)
        for r in _rows(store, sql, ids)
    }


def _list_entries(store: Store, ids: list[str]) -> _Found:
    out: _Found = {}
    for r in _rows(
        store,
        "SELECT e.id, e.entry_id, e.schema, e.caption, v.source, v.version, v.version_id, "
        "e.properties->'program' AS programs "
        f"FROM entities e JOIN ({CURRENT_VERSIONS}) v USING (version_id) "
        "WHERE e.is_primary AND e.id IN (SELECT unnest(?)) ORDER BY e.id, v.source",
        ids,
    ):
        key = f"list:{r['id']}"
        programs = r.pop("programs")
        r["programs"] = json.loads(programs) if isinstance(programs, str) else programs
        text = f"{r['caption']} ({r['schema']}): {r['source']} {r['version']} entry {r['entry_id']}"
        if key in out:  # the same entity on two lists: both entries
            kind, before, data = out[key]
            data.setdefault("also", []).append(r)
            out[key] = (kind, f"{before}; {r['source']} {r['version']} entry {r['entry_id']}", data)
            continue
        out[key] = ("list_entry", text, r)
    return out


def _relations(store: Store, ids: list[str]) -> _Found:
    out: _Found = {}
    for r in _rows(
        store,
        "SELECT r.id, r.kind, r.holder, r.held, r.share_low, r.share_high, r.role, "
        "r.start_date, r.end_date, r.source_ref, v.source, v.version FROM graph_relations r "
        "JOIN graph_versions v USING (version_id) WHERE r.id IN (SELECT unnest(?)) "
        "ORDER BY r.version_id DESC",
        ids,
    ):
        key = f"rel:{r['id']}"
        if key not in out:
            text = (
                f"{r['holder']} {r['role'] or r['kind']} of {r['held']} "
                f"({r['source']} {r['version']}, {r['source_ref']})"
            )
            out[key] = ("ownership", text, r)
    missing = [i for i in ids if f"rel:{i}" not in out]
    if missing:
        # Relations the lists state (an owner or operator property, "Linked To"): their id
        # is '<asset>-<property>-<holder>'; read from the current lists.
        from watchkeeper.graph.lists import list_relations

        wanted = set(missing)
        for rel in list_relations(store).relations:
            if rel.id in wanted:
                data = {
                    "id": rel.id,
                    "kind": rel.kind,
                    "holder": rel.holder,
                    "held": rel.held,
                    "role": rel.role,
                    "source_ref": rel.source_ref,
                    "source": "lists",
                }
                text = f"{rel.holder} {rel.role or rel.kind} of {rel.held} ({rel.source_ref})"
                out[f"rel:{rel.id}"] = ("ownership", text, data)
    return out


def _shipment_lines(store: Store, ids: list[str]) -> _Found:
    out: _Found = {}
    for r in _rows(
        store,
        "SELECT line_id, shipment_id, source_ref, mode, parties, goods, hs_code, vessel_name, "
        "vessel_imo, flight_number, aircraft_registration, origin_country, "
        "destination_country, port_of_loading, port_of_discharge, loading_date, declared_date "
        "FROM shipment_lines WHERE line_id IN (SELECT unnest(?))",
        ids,
    ):
        r["parties"] = json.loads(r["parties"]) if isinstance(r["parties"], str) else r["parties"]
        by = f" on {r['vessel_name']}" if r["vessel_name"] else ""
        text = (
            f"{r['source_ref']}: {r['goods']}{by}, {r['origin_country']}->"
            f"{r['destination_country']}"
        )
        out[f"cargo:{r['line_id']}"] = ("shipment_line", text, r)
    return out


def _sentences(store: Store, ids: list[str]) -> _Found:
    """``doc:<doc_id>#<start>-<end>``: the mention and the block of text around it."""
    out: _Found = {}
    spans: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for ref in ids:
        doc_id, _, span = ref.partition("#")
        first, _, last = span.partition("-")
        if first.isdigit() and last.isdigit():
            spans[doc_id].append((ref, int(first), int(last)))
    for doc_id, source, title, text, blocks in store.con.execute(
        "SELECT doc_id, source, title, text, blocks FROM documents "
        "WHERE doc_id IN (SELECT unnest(?))",
        [sorted(spans)],
    ).fetchall():
        parsed = json.loads(blocks) if isinstance(blocks, str) else (blocks or [])
        for ref, start, end in spans[doc_id]:
            block = next(
                (b for b in parsed if b.get("start", 0) <= start and end <= b.get("end", 0)),
                None,
            )
            sentence = block["text"] if block else text[max(start - 200, 0) : end + 200]
            data = {
                "doc_id": doc_id,
                "source": source,
                "title": title,
                "start": start,
                "end": end,
                "mention": text[start:end],
                "sentence": sentence,
            }
            out[f"doc:{ref}"] = ("sentence", f"{source}: \u201c{sentence}\u201d", data)
    return out


def resolve_evidence(store: Store, named_by: Mapping[str, list[str]]) -> list[Evidence]:
    """Each evidence id (``named_by``: id -> the events naming it) with its row, in id
    order within kind."""
    by_prefix: dict[str, list[str]] = defaultdict(list)
    for ref in named_by:
        prefix, _, rest = ref.partition(":")
        by_prefix[prefix].append(rest)
    found: _Found = {}
    found.update(_ais(store, [int(i) for i in by_prefix["ais"] if i.isdigit()]))
    found.update(_one_query(store, "adsb", [int(i) for i in by_prefix["adsb"] if i.isdigit()]))
    found.update(_one_query(store, "flight", by_prefix["flight"]))
    found.update(_list_entries(store, by_prefix["list"]))
    found.update(_relations(store, by_prefix["rel"]))
    found.update(_shipment_lines(store, by_prefix["cargo"]))
    found.update(_sentences(store, by_prefix["doc"]))
    found.update(_one_query(store, "event", by_prefix["event"]))
    out = []
    for ref in named_by:
        kind, text, data = found.get(ref, ("unresolved", f"{ref}: no stored row", {}))
        out.append(Evidence(ref, kind, sorted(set(named_by[ref])), text, data))
    out.sort(key=lambda e: (e.kind, e.id))
    return out
