"""The merged graph as of a date: what the control rules and the questions read.

Every current graph load (the newest version of each source) and the lists' own
relations, with each node under one *canonical* id:

1. the list entity id when the node is resolved to a list entity (stored resolutions,
   and identifier matches against the lists made now, so a graph loaded before the
   lists still joins them);
2. else ``imo-company:<n>``, ``imo:<n>``, ``lei:<x>``... when that identifier is stated
   by more than one node (the same company in two sources);
3. else the node's own id.

Relations valid on the day (``Relation.valid_on``), with holder and held as canonical
ids; statements a load replaced are dropped; the same statement made by two sources
(same kind, ends, share and dates) is kept once, with both origins.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from watchkeeper.graph.lists import REGIMES, Regime, list_relations, listed_ids
from watchkeeper.graph.model import Node, Relation
from watchkeeper.graph.resolve import Resolution, normal_identifier, resolve_nodes
from watchkeeper.graph.store import (
    RELATION_COLS,
    GraphVersion,
    current_graph_versions,
    relation_from_row,
    stored_resolutions,
)

if TYPE_CHECKING:
    from watchkeeper.store import Store

# Identifier kinds that make two nodes of different sources one party, and the prefix
# of the canonical id they give.
JOINING_IDS: dict[str, str] = {
    "imo": "imo",
    "imo_company": "imo-company",
    "lei": "lei",
    "ogrn": "ogrn",
    "inn": "inn",
    "registration": "registration",
}


@dataclass(frozen=True)
class Origin:
    """Where a node or a relation was stated: a graph load (``version_id``) or the lists
    (``source`` ``lists``, ``version_id`` None), under which id, at which record."""

    source: str
    version_id: int | None
    version: str
    id: str
    source_ref: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "version_id": self.version_id,
            "version": self.version,
            "id": self.id,
            "source_ref": self.source_ref,
        }


@dataclass
class ViewNode:
    """A party under its canonical id, with every source that named it."""

    id: str
    name: str
    schema: str
    country: str | None = None
    identifiers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unknown: bool = False
    provenance: list[Origin] = field(default_factory=list)


@dataclass
class GraphView:
    """The graph as of ``as_of``. ``relations`` hold canonical ids; ``origins`` says who
    stated each relation (by its id in the view); ``canonical`` maps every source node
    id to its canonical id; ``resolutions`` are the source nodes placed on the lists;
    ``listed`` the canonical ids each regime blocks (``ofac``, ``eu``, ``uk``);
    ``unknown`` the unknown or anonymous holders."""

    as_of: date
    nodes: dict[str, ViewNode]
    relations: list[Relation]
    origins: dict[str, list[Origin]]
    listed: dict[str, set[str]]
    unknown: set[str]
    resolutions: dict[str, Resolution]
    canonical: dict[str, str]
    versions: list[GraphVersion] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    _up: dict[str, list[Relation]] | None = field(default=None, repr=False)
    _down: dict[str, list[Relation]] | None = field(default=None, repr=False)

    def canonical_id(self, node_id: str) -> str:
        """The canonical id of a source node id (itself when unknown to the view)."""
        return self.canonical.get(node_id, node_id)

    def holders_of(self, node_id: str) -> list[Relation]:
        """The relations whose ``held`` is this canonical id (who owns, directs it)."""
        if self._up is None:
            self._index()
        assert self._up is not None
        return self._up.get(node_id, [])

    def held_by(self, node_id: str) -> list[Relation]:
        """The relations whose ``holder`` is this canonical id (what it owns, directs)."""
        if self._down is None:
            self._index()
        assert self._down is not None
        return self._down.get(node_id, [])

    def is_listed(self, node_id: str, regime: Regime) -> bool:
        return node_id in self.listed.get(regime, set())

    def _index(self) -> None:
        up: dict[str, list[Relation]] = defaultdict(list)
        down: dict[str, list[Relation]] = defaultdict(list)
        for rel in self.relations:
            up[rel.held].append(rel)
            down[rel.holder].append(rel)
        self._up, self._down = dict(up), dict(down)


class _Components:
    """Union-find over node ids."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        parent = self.parent.setdefault(item, item)
        if parent == item:
            return item
        root = self.find(parent)
        self.parent[item] = root
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[ra] = rb


def load_view(
    store: Store,
    as_of: date,
    *,
    list_version_ids: Sequence[int] | None = None,
    graph_version_ids: Sequence[int] | None = None,
    with_lists: bool = True,
) -> GraphView:
    """The merged graph on ``as_of`` (see the module docstring): of the current graph
    loads (or ``graph_version_ids``), the lists' relations and who each regime blocks,
    of the current list versions (or ``list_version_ids``: the graph between two list
    versions is two views)."""
    if graph_version_ids is None:
        versions = current_graph_versions(store)
    else:
        wanted = set(graph_version_ids)
        versions = [v for v in _all_versions(store) if v.version_id in wanted]
    by_id = {v.version_id: v for v in versions}
    ids = sorted(by_id)

    # Nodes of the graph loads.
    node_rows = store.con.execute(
        "SELECT version_id, id, name, schema, country, identifiers, unknown, source_ref "
        "FROM graph_nodes WHERE version_id IN (SELECT unnest(?)) ORDER BY version_id, rowid",
        [ids],
    ).fetchall()
    graph_nodes: dict[str, Node] = {}
    origins_of: dict[str, list[Origin]] = defaultdict(list)
    for vid, node_id, name, schema, country, identifiers, unknown, ref in node_rows:
        v = by_id[vid]
        origins_of[node_id].append(Origin(v.source, vid, v.version, node_id, ref))
        if node_id in graph_nodes:
            continue
        if identifiers == "{}":
            raw = {}
        else:
            raw = json.loads(identifiers) if isinstance(identifiers, str) else identifiers
        graph_nodes[node_id] = Node(
            id=node_id,
            name=name,
            schema=schema,
            country=country,
            identifiers={k: tuple(x) for k, x in raw.items()},
            unknown=bool(unknown),
            source_ref=ref,
        )

    # The lists' own relations and nodes.
    lists = list_relations(store, list_version_ids) if with_lists else None
    list_nodes = {n.id: n for n in lists.nodes} if lists is not None else {}
    for node in list_nodes.values():
        origins_of[node.id].append(Origin("lists", None, "", node.id, node.source_ref))

    # Resolutions: stored with the loads, then identifiers against the lists now.
    resolutions = {k: r for k, r in stored_resolutions(store, ids).items() if k in graph_nodes}
    open_nodes = [n for n in graph_nodes.values() if n.id not in resolutions and not n.unknown]
    if open_nodes and _has_lists(store):
        resolutions.update(
            resolve_nodes(store, open_nodes, by_name=False, list_version_ids=list_version_ids)
        )

    # Canonical ids.
    comps = _Components()
    listed_targets: set[str] = set(list_nodes)
    for node_id, res in resolutions.items():
        comps.union(node_id, res.entity_id)
        listed_targets.add(res.entity_id)
    holders: dict[tuple[str, str], set[str]] = defaultdict(set)
    # List entities never merge with each other (OFAC lists a branch and its parent
    # under one INN): identifiers join the loads' nodes, and resolution joins them to
    # the lists.
    for node in graph_nodes.values():
        if node.unknown:
            continue
        for kind, values in node.identifiers.items():
            if kind not in JOINING_IDS:
                continue
            for value in values:
                key = normal_identifier(kind, value)
                if key is None or (kind == "registration" and ":" not in key):
                    continue  # a bare registration number is unique only in its country
                holders[(kind, key)].add(node.id)
    pseudo: set[str] = set()
    for (kind, key), sharing in holders.items():
        if len(sharing) < 2:
            continue
        joint = f"{JOINING_IDS[kind]}:{key}"
        pseudo.add(joint)
        for member in sharing:
            comps.union(member, joint)
    members_of: dict[str, list[str]] = defaultdict(list)
    for item in list(comps.parent):
        members_of[comps.find(item)].append(item)
    canonical: dict[str, str] = {}
    conflicts = 0
    for members in members_of.values():
        listed_here = sorted(m for m in members if m in listed_targets)
        joints = sorted(m for m in members if m in pseudo)
        joint = joints[0] if joints else sorted(members)[0]
        if len(listed_here) > 1:
            # Nodes sharing an identifier resolved to different list entities: each
            # resolved node stays with its own, the rest with the identifier.
            conflicts += 1
            for m in members:
                if m in pseudo:
                    continue
                placed = resolutions.get(m)
                canonical[m] = m if m in listed_targets else placed.entity_id if placed else joint
            continue
        chosen = listed_here[0] if listed_here else joint
        for m in members:
            if m not in pseudo:
                canonical[m] = chosen
    for node_id in [*graph_nodes, *list_nodes]:
        canonical.setdefault(node_id, node_id)

    nodes = _merge_nodes(store, graph_nodes, list_nodes, canonical, origins_of)

    # Relations valid on the day, holder and held mapped in SQL.
    relations, origins, counts = _relations(
        store, as_of, versions, canonical, lists.relations if lists is not None else []
    )
    for rel in relations:
        for end in (rel.holder, rel.held):
            if end not in nodes:
                nodes[end] = ViewNode(id=end, name=end, schema="LegalEntity")
    listed: dict[str, set[str]] = {
        regime: listed_ids(store, regime, list_version_ids) for regime in REGIMES
    }
    counts.update(
        {
            "nodes": len(nodes),
            "graph_nodes": len(graph_nodes),
            "list_nodes": len(list_nodes),
            "resolved": len(resolutions),
            "identifier_joins": len(pseudo),
            "resolution_conflicts": conflicts,
        }
    )
    return GraphView(
        as_of=as_of,
        nodes=nodes,
        relations=relations,
        origins=origins,
        listed=listed,
        unknown={canonical[n.id] for n in graph_nodes.values() if n.unknown},
        resolutions=resolutions,
        canonical=canonical,
        versions=versions,
        counts=counts,
    )


def _all_versions(store: Store) -> list[GraphVersion]:
    from watchkeeper.graph.store import graph_versions

    return graph_versions(store)


def _has_lists(store: Store) -> bool:
    row = store.con.execute("SELECT count(*) FROM list_versions").fetchone()
    return bool(row and row[0])


def _merge_nodes(
    store: Store,
    graph_nodes: dict[str, Node],
    list_nodes: dict[str, Node],
    canonical: dict[str, str],
    origins_of: dict[str, list[Origin]],
) -> dict[str, ViewNode]:
    """One ``ViewNode`` per canonical id: a list entity's own caption and schema when it
    is one, else the first source's; identifiers and provenance of every member."""
    nodes: dict[str, ViewNode] = {}
    targets = {canonical[n] for n in graph_nodes if canonical[n] != n}
    entities = _list_entities(store, sorted(targets - set(list_nodes)))
    for node_id, node in [*list_nodes.items(), *graph_nodes.items()]:
        target = canonical[node_id]
        view = nodes.get(target)
        if view is None:
            base = list_nodes.get(target) or entities.get(target) or node
            view = ViewNode(
                id=target,
                name=base.name,
                schema=base.schema,
                country=base.country,
                identifiers={},
                unknown=node.unknown,
            )
            nodes[target] = view
        for kind, values in node.identifiers.items():
            merged = list(view.identifiers.get(kind, ()))
            merged.extend(v for v in values if v not in merged)
            view.identifiers[kind] = tuple(merged)
        if view.country is None:
            view.country = node.country
        for origin in origins_of.get(node_id, []):
            if origin not in view.provenance:
                view.provenance.append(origin)
    return nodes


def _list_entities(store: Store, ids: list[str]) -> dict[str, Node]:
    """Caption and schema of these ids in the current lists (canonical ids that are
    list entities no list relation names)."""
    if not ids:
        return {}
    from watchkeeper.store.entities import CURRENT_VERSIONS

    rows = store.con.execute(
        "SELECT e.id, e.caption, e.schema FROM entities e "
        f"JOIN ({CURRENT_VERSIONS}) v USING (version_id) "
        "WHERE e.id IN (SELECT unnest(?)) ORDER BY e.id, e.is_primary DESC",
        [ids],
    ).fetchall()
    out: dict[str, Node] = {}
    for entity_id, caption, schema in rows:
        out.setdefault(entity_id, Node(id=entity_id, name=caption, schema=schema))
    return out


def _relations(
    store: Store,
    as_of: date,
    versions: list[GraphVersion],
    canonical: dict[str, str],
    list_rels: list[Relation],
) -> tuple[list[Relation], dict[str, list[Origin]], dict[str, int]]:
    by_id = {v.version_id: v for v in versions}
    ids = sorted(by_id)
    moved = {k: c for k, c in canonical.items() if k != c}  # most nodes keep their id
    mapping = pa.table(
        {
            "node_id": pa.array(list(moved), pa.string()),
            "canon": pa.array(list(moved.values()), pa.string()),
        }
    )
    con = store.con
    con.register("_graph_canonical", mapping)
    try:
        # holder and held come out canonical: no Python pass over the relations maps them.
        cols = ", ".join(
            {"holder": "coalesce(h.canon, r.holder)", "held": "coalesce(d.canon, r.held)"}.get(
                c.strip(), f"r.{c.strip()}"
            )
            for c in RELATION_COLS.split(",")
        )
        rows = con.execute(
            f"SELECT r.version_id, {cols} FROM graph_relations r "
            "LEFT JOIN _graph_canonical h ON h.node_id = r.holder "
            "LEFT JOIN _graph_canonical d ON d.node_id = r.held "
            "WHERE r.version_id IN (SELECT unnest(?)) "
            "AND (r.start_date IS NULL OR r.start_date <= ?) "
            "AND (r.end_date IS NULL OR ? < r.end_date) "
            "AND r.id NOT IN (SELECT statement_id FROM graph_replaced "
            "  WHERE version_id IN (SELECT unnest(?))) "
            "ORDER BY r.version_id, r.rowid",
            [ids, as_of, as_of, ids],
        ).fetchall()
    finally:
        con.unregister("_graph_canonical")
    relations: list[Relation] = []
    origins: dict[str, list[Origin]] = {}
    first_of: dict[tuple[Any, ...], str] = {}
    source_of: dict[str, str] = {}
    counts = {"relations": 0, "same_statement": 0, "self_loops": 0}

    def keep(rel: Relation, origin: Origin) -> None:
        if rel.holder == rel.held:
            counts["self_loops"] += 1
            return
        share = rel.share
        key = (
            rel.kind,
            rel.holder,
            rel.held,
            (share.low, share.high, share.low_exclusive, share.high_exclusive) if share else None,
            rel.start,
            rel.end,
        )
        first = first_of.get(key)
        if first is not None and source_of[first] != origin.source:
            origins[first].append(origin)  # the same statement from another source
            counts["same_statement"] += 1
            return
        rid = rel.id
        if rid in origins:
            rid = f"{origin.source}#{origin.version_id}:{rel.id}"
            rel = _with(rel, id=rid)
        first_of.setdefault(key, rid)
        source_of[rid] = origin.source
        origins[rid] = [origin]
        relations.append(rel)

    for row in rows:
        vid = row[0]
        rel = relation_from_row(row[1:])
        v = by_id[vid]
        keep(rel, Origin(v.source, vid, v.version, rel.id, rel.source_ref))
    for rel in list_rels:
        if not rel.valid_on(as_of):
            continue
        origin = Origin("lists", None, "", rel.id, rel.source_ref)
        holder = canonical.get(rel.holder, rel.holder)
        held = canonical.get(rel.held, rel.held)
        if (holder, held) != (rel.holder, rel.held):
            rel = _with(rel, holder=holder, held=held)
        keep(rel, origin)
    counts["relations"] = len(relations)
    return relations, origins, counts


def _with(rel: Relation, **changes: Any) -> Relation:
    from dataclasses import replace

    return replace(rel, **changes)
