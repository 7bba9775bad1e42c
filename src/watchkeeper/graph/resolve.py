"""Which list entity a node of a loaded graph is: by identifiers first, then by name.

Identifiers are compared exactly after normalisation (``normal_identifier``) against
the current lists' entity properties: IMO ship numbers (``imoNumber`` of vessels), IMO
company numbers (listed companies carry them in ``imoNumber`` too), LEI, registration
numbers (with their jurisdiction when both sides state one), INN, OGRN and tax ids.

A node no identifier places is screened by name with the existing screening engine
(``watchkeeper.screening.Screener``), its country as a hint, and accepted only at or
above ``NAME_THRESHOLD`` (see there why). Every resolution says why and how well.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from watchkeeper.graph.lists import REGIME_SOURCES
from watchkeeper.graph.model import Node

if TYPE_CHECKING:
    from watchkeeper.screening import Screener
    from watchkeeper.store import Store

# A name alone must score this high to say a node *is* a listed entity. The screening
# engine's match threshold (0.7) raises hits for a human to review; here the answer is
# acted on unreviewed (it can make a company blocked), so a name must agree in every
# part: on the bundled lists 'Iran Air' scores 0.866 against IRAN AIRCRAFT INDUSTRIES
# (another company) and 1.0 against IRAN AIR; 'Sterling Shipping Inc' 1.0 against
# STERLING SHIPPING INCORPORATED (tests/graph/test_resolve.py).
NAME_THRESHOLD = 0.9

# Node identifier kind -> the FtM properties of list entities that carry it.
ID_PROPS: dict[str, tuple[str, ...]] = {
    "imo": ("imoNumber",),
    "imo_company": ("imoNumber",),
    "lei": ("leiCode",),
    "registration": ("registrationNumber",),
    "inn": ("innCode", "taxNumber"),
    "ogrn": ("ogrnCode", "registrationNumber"),
    "tax": ("taxNumber", "vatCode", "innCode"),
}
# How much each identifier says on its own (same scale as screening's ID_WEIGHTS).
ID_SCORES: dict[str, float] = {
    "imo": 0.98,
    "imo_company": 0.98,
    "lei": 0.97,
    "registration": 0.9,
    "inn": 0.95,
    "ogrn": 0.95,
    "tax": 0.9,
}
# The schemata an identifier can name: a ship number never names a company.
_VESSELS = frozenset({"Vessel"})
ID_SCHEMATA: dict[str, frozenset[str]] = {"imo": _VESSELS}

_NON_ALNUM = re.compile(r"[^0-9A-Z]+")
# Names a reader makes up for a party its file does not name ("IMO company 5947073").
_PLACEHOLDER = re.compile(r"^IMO( company)? \d+$", re.IGNORECASE)
# Lists whose entries are blocked by some regime (graph.lists.REGIME_SOURCES).
_BLOCKING = frozenset(s for sources in REGIME_SOURCES.values() for s in sources)


@dataclass(frozen=True)
class Resolution:
    """A node of a graph load is the list entity ``entity_id``: ``reason`` is the
    identifier kind that joined them (``imo``, ``imo_company``, ``lei``...) or ``name``;
    ``score`` in 0..1; ``detail`` says it in words."""

    entity_id: str
    reason: str
    score: float
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity_id": self.entity_id,
            "reason": self.reason,
            "score": round(self.score, 4),
            "detail": self.detail,
        }


def normal_identifier(kind: str, value: str) -> str | None:
    """The comparable form of a node identifier, or None when it cannot be one.

    IMO ship and company numbers are their seven digits (``"IMO 5947073"`` ->
    ``"5947073"``; company numbers have no ship check digit, so none is checked, and
    lose leading zeros in spreadsheets: ``"555505"`` is ``"0555505"``);
    a registration keeps its ``"<jurisdiction>:"`` prefix, upper-cased; the others are
    upper-case letters and digits, at least four of them."""
    text = value.strip().upper()
    if kind in ("imo", "imo_company"):
        digits = _NON_ALNUM.sub("", text).removeprefix("IMO")
        if kind == "imo_company" and 4 <= len(digits) < 7 and digits.isdigit():
            digits = digits.zfill(7)  # a number that lost its leading zeros in a CSV
        return digits if len(digits) == 7 and digits.isdigit() and digits.isascii() else None
    if kind == "registration" and ":" in text:
        where, _, number = text.partition(":")
        clean = _NON_ALNUM.sub("", number)
        return f"{where.strip()}:{clean}" if len(clean) >= 3 else None
    clean = _NON_ALNUM.sub("", text)
    return clean if len(clean) >= 4 else None


def node_identifiers(node: Node) -> list[tuple[str, str]]:
    """(kind, normalised value) of every identifier of ``node`` that can be compared."""
    found: list[tuple[str, str]] = []
    for kind, values in node.identifiers.items():
        for value in values:
            key = normal_identifier(kind, value)
            if key is not None and (kind, key) not in found:
                found.append((kind, key))
    return found


@dataclass
class _ListedIds:
    """(kind, value) -> list entity ids (with their schema) in the current lists."""

    ids: dict[tuple[str, str], set[tuple[str, str]]]

    @classmethod
    def build(
        cls,
        store: Store,
        wanted: set[tuple[str, str]],
        list_version_ids: Sequence[int] | None = None,
    ) -> _ListedIds:
        props = sorted({p for kind, _ in wanted for p in ID_PROPS.get(kind, ())})
        ids: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
        if not wanted or not props:
            return cls(ids)
        versions, params = _versions(list_version_ids)
        # Only entities holding one of the properties are read (one JSON path test each).
        test = " OR ".join(f"json_exists(e.properties, '$.{p}')" for p in props)
        rows = store.con.execute(
            "SELECT DISTINCT e.id, e.schema, e.properties FROM entities e "
            f"JOIN ({versions}) v USING (version_id) WHERE e.is_primary AND ({test})",
            params,
        ).fetchall()
        kinds_of_prop: dict[str, list[str]] = defaultdict(list)
        for kind, listed_props in ID_PROPS.items():
            for p in listed_props:
                kinds_of_prop[p].append(kind)
        for entity_id, schema, properties in rows:
            values: dict[str, list[str]] = json.loads(properties)
            for prop in props:
                for raw in values.get(prop, []):
                    for kind in kinds_of_prop[prop]:
                        allowed = ID_SCHEMATA.get(kind)
                        if kind == "imo_company" and schema in _VESSELS:
                            continue
                        if allowed is not None and schema not in allowed:
                            continue
                        for key in _listed_keys(kind, raw, values):
                            if (kind, key) in wanted:
                                ids[(kind, key)].add((entity_id, schema))
        return cls(ids)


def _listed_keys(kind: str, raw: str, properties: dict[str, list[str]]) -> list[str]:
    """The forms a listed value is compared in: a registration number both bare and
    with each of the entity's jurisdictions."""
    key = normal_identifier(kind, raw)
    if key is None:
        return []
    if kind != "registration" or ":" in key:
        return [key]
    keys = [key]
    for prop in ("jurisdiction", "country", "mainCountry"):
        for country in properties.get(prop, []):
            keys.append(f"{country.strip().upper()}:{key}")
    return keys


def _identifier_resolution(
    node: Node, keys: list[tuple[str, str]], listed: _ListedIds
) -> Resolution | None:
    """The one entity all of a node's matching identifiers name, or None (none match,
    or they name different entities: a conflict is left for a human)."""
    named: dict[str, list[str]] = defaultdict(list)
    for kind, key in keys:
        lookups = [key]
        if kind == "registration" and ":" in key:
            lookups.append(key.partition(":")[2])  # a listed number with no jurisdiction
        for lookup in lookups:
            for entity_id, schema in listed.ids.get((kind, lookup), set()):
                if kind == "imo_company" and node.schema == "Vessel":
                    continue
                if kind != "imo" and schema in _VESSELS and node.schema not in _VESSELS:
                    continue
                if f"{kind}={lookup}" not in named[entity_id]:
                    named[entity_id].append(f"{kind}={lookup}")
    if len(named) != 1:
        return None
    entity_id, matched = next(iter(named.items()))
    best = max(ID_SCORES.get(m.partition("=")[0], 0.9) for m in matched)
    kind = matched[0].partition("=")[0]
    return Resolution(entity_id, kind, best, f"same {', '.join(matched)} as listed {entity_id}")


NameScreen = Callable[[Node], "Resolution | None"]


def screen_by_name(screener: Screener, *, threshold: float = NAME_THRESHOLD) -> NameScreen:
    """A name screen over ``screener``: the best hit at or above ``threshold`` whose
    schema fits the node, with the screening engine's explanation as detail."""
    from watchkeeper.errors import InputError
    from watchkeeper.screening import Query

    def screen(node: Node) -> Resolution | None:
        if node.unknown or not node.name.strip() or _PLACEHOLDER.match(node.name):
            return None
        if node.schema == "Vessel" and "imo" in node.identifiers:
            # A ship is its IMO number; its name is reused by many ships and changes.
            return None
        properties: dict[str, list[str]] = {"name": [node.name]}
        if node.country:
            prop = "nationality" if node.schema == "Person" else "country"
            if node.schema == "Vessel":
                prop = "flag"
            properties[prop] = [node.country]
        try:
            query = Query.from_yente({"schema": node.schema, "properties": properties})
        except InputError:
            try:  # an unknown country or schema: the name alone
                query = Query.from_yente(
                    {"schema": "LegalEntity", "properties": {"name": [node.name]}}
                )
            except InputError:
                return None  # a name too short to screen
        hits = [h for h in screener.screen(query, threshold=threshold, limit=3) if h.match]
        # A name shared by two ships or companies with different IMO numbers, LEIs...
        # is two parties ('Seagull', IMO 9270517, is not the listed SEAGULL, IMO 9231626).
        hits = [h for h in hits if not _identifiers_differ(node, h.entity.properties)]
        if len(hits) > 1:
            # The same party on a blocking list and, under its own id, on an export
            # list (the CSL's 'Mahan Airways' beside OFAC's MAHAN AIR): the blocking
            # list's entry. Two blocking entries that fit as well: not ours to pick.
            hits = [h for h in hits if _BLOCKING.intersection(h.entity.datasets)]
        if len(hits) != 1:
            return None
        hit = hits[0]
        why = "; ".join(e.detail for e in hit.explanations[:3])
        return Resolution(
            hit.entity.id,
            "name",
            hit.score,
            f"name {node.name!r} screened as listed {hit.entity.caption} ({why})",
        )

    return screen


def _identifiers_differ(node: Node, properties: dict[str, list[str]]) -> bool:
    """Both state an identifier of one kind and no value is the same."""
    mine: dict[str, set[str]] = defaultdict(set)
    for kind, key in node_identifiers(node):
        if kind != "registration":  # registers number differently (with or without a prefix)
            mine[kind].add(key)
    for kind, keys in mine.items():
        listed = {
            normal_identifier(kind, raw)
            for prop in ID_PROPS.get(kind, ())
            for raw in properties.get(prop, [])
        }
        listed.discard(None)
        if listed and not (listed & keys):
            return True
    return False


def resolve_nodes(
    store: Store,
    nodes: Iterable[Node],
    *,
    name_screen: NameScreen | None = None,
    by_name: bool = True,
    list_version_ids: Sequence[int] | None = None,
) -> dict[str, Resolution]:
    """node id -> the list entity it is, for the nodes that can be placed.

    Identifiers first (all of a node's identifiers that match must name one entity);
    then, for the rest, the name (``name_screen``; by default a screener over the
    store's current lists is built when some node needs one; ``by_name=False`` skips
    names). Nodes whose id already is a current list entity id resolve to themselves.
    ``list_version_ids`` compares identifiers with those list versions, not the current
    ones (names are always screened against the current lists)."""
    todo = [n for n in nodes if not n.unknown]
    if not todo:
        return {}
    out: dict[str, Resolution] = {}
    listed_now = _listed_ids_of(store, [n.id for n in todo], list_version_ids)
    keys = {n.id: node_identifiers(n) for n in todo}
    wanted = {k for ks in keys.values() for k in ks}
    listed = _ListedIds.build(store, wanted, list_version_ids)
    rest: list[Node] = []
    for node in todo:
        if node.id in listed_now:
            out[node.id] = Resolution(node.id, "list_id", 1.0, f"{node.id} is a list entity id")
            continue
        found = _identifier_resolution(node, keys[node.id], listed)
        if found is not None:
            out[node.id] = found
        elif node.name.strip():
            rest.append(node)
    if rest and by_name:
        if name_screen is None:
            if not _has_lists(store):
                return out
            from watchkeeper.screening import Screener

            name_screen = screen_by_name(Screener.from_store(store))
        for node in rest:
            found = name_screen(node)
            if found is not None:
                out[node.id] = found
    return out


def _versions(list_version_ids: Sequence[int] | None) -> tuple[str, list[Any]]:
    if list_version_ids is None:
        from watchkeeper.store.entities import CURRENT_VERSIONS

        return f"SELECT version_id FROM ({CURRENT_VERSIONS})", []
    return "SELECT unnest(?) AS version_id", [list(list_version_ids)]


def _listed_ids_of(
    store: Store, ids: Sequence[str], list_version_ids: Sequence[int] | None
) -> set[str]:
    versions, params = _versions(list_version_ids)
    rows = store.con.execute(
        f"SELECT DISTINCT e.id FROM entities e JOIN ({versions}) v USING (version_id) "
        "WHERE e.id IN (SELECT unnest(?))",
        [*params, list(ids)],
    ).fetchall()
    return {str(r[0]) for r in rows}


def _has_lists(store: Store) -> bool:
    row = store.con.execute("SELECT count(*) FROM list_versions").fetchone()
    return bool(row and row[0])
