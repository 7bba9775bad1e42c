"""The relations the loaded lists already state, and who each regime blocks.

The list parsers keep a list's relations as FtM secondary entities of its entries:
OFAC's ``Linked To:`` and the CSL's links are ``UnknownLink`` (subject -> object; an
``Aircraft Operator`` remark is an ``UnknownLink`` operator -> aircraft), ``Vess_owner``
and the UK's owners ``Ownership`` (owner -> asset), the advanced XML's relationships
``Ownership``/``Family``/``Directorship``/``Membership``/``UnknownLink``; listed vessels
and aircraft carry ``owner``/``operator`` properties. ``list_relations`` reads them
back as graph relations between list entity ids (``ofac-12927``...).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from watchkeeper.errors import InputError
from watchkeeper.graph.model import GraphBatch, Node, Relation, RelationKind, Share

if TYPE_CHECKING:
    from watchkeeper.store import Store

SOURCE = "lists"

Regime = Literal["ofac", "eu", "uk"]
REGIMES: tuple[Regime, ...] = ("ofac", "eu", "uk")

# Who each regime blocks: OFAC its SDN list (not the non-SDN consolidated list, whose
# entries are not blocked); the EU its financial sanctions file and the UN Security
# Council list it implements (Council Regulation (EU) 2580/2001, 881/2002 and the
# country regimes transpose UN designations); the UK its OFSI / FCDO lists and the UN
# list (Sanctions and Anti-Money Laundering Act 2018 s.13 regulations name UN lists).
REGIME_SOURCES: dict[Regime, tuple[str, ...]] = {
    "ofac": ("ofac_sdn", "ofac_sdn_xml", "ofac_advanced"),
    "eu": ("eu_fsf", "un_sc"),
    "uk": ("uk_ofsi", "uk_fcdo", "un_sc"),
}

# FtM relation schema -> (holder property, held property, kind).
LINK_SCHEMATA: dict[str, tuple[str, str, RelationKind]] = {
    "Ownership": ("owner", "asset", "ownership"),
    "UnknownLink": ("subject", "object", "unknown_link"),
    "Directorship": ("director", "organization", "directorship"),
    "Family": ("person", "relative", "family"),
    "Associate": ("person", "associate", "associate"),
    "Membership": ("member", "organization", "membership"),
    "Representation": ("agent", "client", "representation"),
}
# Property of a listed asset -> kind, by the asset's schema.
ASSET_PROPS: dict[tuple[str, str], RelationKind] = {
    ("Vessel", "owner"): "vessel_owner",
    ("Vessel", "operator"): "vessel_manager",
    ("Airplane", "owner"): "ownership",
    ("Airplane", "operator"): "aircraft_operator",
}
_COUNTRY_PROPS = ("country", "jurisdiction", "mainCountry", "nationality", "flag")
# List entity property -> node identifier kind (``imoNumber`` is a ship number on a
# vessel, a company number on anyone else).
_ID_PROPS = {
    "leiCode": "lei",
    "registrationNumber": "registration",
    "innCode": "inn",
    "ogrnCode": "ogrn",
    "taxNumber": "tax",
}


def _versions_sql(list_version_ids: Sequence[int] | None) -> tuple[str, list[Any]]:
    """A subquery of (version_id, source, version) rows: the given ones or the current."""
    if list_version_ids is None:
        from watchkeeper.store.entities import CURRENT_VERSIONS

        return f"SELECT version_id, source, version FROM ({CURRENT_VERSIONS})", []
    return (
        "SELECT version_id, source, version FROM list_versions "
        "WHERE version_id IN (SELECT unnest(?))",
        [list(list_version_ids)],
    )


def _check_versions(store: Store, list_version_ids: Sequence[int] | None) -> None:
    if list_version_ids is None:
        return
    known = {
        int(r[0]) for r in store.con.execute("SELECT version_id FROM list_versions").fetchall()
    }
    missing = sorted(set(list_version_ids) - known)
    if missing:
        raise InputError(None, f"no list version {missing[0]} is loaded", field="list_version")


def _day(value: str | None) -> date | None:
    """An FtM date (``2019``, ``2019-05``, ``2019-05-03``) as its first day."""
    if not value:
        return None
    text = value.strip()[:10]
    for size, suffix in ((10, ""), (7, "-01"), (4, "-01-01")):
        if len(text) >= size:
            try:
                return date.fromisoformat(text[:size] + suffix)
            except ValueError:
                continue
    return None


def _share(values: list[str]) -> Share | None:
    """FtM ``percentage`` ("50", "50%", "0.5"?) as a share; None when unreadable."""
    for raw in values:
        text = raw.strip().rstrip("%").strip().replace(",", ".")
        try:
            pct = float(text)
        except ValueError:
            continue
        if 0.0 <= pct <= 100.0:
            return Share.exact(pct / 100.0)
    return None


def list_relations(store: Store, list_version_ids: Sequence[int] | None = None) -> GraphBatch:
    """The relations the lists state, between list entity ids, as one batch (source
    ``lists``): of the current version of every list, or of the versions given.
    Every id a relation names is a node (the list's own caption, schema, country and
    identifiers; an id no version carries is a node named by its id). Relations stated
    twice (a vessel's ``owner`` and its ``Ownership``) are one."""
    _check_versions(store, list_version_ids)
    versions, params = _versions_sql(list_version_ids)
    names = ", ".join(f"'{s}'" for s in LINK_SCHEMATA)
    rows = store.con.execute(
        "SELECT e.id, e.schema, e.properties, e.entry_id, v.source, v.version, e.is_primary "
        f"FROM entities e JOIN ({versions}) v USING (version_id) "
        f"WHERE (NOT e.is_primary AND e.schema IN ({names})) "
        "OR (e.is_primary AND e.schema IN ('Vessel', 'Airplane') AND "
        "(json_exists(e.properties, '$.owner') OR json_exists(e.properties, '$.operator'))) "
        "ORDER BY v.source, e.id",
        params,
    ).fetchall()
    batch = GraphBatch(source=SOURCE, files=[])
    seen_ids: set[str] = set()
    seen_edges: set[tuple[str, str, str]] = set()
    by_kind: dict[str, int] = {}

    def add(rel: Relation) -> None:
        edge = (rel.kind, rel.holder, rel.held)
        if rel.id in seen_ids or edge in seen_edges or rel.holder == rel.held:
            return
        seen_ids.add(rel.id)
        seen_edges.add(edge)
        by_kind[rel.kind] = by_kind.get(rel.kind, 0) + 1
        batch.relations.append(rel)

    assets: list[tuple[str, str, dict[str, list[str]], str]] = []
    for entity_id, schema, properties, entry_id, source, version, primary in rows:
        props: dict[str, list[str]] = json.loads(properties)
        ref = f"{source} {version} entry {entry_id}"
        if primary:
            assets.append((entity_id, schema, props, ref))
            continue
        holder_prop, held_prop, kind = LINK_SCHEMATA[schema]
        roles = props.get("role", []) + props.get("relationship", [])
        if schema == "UnknownLink" and any(r.lower() == "aircraft operator" for r in roles):
            kind = "aircraft_operator"
        for holder in props.get(holder_prop, []):
            for held in props.get(held_prop, []):
                add(
                    Relation(
                        id=entity_id,
                        kind=kind,
                        holder=holder,
                        held=held,
                        share=_share(props.get("percentage", [])),
                        interests=tuple(roles),
                        start=_day(min(props.get("startDate", []), default=None)),
                        end=_day(max(props.get("endDate", []), default=None)),
                        role=roles[0] if roles else "",
                        source_ref=ref,
                    )
                )
    # The Ownership entities came first: an owner property that repeats one is dropped,
    # but the asset's schema decides the kind, so those are mapped now.
    kinds_by_asset = {a[0]: a[1] for a in assets}
    for i, rel in enumerate(batch.relations):
        if rel.kind == "ownership" and kinds_by_asset.get(rel.held) == "Vessel":
            batch.relations[i] = _with_kind(rel, "vessel_owner")
            seen_edges.add(("vessel_owner", rel.holder, rel.held))
            by_kind["ownership"] -= 1
            by_kind["vessel_owner"] = by_kind.get("vessel_owner", 0) + 1
    for entity_id, schema, props, ref in assets:
        for prop in ("owner", "operator"):
            kind = ASSET_PROPS[(schema, prop)]
            for holder in props.get(prop, []):
                add(
                    Relation(
                        id=f"{entity_id}-{prop}-{holder}",
                        kind=kind,
                        holder=holder,
                        held=entity_id,
                        role=prop,
                        source_ref=ref,
                    )
                )
    batch.nodes = _nodes(store, versions, params, batch.relations)
    batch.counts = {"relations": len(batch.relations), "nodes": len(batch.nodes)}
    batch.counts.update({f"kind_{k}": n for k, n in sorted(by_kind.items()) if n})
    return batch


def _with_kind(rel: Relation, kind: RelationKind) -> Relation:
    from dataclasses import replace

    return replace(rel, kind=kind)


def _nodes(store: Store, versions: str, params: list[Any], relations: list[Relation]) -> list[Node]:
    ids = sorted({r.holder for r in relations} | {r.held for r in relations})
    if not ids:
        return []
    rows = store.con.execute(
        "SELECT e.id, e.schema, e.caption, e.properties, v.source, v.version, e.entry_id "
        f"FROM entities e JOIN ({versions}) v USING (version_id) "
        "WHERE e.id IN (SELECT unnest(?)) ORDER BY e.id, e.is_primary DESC, v.source",
        [*params, ids],
    ).fetchall()
    nodes: dict[str, Node] = {}
    for entity_id, schema, caption, properties, source, version, entry_id in rows:
        if entity_id in nodes:
            continue
        props: dict[str, list[str]] = json.loads(properties)
        country = next((v for p in _COUNTRY_PROPS for v in props.get(p, [])), None)
        identifiers: dict[str, tuple[str, ...]] = {}
        imos = props.get("imoNumber", [])
        if imos:
            identifiers["imo" if schema == "Vessel" else "imo_company"] = tuple(imos)
        for prop, kind in _ID_PROPS.items():
            if props.get(prop):
                identifiers[kind] = tuple(props[prop])
        nodes[entity_id] = Node(
            id=entity_id,
            name=caption,
            schema=schema,
            country=country,
            identifiers=identifiers,
            source_ref=f"{source} {version} entry {entry_id}",
        )
    for entity_id in ids:
        if entity_id not in nodes:
            nodes[entity_id] = Node(id=entity_id, name=entity_id, schema="LegalEntity")
    return [nodes[i] for i in ids]


def listed_ids(
    store: Store, regime: Regime, list_version_ids: Sequence[int] | None = None
) -> set[str]:
    """The list entity ids ``regime`` blocks: the primary entities of the current
    versions of its lists (``REGIME_SOURCES``), or of those of the given versions that
    are its lists. OFAC advanced XML counts only entries on the SDN list (not the
    non-SDN consolidated list it may also carry)."""
    if regime not in REGIME_SOURCES:
        known = ", ".join(REGIMES)
        raise InputError(None, f"unknown regime {regime!r} (known: {known})", field="regime")
    _check_versions(store, list_version_ids)
    versions, params = _versions_sql(list_version_ids)
    rows = store.con.execute(
        "SELECT DISTINCT e.id, v.source FROM entities e "
        f"JOIN ({versions}) v USING (version_id) "
        "WHERE e.is_primary AND v.source IN (SELECT unnest(?))",
        [*params, list(REGIME_SOURCES[regime])],
    ).fetchall()
    out = {str(r[0]) for r in rows if r[1] != "ofac_advanced"}
    advanced = [str(r[0]) for r in rows if r[1] == "ofac_advanced"]
    if advanced:
        # An SDN entry has an ``<id>-sanction`` entity; a non-SDN one ``-sanction-cons``.
        sdn = store.con.execute(
            "SELECT DISTINCT e.id FROM entities e "
            f"JOIN ({versions}) v USING (version_id) "
            "WHERE v.source = 'ofac_advanced' AND e.id IN (SELECT unnest(?))",
            [*params, [f"{i}-sanction" for i in advanced]],
        ).fetchall()
        out |= {str(r[0]).removesuffix("-sanction") for r in sdn}
    return out
