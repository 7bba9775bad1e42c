"""Raise alerts: evaluate the rules over stored events and upsert the ``alerts`` table.

An alert is one rule on one set of subjects over one window. Its id is
``<rule_id>-<sha1(rule, sorted subjects, first window start)[:16]>``; events of the same
rule and subjects whose windows overlap an alert's window join that alert (revision + 1,
event ids merged), so re-running over the same events changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from watchkeeper.alerts.rules import Rule, load_rules, render_title
from watchkeeper.store.base import StoreBase

# Event types whose subjects are blocked parties or their property.
BLOCKING_TYPES = ("vessel_owner_blocked", "owned_by_blocked")


@dataclass(frozen=True)
class StoredEvent:
    event_id: str
    type: str
    subjects: tuple[str, ...]
    start: datetime
    end: datetime
    score: float
    detail: str
    params: dict[str, Any]
    created_at: datetime


@dataclass
class Match:
    """One event on which one rule fired, and why."""

    rule: Rule
    event: StoredEvent
    why: list[str]
    near_ids: list[str] = field(default_factory=list)


@dataclass
class AlertRun:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    events_read: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "events_read": self.events_read,
        }


def alert_id(rule_id: str, subjects: tuple[str, ...], start: datetime) -> str:
    """Deterministic id of an alert: rule, sorted subjects, first window start (UTC)."""
    key = "\x1f".join([rule_id, *sorted(subjects), start.astimezone(UTC).isoformat()])
    return f"{rule_id}-{hashlib.sha1(key.encode()).hexdigest()[:16]}"


def is_listed_id(subject: str) -> bool:
    """A list entity id (``ofac-12927``) rather than a typed id (``mmsi:...``)."""
    return ":" not in subject


def read_stored_events(store: StoreBase) -> list[StoredEvent]:
    rows = store.con.execute(
        "SELECT event_id, type, subjects, start_time, end_time, score, detail, params, "
        "created_at FROM events ORDER BY start_time, event_id"
    ).fetchall()
    return [
        StoredEvent(r[0], r[1], tuple(r[2]), r[3], r[4], float(r[5]), r[6], json.loads(r[7]), r[8])
        for r in rows
    ]


def listed_subjects(store: StoreBase, events: list[StoredEvent]) -> dict[str, str]:
    """Subjects that count as listed or blocked, each with why: subjects of a blocking
    event, MMSIs linked to a listed entity (``vessel_links``), and an MMSI seen as the same
    vessel as a blocked IMO (one event naming exactly one of each)."""
    reasons: dict[str, str] = {}
    for e in events:
        if e.type in BLOCKING_TYPES:
            for s in e.subjects:
                reasons.setdefault(s, f"{s} is a subject of {e.type} {e.event_id}")
    for mmsi, entity, method, score in store.con.execute(
        "SELECT mmsi, entity_id, method, score FROM vessel_links ORDER BY mmsi, score DESC"
    ).fetchall():
        reasons.setdefault(
            f"mmsi:{mmsi}", f"mmsi:{mmsi} is linked to listed {entity} ({method}, {score:.2f})"
        )
    for e in events:
        mmsis = [s for s in e.subjects if s.startswith("mmsi:")]
        imos = [s for s in e.subjects if s.startswith("imo:")]
        if len(mmsis) == 1 and len(imos) == 1 and imos[0] in reasons:
            reasons.setdefault(
                mmsis[0],
                f"{mmsis[0]} is the vessel {imos[0]} ({e.type} {e.event_id}): " + reasons[imos[0]],
            )
    return reasons


def _params_match(wanted: dict[str, tuple[Any, ...]], params: dict[str, Any]) -> list[str] | None:
    why: list[str] = []
    for key, allowed in wanted.items():
        if key not in params or params[key] not in allowed:
            return None
        why.append(f"{key} = {params[key]!r}")
    return why


def hours_apart(a: StoredEvent, b: StoredEvent) -> float:
    """Hours between two events' intervals; 0 when they overlap."""
    gap = max((b.start - a.end).total_seconds(), (a.start - b.end).total_seconds(), 0.0)
    return gap / 3600.0


def evaluate(
    rule: Rule,
    event: StoredEvent,
    blocked: Mapping[str, str],
    by_subject: dict[str, list[StoredEvent]],
) -> Match | None:
    """The rule's verdict on one event: a Match with the conditions that held, or None."""
    if event.type not in rule.types:
        return None
    why = [f"event type {event.type}"]
    if rule.listed:
        listed = [s for s in event.subjects if is_listed_id(s) or s in blocked]
        if not listed:
            return None
        why.extend(blocked.get(s, f"{s} is a list entity") for s in listed)
    if event.score < rule.min_score:
        return None
    if rule.min_score:
        why.append(f"score {event.score:.2f} >= {rule.min_score:.2f}")
    held = _params_match(rule.params, event.params)
    if held is None:
        return None
    why.extend(held)
    match = Match(rule, event, why)
    if rule.near is not None:
        near = rule.near
        found: dict[str, StoredEvent] = {}
        for subject in event.subjects:
            for other in by_subject.get(subject, ()):
                if other.type != near.type or other.event_id == event.event_id:
                    continue
                if hours_apart(event, other) > near.within_hours:
                    continue
                if _params_match(near.params, other.params) is None:
                    continue
                found[other.event_id] = other
        if not found:
            return None
        for other in sorted(found.values(), key=lambda e: (e.start, e.event_id)):
            match.near_ids.append(other.event_id)
            why.append(
                f"{near.type} {other.event_id} {hours_apart(event, other):.1f} h away "
                f"(within {near.within_hours:g} h): {other.detail}"
            )
    return match


def match_events(
    rules: list[Rule],
    events: list[StoredEvent],
    blocked: Mapping[str, str],
    since: datetime | None = None,
) -> list[Match]:
    """Every (rule, event) that fires, over all events or those created at/after ``since``
    and the events sharing a subject with those;
    ``blocked``: the listed or blocked subjects and why (``listed_subjects``)."""
    by_subject: dict[str, list[StoredEvent]] = defaultdict(list)
    for e in events:
        for s in e.subjects:
            by_subject[s].append(e)
    candidates = events
    if since is not None:
        # A new event can make an older one fire: a port call near an earlier gap, a new
        # blocked owner of a vessel: re-evaluate every event sharing a subject with one.
        touched = {s for e in events if e.created_at >= since for s in e.subjects}
        candidates = [
            e for e in events if e.created_at >= since or not touched.isdisjoint(e.subjects)
        ]
    matches: list[Match] = []
    for rule in rules:
        for e in candidates:
            m = evaluate(rule, e, blocked, by_subject)
            if m is not None:
                matches.append(m)
    return matches


@dataclass
class _Cluster:
    rule: Rule
    subjects: tuple[str, ...]
    start: datetime
    end: datetime
    score: float
    event_ids: list[str]
    why: dict[str, list[str]]
    title: str


def _clusters(matches: list[Match]) -> list[_Cluster]:
    """Matches of the same rule and subjects whose windows overlap, joined."""
    groups: dict[tuple[str, tuple[str, ...]], list[Match]] = defaultdict(list)
    for m in matches:
        groups[(m.rule.id, tuple(sorted(m.event.subjects)))].append(m)
    out: list[_Cluster] = []
    for (_, subjects), ms in sorted(groups.items()):
        ms.sort(key=lambda m: (m.event.start, m.event.event_id))
        current: _Cluster | None = None
        for m in ms:
            e = m.event
            ids = [e.event_id, *m.near_ids]
            if current is not None and e.start <= current.end:
                current.end = max(current.end, e.end)
                current.score = max(current.score, e.score)
                current.event_ids.extend(i for i in ids if i not in current.event_ids)
                current.why[e.event_id] = m.why
                continue
            current = _Cluster(
                rule=m.rule,
                subjects=subjects,
                start=e.start,
                end=e.end,
                score=e.score,
                event_ids=ids,
                why={e.event_id: m.why},
                title=render_title(m.rule, e.type, e.subjects, e.detail, e.params),
            )
            out.append(current)
    return out


def raise_alerts(
    store: StoreBase, *, since: datetime | None = None, rules_dir: Path | None = None
) -> AlertRun:
    """Evaluate the rules over the stored events (all, or those created at/after
    ``since``) and create or update alerts, in one transaction."""
    rules = load_rules(rules_dir)
    run = AlertRun()
    now = datetime.now(UTC)
    with store.transaction() as con:
        events = read_stored_events(store)
        matches = match_events(rules, events, listed_subjects(store, events), since)
        run.events_read = len({m.event.event_id for m in matches})
        existing: dict[tuple[str, tuple[str, ...]], list[list[Any]]] = defaultdict(list)
        for row in con.execute(
            "SELECT alert_id, rule_id, subjects, start_time, end_time, score, event_ids, why, "
            "revision FROM alerts"
        ).fetchall():
            existing[(row[1], tuple(sorted(row[2])))].append(list(row))
        for c in _clusters(matches):
            old = next(
                (r for r in existing[(c.rule.id, c.subjects)] if c.start <= r[4] and r[3] <= c.end),
                None,
            )
            if old is None:
                aid = alert_id(c.rule.id, c.subjects, c.start)
                con.execute(
                    "INSERT INTO alerts (alert_id, rule_id, severity, title, subjects, start_time, "
                    "end_time, score, event_ids, why, state, revision, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'new', 1, ?, ?)",
                    [
                        aid,
                        c.rule.id,
                        c.rule.severity,
                        c.title,
                        list(c.subjects),
                        c.start,
                        c.end,
                        c.score,
                        c.event_ids,
                        json.dumps(c.why, ensure_ascii=False),
                        now,
                        now,
                    ],
                )
                existing[(c.rule.id, c.subjects)].append(
                    [
                        aid,
                        c.rule.id,
                        list(c.subjects),
                        c.start,
                        c.end,
                        c.score,
                        c.event_ids,
                        json.dumps(c.why),
                        1,
                    ]
                )
                run.created.append(aid)
                continue
            old_ids: list[str] = list(old[6])
            new_ids = [i for i in c.event_ids if i not in old_ids]
            if not new_ids:
                run.unchanged += 1
                continue
            why = json.loads(old[7])
            why.update({k: v for k, v in c.why.items() if k not in why})
            merged = old_ids + new_ids
            start, end = min(old[3], c.start), max(old[4], c.end)
            score = max(float(old[5]), c.score)
            con.execute(
                "UPDATE alerts SET start_time = ?, end_time = ?, score = ?, event_ids = ?, "
                "why = ?, title = ?, revision = revision + 1, updated_at = ? "
                "WHERE alert_id = ?",
                [
                    start,
                    end,
                    score,
                    merged,
                    json.dumps(why, ensure_ascii=False),
                    c.title,
                    now,
                    old[0],
                ],
            )
            old[3], old[4], old[5], old[6], old[7] = start, end, score, merged, json.dumps(why)
            old[8] += 1
            run.updated.append(str(old[0]))
    return run
