"""Request and response bodies. The matching and search shapes are yente's
(``yente/data/common.py``), so OpenSanctions clients read them unchanged; fields that
yente does not have (``explanations``, ``decision``, ``provenance``...) are additions
such clients ignore."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Entity property values: strings, or nested entities (``sanctions``, ``addressEntity``
# in /entities with related entities folded in, as yente nests them).
EntityProperties = dict[str, list[Any]]


class ErrorResponse(BaseModel):
    detail: str = Field(..., examples=["Detailed error message"])


def token_errors(
    forbidden: str = "Role too low, or no token configured",
) -> dict[int | str, dict[str, Any]]:
    """The 401 and 403 answers of a router behind a user's or the API token, for the
    OpenAPI page; ``forbidden`` says when a token is refused."""
    return {
        401: {"model": ErrorResponse, "description": "No, wrong or disabled bearer token"},
        403: {"model": ErrorResponse, "description": forbidden},
    }


class ProvenanceModel(BaseModel):
    """Which list, entry and version an entity comes from."""

    source: str = Field(..., examples=["ofac_sdn"])
    entry_id: str = Field(..., examples=["12927"])
    version: str = Field(..., examples=["2024-05-03"])
    first_seen: str | None = None
    last_seen: str | None = None


class EntityResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str = Field(..., examples=["ofac-12927"])
    caption: str = Field(..., examples=["MAHAN AIR"])
    schema_: str = Field(..., examples=["Organization"], alias="schema")
    properties: EntityProperties = Field(..., examples=[{"name": ["MAHAN AIR"]}])
    datasets: list[str] = Field([], examples=[["ofac_sdn"]])
    referents: list[str] = Field([], examples=[["ofac-12927"]])
    target: bool = Field(False, description="A listed party itself (not an address or id).")
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    last_change: datetime | None = None
    provenance: list[ProvenanceModel] = Field(
        [], description="Watchkeeper: the list entries this entity comes from."
    )


class ExplanationModel(BaseModel):
    """Why points were won or lost: which query part matched which list name part."""

    feature: str = Field(..., examples=["name"])
    score: float = Field(..., examples=[0.93])
    detail: str = Field(..., examples=["'basher' ~ 'bashar' (edit distance 1)"])


class DecisionModel(BaseModel):
    """A reviewer's decision that this result is not the query's subject."""

    decision_id: int
    decision: str = Field(..., examples=["not_a_match"])
    decided_by: str
    decided_at: datetime
    reason: str


class ScoredEntityResponse(EntityResponse):
    score: float = Field(0.99, examples=[0.91])
    features: dict[str, float] = Field(default_factory=dict)
    match: bool = False
    explanations: list[ExplanationModel] = Field(
        [], description="Watchkeeper: per-feature reasons for the score."
    )
    derived: dict[str, Any] | None = Field(
        None,
        description="Watchkeeper: set when no list names this party but a regime blocks it "
        "through its owners: the rule ('kind': 'ofac_50_percent', ...), status and chain.",
    )
    decision: DecisionModel | None = Field(
        None,
        description="Watchkeeper: set when a reviewer decided this result is not a match; "
        "'match' is then false whatever the score.",
    )


class TotalSpec(BaseModel):
    value: int = Field(..., examples=[42])
    relation: str = Field("eq", examples=["eq"])


class EntityExample(BaseModel):
    """One query: an entity described by example (yente's ``EntityExample``)."""

    model_config = ConfigDict(populate_by_name=True)

    id: str | None = Field(None, examples=["my-entity-id"])
    schema_: str = Field(..., examples=["Person"], alias="schema")
    properties: dict[str, str | list[Any]] = Field(..., examples=[{"name": ["John Doe"]}])


class EntityMatchQuery(BaseModel):
    weights: dict[str, float] = Field(
        {},
        examples=[{"name_literal": 0.8}],
        description="yente's feature weights: accepted, not used (this matcher's features "
        "are listed under 'matcher').",
    )
    config: dict[str, Any] = Field(
        {}, description="Algorithm options: this matcher takes none (any key is an error)."
    )
    queries: dict[str, EntityExample]


class SuppressedModel(BaseModel):
    """A result dropped because a reviewer decided it is not a match."""

    id: str
    score: float
    decision_id: int


class EntityMatches(BaseModel):
    status: int = Field(200, examples=[200])
    results: list[ScoredEntityResponse]
    total: TotalSpec
    query: EntityExample
    suppressed: list[SuppressedModel] = Field(
        [], description="Watchkeeper: results left out by reviewed decisions (reviewed=drop)."
    )


class FeatureDoc(BaseModel):
    description: str | None = None
    coefficient: float
    url: str


class EntityMatchResponse(BaseModel):
    responses: dict[str, EntityMatches]
    matcher: dict[str, FeatureDoc]
    limit: int = Field(..., examples=[5])


class SearchFacetItem(BaseModel):
    name: str = Field(..., examples=["ir"])
    label: str = Field(..., examples=["Iran"])
    count: int = Field(1, examples=[42])


class SearchFacet(BaseModel):
    label: str = Field(..., examples=["Countries"])
    values: list[SearchFacetItem]


class SearchResponse(BaseModel):
    limit: int = Field(..., examples=[10])
    offset: int = Field(0, examples=[0])
    total: TotalSpec
    results: list[EntityResponse]
    facets: dict[str, SearchFacet]


class Algorithm(BaseModel):
    name: str
    description: str | None = None
    features: dict[str, FeatureDoc]


class AlgorithmResponse(BaseModel):
    algorithms: list[Algorithm]
    default: str
    best: str


class ListVersionModel(BaseModel):
    source: str
    version: str
    version_id: int


class HealthResponse(BaseModel):
    status: str = Field("ok", description="'ok', or 'failing' (answered 503) with a reason.")
    reason: str | None = Field(None, description="Why the server cannot screen now.")
    entities: int = Field(..., description="Listed parties the screener searches.")
    lists: list[ListVersionModel]
    audit: bool = Field(..., description="Whether screening requests are written to the audit log.")
    audit_writer: dict[str, Any] | None = Field(
        None,
        description="The audit writer: ok, state (writing, failing, dead, unanchored), "
        "detail, rows pending and written, rows made safe, batches retried row by row.",
    )
    rejected: dict[str, int] = Field(
        default_factory=dict,
        description="Requests refused at the edge since start: body_too_large (413), "
        "invalid_unicode (400).",
    )


class DecisionRequest(BaseModel):
    """Record that the subject of ``query`` is not the list entity ``entity_id``."""

    query: EntityExample
    entity_id: str = Field(..., examples=["ofac-12927"])
    by: str = Field(..., min_length=1, examples=["j.smith"], description="Who reviewed it.")
    reason: str = Field(..., min_length=1, examples=["Different date of birth and nationality"])
    decision: str = Field("not_a_match", examples=["not_a_match"])


class DecisionRecord(BaseModel):
    decision_id: int
    fingerprint: str
    entity_id: str
    decision: str
    decided_by: str
    decided_at: datetime
    reason: str
    query: dict[str, Any]
    revoked_by: str | None = None
    revoked_at: datetime | None = None
    revoke_reason: str | None = None
    new: bool | None = Field(None, description="On POST: false when the decision already existed.")


class DecisionList(BaseModel):
    decisions: list[DecisionRecord]


# yente's pattern for changed_since: a date, or a date and time.
TS_PATTERN = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
MAX_LIMIT = 500


class MatchParams(BaseModel):
    """The query string of /match (yente's names). One model, validated in one go:
    thirteen separate query parameters cost FastAPI ~1.4 ms a request here."""

    limit: int = Field(5, ge=1, le=MAX_LIMIT, title="Number of results to return")
    threshold: float | None = Field(
        None,
        ge=0,
        le=1,
        title="Score threshold for results to be considered matches "
        "(default: the server's WATCHKEEPER_MATCH_THRESHOLD, 0.7)",
    )
    cutoff: float | None = Field(
        None, ge=0, le=1, title="Lower bound of score for results to be returned at all"
    )
    algorithm: str = Field("watchkeeper-v1", title="Scoring algorithm")
    include_dataset: list[str] = Field([], title="Only include the given datasets in results")
    exclude_schema: list[str] = Field([], title="Remove the given types of entities from results")
    exclude_dataset: list[str] = Field([], title="Remove the given datasets from results")
    topics: list[str] = Field([], title="Only return results that match any of the given topics")
    changed_since: str | None = Field(
        None,
        pattern=TS_PATTERN,
        title="Match against entities that were added or changed since the given date",
    )
    exclude_entity_ids: list[str] = Field(
        [], max_length=50, title="A list of entity IDs to exclude from matching"
    )
    reviewed: Literal["mark", "drop"] = Field(
        "mark",
        title="Results a reviewer decided are not matches: 'mark' keeps them with "
        "match=false and the decision; 'drop' leaves them out (listed in 'suppressed').",
    )
