"""Screening for the API: yente request options in, yente-shaped results out, with
reviewed decisions applied and every query written to the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from fastapi import HTTPException

from watchkeeper.api.state import ALL_LISTS, ApiState
from watchkeeper.errors import InputError, StoreError
from watchkeeper.screening import DEFAULT_THRESHOLD, Hit, Query
from watchkeeper.screening.audit import AuditEntry, AuditUnavailable
from watchkeeper.screening.decisions import NormalisedQuery, normalise_query
from watchkeeper.screening.rescreen import changed_since as changed_ids_since
from watchkeeper.screening.review import audit_result, decision_json

ALGORITHM = "watchkeeper-v1"
# Names a yente client may send: "best"/"default", and the names of yente's own
# algorithms, which clients pin (OpenSanctions' docs advise it). They are answered by
# this server's matcher; the response header ``x-watchkeeper-algorithm`` says so.
YENTE_ALGORITHMS = frozenset(
    {"logic-v1", "logic-v2", "name-based", "name-qualified", "ofac", "regression-v1"}
)
ALGORITHM_ALIASES = frozenset({ALGORITHM, "best", "default"}) | YENTE_ALGORITHMS
ALGORITHM_DESCRIPTION = (
    "Watchkeeper's matcher: candidates by blocking keys (name tokens, phonetic keys, "
    "n-grams, identifiers), then a score from aligned name parts, identifiers, birth "
    "date and country; each result explains which query part matched which list name part."
)
# The features the matcher reports (``features``/``explanations`` of a result).
FEATURES: dict[str, tuple[str, float]] = {
    "name_parts": ("Query name parts aligned with a listed name's parts (0..1).", 1.0),
    "identifier": (
        "An identifier (IMO, MMSI, passport, national id...) equal after normalisation; "
        "negative when the listed vessel has another IMO/MMSI.",
        1.0,
    ),
    "birth_date": ("Birth dates agree (year or full date), or disagree (negative).", 1.0),
    "country": ("Countries or nationalities agree, or disagree (negative).", 1.0),
    "schema": ("The query's schema is broader than the listed entity's (no points).", 0.0),
    "evasion": (
        "Invisible or look-alike characters found and normalised in the query (no points).",
        0.0,
    ),
}
DOCS_URL = "https://github.com/watchkeeper/watchkeeper#screening"
TOPIC = "sanction"  # every entity Watchkeeper loads comes from a sanctions or export list

Reviewed = Literal["mark", "drop"]


def matcher_docs() -> dict[str, dict[str, Any]]:
    return {
        name: {"description": text, "coefficient": coef, "url": DOCS_URL}
        for name, (text, coef) in FEATURES.items()
    }


@dataclass
class MatchOptions:
    """The query-string options of /match (yente's names), checked."""

    dataset: str
    threshold: float = DEFAULT_THRESHOLD
    cutoff: float | None = None
    limit: int = 5
    algorithm: str = ALGORITHM
    include_dataset: list[str] = field(default_factory=list)
    exclude_dataset: list[str] = field(default_factory=list)
    exclude_schema: list[str] = field(default_factory=list)
    exclude_entity_ids: list[str] = field(default_factory=list)
    changed_since: str | None = None
    topics: list[str] = field(default_factory=list)
    reviewed: Reviewed = "mark"

    def to_audit(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None and v != []}


def check_algorithm(name: str) -> None:
    if name not in ALGORITHM_ALIASES:
        raise HTTPException(
            400,
            detail=f"Unknown algorithm {name!r}: this server has {ALGORITHM!r} (also "
            f"answering to 'best', 'default' and yente's {', '.join(sorted(YENTE_ALGORITHMS))}).",
        )


def dataset_scope(
    state: ApiState, dataset: str, include: Sequence[str], exclude: Sequence[str]
) -> tuple[set[str] | None, set[str] | None]:
    """(datasets to search or None for all, datasets to leave out) for a request."""
    if dataset not in ALL_LISTS and dataset not in state.sources:
        known = ", ".join(sorted(ALL_LISTS | state.sources))
        raise HTTPException(404, detail=f"No such dataset: {dataset!r} (known: {known}).")
    scope: set[str] | None = None if dataset in ALL_LISTS else {dataset}
    if include:
        scope = set(include) if scope is None else scope & set(include)
    return scope, (set(exclude) or None)


def changed_scope(state: ApiState, value: str | None) -> set[str] | None:
    """Entity ids added or changed in the lists since ``value`` (a date or time)."""
    if value is None:
        return None
    cached = state.changed_cache.get(value)
    if cached is None:
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise HTTPException(
                400, detail=f"changed_since: {value!r} is not an ISO date or time"
            ) from exc
        try:
            cached = frozenset(changed_ids_since(state.store, when))
        except StoreError as exc:
            raise HTTPException(400, detail=f"changed_since: {exc}") from exc
        state.changed_cache[value] = cached
    return set(cached)


def parse_query(example: dict[str, Any]) -> tuple[Query, NormalisedQuery | None]:
    """The engine's query and its normalised form (None when it has no names or ids
    that a decision could be keyed on); 400 on bad input, as yente answers."""
    try:
        # Name parts alone (firstName, lastName...) are composed into full names there.
        query = Query.from_yente(example)
    except InputError as exc:
        raise HTTPException(400, detail=f"Cannot parse example entity: {exc.describe()}") from exc
    try:
        normalised: NormalisedQuery | None = normalise_query(query.schema, query.properties)
    except InputError:
        normalised = None
    return query, normalised


def query_echo(query: Query) -> dict[str, Any]:
    return {"id": query.id, "schema": query.schema, "properties": query.properties}


def result_json(hit: Hit) -> dict[str, Any]:
    """One result in yente's shape, plus provenance."""
    data = hit.to_yente()
    entity = hit.entity
    properties = dict(data.get("properties", entity.properties))
    properties.setdefault("topics", [TOPIC])
    data["properties"] = properties
    data.setdefault("referents", [])
    data.setdefault("target", True)
    data["provenance"] = [p.to_dict() for p in entity.provenance]
    return data


def match_one(
    state: ApiState,
    key: str,
    query: Query,
    normalised: NormalisedQuery | None,
    options: MatchOptions,
    scope: tuple[set[str] | None, set[str] | None],
    changed: set[str] | None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One query's response (yente ``EntityMatches``) and its audit results."""
    datasets, exclude = scope
    fp = normalised.fingerprint if normalised is not None else None
    decided = state.decisions.for_fingerprint(fp) if fp is not None else {}
    post_filters = bool(options.exclude_schema) or bool(options.topics)
    want = options.limit + (len(decided) if options.reviewed == "drop" else 0)
    if post_filters:
        want = max(want * 3, 20)
    cutoff = options.cutoff if options.cutoff is not None else min(0.5, options.threshold)
    hits: list[Hit] = []
    if datasets is None or datasets:
        hits = state.screener.screen(
            query,
            threshold=options.threshold,
            limit=want,
            datasets=datasets,
            exclude_datasets=exclude,
            exclude_ids=set(options.exclude_entity_ids) or None,
            changed_since=changed,
            cutoff=cutoff,
        )
    if options.exclude_schema:
        hits = [h for h in hits if h.entity.schema not in options.exclude_schema]
    if options.topics and TOPIC not in options.topics:
        hits = []
    results: list[dict[str, Any]] = []
    suppressed: list[dict[str, Any]] = []
    audited: list[dict[str, Any]] = []
    for hit in hits:
        decision = decided.get(hit.entity.id)
        audited.append(audit_result(hit, decision))
        if decision is not None and options.reviewed == "drop":
            suppressed.append(
                {
                    "id": hit.entity.id,
                    "score": round(hit.score, 4),
                    "decision_id": decision.decision_id,
                }
            )
            continue
        if len(results) >= options.limit:
            continue
        data = result_json(hit)
        if decision is not None:
            data["match"] = False
            data["decision"] = decision_json(decision)
        results.append(data)
    response = {
        "status": 200,
        "results": results,
        "total": {"value": len(results), "relation": "eq"},
        "query": query_echo(query),
        "suppressed": suppressed,
    }
    return response, audited


def audit_entry(
    state: ApiState,
    *,
    request_id: str,
    channel: str,
    actor: str,
    key: str,
    query: Query,
    normalised: NormalisedQuery | None,
    params: dict[str, Any],
    results: list[dict[str, Any]],
) -> AuditEntry:
    return AuditEntry(
        request_id=request_id,
        channel=channel,
        actor=actor,
        query_key=key,
        fingerprint=normalised.fingerprint if normalised is not None else "",
        query=query_echo(query),
        params=params,
        results=results,
        list_versions=state.list_versions,
    )


def record(state: ApiState, entries: list[AuditEntry]) -> None:
    """Hand the request's audit rows to the writer; 503 when the log cannot be written
    (screening answers are not given without their audit trail)."""
    if state.audit is None or not entries:
        return
    try:
        state.audit.submit(entries)
    except AuditUnavailable as exc:
        raise HTTPException(503, detail=str(exc)) from exc
