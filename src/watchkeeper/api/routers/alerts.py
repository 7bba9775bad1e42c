"""``/alerts``: alerts, one with its events and review trail, and reviewing one.

Token rules as for ``/decisions``, by role: reading takes a viewer's token (or higher),
reviewing an analyst's (or admin's); the API token (WATCHKEEPER_API_TOKEN) is an admin.
With neither an API token nor any user, these endpoints are off (403)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field

from watchkeeper.api.deps import AnalystDep, StateDep, ValidBody, ViewerDep
from watchkeeper.api.models import ErrorResponse, token_errors
from watchkeeper.errors import InputError

router = APIRouter(
    tags=["Alerts"],
    responses=token_errors(),
)


class AlertOut(BaseModel):
    alert_id: str
    rule_id: str
    severity: str
    title: str
    subjects: list[str]
    start_time: datetime
    end_time: datetime
    score: float
    event_ids: list[str]
    why: dict[str, list[str]] = Field(description="Per event id: the conditions that held")
    state: str
    assignee: str | None
    case_id: str | None
    revision: int
    created_at: datetime
    updated_at: datetime


class AlertPage(BaseModel):
    total: int = Field(description="Alerts matching the filters, before paging")
    offset: int
    limit: int
    alerts: list[AlertOut]


class AlertEventOut(BaseModel):
    event_id: str
    type: str
    subjects: list[str]
    start_time: datetime
    end_time: datetime
    score: float
    detail: str
    evidence: list[str]


class ReviewActionOut(BaseModel):
    action_id: int
    alert_id: str
    actor: str
    acted_at: datetime
    action: str = Field(description="state | assign | note | link")
    state_from: str | None
    state_to: str | None
    assignee: str | None
    note: str | None = Field(description="The note, or the reason of a dismissal")
    link: str | None
    audit_id: int | None = Field(description="Its row in the hash-chained audit log")


class AlertDetailOut(AlertOut):
    events: list[AlertEventOut]
    trail: list[ReviewActionOut]


class ReviewRequest(BaseModel):
    state: str | None = Field(
        None,
        description="in_review, escalated, dismissed (needs reason), confirmed; a dismissed "
        "or confirmed alert reopens to in_review with a note",
    )
    note: str | None = None
    reason: str | None = Field(None, description="Why it is dismissed")
    assign: str | None = Field(None, description="An analyst's user name")
    link: str | None = Field(None, description="An http(s) URL or a ticket id such as FIU-12")


class ReviewResult(BaseModel):
    actions: list[ReviewActionOut]
    alert: AlertOut


@router.get("/alerts", response_model=AlertPage)
async def list_alerts_endpoint(
    state: StateDep,
    _who: ViewerDep,
    alert_state: Annotated[
        str | None,
        Query(alias="state", description="new, in_review, escalated, dismissed, confirmed"),
    ] = None,
    severity: Annotated[str | None, Query(description="low, medium, high, critical")] = None,
    rule: Annotated[str | None, Query(description="A rule id")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Alerts, most severe then latest first."""
    from watchkeeper.alerts.store import list_alerts

    try:
        found = list_alerts(state.store, state=alert_state, severity=severity)
    except InputError as exc:
        raise HTTPException(400, detail=exc.describe()) from exc
    if rule is not None:
        found = [a for a in found if a.rule_id == rule]
    page = found[offset : offset + limit]
    return {
        "total": len(found),
        "offset": offset,
        "limit": limit,
        "alerts": [a.to_dict() for a in page],
    }


def _detail(state: StateDep, alert_id: str) -> dict[str, Any]:
    from watchkeeper.alerts.review import history
    from watchkeeper.alerts.store import get_alert

    try:
        detail = get_alert(state.store, alert_id)
    except InputError as exc:
        raise HTTPException(404, detail=f"No alert {alert_id}") from exc
    return {**detail.to_dict(), "trail": [t.to_dict() for t in history(state.store, alert_id)]}


@router.get("/alerts/{alert_id}", response_model=AlertDetailOut)
async def get_alert_endpoint(
    alert_id: Annotated[str, Path(description="An alert id")],
    state: StateDep,
    _who: ViewerDep,
) -> dict[str, Any]:
    """One alert: why it fired, its events with their evidence ids, its review trail."""
    return _detail(state, alert_id)


@router.post(
    "/alerts/{alert_id}/review",
    response_model=ReviewResult,
    status_code=201,
    dependencies=[ValidBody],
    responses={
        400: {"model": ErrorResponse, "description": "Bad input (state, link, empty note)"},
        404: {"model": ErrorResponse, "description": "No such alert"},
        409: {"model": ErrorResponse, "description": "A move the alert's state does not allow"},
    },
)
async def review_alert(
    alert_id: Annotated[str, Path(description="An alert id")],
    body: ReviewRequest,
    state: StateDep,
    who: AnalystDep,
) -> dict[str, Any]:
    """Review an alert as the token's user: each part (state, note, assignee, link) is
    an action in the trail and in the audit log; all are stored, or none."""
    from watchkeeper.alerts.review import ReviewRefused, review
    from watchkeeper.alerts.store import get_alert

    try:
        get_alert(state.store, alert_id)
    except InputError as exc:
        raise HTTPException(404, detail=f"No alert {alert_id}") from exc
    try:
        actions = review(
            state.store,
            alert_id,
            actor=who.name,
            state=body.state,
            note=body.note,
            reason=body.reason,
            assign=body.assign,
            link=body.link,
        )
    except ReviewRefused as exc:
        raise HTTPException(409, detail=exc.describe()) from exc
    except InputError as exc:
        raise HTTPException(400, detail=exc.describe()) from exc
    return {
        "actions": [a.to_dict() for a in actions],
        "alert": get_alert(state.store, alert_id).alert.to_dict(),
    }
