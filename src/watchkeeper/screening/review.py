"""Screening that honours reviewers' decisions and writes the audit log, one query after
another (the CLI's ``screen`` and ``match``; the API does the same per request).

A hit that a reviewer decided is "not a match" for the query's fingerprint is still
reported, with ``match: false`` and the ``decision`` (who, when, why), as the API
reports it. Decisions are read once, up front; audit rows are gathered and written in
one transaction per chunk.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from watchkeeper.errors import InputError
from watchkeeper.screening.audit import AuditEntry, AuditLog, AuditUnavailable
from watchkeeper.screening.batch import BatchOptions, screen_records
from watchkeeper.screening.decisions import Decision, DecisionStore, normalise_query
from watchkeeper.screening.engine import Hit, Query, Screener
from watchkeeper.store import Store

# fingerprint -> entity id -> the active decision on that query and entity.
Decisions = Mapping[str, Mapping[str, Decision]]

# An audit chunk is written when it has this many rows, or when its first row has
# waited this long (checked as rows come), and at the end.
AUDIT_CHUNK_ROWS = 1000
AUDIT_CHUNK_SECONDS = 1.0


def _has_table(store: Store, name: str) -> bool:
    row = store.con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchone()
    return bool(row and row[0])


def active_decisions(store: Store) -> dict[str, dict[str, Decision]]:
    """Every active decision, by query fingerprint and entity id, read in one query.

    A store opened read only that predates the decisions table has none."""
    if not _has_table(store, "screening_decisions"):
        return {}
    active: dict[str, dict[str, Decision]] = {}
    for decision in DecisionStore(store).list(include_revoked=False):
        active.setdefault(decision.fingerprint, {})[decision.entity_id] = decision
    return active


def versions_used(store: Store, screener: Screener) -> list[dict[str, Any]]:
    """[{source, version, version_id}] of the list versions the screener searches."""
    used = set(screener.versions())
    return [
        {"source": v.source, "version": v.version, "version_id": v.version_id}
        for v in store.list_versions()
        if v.version_id in used
    ]


def query_fingerprint(query: Query) -> str:
    """The query's fingerprint (``decisions.normalise_query``), "" when it has nothing
    a decision could be keyed on."""
    try:
        return normalise_query(query.schema, query.properties).fingerprint
    except InputError:
        return ""


def query_echo(query: Query) -> dict[str, Any]:
    return {"id": query.id, "schema": query.schema, "properties": query.properties}


def decision_json(decision: Decision) -> dict[str, Any]:
    """The ``decision`` a reviewed result carries (the API's shape)."""
    return {
        "decision_id": decision.decision_id,
        "decision": decision.decision,
        "decided_by": decision.decided_by,
        "decided_at": decision.decided_at.isoformat(),
        "reason": decision.reason,
    }


def audit_result(hit: Hit, decision: Decision | None) -> dict[str, Any]:
    """One result as the audit log keeps it."""
    return {
        "id": hit.entity.id,
        "caption": hit.entity.caption,
        "score": round(hit.score, 4),
        "match": hit.match and decision is None,
        "decision_id": decision.decision_id if decision else None,
    }


@dataclass
class Reviewed:
    """One query's hits with the decisions on them applied."""

    fingerprint: str
    results: list[dict[str, Any]]  # yente's result shape; reviewed ones carry `decision`
    audited: list[dict[str, Any]]  # [{id, caption, score, match, decision_id}]
    reviewed: int = 0  # hits a reviewer decided are not a match

    @property
    def matched(self) -> bool:
        return any(r["match"] for r in self.results)


def review(hits: Sequence[Hit], fingerprint: str, decisions: Decisions) -> Reviewed:
    """Mark the hits a reviewer decided are not a match for this query."""
    decided = decisions.get(fingerprint, {}) if fingerprint else {}
    out = Reviewed(fingerprint, [], [])
    for hit in hits:
        decision = decided.get(hit.entity.id)
        data = hit.to_yente()
        if decision is not None:
            data["match"] = False
            data["decision"] = decision_json(decision)
            out.reviewed += 1
        out.results.append(data)
        out.audited.append(audit_result(hit, decision))
    return out


class AuditBatch:
    """Audit rows gathered and appended in one transaction per chunk (a commit per row
    would cost a disk sync per query). Use as a context manager: what is pending is
    written on the way out, also when the batch stops on an error or Ctrl-C."""

    def __init__(
        self,
        log: AuditLog,
        *,
        rows: int | None = None,
        seconds: float | None = None,
    ) -> None:
        self.log = log
        self.rows = AUDIT_CHUNK_ROWS if rows is None else rows
        self.seconds = AUDIT_CHUNK_SECONDS if seconds is None else seconds
        self.pending: list[AuditEntry] = []
        self.written = 0
        self.chunks = 0
        self._first = 0.0

    def add(self, entry: AuditEntry) -> None:
        if not self.pending:
            self._first = time.monotonic()
        self.pending.append(entry)
        if len(self.pending) >= self.rows or time.monotonic() - self._first >= self.seconds:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        entries, self.pending = self.pending, []
        try:
            self.log.append(entries)
        except duckdb.Error as exc:
            raise AuditUnavailable(
                f"the audit log cannot be written ({len(entries)} screened queries are not "
                f"logged): {exc}"
            ) from exc
        self.written += len(entries)
        self.chunks += 1

    def __enter__(self) -> AuditBatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()


@dataclass
class ReviewContext:
    """What every query of one run shares: decisions, audit, who and how."""

    decisions: Decisions
    audit: AuditBatch | None = None
    request_id: str = ""
    channel: str = "cli"
    actor: str = "cli"
    params: dict[str, Any] = field(default_factory=dict)
    list_versions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def needs_fingerprint(self) -> bool:
        return self.audit is not None or bool(self.decisions)

    def screened(self, key: str, query: Query, hits: Sequence[Hit]) -> Reviewed:
        """Apply the decisions to one query's hits and log them."""
        fp = query_fingerprint(query) if self.needs_fingerprint else ""
        reviewed = review(hits, fp, self.decisions)
        if self.audit is not None:
            self.audit.add(
                AuditEntry(
                    request_id=self.request_id,
                    channel=self.channel,
                    actor=self.actor,
                    query_key=key,
                    fingerprint=fp,
                    query=query_echo(query),
                    params=self.params,
                    results=reviewed.audited,
                    list_versions=self.list_versions,
                )
            )
        return reviewed


@dataclass
class BatchCounts:
    queries: int = 0
    errors: int = 0
    matched: int = 0
    reviewed: int = 0  # results a decision marks "not a match"


def screen_reviewed(
    screener: Screener,
    records: Iterable[tuple[int, Any, Query | InputError]],
    options: BatchOptions,
    context: ReviewContext,
    counts: BatchCounts | None = None,
) -> Iterator[dict[str, Any]]:
    """``batch.screen_records`` with decisions honoured and each query audited: one
    output object per record, ``{"id", "results"}`` or ``{"id", "error"}`` (a bad record
    is not screened, so not audited)."""
    counts = counts if counts is not None else BatchCounts()
    for lineno, record_id, item in records:
        counts.queries += 1
        if isinstance(item, InputError):
            counts.errors += 1
            # The same error line as batch.screen_records writes.
            yield from screen_records(screener, [(lineno, record_id, item)], options)
            continue
        hits = screener.screen(item, threshold=options.threshold, limit=options.limit)
        key = str(record_id) if record_id is not None else f"line {lineno}"
        reviewed = context.screened(key, item, hits)
        counts.matched += reviewed.matched
        counts.reviewed += reviewed.reviewed
        yield {"id": record_id, "results": reviewed.results}
