"""Events from the ownership graph, as of a date:

* ``owned_by_blocked``: a party no list names that a regime blocks through its owners
  (OFAC's 50% rule, the EU's and the UK's ownership and control tests); evidence: the
  statements from the listed parties down to it (``rel:<id>``) and those parties
  (``list:<id>``).
* ``vessel_owner_blocked``: a vessel whose registered owner or manager on the date is
  listed or blocked by ownership; evidence: that statement and the owner's own chain.

Both types are recomputed whole (``write_graph_events``) after a list or graph load,
replacing the ones written before in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from watchkeeper.events.model import Event
from watchkeeper.graph.control import ControlResult, Exposure, assess
from watchkeeper.graph.model import Relation
from watchkeeper.graph.queries import GraphLike, node_of
from watchkeeper.graph.regimes import REGIMES, RegimeName

if TYPE_CHECKING:
    from watchkeeper.store import Store

OWNED_BY_BLOCKED = "owned_by_blocked"
VESSEL_OWNER_BLOCKED = "vessel_owner_blocked"
EVENT_TYPES = (OWNED_BY_BLOCKED, VESSEL_OWNER_BLOCKED)

BLOCKED = "blocked"
POSSIBLY = "possibly_blocked"
VESSEL_KINDS = frozenset({"vessel_owner", "vessel_manager"})
ROLE_WORDS = {"vessel_owner": "registered owner", "vessel_manager": "manager"}


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass(frozen=True)
class Chain:
    """The statements ``graph.control`` gives for a status (from the listed parties
    down), as evidence ids, and since when all of them hold."""

    relation_ids: tuple[str, ...]
    listed: tuple[str, ...]
    starts: tuple[date, ...]

    @classmethod
    def of(cls, exposure: Exposure) -> Chain:
        return cls(
            tuple(dict.fromkeys(s.relation_id for s in exposure.chain)),
            tuple(sorted({s.holder for s in exposure.chain if s.holder_listed})),
            tuple(s.start for s in exposure.chain if s.start is not None),
        )

    def evidence(self) -> list[str]:
        return [f"rel:{r}" for r in self.relation_ids] + [f"list:{i}" for i in self.listed]

    def since(self) -> date | None:
        return max(self.starts) if self.starts else None


def _status_line(exposure: Exposure) -> str:
    words = "possibly blocked" if exposure.status == POSSIBLY else "blocked"
    return (
        f"{exposure.regime.upper()} {words}: {exposure.aggregate.describe()} held by "
        f"blocked parties ({exposure.measure}); {exposure.margin}"
    )


def _imo_subjects(values: Iterable[str]) -> Iterator[str]:
    """``imo:<7 digits>`` of each IMO number however written (``IMO9255270``)."""
    for value in values:
        digits = "".join(ch for ch in value if ch in "0123456789")
        if digits:
            yield f"imo:{digits}"


def _merge(chains: Iterable[Chain]) -> Chain:
    chains = list(chains)
    return Chain(
        tuple(dict.fromkeys(r for c in chains for r in c.relation_ids)),
        tuple(sorted({i for c in chains for i in c.listed})),
        tuple(d for c in chains for d in c.starts),
    )


def owned_by_blocked(
    view: GraphLike, results: Mapping[RegimeName, ControlResult], as_of: date
) -> list[Event]:
    """One event per party no list names that some regime blocks, or possibly blocks,
    by ownership or control on ``as_of``. Evidence: the chain's statements
    (``rel:<id>``) and the listed parties it starts from (``list:<id>``); ``params``:
    each regime's status, chain and whole explanation."""
    listed_any: set[str] = set().union(*view.listed.values()) if view.listed else set()
    hits: dict[str, dict[RegimeName, Exposure]] = {}
    for regime, result in results.items():
        for entity in (*result.blocked_unlisted(), *result.possibly_blocked()):
            if entity not in listed_any:
                hits.setdefault(entity, {})[regime] = result.exposure(entity)
    out: list[Event] = []
    for entity, found in sorted(hits.items()):
        chain = _merge(Chain.of(e) for e in found.values())
        since = chain.since()
        certain = any(e.status == BLOCKED for e in found.values())
        out.append(
            Event(
                type=OWNED_BY_BLOCKED,
                subjects=(entity,),
                start=_midnight(min(since, as_of) if since else as_of),
                end=_midnight(as_of),
                score=1.0 if certain else 0.5,
                detail=f"{node_of(view, entity).name} is not listed but "
                + " | ".join(_status_line(e) for e in found.values()),
                evidence=tuple(chain.evidence()),
                params={
                    "as_of": as_of.isoformat(),
                    # What screening needs to find this party by name (screening.derived).
                    "name": node_of(view, entity).name,
                    "schema": node_of(view, entity).schema,
                    "country": node_of(view, entity).country,
                    "identifiers": {
                        k: list(v) for k, v in node_of(view, entity).identifiers.items()
                    },
                    "regimes": {
                        r: {
                            "status": e.status,
                            "chain": list(Chain.of(e).relation_ids),
                            "exposure": e.to_dict(),
                        }
                        for r, e in found.items()
                    },
                },
            )
        )
    return out


def vessel_owner_blocked(
    view: GraphLike, results: Mapping[RegimeName, ControlResult], as_of: date
) -> list[Event]:
    """One event per vessel whose registered owner or manager on ``as_of`` is listed,
    blocked or possibly blocked under some regime. Evidence: that statement
    (``rel:<id>``), the listed owner (``list:<id>``) or the owner's own chain."""
    Found = tuple[Relation, list[str], dict[RegimeName, Exposure]]
    by_vessel: dict[str, list[Found]] = {}
    for rel in sorted(view.relations, key=lambda r: r.id):
        if rel.kind not in VESSEL_KINDS or not rel.valid_on(as_of):
            continue
        listed_in = sorted(r for r, ids in view.listed.items() if rel.holder in ids)
        owned_in = {
            r: res.exposure(rel.holder)
            for r, res in results.items()
            if r not in listed_in and res.status(rel.holder) in (BLOCKED, POSSIBLY)
        }
        if listed_in or owned_in:
            by_vessel.setdefault(rel.held, []).append((rel, listed_in, owned_in))
    out: list[Event] = []
    for vessel, found in sorted(by_vessel.items()):
        node = node_of(view, vessel)
        subjects = list(dict.fromkeys(_imo_subjects(node.identifiers.get("imo", ()))))
        if vessel not in subjects:
            subjects.append(vessel)
        evidence: list[str] = []
        parts: list[str] = []
        certain = False
        owners: list[dict[str, Any]] = []
        for rel, listed_in, owned_in in found:
            owner = node_of(view, rel.holder).name
            # A list's own code ("Vess_owner") reads as the kind's word.
            role = rel.role if rel.role and "_" not in rel.role else ROLE_WORDS[rel.kind]
            role = role.lower()
            chain = _merge(Chain.of(e) for e in owned_in.values())
            evidence.append(f"rel:{rel.id}")
            if listed_in:
                certain = True
                evidence.append(f"list:{rel.holder}")
                parts.append(f"{role} {owner} is listed ({', '.join(listed_in)})")
            if owned_in:
                certain = certain or any(e.status == BLOCKED for e in owned_in.values())
                said = ", ".join(f"{r}: {e.status.replace('_', ' ')}" for r, e in owned_in.items())
                parts.append(f"{role} {owner} is blocked by ownership ({said})")
                evidence.extend(chain.evidence())
            owners.append(
                {
                    "relation": rel.id,
                    "holder": rel.holder,
                    "role": rel.role or rel.kind,
                    "listed": listed_in,
                    "blocked_by_ownership": {r: e.status for r, e in owned_in.items()},
                    "chain": list(chain.relation_ids),
                }
            )
        since = [r.start for r, *_ in found if r.start is not None]
        out.append(
            Event(
                type=VESSEL_OWNER_BLOCKED,
                subjects=tuple(subjects),
                start=_midnight(min(max(since), as_of) if since else as_of),
                end=_midnight(as_of),
                score=1.0 if certain else 0.5,
                detail=f"vessel {node.name}: " + "; ".join(parts),
                evidence=tuple(dict.fromkeys(evidence)),
                params={"as_of": as_of.isoformat(), "vessel": vessel, "owners": owners},
            )
        )
    return out


def graph_events(
    view: GraphLike, results: Mapping[RegimeName, ControlResult], as_of: date
) -> list[Event]:
    """Both event types for one view and its per-regime results."""
    return [*owned_by_blocked(view, results, as_of), *vessel_owner_blocked(view, results, as_of)]


def assess_all(
    view: Any, as_of: date, regimes: Iterable[RegimeName] = REGIMES
) -> dict[RegimeName, ControlResult]:
    """``graph.control.assess`` of a view under each regime."""
    unknown: AbstractSet[str] = getattr(view, "unknown", set())
    return {
        r: assess(view.relations, view.listed.get(r, set()), r, as_of=as_of, unknown=unknown)
        for r in regimes
    }


def write_graph_events(store: Store, as_of: date) -> dict[str, int]:
    """Recompute ``owned_by_blocked`` and ``vessel_owner_blocked`` on the current lists
    and graph as of ``as_of``, replacing every event of these two types in one
    transaction. Returns how many of each were written."""
    from watchkeeper.graph.view import load_view

    view = load_view(store, as_of)
    events = graph_events(view, assess_all(view, as_of), as_of)
    store.write_events(events, replace_types=EVENT_TYPES)
    counts = dict.fromkeys(EVENT_TYPES, 0)
    for e in events:
        counts[e.type] += 1
    return counts
