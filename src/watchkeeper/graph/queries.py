"""The questions users ask of the graph: who owns this (``owners``), what does it hold
(``holdings``), how are these two joined (``paths``) and what is around it
(``neighbourhood``). Every answer names the statements behind it: each step is one
relation, told in words ("A owns 60% of B", "C is ISM manager of vessel D"), with its
source and dates.

They read a graph view as of a date (``graph.view.load_view``): anything with
``nodes``, ``relations`` (already those in force on the date) and ``listed`` per regime.
"""

from __future__ import annotations

import weakref
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, Protocol

from watchkeeper.errors import InputError, WatchkeeperError
from watchkeeper.graph.model import CONTROL_KINDS, Node, Relation, RelationKind
from watchkeeper.graph.resolve import normal_identifier

# Deepest tree asked: registers' chains run about 10 deep; a tree is walked recursively
# when printed, so thousands of levels would not print.
MAX_TREE_DEPTH = 100
# Relations whose holder sits "above" the held party in an ownership tree: shares,
# votes, control, and a vessel's registered owner.
TREE_KINDS: frozenset[RelationKind] = CONTROL_KINDS | {"vessel_owner"}


class NodeLike(Protocol):
    """A party as a view holds it (``graph.model.Node``, ``graph.view.ViewNode``)."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def schema(self) -> str: ...

    @property
    def country(self) -> str | None: ...

    @property
    def identifiers(self) -> Mapping[str, tuple[str, ...]]: ...

    @property
    def unknown(self) -> bool: ...


class GraphLike(Protocol):
    """What the questions read: a view of the graph on one date."""

    @property
    def nodes(self) -> Mapping[str, NodeLike]: ...

    @property
    def relations(self) -> Sequence[Relation]: ...

    @property
    def listed(self) -> Mapping[str, AbstractSet[str]]: ...


class EntityNotFound(WatchkeeperError):
    """No node has this id or this exact name."""


class AmbiguousEntity(InputError):
    """An exact name that several nodes carry: the candidates are in ``candidates``."""

    def __init__(self, query: str, candidates: Sequence[NodeLike]) -> None:
        self.candidates = list(candidates)
        listed = "; ".join(f"{n.id} ({n.schema}, {n.name})" for n in self.candidates[:20])
        more = f" and {len(self.candidates) - 20} more" if len(self.candidates) > 20 else ""
        super().__init__(
            None,
            f"{query!r} names {len(self.candidates)} parties: {listed}{more}; ask by id",
            field="entity",
        )


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def node_of(view: GraphLike, node_id: str) -> NodeLike:
    """The node record, or a bare one when a relation names a party no node describes."""
    node = view.nodes.get(node_id)
    return node if node is not None else Node(id=node_id, name=node_id, schema="LegalEntity")


def resolve(view: GraphLike, query: str) -> str:
    """The node id ``query`` means: a node id, an identifier (``imo:9255270``,
    ``lei:...``, ``imo_company:5825809``) or an exact name (case and spacing ignored).
    Several parties with that name or identifier: ``AmbiguousEntity`` listing them;
    none: ``EntityNotFound``."""
    if query in view.nodes:
        return query
    # A source's own node id (``shadow_fleet:company:5947073``) means its canonical one.
    canonical: Mapping[str, str] = getattr(view, "canonical", {})
    if query in canonical:
        return canonical[query]
    adj = _index(view)
    if query in adj.up or query in adj.down:
        return query
    if any(query in ids for ids in view.listed.values()):
        return query  # a listed party no statement names
    found = _by_identifier(view, query)
    if not found:
        found = [view.nodes[i] for i in adj.names.get(_fold(query), ())]
    if len(found) == 1:
        return found[0].id
    if found:
        raise AmbiguousEntity(query, sorted(found, key=lambda n: n.id))
    raise EntityNotFound(f"no party in the graph has the id or the exact name {query!r}")


# Identifier kinds a question may name a party by: ``imo:9255270``, ``lei:...``.
ASKED_IDENTIFIERS = ("imo", "imo_company", "lei", "registration", "inn", "ogrn", "tax")


def _by_identifier(view: GraphLike, query: str) -> list[NodeLike]:
    kind, sep, value = query.partition(":")
    kind = kind.strip().lower().replace("-", "_")
    if not sep or kind not in ASKED_IDENTIFIERS:
        return []
    wanted = normal_identifier(kind, value)
    if wanted is None:
        return []
    return [
        n
        for n in view.nodes.values()
        if any(normal_identifier(kind, v) == wanted for v in n.identifiers.get(kind, ()))
    ]


def listed_regimes(view: GraphLike, node_id: str) -> list[str]:
    """The regimes whose lists name ``node_id``."""
    return sorted(r for r, ids in view.listed.items() if node_id in ids)


# -- telling a relation in words ----------------------------------------------------


def _dates(rel: Relation) -> str:
    if rel.start and rel.end:
        return f"{rel.start.isoformat()} to {rel.end.isoformat()}"
    if rel.start:
        return f"since {rel.start.isoformat()}"
    if rel.end:
        return f"until {rel.end.isoformat()}"
    return ""


def _role(rel: Relation, default: str) -> str:
    role = rel.role.strip() or (rel.interests[0] if rel.interests else "")
    return role.lower() if role else default


def describe(rel: Relation, holder: str, held: str) -> str:
    """One statement in words, holder first: ``"A owns 60% of B"``, ``"C is ism manager
    of vessel D"``, ``"E is linked to F"``; its dates follow in brackets."""
    share = rel.share.describe() if rel.share is not None else "an unstated share"
    if rel.share is not None and rel.share.low == 0.0 and rel.share.high == 1.0:
        share = "an unknown share"
    text = {
        "ownership": f"{holder} owns {share} of {held}",
        "voting": f"{holder} holds {share} of the votes in {held}",
        "control": f"{holder} controls {held}" + (f" ({_role(rel, '')})" if _role(rel, "") else ""),
        "directorship": f"{holder} is {_role(rel, 'a director')} of {held}",
        "membership": f"{holder} is a member of {held}",
        "family": f"{holder} is family ({_role(rel, 'relative')}) of {held}",
        "associate": f"{holder} is an associate of {held}",
        "representation": f"{holder} represents {held}",
        "unknown_link": f"{holder} is linked to {held}",
        "vessel_owner": f"{holder} is registered owner of vessel {held}",
        "vessel_manager": f"{holder} is {_role(rel, 'manager')} of vessel {held}",
        "aircraft_operator": f"{holder} operates aircraft {held}",
    }.get(rel.kind, f"{holder} {rel.kind} {held}")
    dates = _dates(rel)
    return f"{text} ({dates})" if dates else text


def relation_dict(rel: Relation) -> dict[str, Any]:
    """A relation as JSON: its share as a range and as text, dates ISO."""
    return {
        "id": rel.id,
        "kind": rel.kind,
        "holder": rel.holder,
        "held": rel.held,
        "share": None
        if rel.share is None
        else {
            "low": rel.share.low,
            "high": rel.share.high,
            "low_exclusive": rel.share.low_exclusive,
            "high_exclusive": rel.share.high_exclusive,
            "text": rel.share.describe(),
        },
        "interests": list(rel.interests),
        "direct": rel.direct,
        "role": rel.role,
        "start": rel.start.isoformat() if rel.start else None,
        "end": rel.end.isoformat() if rel.end else None,
        "source": rel.source_ref,
    }


def node_sources(node: NodeLike) -> list[str]:
    """Where a party was stated: each source's record (a view's provenance), or the
    record of a plain node."""
    out = []
    for origin in getattr(node, "provenance", ()):
        out.append(origin.source_ref or f"{origin.source}:{origin.id}")
    ref = getattr(node, "source_ref", "")
    if ref and ref not in out:
        out.append(ref)
    return out


def node_dict(node: NodeLike, listed: Iterable[str] = ()) -> dict[str, Any]:
    return {
        "id": node.id,
        "name": node.name,
        "schema": node.schema,
        "country": node.country,
        "identifiers": {k: list(v) for k, v in node.identifiers.items()},
        "unknown": node.unknown,
        "listed": list(listed),
        "sources": node_sources(node),
    }


# -- adjacency ------------------------------------------------------------------------


def _relation_order(rel: Relation) -> tuple[str, str, str, str]:
    return (rel.kind, rel.holder, rel.held, rel.id)


@dataclass
class _Adjacency:
    """Every relation of a view by both ends, and parties by folded name: built once
    per view (``_index``), so each question walks only the part of the graph it asks
    about instead of reading every relation again."""

    up: dict[str, list[Relation]] = field(default_factory=dict)  # held -> relations
    down: dict[str, list[Relation]] = field(default_factory=dict)  # holder -> relations
    names: dict[str, list[str]] = field(default_factory=dict)  # folded name -> ids

    @classmethod
    def build(cls, view: GraphLike) -> _Adjacency:
        adj = cls()
        for rel in view.relations:
            adj.up.setdefault(rel.held, []).append(rel)
            adj.down.setdefault(rel.holder, []).append(rel)
        for node in view.nodes.values():
            adj.names.setdefault(_fold(node.name), []).append(node.id)
        return adj

    # Sorted when read, not when built: a question reads a few parties' statements.
    def ups(self, node_id: str, kinds: AbstractSet[str] | None) -> list[Relation]:
        rels = self.up.get(node_id, ())
        return sorted((r for r in rels if kinds is None or r.kind in kinds), key=_relation_order)

    def downs(self, node_id: str, kinds: AbstractSet[str] | None) -> list[Relation]:
        rels = self.down.get(node_id, ())
        return sorted((r for r in rels if kinds is None or r.kind in kinds), key=_relation_order)

    def around(
        self, node_id: str, kinds: AbstractSet[str] | None = None
    ) -> Iterable[tuple[str, Relation]]:
        """(the party at the other end, the relation), both directions."""
        for rel in self.downs(node_id, kinds):
            yield rel.held, rel
        for rel in self.ups(node_id, kinds):
            yield rel.holder, rel


# id(view) -> (a weak reference to it, what its relations and nodes were, the index).
_INDEXES: dict[int, tuple[weakref.ref[Any], int, int, int, _Adjacency]] = {}


def _index(view: GraphLike) -> _Adjacency:
    """The view's index, built on first use and kept while the view lives (rebuilt if
    its relations or nodes were replaced or grew)."""
    key = id(view)
    rels = view.relations
    hit = _INDEXES.get(key)
    if hit is not None:
        ref, rels_id, n_rels, n_nodes, adj = hit
        if ref() is view and (rels_id, n_rels, n_nodes) == (id(rels), len(rels), len(view.nodes)):
            return adj
    adj = _Adjacency.build(view)
    try:
        ref = weakref.ref(view, lambda _dead: _INDEXES.pop(key, None))
    except TypeError:
        return adj  # a view that cannot be weakly referenced is indexed every time
    _INDEXES[key] = (ref, id(rels), len(rels), len(view.nodes), adj)
    return adj


# -- ownership trees ----------------------------------------------------------------


@dataclass
class TreeNode:
    """One party in an owners or holdings tree. ``relation`` joins it to its parent in
    the tree (None at the root); ``cycle`` marks a party already on the way from the
    root (its branch stops there); ``cut`` a party whose own branches lie deeper than
    asked."""

    node: NodeLike
    listed: list[str]
    relation: Relation | None = None
    text: str = ""
    children: list[TreeNode] = field(default_factory=list)
    cycle: bool = False
    cut: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.node.id,
            "name": self.node.name,
            "schema": self.node.schema,
            "country": self.node.country,
            "unknown": self.node.unknown,
            "listed": self.listed,
            "relation": None if self.relation is None else relation_dict(self.relation),
            "text": self.text,
            "cycle": self.cycle,
            "cut": self.cut,
            "children": [c.to_dict() for c in self.children],
        }

    def walk(self, depth: int = 0) -> Iterable[tuple[int, TreeNode]]:
        """(depth, node) for the whole tree, parents before children."""
        yield depth, self
        for child in self.children:
            yield from child.walk(depth + 1)


def _tree(
    view: GraphLike,
    entity: str,
    depth: int,
    *,
    upward: bool,
    kinds: AbstractSet[str],
    max_nodes: int,
) -> TreeNode:
    if not 0 <= depth <= MAX_TREE_DEPTH:
        raise InputError(None, f"depth {depth} is not within 0..{MAX_TREE_DEPTH}", field="depth")
    root_id = resolve(view, entity)
    adj = _index(view)
    step = adj.ups if upward else adj.downs

    def grow(node_id: str, rel: Relation | None) -> TreeNode:
        out = TreeNode(node=node_of(view, node_id), listed=listed_regimes(view, node_id))
        if rel is not None:
            out.relation = rel
            out.text = describe(rel, node_of(view, rel.holder).name, node_of(view, rel.held).name)
        return out

    root = grow(root_id, None)
    count = 1
    # Level by level, so a tree cut at ``max_nodes`` keeps the nearest parties.
    queue = deque([(root, root_id, frozenset[str](), depth)])
    while queue:
        tree, node_id, on_path, left = queue.popleft()
        if node_id in on_path:
            tree.cycle = True
            continue
        nexts = step(node_id, kinds)
        if left == 0 or count >= max_nodes:
            tree.cut = bool(nexts)
            continue
        path = on_path | {node_id}
        for i, rel in enumerate(nexts):
            if count >= max_nodes:
                tree.cut = i < len(nexts)
                break
            other = rel.holder if upward else rel.held
            child = grow(other, rel)
            tree.children.append(child)
            count += 1
            queue.append((child, other, path, left - 1))
    return root


def owners(
    view: GraphLike,
    entity: str,
    depth: int = 3,
    *,
    kinds: AbstractSet[str] = TREE_KINDS,
    max_nodes: int = 5000,
) -> TreeNode:
    """Who holds ``entity`` (an id or an exact name), up to ``depth`` levels: holders of
    shares, votes or control (and a vessel's registered owner), each with the statement, share, dates and source. A party
    met again on its own branch is marked ``cycle`` and not followed; a party whose
    holders lie beyond ``depth`` or beyond ``max_nodes`` parties is marked ``cut``."""
    return _tree(view, entity, depth, upward=True, kinds=kinds, max_nodes=max_nodes)


def holdings(
    view: GraphLike,
    entity: str,
    depth: int = 3,
    *,
    kinds: AbstractSet[str] = TREE_KINDS,
    max_nodes: int = 5000,
) -> TreeNode:
    """What ``entity`` holds, down to ``depth`` levels; as ``owners``, the other way."""
    return _tree(view, entity, depth, upward=False, kinds=kinds, max_nodes=max_nodes)


# -- paths --------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One relation walked from ``source`` to ``target``. ``forward``: walked from its
    holder to the held party (False: against the statement's direction)."""

    source: str
    target: str
    relation: Relation
    forward: bool
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.target,
            "forward": self.forward,
            "text": self.text,
            "relation": relation_dict(self.relation),
        }


@dataclass(frozen=True)
class Path:
    """A chain of statements from one party to another."""

    steps: tuple[Step, ...]

    @property
    def nodes(self) -> list[str]:
        return [self.steps[0].source, *(s.target for s in self.steps)] if self.steps else []

    def __len__(self) -> int:
        return len(self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "length": len(self.steps),
            "nodes": self.nodes,
            "steps": [s.to_dict() for s in self.steps],
        }


def paths(
    view: GraphLike,
    a: str,
    b: str,
    max_len: int = 6,
    kinds: AbstractSet[str] | None = None,
    *,
    limit: int = 10,
) -> list[Path]:
    """The shortest chains of statements joining ``a`` and ``b`` (ids or exact names)
    over any relation kind (or only ``kinds``), walked either way, at most ``max_len``
    steps; every shortest chain when several tie, up to ``limit``. Empty when none is
    that short. Each step says the relation in words with its source and dates."""
    if max_len < 1:
        raise InputError(None, f"max_len {max_len} is below 1", field="max_len")
    start, goal = resolve(view, a), resolve(view, b)
    if start == goal:
        return []
    adj = _index(view)
    # Breadth first from both ends, a whole level at a time, always the cheaper
    # frontier. Each party keeps every (neighbour one step nearer its end, relation)
    # that reaches it at its shortest distance, so every tied chain can be rebuilt.
    ends = (_Search(start), _Search(goal))
    meets: list[str] = []
    while not meets and ends[0].frontier and ends[1].frontier:
        if ends[0].depth + ends[1].depth >= max_len:
            return []
        # The end whose next level costs less to read (hubs hold thousands of statements).
        first = ends[0].cost(adj) <= ends[1].cost(adj)
        side, other = ends if first else ends[::-1]
        side.expand(adj, kinds)
        meets = sorted(x for x in side.frontier if x in other.dist)
    if not meets:
        return []

    def step(here: str, there: str, rel: Relation) -> Step:
        forward = rel.holder == here and rel.held == there
        text = describe(rel, node_of(view, rel.holder).name, node_of(view, rel.held).name)
        return Step(source=here, target=there, relation=rel, forward=forward, text=text)

    found: list[Path] = []
    for meet in meets:
        for head in ends[0].chains(meet, limit):
            for tail in ends[1].chains(meet, limit):
                steps = [*head, *((b, a, r) for a, b, r in reversed(tail))]
                found.append(Path(tuple(step(x, y, r) for x, y, r in steps)))
                if len(found) >= limit:
                    break
            if len(found) >= limit:
                break
        if len(found) >= limit:
            break
    return sorted(found, key=lambda p: [s.relation.id for s in p.steps])


@dataclass
class _Search:
    """One end of a two-ended breadth-first search: distances from ``origin``, and for
    each party reached, every (party one step nearer ``origin``, relation) at that
    distance."""

    origin: str
    dist: dict[str, int] = field(default_factory=dict)
    preds: dict[str, list[tuple[str, Relation]]] = field(default_factory=dict)
    frontier: list[str] = field(default_factory=list)
    depth: int = 0

    def __post_init__(self) -> None:
        self.dist[self.origin] = 0
        self.frontier = [self.origin]

    def cost(self, adj: _Adjacency) -> int:
        """How many statements the next level reads."""
        return sum(len(adj.up.get(x, ())) + len(adj.down.get(x, ())) for x in self.frontier)

    def expand(self, adj: _Adjacency, kinds: AbstractSet[str] | None) -> None:
        level = self.depth + 1
        nxt: list[str] = []
        for here in self.frontier:
            for there, rel in adj.around(here, kinds):
                seen = self.dist.get(there)
                if seen is None:
                    self.dist[there] = level
                    self.preds[there] = [(here, rel)]
                    nxt.append(there)
                elif seen == level:
                    self.preds[there].append((here, rel))
        self.frontier = nxt
        self.depth = level

    def chains(self, node: str, limit: int) -> list[list[tuple[str, str, Relation]]]:
        """Up to ``limit`` chains of (from, to, relation) from ``origin`` to ``node``."""
        out: list[list[tuple[str, str, Relation]]] = []
        stack: list[tuple[str, list[tuple[str, str, Relation]]]] = [(node, [])]
        while stack and len(out) < limit:
            here, tail = stack.pop()
            if here == self.origin:
                out.append(tail)
                continue
            for prev, rel in reversed(self.preds[here]):
                stack.append((prev, [(prev, here, rel), *tail]))
        return out


# -- neighbourhood ------------------------------------------------------------------


@dataclass
class Neighbourhood:
    """The parties within ``depth`` relations of ``center`` and every relation among
    them. ``truncated``: ``max_nodes`` was reached before the last level was done."""

    center: str
    depth: int
    nodes: list[NodeLike]
    relations: list[Relation]
    listed: dict[str, list[str]]
    truncated: bool = False

    def __iter__(self) -> Any:
        # (nodes, relations) = neighbourhood(...) reads as the pair it is.
        return iter((self.nodes, self.relations))

    def to_dict(self) -> dict[str, Any]:
        return {
            "center": self.center,
            "depth": self.depth,
            "truncated": self.truncated,
            "nodes": [node_dict(n, self.listed.get(n.id, ())) for n in self.nodes],
            "relations": [relation_dict(r) for r in self.relations],
        }


def neighbourhood(
    view: GraphLike,
    entity: str,
    depth: int = 1,
    *,
    kinds: AbstractSet[str] | None = None,
    max_nodes: int = 5000,
) -> Neighbourhood:
    """The parties within ``depth`` relations of ``entity`` (either direction, any kind
    or only ``kinds``) and the relations among them, for a graph view. At most
    ``max_nodes`` parties (``truncated`` says when some were left out)."""
    if depth < 0:
        raise InputError(None, f"depth {depth} is negative", field="depth")
    center = resolve(view, entity)
    adj = _index(view)
    seen = {center: 0}
    queue = deque([center])
    truncated = False
    while queue:
        here = queue.popleft()
        if seen[here] == depth:
            continue
        for there, _rel in adj.around(here, kinds):
            if there in seen:
                continue
            if len(seen) >= max_nodes:
                truncated = True
                break
            seen[there] = seen[here] + 1
            queue.append(there)
    relations: dict[str, Relation] = {}
    for node_id in seen:
        for there, rel in adj.around(node_id, kinds):
            if there in seen:
                relations[rel.id] = rel
    nodes = [node_of(view, n) for n in sorted(seen, key=lambda n: (seen[n], n))]
    return Neighbourhood(
        center=center,
        depth=depth,
        nodes=nodes,
        relations=sorted(relations.values(), key=lambda r: r.id),
        listed={n.id: listed_regimes(view, n.id) for n in nodes},
        truncated=truncated,
    )
