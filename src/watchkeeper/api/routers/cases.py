"""``/cases``: cases (alerts grouped by their network) and one case with its evidence.

Read only. Token rules as ``/alerts``: a viewer's token (or higher), or the API token;
with neither an API token nor any user, these endpoints are off (403)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field

from watchkeeper.api.deps import StateDep, ViewerDep
from watchkeeper.api.models import ErrorResponse, token_errors
from watchkeeper.errors import InputError

router = APIRouter(
    tags=["Cases"],
    responses=token_errors(),
)


class ScorePart(BaseModel):
    part: str
    value: float = Field(description="0..1")
    weight: float
    why: str


class CaseLink(BaseModel):
    model_config = {"populate_by_name": True}

    source: str = Field(alias="from")
    target: str = Field(alias="to")
    kind: str = Field(
        description="same_alert, alert_subject, vessel_identity, list_identity, "
        "registry_identity, aircraft_identity, an ownership or control kind "
        "(vessel_owner, vessel_manager, aircraft_operator, ownership, unknown_link...), "
        "owner_blocked, shipment_vessel, shipment_aircraft, named_in_report"
    )
    evidence: list[str]


class CaseOut(BaseModel):
    case_id: str
    title: str
    subjects: list[str]
    alert_ids: list[str]
    score: float = Field(description="0..1, the weighted sum of score_parts")
    score_parts: list[ScorePart]
    start_time: datetime
    end_time: datetime
    links: list[CaseLink] = Field(description="Why each subject is in the case")
    built_at: datetime


class CaseList(BaseModel):
    total: int
    cases: list[CaseOut]


class TimelineOut(BaseModel):
    time: datetime
    end_time: datetime
    kind: str = Field(description="alert | event")
    id: str
    type: str = Field(description="The alert's rule or the event's type")
    text: str
    alert_ids: list[str]


class EvidenceOut(BaseModel):
    id: str
    kind: str = Field(
        description="position, static_report, adsb_state, flight, list_entry, ownership, "
        "shipment_line, sentence, event, unresolved"
    )
    event_ids: list[str]
    summary: str
    data: dict[str, Any]


class SubjectOut(BaseModel):
    id: str = Field(description="The list entity's id when there is one")
    name: str
    ids: list[str] = Field(description="Its ids joined by identity links (IMO, MMSI...)")


class CaseDetailOut(CaseOut):
    subjects_by_domain: dict[str, list[SubjectOut]]
    alerts: list[dict[str, Any]]
    timeline: list[TimelineOut]
    evidence: list[EvidenceOut]


@router.get("/cases", response_model=CaseList, response_model_by_alias=True)
async def list_cases_endpoint(state: StateDep, _who: ViewerDep) -> dict[str, Any]:
    """Cases, highest score first (built by ``watchkeeper cases build``)."""
    from watchkeeper.alerts.cases import list_cases

    found = list_cases(state.store)
    return {"total": len(found), "cases": [c.to_dict() for c in found]}


@router.get(
    "/cases/{case_id}",
    response_model=CaseDetailOut,
    response_model_by_alias=True,
    responses={404: {"model": ErrorResponse, "description": "No such case"}},
)
async def get_case_endpoint(
    state: StateDep,
    _who: ViewerDep,
    case_id: Annotated[str, Path(description="A case id from GET /cases")],
) -> dict[str, Any]:
    """One case: score parts, links, subjects by domain, its alerts, a timeline of alerts
    and events, and every evidence row its events name."""
    from watchkeeper.alerts.cases import get_case

    try:
        detail = get_case(state.store, case_id)
    except InputError as exc:
        raise HTTPException(404, detail=exc.describe()) from exc
    return detail.to_dict()
