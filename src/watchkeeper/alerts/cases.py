"""Cases: alerts grouped by the network they belong to, with a score, a title and links.

A case is a connected set of *anchors* (the subjects of alerts: ``mmsi:..``, ``imo:..``,
``icao24:..``, ``reg:..``, ``cargo:..``, ``doc:..`` and list entity ids). Two anchors
are in the same case when

- they are subjects of the same alert (``same_alert``), or
- a path of links joins them (union-find over the anchors), of these kinds:

  * vessel and aircraft identity, free of cost (the same thing under two ids):
    ``vessel_links`` (MMSI <-> listed vessel), an event naming exactly one MMSI and one
    IMO (``identity_change``, ``voyage``...), a listed vessel's or aircraft's own IMO,
    MMSI and registration, a registry vessel's IMO, ``air_aircraft`` (ICAO hex <->
    registration);
  * ownership and control (the merged graph of ``graph/view.py``: registries and the
    lists' own relations, owner, manager, aircraft operator, "linked to"), and the
    owners named by ``vessel_owner_blocked`` events: a vessel owned by a blocked company
    joins that company;
  * shipments: a shipment line joins the vessel (IMO) or aircraft (registration) it
    names;
  * reports: a report joins the list entities its mentions are linked to (mentions
    scored at least ``MENTION_MIN_SCORE``, the report-mention rule's bar).

Why the joins are limited, so that one component does not swallow everything:

- shared attributes are never links: a country, a flag, a port, a sanctions programme
  or a list is said of thousands of parties and says nothing about one network;
- a path counts at most ``MAX_LINK_HOPS`` links that are not identity links, so two
  alerts are joined through at most one party that no alert names;
- a path never passes *through* a hub: a party with more than ``HUB_NEIGHBOURS``
  distinct neighbours (the IRGC is "linked to" about a hundred listed parties, Mahan Air
  operates dozens of aircraft). Being linked to the same hub says little; a hub that is
  itself an alert's subject still joins its direct neighbours that are anchors, since
  the data states that link about two parties the case is already about;
- the path may not pass through another anchor either: that anchor's own links are
  followed from it, so each join is explained by its shortest reason.

``case_id`` is ``case-<sha1(sorted anchor subjects)[:12]>``: a rebuild over the same
alerts gives the same ids; a new alert that joins a case gives it a new id (its
network changed). Scores read only stored data (recency is measured against the
newest alert in the store, not the clock), so a re-run writes the same rows.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from watchkeeper.alerts.evidence import Evidence, resolve_evidence
from watchkeeper.alerts.rules import SEVERITIES, load_rules
from watchkeeper.alerts.store import Alert, list_alerts
from watchkeeper.errors import InputError
from watchkeeper.store.entities import CURRENT_VERSIONS

if TYPE_CHECKING:
    from watchkeeper.graph.view import GraphView
    from watchkeeper.store import Store

MAX_LINK_HOPS = 2
HUB_NEIGHBOURS = 20
MENTION_MIN_SCORE = 0.8
# Score: what each part weighs (they sum to 1).
WEIGHTS: dict[str, float] = {
    "severity": 0.35,
    "domains": 0.25,
    "rules": 0.15,
    "listed_parties": 0.15,
    "recency": 0.10,
}
SEVERITY_VALUE = {"low": 0.25, "medium": 0.5, "high": 0.75, "critical": 1.0}
RECENCY_HALF_LIFE_DAYS = 180.0
# Rule files (alerts/rules/<stem>.toml) -> the domain their alerts are about.
RULE_FILE_DOMAINS = {
    "vessels": "ships",
    "aircraft": "aircraft",
    "cargo": "cargo",
    "reports": "reports",
}
DOMAINS = ("ships", "aircraft", "cargo", "reports")
# Links that name the same thing twice: they cost no hop.
IDENTITY_KINDS = frozenset(
    {"vessel_identity", "list_identity", "registry_identity", "aircraft_identity"}
)
CONTROL_KINDS = frozenset(
    {"ownership", "vessel_owner", "vessel_manager", "aircraft_operator", "owner_blocked"}
)

_IMO = re.compile(r"(\d{7})")


@dataclass(frozen=True)
class Link:
    """Why two subjects are in one case: ``kind`` and the ids of the evidence."""

    source: str
    target: str
    kind: str
    evidence: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.target,
            "kind": self.kind,
            "evidence": list(self.evidence),
        }


@dataclass
class CaseRun:
    """What ``build_cases`` did: case ids created, rewritten, unchanged and removed."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    alerts: int = 0

    @property
    def cases(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "alerts": self.alerts,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
        }


@dataclass(frozen=True)
class Case:
    case_id: str
    title: str
    subjects: list[str]
    alert_ids: list[str]
    score: float
    score_parts: list[dict[str, Any]]
    start_time: datetime
    end_time: datetime
    links: list[dict[str, Any]]
    built_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TimelineItem:
    """One alert, or one event behind an alert, at its start time (UTC)."""

    time: datetime
    end_time: datetime
    kind: str  # 'alert' | 'event'
    id: str
    type: str  # the alert's rule, or the event's type
    text: str
    alert_ids: list[str]


@dataclass(frozen=True)
class CaseDetail:
    case: Case
    alerts: list[Alert]
    timeline: list[TimelineItem]
    evidence: list[Evidence]
    subjects_by_domain: dict[str, list[Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.case.to_dict(),
            "subjects_by_domain": self.subjects_by_domain,
            "alerts": [a.to_dict() for a in self.alerts],
            "timeline": [asdict(t) for t in self.timeline],
            "evidence": [asdict(e) for e in self.evidence],
        }


# --- the network ----------------------------------------------------------------------


class _Network:
    """Undirected links between subject ids, each with its kind and evidence."""

    def __init__(self) -> None:
        self.adjacent: dict[str, dict[str, Link]] = defaultdict(dict)

    def add(self, a: str, b: str, kind: str, evidence: Iterable[str]) -> None:
        if not a or not b or a == b:
            return
        link = Link(a, b, kind, tuple(evidence))
        # One link per pair: the most telling statement (identity, then ownership and
        # control, then the rest, "linked to" last); the first of equals.
        old = self.adjacent[a].get(b)
        if old is not None and _rank(old.kind) <= _rank(kind):
            return
        self.adjacent[a][b] = link
        self.adjacent[b][a] = link

    def neighbours(self, node: str) -> int:
        """Distinct neighbours over links that are not identity links."""
        return sum(1 for link in self.adjacent.get(node, {}).values() if not _free(link))


def _rank(kind: str) -> int:
    if kind in IDENTITY_KINDS:
        return 0
    if kind in CONTROL_KINDS:
        return 1
    return 3 if kind == "unknown_link" else 2


def _free(link: Link) -> bool:
    return link.kind in IDENTITY_KINDS


def _imo(value: str) -> str | None:
    m = _IMO.search(value)
    return f"imo:{m.group(1)}" if m else None


def _vessel_identity(store: Store, net: _Network) -> None:
    for mmsi, entity, method, score in store.con.execute(
        "SELECT mmsi, entity_id, method, score FROM vessel_links ORDER BY mmsi, entity_id"
    ).fetchall():
        net.add(
            f"mmsi:{mmsi}",
            entity,
            "vessel_identity",
            [f"vessel_link:{mmsi}:{entity}", f"{method} {float(score):.2f}"],
        )
    # An event that names exactly one MMSI and one IMO saw them as one vessel.
    for event_id, subjects in store.con.execute(
        "SELECT event_id, subjects FROM events WHERE "
        "len(list_filter(subjects, s -> s LIKE 'mmsi:%')) = 1 AND "
        "len(list_filter(subjects, s -> s LIKE 'imo:%')) = 1 ORDER BY event_id"
    ).fetchall():
        mmsi = next(s for s in subjects if s.startswith("mmsi:"))
        imo = next(s for s in subjects if s.startswith("imo:"))
        net.add(mmsi, imo, "vessel_identity", [f"event:{event_id}"])
    rows = store.con.execute(
        "SELECT e.id, e.schema, e.properties FROM entities e "
        f"JOIN ({CURRENT_VERSIONS}) v USING (version_id) "
        "WHERE e.is_primary AND e.schema IN ('Vessel', 'Airplane') ORDER BY e.id"
    ).fetchall()
    for entity_id, schema, props in rows:
        properties: dict[str, list[str]] = json.loads(props) if isinstance(props, str) else props
        evidence = [f"list:{entity_id}"]
        if schema == "Vessel":
            for value in properties.get("imoNumber", []):
                imo = _imo(value)
                if imo:
                    net.add(entity_id, imo, "list_identity", evidence)
            for value in properties.get("mmsi", []):
                if value.strip().isdigit():
                    net.add(entity_id, f"mmsi:{int(value)}", "list_identity", evidence)
        else:
            for value in properties.get("registrationNumber", []):
                net.add(entity_id, f"reg:{value.strip().upper()}", "list_identity", evidence)
    for icao24, registration, source in store.con.execute(
        "SELECT icao24, registration, registration_source FROM air_aircraft "
        "WHERE registration IS NOT NULL AND registration <> '' ORDER BY icao24"
    ).fetchall():
        net.add(
            f"icao24:{icao24}",
            f"reg:{registration.upper()}",
            "aircraft_identity",
            [f"aircraft:{icao24}", f"registration from {source}"],
        )


def _ownership(store: Store, net: _Network, view: GraphView) -> None:
    for node in view.nodes.values():
        if node.id.startswith(("ofac-", "un-", "uscsl-", "eu-", "uk-")):
            continue  # list entities: their identifiers come from the lists above
        if node.schema == "Vessel":
            for value in node.identifiers.get("imo", ()):
                imo = _imo(value)
                if imo:
                    refs = [o.source_ref for o in node.provenance][:2]
                    net.add(node.id, imo, "registry_identity", refs)
    for rel in view.relations:
        refs = [f"rel:{rel.id}", *(o.source_ref for o in view.origins.get(rel.id, []))]
        net.add(rel.holder, rel.held, rel.kind, refs)
    for event_id, subjects, params in store.con.execute(
        "SELECT event_id, subjects, params FROM events "
        "WHERE type IN ('vessel_owner_blocked', 'owned_by_blocked') ORDER BY event_id"
    ).fetchall():
        data = json.loads(params) if isinstance(params, str) else params
        vessel = data.get("vessel") or (subjects[0] if subjects else "")
        for owner in data.get("owners", []):
            holder = owner.get("holder")
            if isinstance(holder, str):
                net.add(holder, vessel, "owner_blocked", [f"event:{event_id}"])


def _shipments(store: Store, net: _Network) -> None:
    for line_id, imo, registration, ref in store.con.execute(
        "SELECT line_id, vessel_imo, aircraft_registration, source_ref FROM shipment_lines "
        "ORDER BY line_id"
    ).fetchall():
        if imo:
            vessel = _imo(str(imo))
            if vessel:
                net.add(f"cargo:{line_id}", vessel, "shipment_vessel", [f"cargo:{line_id}", ref])
        if registration:
            net.add(
                f"cargo:{line_id}",
                f"reg:{str(registration).upper()}",
                "shipment_aircraft",
                [f"cargo:{line_id}", ref],
            )


def _reports(store: Store, net: _Network) -> None:
    for doc_id, entity_id, mention_ids in store.con.execute(
        "SELECT doc_id, entity_id, list(mention_id ORDER BY start_pos) FROM document_mentions "
        "WHERE entity_id IS NOT NULL AND score >= ? GROUP BY doc_id, entity_id "
        "ORDER BY doc_id, entity_id",
        [MENTION_MIN_SCORE],
    ).fetchall():
        net.add(f"doc:{doc_id}", entity_id, "named_in_report", [f"doc:{m}" for m in mention_ids])


def build_network(store: Store, as_of: date | None = None) -> _Network:
    """Every link the store states (see the module docstring), ownership as of
    ``as_of`` (default: today, UTC)."""
    from watchkeeper.graph.view import load_view

    net = _Network()
    _vessel_identity(store, net)
    _ownership(store, net, load_view(store, as_of or datetime.now(UTC).date()))
    _shipments(store, net)
    _reports(store, net)
    return net


def _paths_from(
    net: _Network, start: str, anchors: set[str], hubs: set[str]
) -> dict[str, list[Link]]:
    """The other anchors within ``MAX_LINK_HOPS`` non-identity links of ``start``, each
    with the links of a cheapest path; paths cross no hub and no other anchor."""
    best: dict[str, int] = {start: 0}
    path: dict[str, list[Link]] = {start: []}
    queue: list[tuple[int, str]] = [(0, start)]
    found: dict[str, list[Link]] = {}
    while queue:
        cost, node = heapq.heappop(queue)
        if cost > best.get(node, MAX_LINK_HOPS + 1):
            continue
        if node != start and node in anchors:
            found[node] = path[node]
            continue
        if node != start and node in hubs:
            continue
        for other, link in sorted(net.adjacent.get(node, {}).items()):
            step = cost + (0 if _free(link) else 1)
            if step > MAX_LINK_HOPS or step >= best.get(other, MAX_LINK_HOPS + 1):
                continue
            best[other] = step
            path[other] = [*path[node], link]
            heapq.heappush(queue, (step, other))
    return found


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        root = item
        while self.parent.setdefault(root, root) != root:
            root = self.parent[root]
        while item != root:
            item, self.parent[item] = self.parent[item], root
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The smaller id is the root: the grouping does not depend on input order.
            lo, hi = sorted((ra, rb))
            self.parent[hi] = lo


# --- names, domains, score, title -----------------------------------------------------


@dataclass
class _Names:
    names: dict[str, str]
    schemata: dict[str, str]

    def name(self, subject: str) -> str:
        return self.names.get(subject, subject)


def _names(store: Store, subjects: set[str], view_names: Mapping[str, tuple[str, str]]) -> _Names:
    names: dict[str, str] = {}
    schemata: dict[str, str] = {}
    ids = sorted(s for s in subjects if ":" not in s)
    for entity_id, schema, caption in store.con.execute(
        "SELECT e.id, first(e.schema ORDER BY v.source), first(e.caption ORDER BY v.source) "
        f"FROM entities e JOIN ({CURRENT_VERSIONS}) v USING (version_id) "
        "WHERE e.is_primary AND e.id IN (SELECT unnest(?)) GROUP BY e.id",
        [ids],
    ).fetchall():
        names[entity_id], schemata[entity_id] = caption, schema
    for subject in subjects:
        if subject in view_names and subject not in names:
            names[subject], schemata[subject] = view_names[subject]
    docs = [s[4:] for s in subjects if s.startswith("doc:")]
    for doc_id, title, source in store.con.execute(
        "SELECT doc_id, title, source FROM documents WHERE doc_id IN (SELECT unnest(?))", [docs]
    ).fetchall():
        names[f"doc:{doc_id}"] = title or source
    for s in subjects:
        if s.startswith("reg:"):
            names.setdefault(s, s[4:])
    # A vessel no list or registry names: the name it broadcast last.
    for column, prefix in (("imo", "imo:"), ("mmsi", "mmsi:")):
        wanted = [
            int(s[len(prefix) :])
            for s in subjects
            if s.startswith(prefix) and s not in names and s[len(prefix) :].isdigit()
        ]
        for value, name in store.con.execute(
            f"SELECT {column}, arg_max(name, time) FROM ais_static "
            f"WHERE {column} IN (SELECT unnest(?)) AND name IS NOT NULL GROUP BY {column}",
            [wanted],
        ).fetchall():
            names[f"{prefix}{value}"] = f"{name} ({column.upper()} {value})"
    icaos = [s[7:] for s in subjects if s.startswith("icao24:")]
    for icao24, registration in store.con.execute(
        "SELECT icao24, registration FROM air_aircraft WHERE icao24 IN (SELECT unnest(?))",
        [icaos],
    ).fetchall():
        if registration:
            names[f"icao24:{icao24}"] = f"{registration} ({icao24})"
    lines = [s[6:] for s in subjects if s.startswith("cargo:")]
    for line_id, goods, vessel, origin, dest in store.con.execute(
        "SELECT line_id, goods, vessel_name, origin_country, destination_country "
        "FROM shipment_lines WHERE line_id IN (SELECT unnest(?))",
        [lines],
    ).fetchall():
        by = f" on {vessel}" if vessel else ""
        route = f" ({origin}->{dest})" if origin or dest else ""
        names[f"cargo:{line_id}"] = f"{line_id}: {goods}{by}{route}"
    return _Names(names, schemata)


def subject_domain(subject: str, schema: str | None) -> str:
    """Where a subject belongs in a case: vessels, aircraft, shipments, reports,
    companies or people."""
    if subject.startswith(("mmsi:", "imo:")) or schema == "Vessel":
        return "vessels"
    if subject.startswith(("icao24:", "reg:")) or schema in ("Airplane", "Aircraft"):
        return "aircraft"
    if subject.startswith("cargo:"):
        return "shipments"
    if subject.startswith("doc:"):
        return "reports"
    if schema == "Person":
        return "people"
    return "companies"


def _rule_domains() -> dict[str, str]:
    return {r.id: RULE_FILE_DOMAINS.get(Path(r.source).stem, "other") for r in load_rules()}


def _alert_domain(alert: Alert, rule_domains: Mapping[str, str]) -> str:
    if alert.rule_id in rule_domains:
        return rule_domains[alert.rule_id]
    prefixes = {s.split(":", 1)[0] for s in alert.subjects if ":" in s}
    for prefix, domain in (("doc", "reports"), ("cargo", "cargo"), ("icao24", "aircraft")):
        if prefix in prefixes:
            return domain
    return "ships"


def score_case(
    alerts: list[Alert],
    listed: set[str],
    rule_domains: Mapping[str, str],
    newest: datetime,
) -> tuple[float, list[dict[str, Any]]]:
    """The case's score in 0..1, the weighted sum of its parts, each with why."""
    top = max(alerts, key=lambda a: SEVERITIES.index(a.severity) if a.severity in SEVERITIES else 0)
    domains = sorted({_alert_domain(a, rule_domains) for a in alerts})
    rules = sorted({a.rule_id for a in alerts})
    end = max(a.end_time for a in alerts)
    age_days = max((newest - end).total_seconds() / 86400.0, 0.0)
    values = {
        "severity": (
            SEVERITY_VALUE.get(top.severity, 0.0),
            f"most severe alert: {top.severity} ({top.alert_id})",
        ),
        "domains": (
            min(len([d for d in domains if d in DOMAINS]) / len(DOMAINS), 1.0),
            f"{len(domains)} domain(s) of {len(DOMAINS)}: {', '.join(domains)}",
        ),
        "rules": (min(len(rules) / 5.0, 1.0), f"{len(rules)} distinct rule(s) (5 or more: 1.0)"),
        "listed_parties": (
            min(len(listed) / 10.0, 1.0),
            f"{len(listed)} listed part(ies) among the subjects (10 or more: 1.0)",
        ),
        "recency": (
            0.5 ** (age_days / RECENCY_HALF_LIFE_DAYS),
            f"latest alert ends {age_days:.0f} day(s) before the newest alert in the store "
            f"(half-life {RECENCY_HALF_LIFE_DAYS:g} days)",
        ),
    }
    parts = [
        {"part": part, "value": round(v, 4), "weight": WEIGHTS[part], "why": why}
        for part, (v, why) in values.items()
    ]
    score = round(sum(p["value"] * p["weight"] for p in parts), 4)
    return min(max(score, 0.0), 1.0), parts


def case_title(
    subjects: list[str],
    alerts: list[Alert],
    names: _Names,
    listed: set[str],
    links: Iterable[Link] = (),
) -> str:
    """The case's main parties by name (listed parties first, then those named by the
    most alerts and links), then how many vessels, aircraft, shipments and reports it
    holds (a vessel under its IMO, MMSI and list entry counts once)."""
    count: Counter[str] = Counter(s for a in alerts for s in set(a.subjects))
    same = _UnionFind()
    for link in links:
        if link.kind not in ("same_alert", "alert_subject"):
            count[link.source] += 1
            count[link.target] += 1
        if link.kind in IDENTITY_KINDS:
            same.union(link.source, link.target)
    domains: dict[str, list[str]] = defaultdict(list)
    for s in subjects:
        domains[subject_domain(s, names.schemata.get(s))].append(s)
    parties = [s for s in subjects if subject_domain(s, names.schemata.get(s)) == "companies"]
    parties += [s for s in subjects if subject_domain(s, names.schemata.get(s)) == "people"]
    ranked = sorted(parties, key=lambda s: (s not in listed, -count[s], names.name(s)))
    lead = [names.name(s) for s in ranked[:3]]
    if not lead:
        # No party: name the vessel, aircraft or shipment alerted on most.
        first = sorted(subjects, key=lambda s: (-count[s], s))[0]
        lead = [names.name(first)]
    counts = []
    for label, n in (
        ("vessel", len({same.find(s) for s in domains["vessels"]})),
        ("aircraft", len({same.find(s) for s in domains["aircraft"]})),
        ("shipment", len(domains["shipments"])),
        ("report", len(domains["reports"])),
    ):
        if n:
            counts.append(f"{n} {label}{'s' if n > 1 and label != 'aircraft' else ''}")
    tail = f" ({', '.join(counts)})" if counts else ""
    return ", ".join(lead) + tail


def case_id_of(anchors: Iterable[str]) -> str:
    """``case-<sha1(sorted anchor subjects)[:12]>``."""
    key = "\x1f".join(sorted(set(anchors)))
    return f"case-{hashlib.sha1(key.encode()).hexdigest()[:12]}"


# --- building -------------------------------------------------------------------------


@dataclass
class _Built:
    case_id: str
    title: str
    subjects: list[str]
    alert_ids: list[str]
    score: float
    score_parts: list[dict[str, Any]]
    start: datetime
    end: datetime
    links: list[dict[str, Any]]

    def row(self) -> tuple[Any, ...]:
        return (
            self.title,
            self.subjects,
            self.alert_ids,
            self.score,
            json.dumps(self.score_parts, ensure_ascii=False, sort_keys=True),
            self.start,
            self.end,
            json.dumps(self.links, ensure_ascii=False, sort_keys=True),
        )


def group_alerts(
    alerts: list[Alert], net: _Network
) -> list[tuple[list[Alert], set[str], list[Link]]]:
    """Alerts grouped into cases: each group's alerts, its subjects (anchors and the
    parties on the paths between them) and the links that join them."""
    anchors = {s for a in alerts for s in a.subjects}
    uf = _UnionFind()
    links: list[Link] = []
    for a in alerts:
        own = sorted(set(a.subjects))
        for s in own:
            uf.find(s)
        if len(own) == 1:
            links.append(Link(a.alert_id, own[0], "alert_subject", (a.alert_id,)))
        for s in own[1:]:
            uf.union(own[0], s)
            links.append(Link(own[0], s, "same_alert", (a.alert_id,)))
    hubs = {n for n in net.adjacent if net.neighbours(n) > HUB_NEIGHBOURS}
    found: list[tuple[int, int, str, str, list[Link]]] = []
    for start in sorted(anchors):
        for other, path in _paths_from(net, start, anchors, hubs).items():
            if other > start:  # each pair once
                cost = sum(1 for link in path if not _free(link))
                found.append((cost, len(path), start, other, path))
    # Shortest reasons first, and only those that join two groups not yet joined (a
    # spanning forest): every subject is explained once, by its cheapest path.
    for _, _, start, other, path in sorted(found, key=lambda f: f[:4]):
        if uf.find(start) == uf.find(other):
            continue
        # The parties on the path join too: each is within one link of an anchor of
        # the path, so this merges nothing the search would not.
        for link in path:
            uf.union(link.source, link.target)
        links.extend(path)
    groups: dict[str, list[Alert]] = defaultdict(list)
    for a in alerts:
        groups[uf.find(a.subjects[0])].append(a)
    members: dict[str, set[str]] = defaultdict(set)
    for s in anchors:
        members[uf.find(s)].add(s)
    by_root: dict[str, list[Link]] = defaultdict(list)
    for link in links:
        end = link.target if link.kind == "alert_subject" else link.source
        by_root[uf.find(end)].append(link)
    out: list[tuple[list[Alert], set[str], list[Link]]] = []
    for root, group in sorted(groups.items()):
        subjects: set[str] = set(members[root])
        for link in by_root[root]:
            if link.kind != "alert_subject":
                subjects.update((link.source, link.target))
        # Every identity between two of its subjects, even where an alert already joined
        # them: an IMO and its list entry are one vessel, shown and counted once.
        same = [
            link
            for s in sorted(subjects)
            for other, link in sorted(net.adjacent.get(s, {}).items())
            if _free(link) and other in subjects and s < other
        ]
        out.append((group, subjects, [*by_root[root], *same]))
    return out


def _merge_links(links: list[Link]) -> list[dict[str, Any]]:
    """One link per pair and kind, evidence merged; ``from`` -> ``to`` as the source
    states it (holder -> held for ownership and control)."""
    merged: dict[tuple[str, str, str], tuple[str, str, list[str]]] = {}
    for link in links:
        lo, hi = sorted((link.source, link.target))
        _, _, ev = merged.setdefault((lo, hi, link.kind), (link.source, link.target, []))
        ev.extend(e for e in link.evidence if e not in ev)
    return [Link(a, b, key[2], tuple(ev)).to_dict() for key, (a, b, ev) in sorted(merged.items())]


def compute_cases(store: Store, *, as_of: date | None = None) -> list[_Built]:
    """Every case over the stored alerts (nothing written)."""
    alerts = sorted(list_alerts(store), key=lambda a: a.alert_id)
    if not alerts:
        return []
    net = build_network(store, as_of)
    groups = group_alerts(alerts, net)
    every = {s for _, subjects, _ in groups for s in subjects}
    view_names = _view_names(store, every)
    names = _names(store, every, view_names)
    listed = {s for s in every if ":" not in s and s in names.schemata and _is_list_id(s)}
    rule_domains = _rule_domains()
    newest = max(a.end_time for a in alerts)
    built: list[_Built] = []
    for group, subjects, links in groups:
        anchors = sorted({s for a in group for s in a.subjects})
        ordered = sorted(subjects)
        case_listed = listed & subjects
        score, parts = score_case(group, case_listed, rule_domains, newest)
        built.append(
            _Built(
                case_id=case_id_of(anchors),
                title=case_title(ordered, group, names, case_listed, links),
                subjects=ordered,
                alert_ids=sorted(a.alert_id for a in group),
                score=score,
                score_parts=parts,
                start=min(a.start_time for a in group),
                end=max(a.end_time for a in group),
                links=_merge_links(links),
            )
        )
    return built


def _is_list_id(subject: str) -> bool:
    return ":" not in subject


def _view_names(store: Store, subjects: set[str]) -> dict[str, tuple[str, str]]:
    """Names of graph nodes (registry vessels and companies) among ``subjects``."""
    wanted = sorted(s for s in subjects if s.startswith("shadow_fleet:") or ":" not in s)
    rows = store.con.execute(
        "SELECT id, first(name ORDER BY version_id DESC), first(schema ORDER BY version_id DESC) "
        "FROM graph_nodes WHERE id IN (SELECT unnest(?)) GROUP BY id",
        [wanted],
    ).fetchall()
    out = {node_id: (name, schema) for node_id, name, schema in rows}
    # imo:<n> of a vessel no list names: the registry's name for it.
    imos = sorted(s[4:] for s in subjects if s.startswith("imo:"))
    for value, name in store.con.execute(
        "SELECT i.value, first(n.name) FROM graph_node_identifiers i JOIN graph_nodes n "
        "USING (version_id, id) WHERE i.kind = 'imo' AND i.value IN (SELECT unnest(?)) "
        "GROUP BY i.value",
        [imos],
    ).fetchall():
        out[f"imo:{value}"] = (f"{name} (IMO {value})", "Vessel")
    for entity_id, props in store.con.execute(
        "SELECT e.id, e.properties FROM entities e "
        f"JOIN ({CURRENT_VERSIONS}) v USING (version_id) "
        "WHERE e.is_primary AND e.schema = 'Vessel' AND e.properties::VARCHAR LIKE '%IMO%' "
        "ORDER BY v.source DESC"
    ).fetchall():
        properties = json.loads(props) if isinstance(props, str) else props
        for value in properties.get("imoNumber", []):
            imo = _imo(value)
            if imo in subjects:
                name = (properties.get("name") or [entity_id])[0]
                out[imo] = (f"{name} (IMO {imo[4:]})", "Vessel")
    return out


def build_cases(store: Store, *, as_of: date | None = None) -> CaseRun:
    """Group the stored alerts into cases and write them (``cases`` rows and
    ``alerts.case_id``) in one transaction. Same alerts, same cases: unchanged rows keep
    their ``built_at``; cases no longer formed are removed."""
    built = compute_cases(store, as_of=as_of)
    run = CaseRun(alerts=sum(len(b.alert_ids) for b in built))
    now = datetime.now(UTC)
    with store.transaction() as con:
        old = {
            r[0]: tuple(r[1:])
            for r in con.execute(
                "SELECT case_id, title, subjects, alert_ids, score, score_parts, start_time, "
                "end_time, links FROM cases"
            ).fetchall()
        }
        ids = {b.case_id for b in built}
        for case_id in sorted(set(old) - ids):
            con.execute("DELETE FROM cases WHERE case_id = ?", [case_id])
            run.removed.append(case_id)
        for b in built:
            row = b.row()
            before = old.get(b.case_id)
            if before is not None and _same(before, row):
                run.unchanged.append(b.case_id)
                continue
            if before is not None:
                con.execute("DELETE FROM cases WHERE case_id = ?", [b.case_id])
                run.updated.append(b.case_id)
            else:
                run.created.append(b.case_id)
            con.execute(
                "INSERT INTO cases (case_id, title, subjects, alert_ids, score, score_parts, "
                "start_time, end_time, links, built_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [b.case_id, *row, now],
            )
        con.execute(
            "UPDATE alerts SET case_id = NULL WHERE case_id IS NOT NULL "
            "AND case_id NOT IN (SELECT unnest(?))",
            [sorted(ids)],
        )
        pairs = [(b.case_id, a) for b in built for a in b.alert_ids]
        if pairs:
            con.execute(
                "UPDATE alerts SET case_id = p.case_id FROM "
                "(SELECT unnest(?) AS case_id, unnest(?) AS alert_id) p "
                "WHERE alerts.alert_id = p.alert_id AND alerts.case_id IS DISTINCT FROM p.case_id",
                [[p[0] for p in pairs], [p[1] for p in pairs]],
            )
    return run


def _same(before: tuple[Any, ...], row: tuple[Any, ...]) -> bool:
    title, subjects, alert_ids, score, parts, start, end, links = before
    return bool(
        title == row[0]
        and list(subjects) == row[1]
        and list(alert_ids) == row[2]
        and abs(float(score) - row[3]) < 1e-9
        and parts == row[4]
        and start == row[5]
        and end == row[6]
        and links == row[7]
    )


# --- reading --------------------------------------------------------------------------

_CASE_COLUMNS = (
    "case_id, title, subjects, alert_ids, score, score_parts, start_time, end_time, links, built_at"
)


def _case(row: tuple[Any, ...]) -> Case:
    """A ``cases`` row, its JSON columns parsed; InputError naming the case when they
    are not JSON (a store written by hand), so no reader crashes on one bad row."""
    try:
        parts = json.loads(row[5])
        links = json.loads(row[8])
    except json.JSONDecodeError as exc:
        raise InputError(
            None, f"case {row[0]}: score_parts or links is not JSON: {exc}", field="case_id"
        ) from exc
    return Case(
        row[0],
        row[1],
        list(row[2]),
        list(row[3]),
        float(row[4]),
        parts if isinstance(parts, list) else [],
        row[6],
        row[7],
        links if isinstance(links, list) else [],
        row[9],
    )


def list_cases(store: Store) -> list[Case]:
    """Every case, highest score first, then latest."""
    rows = store.con.execute(
        f"SELECT {_CASE_COLUMNS} FROM cases ORDER BY score DESC, end_time DESC, case_id"
    ).fetchall()
    return [_case(r) for r in rows]


def find_case(store: Store, case_id: str) -> Case:
    """The case ``case_id``; InputError naming the id when there is none."""
    row = store.con.execute(
        f"SELECT {_CASE_COLUMNS} FROM cases WHERE case_id = ?", [case_id]
    ).fetchone()
    if row is None:
        raise InputError(None, f"no case {case_id!r}", field="case_id")
    return _case(row)


def case_of_document(store: Store, source_suffix: str) -> str | None:
    """The case holding the alerts raised from a report's mentions: the report read
    from a file whose path ends with ``source_suffix``; None when there is none."""
    row = store.con.execute(
        "SELECT a.case_id, count(*) AS n FROM alerts a, documents d, events e "
        "WHERE d.source LIKE '%' || ? AND e.type = 'report_mention' "
        "AND list_contains(e.subjects, 'doc:' || d.doc_id) "
        "AND list_contains(a.event_ids, e.event_id) AND a.case_id IS NOT NULL "
        "GROUP BY a.case_id ORDER BY n DESC, a.case_id LIMIT 1",
        [source_suffix],
    ).fetchone()
    return None if row is None else str(row[0])


def get_case(store: Store, case_id: str) -> CaseDetail:
    """One case with its alerts, a timeline of alerts and events, every evidence row
    the events name (alert -> event -> evidence) and its subjects by domain."""
    case = find_case(store, case_id)
    alerts = sorted(
        (a for a in list_alerts(store) if a.alert_id in set(case.alert_ids)),
        key=lambda a: (a.start_time, a.alert_id),
    )
    by_event: dict[str, list[str]] = defaultdict(list)
    for a in alerts:
        for e in a.event_ids:
            by_event[e].append(a.alert_id)
    rows = store.con.execute(
        "SELECT event_id, type, subjects, start_time, end_time, detail, evidence FROM events "
        "WHERE event_id IN (SELECT unnest(?)) ORDER BY start_time, event_id",
        [sorted(by_event)],
    ).fetchall()
    timeline = [
        TimelineItem(
            a.start_time, a.end_time, "alert", a.alert_id, a.rule_id, a.title, [a.alert_id]
        )
        for a in alerts
    ]
    evidence_of: dict[str, list[str]] = defaultdict(list)
    for event_id, etype, _subjects, start, end, detail, evidence in rows:
        timeline.append(
            TimelineItem(start, end, "event", event_id, etype, detail, sorted(by_event[event_id]))
        )
        for ev in evidence:
            evidence_of[ev].append(event_id)
    timeline.sort(key=lambda t: (t.time, t.kind != "alert", t.id))
    evidence = resolve_evidence(store, evidence_of)
    view_names = _view_names(store, set(case.subjects))
    names = _names(store, set(case.subjects), view_names)
    return CaseDetail(case, alerts, timeline, evidence, subjects_by_domain(case, alerts, names))


def subjects_by_domain(case: Case, alerts: list[Alert], names: _Names) -> dict[str, list[Any]]:
    """The case's subjects under vessels, aircraft, operators, companies, people,
    shipments, reports and report_parties, each ``{id, name, ids}``: one entry per
    thing, its ids joined by identity links (a vessel's IMO, MMSI and list entry), the
    list entity's id first."""
    rule_domains = _rule_domains()
    in_domain: dict[str, set[str]] = defaultdict(set)
    for a in alerts:
        in_domain[_alert_domain(a, rule_domains)].update(a.subjects)
    same = _UnionFind()
    for link in case.links:
        if link["kind"] in IDENTITY_KINDS:
            same.union(link["from"], link["to"])
    groups: dict[str, list[str]] = defaultdict(list)
    for s in case.subjects:
        groups[same.find(s)].append(s)
    out: dict[str, list[Any]] = defaultdict(list)
    for ids in groups.values():
        ids.sort(key=lambda s: (":" in s, s.startswith("shadow_fleet:"), s))
        first = ids[0]
        domains = [subject_domain(s, names.schemata.get(s)) for s in ids]
        domain = next((d for d in domains if d not in ("companies", "people")), domains[0])
        if domain in ("companies", "people"):
            if first in in_domain["aircraft"]:
                domain = "operators"
            elif first in in_domain["reports"] and not any(
                first in in_domain[d] for d in ("ships", "cargo")
            ):
                domain = "report_parties"
        out[domain].append({"id": first, "name": names.name(first), "ids": ids})
    order = (
        "vessels",
        "aircraft",
        "operators",
        "companies",
        "people",
        "shipments",
        "reports",
        "report_parties",
    )
    return {d: sorted(out[d], key=lambda e: e["name"]) for d in order if out.get(d)}


def shared_subjects(detail: CaseDetail) -> list[tuple[str, str, list[str]]]:
    """Subjects named by alerts of more than one domain (ships, aircraft, cargo,
    reports): where the case's domains meet, as (id, name, domains)."""
    rule_domains = _rule_domains()
    domains: dict[str, set[str]] = defaultdict(set)
    for a in detail.alerts:
        for s in a.subjects:
            domains[s].add(_alert_domain(a, rule_domains))
    names = {
        i: e["name"]
        for group in detail.subjects_by_domain.values()
        for e in group
        for i in e["ids"]
    }
    return [
        (s, names.get(s, s), sorted(d))
        for s, d in sorted(domains.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        if len(d) > 1
    ]


def case_file(store: Store, case_id: str) -> dict[str, Any]:
    """The case file: the case in full (``get_case``) and the sources it was built from:
    list versions (the current ones, which named the listed parties), graph loads,
    reports, shipment batches, AIS and ADS-B files."""
    detail = get_case(store, case_id)
    versions = store.con.execute(
        "SELECT v.version_id, v.source, v.version, v.published, v.file_hash, v.files "
        f"FROM list_versions v JOIN ({CURRENT_VERSIONS}) c USING (version_id) "
        "ORDER BY v.source"
    ).fetchall()
    graph = store.con.execute(
        "SELECT version_id, source, version, file_hash, files FROM graph_versions "
        "ORDER BY version_id"
    ).fetchall()
    docs = [s[4:] for s in detail.case.subjects if s.startswith("doc:")]
    documents = store.con.execute(
        "SELECT doc_id, source, title, list_versions FROM documents "
        "WHERE doc_id IN (SELECT unnest(?)) ORDER BY doc_id",
        [docs],
    ).fetchall()
    ingests: list[dict[str, Any]] = []
    for table, kind in (("ais_ingests", "ais"), ("air_ingests", "adsb")):
        for ingest_id, source, fmt, file_hash in store.con.execute(
            f"SELECT ingest_id, source, format, file_hash FROM {table} ORDER BY ingest_id"
        ).fetchall():
            ingests.append(
                {
                    "kind": kind,
                    "ingest_id": ingest_id,
                    "source": source,
                    "format": fmt,
                    "file_hash": file_hash,
                }
            )
    batches = store.con.execute(
        "SELECT batch_id, layout, sources, source_hash FROM cargo_batches ORDER BY batch_id"
    ).fetchall()
    return {
        "case": detail.to_dict(),
        "sources": {
            "list_versions": [
                {
                    "version_id": r[0],
                    "source": r[1],
                    "version": r[2],
                    "published": r[3].isoformat() if r[3] else None,
                    "file_hash": r[4],
                    "files": list(r[5]),
                }
                for r in versions
            ],
            "graph_versions": [
                {
                    "version_id": r[0],
                    "source": r[1],
                    "version": r[2],
                    "file_hash": r[3],
                    "files": list(r[4]),
                }
                for r in graph
            ],
            "reports": [
                {"doc_id": r[0], "source": r[1], "title": r[2], "list_version_ids": list(r[3])}
                for r in documents
            ],
            "shipment_batches": [
                {
                    "batch_id": r[0],
                    "layout": r[1],
                    "sources": _json_value(r[2]),
                    "source_hash": r[3],
                }
                for r in batches
            ],
            "movement_files": ingests,
        },
        "generated_at": datetime.now(UTC).isoformat(),
    }


def _json_value(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
