"""``POST /cargo/check``: decide shipment lines sent as JSON, by the bundled cargo rules in
force on each line's date, with the parties and vessel screened against the loaded lists.
Parties are also looked up in the ownership graph when one is loaded (OFAC's 50% rule,
as of today UTC): a consignee no list names but blocked persons own is
``blocked_by_ownership``. Nothing is stored: the CLI's ``cargo check`` writes the events."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from watchkeeper.api.deps import StateDep, ValidBody
from watchkeeper.api.models import ErrorResponse

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from watchkeeper.api.state import ApiState
    from watchkeeper.cargo.decide import PartyHit
    from watchkeeper.graph.exposure import GraphOwnership

router = APIRouter(tags=["Cargo"])

MAX_LINES = 1000

Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Text = Annotated[str, StringConstraints(max_length=500)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=300)]


class CargoParty(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Annotated[str, StringConstraints(min_length=1, max_length=40)] = Field(
        ..., examples=["consignee"], description="shipper, consignee, notify, carrier, end_user"
    )
    name: Name = Field(..., examples=["Petroleos de Venezuela, S.A."])
    country: Country | None = Field(None, examples=["VE"], description="ISO 3166-1 alpha-2")
    address: Text = ""


class CargoLine(BaseModel):
    """One goods line as the papers state it (the fields of ``cargo.model.ShipmentLine``)."""

    model_config = ConfigDict(extra="forbid")

    shipment_id: Name = Field(..., examples=["DOJ-20-1791-BELLA"])
    line_no: int = Field(1, ge=1, le=1_000_000)
    mode: Literal["sea", "air", "land", "unknown"] = "unknown"
    parties: list[CargoParty] = Field(default_factory=list, max_length=50)
    goods: Text = Field("", examples=["Gasoline"])
    hs_code: Annotated[str, StringConstraints(pattern=r"^\d{6,10}$")] | None = Field(
        None, examples=["271012"], description="digits only, 6 to 10"
    )
    quantity: float | None = None
    quantity_unit: Annotated[str, StringConstraints(max_length=20)] = ""
    weight_kg: float | None = Field(None, ge=0)
    value: float | None = None
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    vessel_name: Name | None = None
    vessel_imo: Annotated[str, StringConstraints(pattern=r"^(IMO)?\d{7}$")] | None = None
    vessel_flag: Country | None = None
    flight_number: Annotated[str, StringConstraints(max_length=20)] | None = None
    aircraft_registration: Annotated[str, StringConstraints(max_length=20)] | None = None
    origin_country: Country | None = Field(None, examples=["IR"])
    destination_country: Country | None = Field(None, examples=["VE"])
    transit_countries: list[Country] = Field(default_factory=list, max_length=20)
    port_of_loading: Text | None = None
    port_of_discharge: Text | None = None
    loading_date: date | None = None
    discharge_date: date | None = None
    declared_date: date | None = None
    license_number: Annotated[str, StringConstraints(max_length=100)] | None = None
    end_use: Text = ""
    end_user: Name | None = None


class CargoCheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: list[CargoLine] = Field(..., min_length=1, max_length=MAX_LINES)


class HsModel(BaseModel):
    code: str | None
    read_as: str | None = None
    status: str
    detail: str
    confidence: float
    proposed: list[dict[str, Any]]


class FiredRuleModel(BaseModel):
    id: str
    program: str
    title: str
    effect: str
    citation: str
    quote: str
    url: str
    why: list[str]
    set_aside_by: str | None
    conditions: list[str]
    judgement: str


class PartyResultModel(BaseModel):
    role: str
    name: str
    country: str | None
    statuses: list[str]
    hits: list[dict[str, Any]]
    exposure: list[dict[str, Any]]
    note: str


class LineDecisionModel(BaseModel):
    line_id: str
    shipment_id: str
    line_no: int
    source_ref: str
    goods: str
    decision: str = Field(
        ...,
        description="prohibited, license_required, review, authorized_by_general_license "
        "or allowed: the strongest effect of the rules that fired and were not set aside",
    )
    judged_on: date
    hs: HsModel
    route: dict[str, Any]
    rules: list[FiredRuleModel]
    general_licences_not_available: list[dict[str, str]]
    undetermined_rules: list[str]
    parties: list[PartyResultModel]
    what_would_change: list[str]


class CargoCheckResponse(BaseModel):
    decisions: list[LineDecisionModel]
    counts: dict[str, int]
    events: list[dict[str, Any]] = Field(
        ..., description="The events the lines would raise (not stored by this endpoint)"
    )


@router.post(
    "/cargo/check",
    response_model=CargoCheckResponse,
    summary="Decide shipment lines by the cargo rules",
    responses={
        400: {"model": ErrorResponse, "description": "Text that is not Unicode"},
        413: {"model": ErrorResponse, "description": "Body over WATCHKEEPER_API_MAX_BODY"},
        422: {"description": "A line's field is missing or malformed (the error names it)"},
    },
    dependencies=[ValidBody],
)
def cargo_check(body: CargoCheckRequest, state: StateDep, request: Request) -> dict[str, Any]:
    """For each line: the decision, every rule that fired (citation, the regulation's
    words, URL, why), the general licences that would apply but for a party or end use,
    the parties' and vessel's screening results, and what would change the answer."""
    from collections import Counter

    from watchkeeper.cargo.decide import (
        ScreenerChecks,
        cargo_events,
        check_lines,
        nomenclature_hs_check,
        with_graph_parties,
    )
    from watchkeeper.cargo.model import Party, ShipmentLine
    from watchkeeper.cargo.rules import bundled_rules

    lines = []
    for i, ln in enumerate(body.lines, 1):
        values = ln.model_dump(exclude={"parties", "transit_countries"})
        lines.append(
            ShipmentLine(
                **values,
                parties=tuple(Party(**p.model_dump()) for p in ln.parties),
                transit_countries=tuple(ln.transit_countries),
                source_ref=f"request:{i}",
                layout="api",
            )
        )
    checks = ScreenerChecks(state.screener)
    party: Callable[[str, str | None], Sequence[PartyHit]] = checks.party
    graph = _ownership(request, state, datetime.now(UTC).date())
    if graph is not None:
        party = with_graph_parties(checks.party, graph.exposed_party)
    decisions = check_lines(
        lines,
        hs_check=nomenclature_hs_check,
        party_checker=party,
        vessel_checker=checks.vessel,
        exposure_checker=graph.exposure if graph is not None else None,
        rules=bundled_rules(),
    )
    return {
        "decisions": [d.to_dict() for d in decisions],
        "counts": dict(Counter(d.decision for d in decisions)),
        "events": [e.to_dict() for e in cargo_events(decisions)],
    }


def _ownership(request: Request, state: ApiState, day: date) -> GraphOwnership | None:
    """The ownership graph as of ``day``, from the /graph endpoints' per-day cache of
    views and OFAC assessments on app state; None when no graph is loaded."""
    from watchkeeper.api.routers.graph import _assessed, _view
    from watchkeeper.graph.exposure import GraphOwnership
    from watchkeeper.graph.store import current_graph_versions

    if not current_graph_versions(state.store):
        return None
    view = _view(request, state, day)
    return GraphOwnership(view, _assessed(request, view, "ofac", day))
