"""``POST /match/{dataset}``: yente's query-by-example matcher."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, HTTPException, Path, Response

from watchkeeper.api.deps import (
    ActorDep,
    MatchParamsDep,
    StateDep,
    ValidBody,
    match_params_openapi,
)
from watchkeeper.api.models import (
    EntityMatchQuery,
    EntityMatchResponse,
    ErrorResponse,
)
from watchkeeper.api.service import (
    ALGORITHM,
    MatchOptions,
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
        400: {"model": ErrorResponse, "description": "Invalid query (or text not Unicode)"},
        404: {"model": ErrorResponse, "description": "No such dataset"},
        413: {"model": ErrorResponse, "description": "Body over WATCHKEEPER_API_MAX_BODY"},
        503: {"model": ErrorResponse, "description": "The audit log cannot be written"},
    },
    dependencies=[ValidBody],
    openapi_extra={"parameters": match_params_openapi()},
)
async def match(
    body: EntityMatchQuery,
    dataset: DatasetPath,
    state: StateDep,
    actor: ActorDep,
    params: MatchParamsDep,
) -> Response:
    """Match entities described by example (name, birth date, nationality, identifiers...)
    against the lists, as yente's ``/match`` does: the request and response bodies are
    yente's, so existing clients work unchanged. Each result also carries
    ``explanations`` (why it scored what it did) and, when a reviewer decided it is not
    a match, ``decision``. Every query and its results go to the audit log."""
    check_algorithm(params.algorithm)
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
        threshold=(
            state.settings.match_threshold if params.threshold is None else params.threshold
        ),
        cutoff=params.cutoff,
        limit=params.limit,
        algorithm=params.algorithm,
        include_dataset=params.include_dataset,
        exclude_dataset=params.exclude_dataset,
        exclude_schema=params.exclude_schema,
        exclude_entity_ids=params.exclude_entity_ids,
        changed_since=params.changed_since,
        topics=params.topics,
        reviewed=params.reviewed,
    )
    scope = dataset_scope(state, dataset, options.include_dataset, options.exclude_dataset)
    changed = changed_scope(state, params.changed_since)
    parsed = [
        (key, *parse_query(example.model_dump(by_alias=True)))
        for key, example in body.queries.items()
    ]
    responses: dict[str, Any] = {}
    entries: list[AuditEntry] = []
    request_id = new_request_id()
    audit_params = options.to_audit()
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
                    params=audit_params,
                    results=audited,
                )
            )
    record(state, entries)
    content = {"responses": responses, "matcher": matcher_docs(), "limit": params.limit}
    return Response(
        orjson.dumps(content),
        media_type="application/json",
        headers={
            "x-batch-size": str(len(responses)),
            "x-request-id": request_id,
            "x-watchkeeper-algorithm": ALGORITHM,
        },
    )
