"""The entity page (``/entity/{id}``): everything Watchkeeper knows about one listed
party, each part from the service the API and CLI use: the lists that carry it and
what changed between their versions, its identifiers, relations and ownership (blocked
by ownership, with the chain), the vessels and aircraft linked to it, its events,
report mentions, cargo and alerts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from followthemoney import model, registry

from watchkeeper.api.state import ApiState
from watchkeeper.errors import WatchkeeperError
from watchkeeper.store import StoredEntity
from watchkeeper.web.render import error_page, render
from watchkeeper.web.security import ReaderDep, api_state

router = APIRouter()

MAX_EVENTS = 200
MAX_RELATIONS = 300
ADDRESS_PROPS = ("address", "addressEntity")


@dataclass
class VersionRow:
    """One list version the entity appears in (or left), and what changed from the one
    before."""

    source: str
    version: str
    status: str  # added, changed, same, removed
    changes: list[str] = field(default_factory=list)


def version_history(state: ApiState, entity_id: str) -> list[VersionRow]:
    """Each version of each list that carries ``entity_id``, oldest first: when it
    appeared, which properties changed, and when a list dropped it."""
    rows = state.store.con.execute(
        "SELECT v.source, v.version, v.version_id, e.properties, e.digest "
        "FROM list_versions v LEFT JOIN entities e ON e.version_id = v.version_id "
        "AND e.id = ? WHERE v.source IN (SELECT v2.source FROM entities e2 "
        "JOIN list_versions v2 USING (version_id) WHERE e2.id = ?) "
        "ORDER BY v.source, v.loaded_at, v.version_id",
        [entity_id, entity_id],
    ).fetchall()
    out: list[VersionRow] = []
    before: dict[str, tuple[dict[str, Any], str] | None] = {}
    for source, version, _vid, props, digest in rows:
        prev = before.get(source)
        now = (_props(props), str(digest)) if digest is not None else None
        before[source] = now
        if now is None:
            if prev is not None:
                out.append(VersionRow(source, version, "removed"))
            continue
        if prev is None:
            out.append(VersionRow(source, version, "added"))
        elif prev[1] == now[1]:
            out.append(VersionRow(source, version, "same"))
        else:
            out.append(VersionRow(source, version, "changed", _changed(prev[0], now[0])))
    return out


def _props(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        loaded = json.loads(value)
        return loaded if isinstance(loaded, dict) else {}
    return dict(value) if value else {}


def _changed(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    said: list[str] = []
    for key in sorted(set(old) | set(new)):
        a, b = set(old.get(key) or []), set(new.get(key) or [])
        if a == b:
            continue
        added, gone = sorted(b - a), sorted(a - b)
        parts = []
        if added:
            parts.append("+ " + "; ".join(str(x) for x in added))
        if gone:
            parts.append("- " + "; ".join(str(x) for x in gone))
        said.append(f"{key}: {' '.join(parts)}")
    return said


def split_properties(
    entity: StoredEntity, captions: dict[str, str]
) -> tuple[list[tuple[str, list[str]]], list[tuple[str, list[str]]], list[tuple[str, str, str]]]:
    """(identifiers, other facts, links to entities) of the entity's properties, each
    with FtM's label; a link is (label, entity id, caption)."""
    schema = model.get(entity.schema)
    identifiers: list[tuple[str, list[str]]] = []
    facts: list[tuple[str, list[str]]] = []
    links: list[tuple[str, str, str]] = []
    for name, values in sorted(entity.properties.items()):
        prop = schema.get(name) if schema is not None else None
        label = prop.label if prop is not None else name
        if prop is not None and prop.type == registry.entity:
            links.extend((label, v, captions.get(v, v)) for v in values)
        elif prop is not None and prop.type == registry.identifier:
            identifiers.append((label, list(values)))
        elif name not in ("name",):
            facts.append((label, list(values)))
    return identifiers, facts, links


def _captions(state: ApiState, ids: set[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for ref in sorted(ids)[:200]:
        got = state.store.get_entity(ref)
        if got is not None:
            out[ref] = got[0].caption
    return out


def subject_keys(entity: StoredEntity, mmsis: list[int]) -> list[str]:
    """The subject keys events and alerts name this party by: its id, and the
    identifiers of it (imo:, mmsi:, reg:) and of the vessels linked to it."""
    keys = {entity.id}
    for value in entity.properties.get("imoNumber", []):
        digits = "".join(c for c in value if c.isdigit())
        if digits:
            keys.add(f"imo:{digits}")
    for value in entity.properties.get("mmsi", []):
        if value.strip().isdigit():
            keys.add(f"mmsi:{int(value)}")
    for value in entity.properties.get("registrationNumber", []):
        if entity.schema == "Airplane":
            keys.add(f"reg:{value.strip().upper()}")
    keys.update(f"mmsi:{m}" for m in mmsis)
    return sorted(keys)


def graph_sections(request: Request, state: ApiState, entity_id: str) -> dict[str, Any]:
    """Ownership and control from the graph (as ``/graph/...`` answers): OFAC exposure
    with its chain, owners and holdings trees; empty when the graph does not know it."""
    from watchkeeper.api.routers.graph import _assessed, _view
    from watchkeeper.graph.queries import holdings, owners, resolve

    day = datetime.now(UTC).date()
    try:
        view = _view(request, state, day)
        node_id = resolve(view, entity_id)
    except (WatchkeeperError, LookupError):
        return {}
    found = _assessed(request, view, "ofac", day).exposure(node_id)
    return {
        "node_id": node_id,
        "as_of": day,
        "exposure": found.to_dict(),
        "owners": owners(view, node_id, 3).to_dict(),
        "holdings": holdings(view, node_id, 2).to_dict(),
        "names": {k: n.name for k, n in view.nodes.items() if k in _chain_ids(found.to_dict())},
        "relations": direct_relations(view, node_id),
    }


def direct_relations(view: Any, node_id: str) -> list[dict[str, Any]]:
    """Every statement joining ``node_id`` to another party (any kind: ownership,
    directorship, family, "Linked To", vessel owner...), with the other party's name and
    schema, most specific kinds first; at most ``MAX_RELATIONS``."""
    from watchkeeper.graph.queries import neighbourhood

    hood = neighbourhood(view, node_id, 1, max_nodes=MAX_RELATIONS + 1).to_dict()
    nodes = {n["id"]: n for n in hood["nodes"]}
    out: list[dict[str, Any]] = []
    for rel in hood["relations"]:
        if node_id not in (rel["holder"], rel["held"]):
            continue
        outward = rel["holder"] == node_id
        other = nodes.get(rel["held"] if outward else rel["holder"], {})
        share = rel.get("share") or {}
        out.append(
            {
                "kind": rel["kind"],
                "role": rel.get("role") or rel["kind"],
                "outward": outward,
                "other": other.get("id", ""),
                "name": other.get("name") or other.get("id", ""),
                "schema": other.get("schema", ""),
                "listed": other.get("listed", []),
                "share": share.get("text", ""),
                "source": rel.get("source", ""),
                "start": rel.get("start"),
                "end": rel.get("end"),
            }
        )
    out.sort(key=lambda r: (r["kind"] == "unknown_link", r["kind"], r["name"]))
    return out[:MAX_RELATIONS]


def _chain_ids(exposure: dict[str, Any]) -> set[str]:
    return {x for step in exposure.get("chain", []) for x in (step["holder"], step["held"])}


@router.get("/entity/{entity_id}")
async def entity_page(request: Request, viewer: ReaderDep, entity_id: str) -> HTMLResponse:
    state = api_state(request)
    found = state.store.get_entity(entity_id)
    if found is None:
        return error_page(request, 404, f"No entity {entity_id!r} in the current lists.")
    entity, related = found
    con = state.store.con
    links = con.execute(
        "SELECT mmsi, method, score, detail FROM vessel_links WHERE entity_id = ? "
        "ORDER BY score DESC, mmsi",
        [entity_id],
    ).fetchall()
    keys = subject_keys(entity, [int(r[0]) for r in links])
    events = con.execute(
        "SELECT event_id, type, subjects, start_time, end_time, score, detail, lat, lon "
        "FROM events WHERE len(list_intersect(subjects, ?)) > 0 "
        "ORDER BY start_time DESC, event_id LIMIT ?",
        [keys, MAX_EVENTS + 1],
    ).fetchall()
    alerts = con.execute(
        "SELECT alert_id, rule_id, severity, title, state, end_time, assignee FROM alerts "
        "WHERE len(list_intersect(subjects, ?)) > 0 "
        "ORDER BY list_position(['critical', 'high', 'medium', 'low'], severity), "
        "end_time DESC",
        [keys],
    ).fetchall()
    mentions = con.execute(
        "SELECT d.doc_id, d.title, m.mention_id, m.text, m.score, m.reason "
        "FROM document_mentions m JOIN documents d USING (doc_id) WHERE m.entity_id = ? "
        "ORDER BY d.doc_id, m.start_pos",
        [entity_id],
    ).fetchall()
    aircraft = sorted({k.split(":", 1)[1] for e in events for k in e[2] if k.startswith("icao24:")})
    cargo_refs = sorted({k for e in events for k in e[2] if k.startswith("cargo:")})
    refs = {v for _l, v, _c in split_properties(entity, {})[2]}
    for r in related:
        refs.update(v for vs in r.properties.values() for v in vs if v in refs)
    captions = _captions(state, refs)
    identifiers, facts, prop_links = split_properties(entity, captions)
    return render(
        request,
        "entity.html",
        entity=entity,
        related=related,
        identifiers=identifiers,
        facts=facts,
        links=prop_links,
        versions=version_history(state, entity_id),
        graph=graph_sections(request, state, entity_id),
        vessels=links,
        aircraft=aircraft,
        events=events[:MAX_EVENTS],
        more_events=len(events) > MAX_EVENTS,
        alerts=alerts,
        mentions=mentions,
        cargo=cargo_refs,
        keys=keys,
    )
