"""``/decisions``: reviewed false positives. Every endpoint here needs the API token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response

from watchkeeper.api.deps import StateDep, ValidBody, WriterDep
from watchkeeper.api.models import DecisionList, DecisionRecord, DecisionRequest, ErrorResponse
from watchkeeper.api.service import parse_query
from watchkeeper.errors import InputError

router = APIRouter(
    tags=["Reviewed decisions"],
    responses={
        401: {"model": ErrorResponse, "description": "No or wrong bearer token"},
        403: {"model": ErrorResponse, "description": "No API token is configured"},
    },
)


@router.post(
    "/decisions",
    response_model=DecisionRecord,
    status_code=201,
    responses={200: {"model": DecisionRecord, "description": "The decision already existed"}},
    dependencies=[ValidBody],
)
async def add_decision(
    body: DecisionRequest, state: StateDep, _writer: WriterDep, response: Response
) -> dict[str, Any]:
    """Record that the subject of ``query`` is not the list entity ``entity_id``. Later
    screenings of the same query (same fingerprint) mark or drop that result."""
    query, _ = parse_query(body.query.model_dump(by_alias=True))
    try:
        decision, new = state.decisions.add(
            query.schema,
            query.properties,
            body.entity_id,
            by=body.by,
            reason=body.reason,
            decision=body.decision,
        )
    except InputError as exc:
        raise HTTPException(400, detail=exc.describe()) from exc
    if not new:
        response.status_code = 200
    return {**decision.to_dict(), "new": new}


@router.get("/decisions", response_model=DecisionList)
async def list_decisions(
    state: StateDep,
    _writer: WriterDep,
    entity_id: Annotated[str | None, Query(description="Only decisions on this entity")] = None,
    include_revoked: Annotated[bool, Query(description="Also revoked decisions")] = False,
) -> dict[str, Any]:
    """Decisions on record (they hold customers' names, hence the token)."""
    found = state.decisions.list(include_revoked=include_revoked, entity_id=entity_id)
    return {"decisions": [d.to_dict() for d in found]}


@router.delete("/decisions/{decision_id}", response_model=DecisionRecord)
async def revoke_decision(
    decision_id: Annotated[int, Path(description="The decision to take back")],
    state: StateDep,
    _writer: WriterDep,
    by: Annotated[str, Query(min_length=1, description="Who takes it back")],
    reason: Annotated[str, Query(min_length=1, description="Why")],
) -> dict[str, Any]:
    """Revoke a decision: the result is reported again. The decision stays on record."""
    if state.decisions.get(decision_id) is None:
        raise HTTPException(404, detail=f"No decision {decision_id}")
    try:
        decision = state.decisions.revoke(decision_id, by=by, reason=reason)
    except InputError as exc:
        raise HTTPException(409, detail=exc.describe()) from exc
    return decision.to_dict()
