"""Raise alerts: evaluate the rules over stored events and upsert the ``alerts`` table.

An alert is one rule on one thing over one window. Matches of a rule are grouped by the
typed subjects of their events (``mmsi:..``, ``imo:..``, ``icao24:..``, ``doc:..``; all
subjects when an event has none): within a group, matches whose windows overlap and
whose subjects contain one another's (the flight of a listed operator, and the same
flight of that operator's listed aircraft) are one alert naming every subject. Its id is
``<rule_id>-<sha1(rule, sorted subjects, first window start)[:16]>``; later matches that
overlap an alert's window join it (revision + 1, event ids merged), so re-running over the
same events changes nothing. Review columns (state, assignee, case_id) are never written
here after an alert is created.

Selection runs in DuckDB: per rule only the events of its types, score and string or
boolean parameters filtered in SQL, the listed subjects and the ``near`` condition joined
in SQL; Python sees the candidate rows page by page, so its memory is bounded by a page
and a batch of alerts, not by the number of stored events. (DuckDB holds the alerts
written in the one transaction until the commit: that part grows with the alerts.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from watchkeeper.alerts.rules import Rule, load_rules, render_title
from watchkeeper.store.base import StoreBase

# Event types whose subjects are blocked parties or their property.
BLOCKING_TYPES = ("vessel_owner_blocked", "owned_by_blocked")

# Rows of candidate matches fetched per query, and clusters written per batch.
PAGE_ROWS = 10_000
FLUSH_CLUSTERS = 5_000

# The typed subjects of a subjects list (all of them when none is typed), sorted.
_ANCHOR_SQL = (
    "CASE WHEN len(list_filter({c}, s -> contains(s, ':'))) > 0 "
    "THEN list_sort(list_filter({c}, s -> contains(s, ':'))) ELSE list_sort({c}) END"
)


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


def anchor(subjects: Sequence[str]) -> tuple[str, ...]:
    """What an alert is about: the typed subjects, or all subjects when none is typed."""
    typed = [s for s in subjects if not is_listed_id(s)]
    return tuple(sorted(typed or subjects))


def hours_apart(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> float:
    """Hours between two intervals; 0 when they overlap."""
    gap = max((b_start - a_end).total_seconds(), (a_start - b_end).total_seconds(), 0.0)
    return gap / 3600.0


def _params_match(wanted: dict[str, tuple[Any, ...]], params: dict[str, Any]) -> list[str] | None:
    why: list[str] = []
    for key, allowed in wanted.items():
        if key not in params or params[key] not in allowed:
            return None
        why.append(f"{key} = {params[key]!r}")
    return why


def _params_sql(wanted: dict[str, tuple[Any, ...]], column: str) -> tuple[str, list[Any]]:
    """A SQL pre-filter that keeps every event the exact Python check could accept:
    string and boolean values only (Python's ``True == 1`` keeps 1 and 1.0 too)."""
    where: list[str] = []
    args: list[Any] = []
    for key, allowed in wanted.items():
        if '"' in key or "\\" in key:
            continue
        texts: list[str] = []
        for v in allowed:
            if isinstance(v, bool):
                texts.extend(["true", "1", "1.0"] if v else ["false", "0", "0.0", "-0.0"])
            elif isinstance(v, str):
                texts.append(v)
            else:
                texts = []
                break
        if texts:
            where.append(f"json_extract_string({column}, ?) IN (SELECT unnest(?))")
            args.extend([f'$."{key}"', texts])
    return (" AND ".join(where) or "TRUE"), args


def prepare_listed(con: duckdb.DuckDBPyConnection) -> None:
    """Temp table ``_wk_listed(subject, why)``: subjects that count as listed or blocked,
    each with why, in this order of precedence: subjects of a blocking event (the first
    by start time), MMSIs linked to a listed entity (``vessel_links``, best score), and
    an MMSI seen as the same vessel as a blocked IMO (the first event naming exactly one
    of each)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _wk_listed AS "
        "SELECT s AS subject, s || ' is a subject of ' || type || ' ' || event_id AS why FROM ("
        "  SELECT s, type, event_id, row_number() OVER "
        "    (PARTITION BY s ORDER BY start_time, event_id) AS rn FROM ("
        "    SELECT unnest(subjects) AS s, type, event_id, start_time FROM events "
        "    WHERE type IN (SELECT unnest(?)))) WHERE rn = 1",
        [list(BLOCKING_TYPES)],
    )
    con.execute(
        "INSERT INTO _wk_listed SELECT subject, subject || ' is linked to listed ' || entity_id "
        "|| ' (' || method || ', ' || printf('%.2f', score) || ')' FROM ("
        "  SELECT 'mmsi:' || mmsi AS subject, entity_id, method, score, row_number() OVER "
        "    (PARTITION BY mmsi ORDER BY score DESC, entity_id) AS rn FROM vessel_links) "
        "WHERE rn = 1 AND subject NOT IN (SELECT subject FROM _wk_listed)"
    )
    con.execute(
        "INSERT INTO _wk_listed SELECT m, m || ' is the vessel ' || imo || ' (' || type || ' ' "
        "|| event_id || '): ' || why FROM ("
        "  SELECT e.m, e.imo, e.type, e.event_id, l.why, row_number() OVER "
        "    (PARTITION BY e.m ORDER BY e.start_time, e.event_id) AS rn FROM ("
        "    SELECT list_filter(subjects, s -> starts_with(s, 'mmsi:'))[1] AS m, "
        "      list_filter(subjects, s -> starts_with(s, 'imo:'))[1] AS imo, "
        "      type, event_id, start_time FROM events "
        "    WHERE len(list_filter(subjects, s -> starts_with(s, 'mmsi:'))) = 1 "
        "      AND len(list_filter(subjects, s -> starts_with(s, 'imo:'))) = 1) e "
        "  JOIN _wk_listed l ON l.subject = e.imo) "
        "WHERE rn = 1 AND m NOT IN (SELECT subject FROM _wk_listed)"
    )


def listed_subjects(store: StoreBase) -> dict[str, str]:
    """The listed or blocked subjects and why (see ``prepare_listed``)."""
    prepare_listed(store.con)
    rows = store.con.execute("SELECT subject, why FROM _wk_listed").fetchall()
    return {str(s): str(w) for s, w in rows}


def _prepare_candidates(con: duckdb.DuckDBPyConnection, since: datetime | None) -> bool:
    """Temp table ``_wk_cand(event_id)`` of the events to evaluate with ``since``: those
    created at/after it and every event sharing a subject with one of them (a port call
    stored after the gap it completes, a newly blocked owner of a vessel). False without
    ``since``: every event is a candidate."""
    if since is None:
        return False
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _wk_cand AS "
        "SELECT event_id FROM events WHERE created_at >= $since UNION "
        "SELECT u.event_id FROM (SELECT event_id, unnest(subjects) AS s FROM events) u "
        "JOIN (SELECT DISTINCT unnest(subjects) AS s FROM events WHERE created_at >= $since) t "
        "ON u.s = t.s",
        {"since": since},
    )
    return True


def _match_sql(rule: Rule, restricted: bool) -> tuple[str, list[Any]]:
    """SQL of the rule's candidate rows, ordered by subject group, start, id. Each row:
    event_id, type, subjects, start, end, score, detail, params, listed_why, near."""
    params_where, args = _params_sql(rule.params, "params")
    cand = (
        "SELECT event_id, type, subjects, start_time, end_time, score, detail, params "
        "FROM events WHERE type IN (SELECT unnest(?)) AND score >= ? AND " + params_where
    )
    args = [list(rule.types), rule.min_score, *args]
    if restricted:
        cand += " AND event_id IN (SELECT event_id FROM _wk_cand)"
    parts = [f"cand AS ({cand})"]
    select = "SELECT c.*, "
    joins = ""
    if rule.listed:
        parts.append(
            "lst AS (SELECT event_id, list(coalesce(l.why, u.s || ' is a list entity') "
            "ORDER BY u.pos) AS listed_why FROM ("
            "SELECT event_id, unnest(subjects) AS s, generate_subscripts(subjects, 1) AS pos "
            "FROM cand) u LEFT JOIN _wk_listed l ON l.subject = u.s "
            "WHERE NOT contains(u.s, ':') OR l.subject IS NOT NULL GROUP BY event_id)"
        )
        select += "lst.listed_why, "
        joins += " JOIN lst USING (event_id)"
    else:
        select += "NULL::VARCHAR[] AS listed_why, "
    if rule.near is not None:
        near = rule.near
        near_where, near_args = _params_sql(near.params, "params")
        window = timedelta(hours=near.within_hours)
        parts.append(
            "nr AS (SELECT event_id, list({'id': near_id, 'start': n_start, 'end': n_end, "
            "'detail': n_detail, 'params': n_params}) AS near FROM ("
            "SELECT DISTINCT u.event_id, o.event_id AS near_id, o.start_time AS n_start, "
            "o.end_time AS n_end, o.detail AS n_detail, o.params::VARCHAR AS n_params FROM "
            "(SELECT event_id, unnest(subjects) AS s, start_time, end_time FROM cand) u JOIN "
            "(SELECT event_id, unnest(subjects) AS s, start_time, end_time, detail, params "
            f"FROM events WHERE type = ? AND {near_where}) o "
            "ON o.s = u.s AND o.event_id <> u.event_id "
            "AND o.start_time <= u.end_time + ? AND o.end_time >= u.start_time - ?) "
            "GROUP BY event_id)"
        )
        args.extend([near.type, *near_args, window, window])
        select += "nr.near, "
        joins += " JOIN nr USING (event_id)"
    else:
        select += "NULL AS near, "
    sql = (
        "WITH "
        + ", ".join(parts)
        + " "
        + select
        + _ANCHOR_SQL.format(c="c.subjects")
        + " AS anchor FROM cand c"
        + joins
    )
    return sql, args


def _candidate_rows(
    con: duckdb.DuckDBPyConnection, rule: Rule, restricted: bool
) -> Iterator[tuple[Any, ...]]:
    """The rule's candidate rows in (subject group, start, id) order, a page at a time:
    materialised once in a temp table so writes can run between pages."""
    sql, args = _match_sql(rule, restricted)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _wk_rows AS SELECT row_number() OVER "
        "(ORDER BY anchor, start_time, event_id) AS rn, * FROM (" + sql + ") ORDER BY rn",
        args,
    )
    last = 0
    while True:
        page = con.execute(
            "SELECT event_id, type, subjects, start_time, end_time, score, detail, params, "
            "listed_why, near FROM _wk_rows WHERE rn > ? AND rn <= ? ORDER BY rn",
            [last, last + PAGE_ROWS],
        ).fetchall()
        if not page:
            break
        yield from page
        last += PAGE_ROWS
    con.execute("DROP TABLE IF EXISTS _wk_rows")


@dataclass
class Match:
    """One event on which one rule fired, and why."""

    rule: Rule
    event_id: str
    type: str
    subjects: tuple[str, ...]
    start: datetime
    end: datetime
    score: float
    detail: str
    params: dict[str, Any]
    why: list[str]
    near_ids: list[str] = field(default_factory=list)


def evaluate(rule: Rule, row: tuple[Any, ...]) -> Match | None:
    """The rule's verdict on one candidate row (``_match_sql``): a Match with the
    conditions that held, or None. SQL only pre-filters; every condition is checked here."""
    event_id, etype, subjects, start, end, score, detail, params_text, listed_why, near = row
    if etype not in rule.types:
        return None
    why = [f"event type {etype}"]
    if rule.listed:
        if not listed_why:
            return None
        why.extend(listed_why)
    if float(score) < rule.min_score:
        return None
    if rule.min_score:
        why.append(f"score {float(score):.2f} >= {rule.min_score:.2f}")
    params: dict[str, Any] = json.loads(params_text)
    held = _params_match(rule.params, params)
    if held is None:
        return None
    why.extend(held)
    match = Match(
        rule, event_id, etype, tuple(subjects), start, end, float(score), detail, params, why
    )
    if rule.near is not None:
        within = rule.near.within_hours
        found: dict[str, tuple[datetime, str, float, str]] = {}
        for other in near or ():
            apart = hours_apart(start, end, other["start"], other["end"])
            if apart > within or other["id"] == event_id:
                continue
            if _params_match(rule.near.params, json.loads(other["params"])) is None:
                continue
            found[other["id"]] = (other["start"], other["id"], apart, other["detail"])
        if not found:
            return None
        for _, other_id, apart, other_detail in sorted(found.values()):
            match.near_ids.append(other_id)
            why.append(
                f"{rule.near.type} {other_id} {apart:.1f} h away "
                f"(within {within:g} h): {other_detail}"
            )
    return match


@dataclass
class _Cluster:
    rule: Rule
    anchor: tuple[str, ...]
    subjects: set[str]
    start: datetime
    end: datetime
    score: float
    event_ids: list[str]
    why: dict[str, list[str]]
    title: str

    def joins(self, subjects: set[str], start: datetime, end: datetime) -> bool:
        """Overlapping windows, and one side names every subject of the other."""
        return (
            start <= self.end
            and self.start <= end
            and (subjects <= self.subjects or self.subjects <= subjects)
        )


def _clusters(matches: Iterator[Match]) -> Iterator[_Cluster]:
    """Matches of one rule, in (subject group, start, id) order, joined into clusters:
    same group, overlapping windows, one's subjects containing the other's."""
    group: tuple[str, ...] | None = None
    open_: list[_Cluster] = []
    for m in matches:
        key = anchor(m.subjects)
        if key != group:
            yield from open_
            open_, group = [], key
        subjects = set(m.subjects)
        ids = [m.event_id, *m.near_ids]
        # sorted by start: a cluster ending before this match can take nothing more
        still = [c for c in open_ if c.end >= m.start]
        yield from (c for c in open_ if c.end < m.start)
        open_ = still
        target = next((c for c in open_ if c.joins(subjects, m.start, m.end)), None)
        if target is None:
            open_.append(
                _Cluster(
                    rule=m.rule,
                    anchor=key,
                    subjects=subjects,
                    start=m.start,
                    end=m.end,
                    score=m.score,
                    event_ids=ids,
                    why={m.event_id: m.why},
                    title=render_title(m.rule, m.type, m.subjects, m.detail, m.params),
                )
            )
            continue
        target.subjects |= subjects
        target.end = max(target.end, m.end)
        target.score = max(target.score, m.score)
        target.event_ids.extend(i for i in ids if i not in target.event_ids)
        target.why[m.event_id] = m.why
    yield from open_


@dataclass
class _Existing:
    alert_id: str
    subjects: set[str]
    start: datetime
    end: datetime
    score: float
    event_ids: list[str]
    why: str


_NEW_SCHEMA = pa.schema(
    [
        ("alert_id", pa.string()),
        ("rule_id", pa.string()),
        ("severity", pa.string()),
        ("title", pa.string()),
        ("subjects", pa.list_(pa.string())),
        ("start_time", pa.timestamp("us", tz="UTC")),
        ("end_time", pa.timestamp("us", tz="UTC")),
        ("score", pa.float64()),
        ("event_ids", pa.list_(pa.string())),
        ("why", pa.string()),
    ]
)
_UPDATE_SCHEMA = pa.schema(
    [
        ("alert_id", pa.string()),
        ("subjects", pa.list_(pa.string())),
        ("start_time", pa.timestamp("us", tz="UTC")),
        ("end_time", pa.timestamp("us", tz="UTC")),
        ("score", pa.float64()),
        ("event_ids", pa.list_(pa.string())),
        ("why", pa.string()),
        ("title", pa.string()),
    ]
)


def _table(schema: pa.Schema, rows: list[list[Any]]) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    return pa.table(
        [pa.array(list(c), f.type) for c, f in zip(columns, schema, strict=True)], schema=schema
    )


def _snapshot_existing(con: duckdb.DuckDBPyConnection, rule_id: str) -> bool:
    """Temp table ``_wk_old(alert_id, anchor)``: the rule's alerts stored before this run,
    each with its subject group, computed once per rule (not once per batch). Alerts this
    run creates need no entry: a subject group is written in one batch. False when the
    rule has no stored alert."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _wk_old AS SELECT alert_id, "
        + _ANCHOR_SQL.format(c="subjects")
        + " AS anchor FROM alerts WHERE rule_id = ?",
        [rule_id],
    )
    row = con.execute("SELECT count(*) FROM _wk_old").fetchone()
    return bool(row and row[0])


def _existing(
    con: duckdb.DuckDBPyConnection, anchors: list[tuple[str, ...]]
) -> dict[tuple[str, ...], list[_Existing]]:
    """The rule's stored alerts (``_wk_old``) about these subject groups, oldest window
    first."""
    con.register(
        "_wk_keys", pa.table({"k": pa.array([list(a) for a in anchors], pa.list_(pa.string()))})
    )
    try:
        rows = con.execute(
            "SELECT alert_id, subjects, start_time, end_time, score, event_ids, why FROM alerts "
            "WHERE alert_id IN (SELECT alert_id FROM _wk_old WHERE anchor IN "
            "(SELECT list_sort(k) FROM _wk_keys)) ORDER BY start_time, alert_id"
        ).fetchall()
    finally:
        con.unregister("_wk_keys")
    out: dict[tuple[str, ...], list[_Existing]] = {}
    for r in rows:
        out.setdefault(anchor(r[1]), []).append(
            _Existing(r[0], set(r[1]), r[2], r[3], float(r[4]), list(r[5]), r[6])
        )
    return out


def _write(
    con: duckdb.DuckDBPyConnection,
    clusters: list[_Cluster],
    run: AlertRun,
    now: datetime,
    stored: bool,
) -> None:
    """Create or update the alerts of these clusters (all of one rule, whole subject
    groups; ``stored``: the rule had alerts before this run). Never touches state,
    assignee or case_id of a stored alert."""
    if not clusters:
        return
    rule = clusters[0].rule
    existing = _existing(con, sorted({c.anchor for c in clusters})) if stored else {}
    new_rows: list[list[Any]] = []
    updates: dict[str, list[Any]] = {}
    for c in clusters:
        known = existing.setdefault(c.anchor, [])
        old = next((r for r in known if c.joins(r.subjects, r.start, r.end)), None)
        if old is None:
            subjects = sorted(c.subjects)
            aid = alert_id(rule.id, tuple(subjects), c.start)
            why = json.dumps(c.why, ensure_ascii=False)
            new_rows.append(
                [
                    aid,
                    rule.id,
                    rule.severity,
                    c.title,
                    subjects,
                    c.start,
                    c.end,
                    c.score,
                    c.event_ids,
                    why,
                ]
            )
            known.append(_Existing(aid, set(subjects), c.start, c.end, c.score, c.event_ids, why))
            run.created.append(aid)
            continue
        new_ids = [i for i in c.event_ids if i not in old.event_ids]
        if not new_ids:
            run.unchanged += 1
            continue
        why_old = json.loads(old.why)
        why_old.update({k: v for k, v in c.why.items() if k not in why_old})
        old.why = json.dumps(why_old, ensure_ascii=False)
        old.event_ids = old.event_ids + new_ids
        old.subjects |= c.subjects
        old.start, old.end = min(old.start, c.start), max(old.end, c.end)
        old.score = max(old.score, c.score)
        # created earlier in this batch: the insert row carries the merged values
        fresh = next((r for r in new_rows if r[0] == old.alert_id), None)
        if fresh is not None:
            fresh[4:10] = [
                sorted(old.subjects),
                old.start,
                old.end,
                old.score,
                old.event_ids,
                old.why,
            ]
            continue
        if old.alert_id not in updates:
            run.updated.append(old.alert_id)
        updates[old.alert_id] = [
            old.alert_id,
            sorted(old.subjects),
            old.start,
            old.end,
            old.score,
            old.event_ids,
            old.why,
            c.title,
        ]
    if new_rows:
        con.register("_wk_new", _table(_NEW_SCHEMA, new_rows))
        try:
            con.execute(
                "INSERT INTO alerts (alert_id, rule_id, severity, title, subjects, start_time, "
                "end_time, score, event_ids, why, state, revision, created_at, updated_at) "
                "SELECT *, 'new', 1, $now, $now FROM _wk_new",
                {"now": now},
            )
        finally:
            con.unregister("_wk_new")
    if updates:
        con.register("_wk_upd", _table(_UPDATE_SCHEMA, list(updates.values())))
        try:
            con.execute(
                "UPDATE alerts SET subjects = u.subjects, start_time = u.start_time, "
                "end_time = u.end_time, score = u.score, event_ids = u.event_ids, why = u.why, "
                "title = u.title, revision = alerts.revision + 1, updated_at = $now "
                "FROM _wk_upd u WHERE alerts.alert_id = u.alert_id",
                {"now": now},
            )
        finally:
            con.unregister("_wk_upd")


def raise_alerts(
    store: StoreBase, *, since: datetime | None = None, rules_dir: Path | None = None
) -> AlertRun:
    """Evaluate the rules over the stored events (all, or those created at/after
    ``since`` and the events sharing a subject with them) and create or update alerts,
    in one transaction."""
    rules = load_rules(rules_dir)
    run = AlertRun()
    now = datetime.now(UTC)
    with store.transaction() as con:
        prepare_listed(con)
        restricted = _prepare_candidates(con, since)
        con.execute("CREATE OR REPLACE TEMP TABLE _wk_fired (event_id VARCHAR)")
        for rule in rules:
            fired: list[str] = []
            batch: list[_Cluster] = []
            stored = _snapshot_existing(con, rule.id)
            matches = (
                m
                for m in (evaluate(rule, row) for row in _candidate_rows(con, rule, restricted))
                if m is not None
            )
            group: tuple[str, ...] | None = None
            for c in _clusters(_tracked(matches, fired)):
                # flush only between subject groups: a group's alerts are written together
                if len(batch) >= FLUSH_CLUSTERS and c.anchor != group:
                    _flush(con, batch, fired, run, now, stored)
                    batch = []
                batch.append(c)
                group = c.anchor
            _flush(con, batch, fired, run, now, stored)
        row = con.execute("SELECT count(DISTINCT event_id) FROM _wk_fired").fetchone()
        run.events_read = int(row[0]) if row else 0
        con.execute("DROP TABLE IF EXISTS _wk_fired")
        con.execute("DROP TABLE IF EXISTS _wk_listed")
        con.execute("DROP TABLE IF EXISTS _wk_cand")
        con.execute("DROP TABLE IF EXISTS _wk_old")
    return run


def _tracked(matches: Iterator[Match], fired: list[str]) -> Iterator[Match]:
    for m in matches:
        fired.append(m.event_id)
        yield m


def _flush(
    con: duckdb.DuckDBPyConnection,
    batch: list[_Cluster],
    fired: list[str],
    run: AlertRun,
    now: datetime,
    stored: bool,
) -> None:
    _write(con, batch, run, now, stored)
    if fired:
        con.register("_wk_ids", pa.table({"event_id": pa.array(fired, pa.string())}))
        try:
            con.execute("INSERT INTO _wk_fired SELECT event_id FROM _wk_ids")
        finally:
            con.unregister("_wk_ids")
        fired.clear()
