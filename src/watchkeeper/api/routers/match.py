"""``POST /match/{dataset}``: yente's query-by-example matcher."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, HTTPException, Path, Query, Response

from watchkeeper.api.deps import ActorDep, StateDep
from watchkeeper.api.models import EntityMatchQuery, EntityMatchResponse, ErrorResponse
from watchkeeper.api.service import (
    ALGORITHM,
    MatchOptions,
    Reviewed,
    audit_entry,
    changed_scope,
    check_algorithm,
    dataset_scope,
    match_one,
    matcher_docs,
    parse_query,
    record,
)
from watchkeeper.screening.audit import AuditEntry, new_request_id

router = APIRouter()

MAX_BATCH = 100
MAX_LIMIT = 500
# yente's pattern for changed_since: a date, or a date and time.
TS_PATTERN = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"

DatasetPath = Annotated[
    str,
    Path(
        description="'default' or 'sanctions' for every list, or one list's source name "
        "(e.g. 'ofac_sdn', 'un_sc', 'us_csl').",
        examples=["default"],
    ),
]


@router.post(
    "/match/{dataset}",
    summary="Query by example matcher",
    tags=["Matching"],
    response_model=EntityMatchResponse,
    responses={
        400: {"model": ErrorResponse, "description": "Invalid query"},
        404: {"model": ErrorResponse, "description": "No such dataset"},
    },
)
async def match(
    body: EntityMatchQuery,
    dataset: DatasetPath,
    state: StateDep,
    actor: ActorDep,
    limit: Annotated[int, Query(title="Number of results to return", ge=1, le=MAX_LIMIT)] = 5,
    threshold: Annotated[
        float | None,
        Query(
            title="Score threshold for results to be considered matches "
            "(default: the server's WATCHKEEPER_MATCH_THRESHOLD, 0.7)",
            ge=0,
            le=1,
        ),
    ] = None,
    cutoff: Annotated[
        float | None,
        Query(title="Lower bound of score for results to be returned at all", ge=0, le=1),
    ] = None,
    algorithm: Annotated[str, Query(title=f"Scoring algorithm ({ALGORITHM})")] = ALGORITHM,
    include_dataset: Annotated[
        list[str] | None, Query(title="Only include the given datasets in results")
    ] = None,
    exclude_schema: Annotated[
        list[str] | None, Query(title="Remove the given types of entities from results")
    ] = None,
    exclude_dataset: Annotated[
        list[str] | None, Query(title="Remove the given datasets from results")
    ] = None,
    topics: Annotated[
        list[str] | None, Query(title="Only return results that match any of the given topics")
    ] = None,
    changed_since: Annotated[
        str | None,
        Query(
            pattern=TS_PATTERN,
            title="Match against entities that were added or changed since the given date",
        ),
    ] = None,
    exclude_entity_ids: Annotated[
        list[str] | None,
        Query(title="A list of entity IDs to exclude from matching", max_length=50),
    ] = None,
    reviewed: Annotated[
        Reviewed,
        Query(
            title="Results a reviewer decided are not matches: 'mark' keeps them with "
            "match=false and the decision; 'drop' leaves them out (listed in 'suppressed')."
        ),
    ] = "mark",
) -> Response:
    """Match entities described by example (name, birth date, nationality, identifiers...)
    against the lists, as yente's ``/match`` does: the request and response bodies are
    yente's, so existing clients work unchanged. Each result also carries
    ``explanations`` (why it scored what it did) and, when a reviewer decided it is not
    a match, ``decision``. Every query and its results go to the audit log."""
    check_algorithm(algorithm)
    if body.config:
        key = next(iter(body.config))
        raise HTTPException(
            400, detail=f"Invalid configuration parameter: {key} for algorithm {ALGORITHM}"
        )
    if len(body.queries) > MAX_BATCH:
        raise HTTPException(400, detail=f"Too many queries in one batch (limit: {MAX_BATCH})")
    if not body.queries:
        raise HTTPException(400, detail="No queries provided.")
    options = MatchOptions(
        dataset=dataset,
        threshold=state.settings.match_threshold if threshold is None else threshold,
        cutoff=cutoff,
        limit=limit,
        algorithm=algorithm,
        include_dataset=include_dataset or [],
        exclude_dataset=exclude_dataset or [],
        exclude_schema=exclude_schema or [],
        exclude_entity_ids=exclude_entity_ids or [],
        changed_since=changed_since,
        topics=topics or [],
        reviewed=reviewed,
    )
    scope = dataset_scope(state, dataset, options.include_dataset, options.exclude_dataset)
    changed = changed_scope(state, changed_since)
    parsed = [
        (key, *parse_query(example.model_dump(by_alias=True)))
        for key, example in body.queries.items()
    ]
    responses: dict[str, Any] = {}
    entries: list[AuditEntry] = []
    request_id = new_request_id()
    params = options.to_audit()
    for key, query, normalised in parsed:
        responses[key], audited = match_one(state, key, query, normalised, options, scope, changed)
        if state.audit is not None:
            entries.append(
                audit_entry(
                    state,
                    request_id=request_id,
                    channel=f"api /match/{dataset}",
                    actor=actor,
                    key=key,
                    query=query,
                    normalised=normalised,
                    params=params,
                    results=audited,
                )
            )
    record(state, entries)
    content = {"responses": responses, "matcher": matcher_docs(), "limit": limit}
    return Response(
        orjson.dumps(content),
        media_type="application/json",
        headers={
            "x-batch-size": str(len(responses)),
            "x-request-id": request_id,
            "x-watchkeeper-algorithm": ALGORITHM,
        },
    )
