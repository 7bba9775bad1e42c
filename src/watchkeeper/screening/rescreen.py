"""Re-screening on list change: stored subjects against only what the lists added or
changed since a given version, reporting the hits a subject never had before.

A subject screened for the first time is screened against the whole of the current
lists (there is nothing earlier to compare with); after that, only the entries that
``Store.diff_versions`` reports as added or changed are candidates, so a daily run
over a large customer book costs little more than the day's list changes.
"""

from __future__ import annotations

import csv
import json
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from watchkeeper.errors import InputError, StoreError
from watchkeeper.io import logical_name, open_text
from watchkeeper.screening import DEFAULT_THRESHOLD, Hit, Query, Screener
from watchkeeper.screening.audit import AuditEntry, AuditLog, new_request_id
from watchkeeper.screening.decisions import DecisionStore, normalise_query
from watchkeeper.store import ListVersion, Store

MAX_SUBJECT_ID = 200
MAX_REPORTED_ERRORS = 20


# ---- what changed ------------------------------------------------------------------------


@dataclass
class ChangeWindow:
    """One list's entries added or changed between two of its versions."""

    source: str
    from_version: ListVersion | None  # None: every entry of to_version is new
    to_version: ListVersion
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    @property
    def ids(self) -> set[str]:
        return set(self.added) | set(self.changed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "from_version": self.from_version.version if self.from_version else None,
            "from_version_id": self.from_version.version_id if self.from_version else None,
            "to_version": self.to_version.version,
            "to_version_id": self.to_version.version_id,
            "added": len(self.added),
            "changed": len(self.changed),
        }


def _window(store: Store, source: str, old: ListVersion | None, new: ListVersion) -> ChangeWindow:
    if old is None:
        ids = sorted({e.id for e in store.version_entities(new.version_id) if e.primary})
        return ChangeWindow(source, None, new, added=ids)
    if old.version_id == new.version_id:
        return ChangeWindow(source, old, new)
    diff = store.diff_versions(source, str(old.version_id), str(new.version_id))
    return ChangeWindow(source, old, new, list(diff.added), [c.id for c in diff.changed])


def changes_since_version(
    store: Store, since_version: str | None = None, source: str | None = None
) -> list[ChangeWindow]:
    """What each list added or changed since ``since_version`` (a version label such
    as ``2023-12-28`` or a version id), up to its newest version.

    With ``source``, only that list. Without ``since_version``, each list's newest
    version against the one before it. A label is looked up in every list that has it;
    a label no list has is an error.
    """
    sources = [source] if source else sorted({v.source for v in store.list_versions()})
    windows: list[ChangeWindow] = []
    for name in sources:
        versions = store.list_versions(name)
        if not versions:
            raise InputError(None, f"no versions of list {name!r} are loaded", field="source")
        newest = store.find_version(name)
        if since_version is None:
            if len(versions) < 2:
                continue
            old = store.find_version(name, back=1)
        else:
            try:
                old = store.find_version(name, since_version)
            except StoreError:
                if source:
                    raise
                continue
        windows.append(_window(store, name, old, newest))
    if since_version is not None and not windows:
        raise InputError(
            None, f"no loaded list has a version {since_version!r}", field="since_version"
        )
    return windows


def _version_time(version: ListVersion) -> datetime:
    if version.published is not None:
        return datetime(
            version.published.year, version.published.month, version.published.day, tzinfo=UTC
        )
    return version.loaded_at.astimezone(UTC)


def changed_since(store: Store, when: datetime) -> set[str]:
    """Entity ids added or changed in the lists by versions published at or after
    ``when`` (naive times are UTC). A list with no version before ``when`` is new
    as a whole."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    ids: set[str] = set()
    for name in sorted({v.source for v in store.list_versions()}):
        versions = store.list_versions(name)
        newest = store.find_version(name)
        before = [v for v in versions if _version_time(v) < when]
        old = max(before, key=lambda v: (_version_time(v), v.version_id)) if before else None
        ids |= _window(store, name, old, newest).ids
    return ids


# ---- subjects ----------------------------------------------------------------------------


@dataclass
class Subject:
    """Something a user screens again and again: a customer, a counterparty, a vessel."""

    subject_id: str
    query: Query

    @property
    def fingerprint(self) -> str:
        return normalise_query(self.query.schema, self.query.properties).fingerprint


def _subject(body: Any, path: str, line: int) -> Subject:
    if not isinstance(body, dict):
        raise InputError(path, "each line must be a JSON object", line=line)
    sid = body.get("id")
    if isinstance(sid, int) and not isinstance(sid, bool):
        sid = str(sid)
    if not isinstance(sid, str) or not sid.strip():
        raise InputError(path, "a subject needs an 'id'", line=line, field="id")
    if len(sid) > MAX_SUBJECT_ID:
        raise InputError(
            path, f"id is longer than {MAX_SUBJECT_ID} characters", line=line, field="id"
        )
    try:
        query = Query.from_yente(body)
        normalise_query(query.schema, query.properties)
    except InputError as exc:
        raise InputError(path, exc.message, line=line, field=exc.field) from exc
    return Subject(sid.strip(), query)


def _jsonl_bodies(path: Path) -> Iterable[tuple[int, Any]]:
    with open_text(path) as fh:
        for n, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                yield n, json.loads(raw)
            except json.JSONDecodeError as exc:
                raise InputError(path, f"not JSON: {exc.msg}", line=n) from exc
            except RecursionError as exc:
                raise InputError(path, "JSON nested too deeply", line=n) from exc


def _csv_bodies(path: Path) -> Iterable[tuple[int, Any]]:
    """A header row; ``id`` and ``schema`` columns, the others FtM property names.
    Several values in one cell are separated by ``;``."""
    with open_text(path) as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader, None)
            if header is None:
                return
            columns = [h.strip() for h in header]
            if "id" not in columns:
                raise InputError(path, "the header has no 'id' column", line=1)
            for row in reader:
                line = reader.line_num
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(columns):
                    raise InputError(
                        path, f"{len(row)} cells, the header has {len(columns)}", line=line
                    )
                cells = dict(zip(columns, row, strict=True))
                properties = {
                    col: [v.strip() for v in value.split(";") if v.strip()]
                    for col, value in cells.items()
                    if col not in ("id", "schema") and value.strip()
                }
                yield (
                    line,
                    {
                        "id": cells["id"],
                        "schema": cells.get("schema", "").strip() or "LegalEntity",
                        "properties": properties,
                    },
                )
        except csv.Error as exc:
            raise InputError(path, f"not readable as CSV: {exc}", line=reader.line_num) from exc


def read_subjects(path: str | Path) -> list[Subject]:
    """Subjects from JSON lines (yente queries with an ``id``) or CSV; all or nothing:
    any bad line is an error naming the file and line."""
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "no such file")
    name = logical_name(p).lower()
    bodies = _csv_bodies(p) if name.endswith(".csv") else _jsonl_bodies(p)
    subjects: list[Subject] = []
    seen: dict[str, int] = {}
    errors: list[InputError] = []
    try:
        for line, body in bodies:
            try:
                subject = _subject(body, str(p), line)
            except InputError as exc:
                errors.append(exc)
                continue
            if subject.subject_id in seen:
                errors.append(
                    InputError(
                        p,
                        f"id {subject.subject_id!r} already on line {seen[subject.subject_id]}",
                        line=line,
                        field="id",
                    )
                )
                continue
            seen[subject.subject_id] = line
            subjects.append(subject)
    except UnicodeDecodeError as exc:
        raise InputError(p, f"not UTF-8 text: {exc.reason}") from exc
    except (OSError, EOFError, zlib.error) as exc:  # a damaged .gz
        raise InputError(p, f"cannot read the file: {exc}") from exc
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more bad lines)" if len(errors) > 1 else ""
        raise InputError(first.path, first.message + more, line=first.line, field=first.field)
    if not subjects:
        raise InputError(p, "no subjects in the file")
    return subjects


@dataclass
class StoredSubjects:
    added: int = 0
    updated: int = 0
    unchanged: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged}


def store_subjects(store: Store, subjects: Sequence[Subject]) -> StoredSubjects:
    """Add or update subjects, in one transaction. A subject whose query changed is
    screened afresh against the whole lists next time (its old hits stay on record)."""
    counts = StoredSubjects()
    known = {
        row[0]: (row[1], row[2])
        for row in store.con.execute(
            "SELECT subject_id, schema, properties FROM screening_subjects"
        ).fetchall()
    }
    now = datetime.now(UTC)
    with store.transaction() as con:
        for subject in subjects:
            props = json.dumps(subject.query.properties, ensure_ascii=False, sort_keys=True)
            before = known.get(subject.subject_id)
            if before is None:
                con.execute(
                    "INSERT INTO screening_subjects (subject_id, schema, properties, fingerprint, "
                    "added_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        subject.subject_id,
                        subject.query.schema,
                        props,
                        subject.fingerprint,
                        now,
                        now,
                    ],
                )
                counts.added += 1
            elif before[0] == subject.query.schema and json.loads(before[1]) == json.loads(props):
                counts.unchanged += 1
            else:
                con.execute(
                    "UPDATE screening_subjects SET schema = ?, properties = ?, fingerprint = ?, "
                    "updated_at = ?, last_run_id = NULL WHERE subject_id = ?",
                    [subject.query.schema, props, subject.fingerprint, now, subject.subject_id],
                )
                counts.updated += 1
    return counts


@dataclass
class _StoredSubject:
    subject: Subject
    last_run_id: int | None


def _load_subjects(store: Store, ids: Sequence[str] | None) -> list[_StoredSubject]:
    sql = "SELECT subject_id, schema, properties, last_run_id FROM screening_subjects"
    params: list[Any] = []
    if ids is not None:
        sql += " WHERE subject_id IN (SELECT unnest(?))"
        params.append(list(ids))
    sql += " ORDER BY subject_id"
    out: list[_StoredSubject] = []
    for sid, schema, props, last_run in store.con.execute(sql, params).fetchall():
        query = Query(schema=schema, properties=json.loads(props), id=sid)
        out.append(_StoredSubject(Subject(sid, query), last_run))
    return out


# ---- the run -----------------------------------------------------------------------------


@dataclass
class RescreenHit:
    subject_id: str
    entity_id: str
    caption: str
    score: float
    why: str  # 'first screening', 'added to ofac_sdn since 2023-12-28', ...
    explanations: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject_id": self.subject_id,
            "entity_id": self.entity_id,
            "caption": self.caption,
            "score": self.score,
            "why": self.why,
            "explanations": self.explanations,
        }


@dataclass
class RescreenReport:
    run_id: int
    windows: list[ChangeWindow]
    subjects: int
    first_screenings: int
    rescreened: int
    candidates: int  # list entities added or changed in the windows
    new_hits: list[RescreenHit] = field(default_factory=list)
    seen_hits: int = 0  # hits the subject already had before
    suppressed: int = 0  # hits a reviewer decided are not matches

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "since": [w.to_dict() for w in self.windows],
            "subjects": self.subjects,
            "first_screenings": self.first_screenings,
            "rescreened": self.rescreened,
            "candidates": self.candidates,
            "new_hits": [h.to_dict() for h in self.new_hits],
            "seen_hits": self.seen_hits,
            "suppressed": self.suppressed,
        }


def _why(entity_id: str, windows: Sequence[ChangeWindow]) -> str:
    for w in windows:
        since = w.from_version.version if w.from_version else "(first version)"
        if entity_id in w.added:
            return f"added to {w.source} since {since}"
        if entity_id in w.changed:
            return f"changed in {w.source} since {since}"
    return "changed in the lists"


def rescreen(
    store: Store,
    screener: Screener,
    *,
    subject_ids: Sequence[str] | None = None,
    since_version: str | None = None,
    source: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    actor: str = "cli",
    audit: AuditLog | None = None,
    decisions: DecisionStore | None = None,
    progress: Callable[[int], None] | None = None,
) -> RescreenReport:
    """Screen stored subjects (all, or ``subject_ids``) again and report new hits.

    Subjects never screened get a first, full screening; the others are screened only
    against the entries added or changed since ``since_version`` (see
    ``changes_since_version``). A hit is new when the subject never had it before and
    no reviewer decided it is not a match.
    """
    windows = changes_since_version(store, since_version, source)
    changed = set().union(*(w.ids for w in windows)) if windows else set()
    subjects = _load_subjects(store, subject_ids)
    if subject_ids is not None and len(subjects) != len(set(subject_ids)):
        missing = sorted(set(subject_ids) - {s.subject.subject_id for s in subjects})
        raise InputError(None, f"unknown subjects: {', '.join(missing[:5])}", field="subject_id")
    decisions = decisions if decisions is not None else DecisionStore(store)
    previous: dict[str, set[str]] = {}
    for sid, eid in store.con.execute(
        "SELECT subject_id, entity_id FROM screening_subject_hits"
    ).fetchall():
        previous.setdefault(sid, set()).add(eid)
    versions_used = [
        {"source": v.source, "version": v.version, "version_id": v.version_id}
        for v in store.list_versions()
        if v.version_id in set(screener.versions())
    ]
    started = datetime.now(UTC)
    row = store.con.execute("SELECT nextval('screening_run_seq')").fetchone()
    assert row is not None
    run_id = int(row[0])
    report = RescreenReport(run_id, windows, len(subjects), 0, 0, len(changed))
    request_id = new_request_id()
    entries: list[AuditEntry] = []
    hit_rows: list[tuple[str, Hit]] = []
    for n, stored in enumerate(subjects, start=1):
        subject = stored.subject
        first = stored.last_run_id is None
        if first:
            report.first_screenings += 1
            hits = screener.screen(subject.query, threshold=threshold, limit=20)
        elif changed:
            report.rescreened += 1
            hits = screener.screen(
                subject.query, threshold=threshold, limit=20, changed_since=changed
            )
        else:
            report.rescreened += 1
            hits = []
        fp = subject.fingerprint
        decided = decisions.for_fingerprint(fp)
        seen = previous.get(subject.subject_id, set())
        audited: list[dict[str, Any]] = []
        for hit in hits:
            decision = decided.get(hit.entity.id)
            audited.append(
                {
                    "id": hit.entity.id,
                    "caption": hit.entity.caption,
                    "score": round(hit.score, 4),
                    "match": hit.match and decision is None,
                    "decision_id": decision.decision_id if decision else None,
                }
            )
            if not hit.match:
                continue
            hit_rows.append((subject.subject_id, hit))
            if decision is not None:
                report.suppressed += 1
            elif hit.entity.id in seen:
                report.seen_hits += 1
            else:
                report.new_hits.append(
                    RescreenHit(
                        subject.subject_id,
                        hit.entity.id,
                        hit.entity.caption,
                        round(hit.score, 4),
                        "first screening" if first else _why(hit.entity.id, windows),
                        [e.to_dict() for e in hit.explanations],
                    )
                )
        entries.append(
            AuditEntry(
                request_id=request_id,
                channel="cli rescreen",
                actor=actor,
                query_key=subject.subject_id,
                fingerprint=fp,
                query={
                    "id": subject.subject_id,
                    "schema": subject.query.schema,
                    "properties": subject.query.properties,
                },
                params={
                    "threshold": threshold,
                    "run_id": run_id,
                    "mode": "first screening" if first else "changes",
                    "since": [w.to_dict() for w in windows] if not first else [],
                },
                results=audited,
                list_versions=versions_used,
            )
        )
        if progress is not None:
            progress(n)
    finished = datetime.now(UTC)
    if audit is not None:
        audit.append(entries)
    with store.transaction() as con:
        con.execute(
            "INSERT INTO screening_runs (run_id, started_at, finished_at, actor, since, counts) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                run_id,
                started,
                finished,
                actor,
                json.dumps([w.to_dict() for w in windows]),
                json.dumps(
                    {
                        "subjects": report.subjects,
                        "first_screenings": report.first_screenings,
                        "rescreened": report.rescreened,
                        "candidates": report.candidates,
                        "new_hits": len(report.new_hits),
                        "seen_hits": report.seen_hits,
                        "suppressed": report.suppressed,
                    }
                ),
            ],
        )
        for sid, hit in hit_rows:
            con.execute(
                "INSERT INTO screening_subject_hits (subject_id, entity_id, first_run_id, "
                "first_seen_at, last_run_id, last_score) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (subject_id, entity_id) DO UPDATE SET "
                "last_run_id = excluded.last_run_id, last_score = excluded.last_score",
                [sid, hit.entity.id, run_id, finished, run_id, hit.score],
            )
        if subjects:
            con.execute(
                "UPDATE screening_subjects SET last_run_id = ?, last_screened_at = ? "
                "WHERE subject_id IN (SELECT unnest(?))",
                [run_id, finished, [s.subject.subject_id for s in subjects]],
            )
    return report
