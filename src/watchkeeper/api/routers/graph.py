"""``/graph/...``: the questions users ask of the ownership and control graph, as of
a date: is a party blocked under a regime's ownership rule and why (``exposure``),
who owns it (``owners``), what it holds (``holdings``), how two parties are joined
(``paths``) and what is around it (``network``, as JSON, GraphML or GEXF).

A party is named by its id, an identifier (``imo:9255270``) or its exact name."""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from watchkeeper.api.deps import StateDep
from watchkeeper.api.models import ErrorResponse
from watchkeeper.errors import InputError
from watchkeeper.graph.queries import AmbiguousEntity, EntityNotFound

if TYPE_CHECKING:
    from watchkeeper.graph.control import ControlResult
    from watchkeeper.graph.view import GraphView

router = APIRouter(
    prefix="/graph",
    tags=["Ownership and control"],
    responses={
        400: {"model": ErrorResponse, "description": "Bad input, or a name several parties carry"},
        404: {"model": ErrorResponse, "description": "No party has this id or name"},
    },
)

Regime = Literal["ofac", "eu", "uk"]
# Views kept per server (lists and graph do not change while it runs: the store is
# open for writing by this process); a few dates, newest used last.
VIEW_CACHE_SIZE = 4


# -- response models ----------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class ChainStepModel(_Model):
    relation_id: str
    kind: str
    holder: str
    held: str
    share: str = Field(..., examples=["60%", "25-50%"])
    holder_status: str
    holder_listed: bool
    source_ref: str
    start: date | None
    end: date | None


class AggregateModel(_Model):
    low: float = Field(..., description="Held by blocked parties (fraction 0..1)")
    high: float = Field(..., description="The most it could be with uncertain holders")
    described: str


class ExposureModel(_Model):
    """Whether a party is blocked under a regime on a day, why, and the chain."""

    entity: str
    name: str
    regime: str
    as_of: date
    status: Literal["blocked", "possibly_blocked", "not_blocked"]
    listed: bool
    aggregate: AggregateModel
    threshold: float
    measure: str
    rule: str
    citation: str
    url: str
    margin: str
    controller: str | None = None
    chain: list[ChainStepModel]


class ShareModel(_Model):
    low: float
    high: float
    low_exclusive: bool
    high_exclusive: bool
    text: str


class RelationModel(_Model):
    id: str
    kind: str
    holder: str
    held: str
    share: ShareModel | None
    interests: list[str]
    direct: bool | None
    role: str
    start: date | None
    end: date | None
    source: str


class TreeModel(_Model):
    """A party in an owners or holdings tree; ``relation`` joins it to its parent."""

    id: str
    name: str
    schema_: str = Field(..., alias="schema")
    country: str | None
    unknown: bool
    listed: list[str]
    relation: RelationModel | None
    text: str
    cycle: bool = Field(..., description="Already on the way from the root: not followed")
    cut: bool = Field(..., description="It has branches deeper than the depth asked")
    children: list[TreeModel]


class StepModel(_Model):
    from_: str = Field(..., alias="from")
    to: str
    forward: bool = Field(..., description="Walked from the statement's holder to its held")
    text: str
    relation: RelationModel


class PathModel(_Model):
    length: int
    nodes: list[str]
    steps: list[StepModel]


class PathsModel(_Model):
    from_: str = Field(..., alias="from")
    to: str
    paths: list[PathModel]


class NodeModel(_Model):
    id: str
    name: str
    schema_: str = Field(..., alias="schema")
    country: str | None
    identifiers: dict[str, list[str]]
    unknown: bool
    listed: list[str]
    sources: list[str]


class NetworkModel(_Model):
    center: str
    depth: int
    truncated: bool
    nodes: list[NodeModel]
    relations: list[RelationModel]


# -- helpers ------------------------------------------------------------------------

AsOf = Annotated[date | None, Query(description="The day asked about (default today, UTC)")]
EntityPath = Annotated[str, Path(description="A party's id, identifier or exact name")]


def _day(as_of: date | None) -> date:
    return as_of if as_of is not None else datetime.now(UTC).date()


def _view(request: Request, state: StateDep, day: date) -> GraphView:
    from watchkeeper.graph.view import load_view

    cache: OrderedDict[date, GraphView] | None = getattr(request.app.state, "graph_views", None)
    if cache is None:
        cache = OrderedDict()
        request.app.state.graph_views = cache
    if day in cache:
        cache.move_to_end(day)
        return cache[day]
    view = load_view(state.store, day)
    cache[day] = view
    while len(cache) > VIEW_CACHE_SIZE:
        cache.popitem(last=False)
    return view


def _assessed(request: Request, view: GraphView, regime: Regime, day: date) -> ControlResult:
    from watchkeeper.graph.control import assess

    results: dict[tuple[date, str], ControlResult] | None = getattr(
        request.app.state, "graph_results", None
    )
    if results is None:
        results = {}
        request.app.state.graph_results = results
    views = request.app.state.graph_views
    for stale in [k for k in results if k[0] not in views]:
        del results[stale]  # its view left the cache
    if (day, regime) not in results:
        listed = view.listed.get(regime, set())
        results[(day, regime)] = assess(
            view.relations, listed, regime, as_of=day, unknown=view.unknown
        )
    return results[(day, regime)]


def _resolve(view: GraphView, entity: str) -> str:
    from watchkeeper.graph.queries import resolve

    try:
        return resolve(view, entity)
    except EntityNotFound as exc:
        raise HTTPException(404, detail=str(exc)) from exc
    except AmbiguousEntity as exc:
        raise HTTPException(400, detail=exc.describe()) from exc


def _bad(exc: InputError) -> HTTPException:
    return HTTPException(400, detail=exc.describe())


# -- endpoints ----------------------------------------------------------------------


@router.get("/exposure/{entity_id}", response_model=ExposureModel)
async def exposure(
    entity_id: EntityPath,
    request: Request,
    state: StateDep,
    regime: Annotated[Regime, Query(description="Whose rule: OFAC's 50% rule, EU, UK")] = "ofac",
    as_of: AsOf = None,
) -> dict[str, Any]:
    """Is the party blocked (listed, or by ownership or control), possibly blocked
    (a share range or an unknown holder could tip it: by how much) or not, under the
    regime's rule on ``as_of``; the rule's text and citation, and the chain of
    statements from the listed parties to it."""
    day = _day(as_of)
    view = _view(request, state, day)
    node_id = _resolve(view, entity_id)
    found = _assessed(request, view, regime, day).exposure(node_id)
    node = view.nodes.get(node_id)
    return {**found.to_dict(), "name": node.name if node is not None else node_id}


@router.get("/owners/{entity_id}", response_model=TreeModel, response_model_by_alias=True)
async def owners(
    entity_id: EntityPath,
    request: Request,
    state: StateDep,
    depth: Annotated[int, Query(ge=0, le=20, description="Levels up")] = 3,
    as_of: AsOf = None,
) -> dict[str, Any]:
    """Who holds shares, votes or control of the party, level by level, with each
    statement's share, dates and source; a cross-holding is marked, not followed."""
    from watchkeeper.graph.queries import owners as owners_tree

    view = _view(request, state, _day(as_of))
    try:
        return owners_tree(view, _resolve(view, entity_id), depth).to_dict()
    except InputError as exc:
        raise _bad(exc) from exc


@router.get("/holdings/{entity_id}", response_model=TreeModel, response_model_by_alias=True)
async def holdings(
    entity_id: EntityPath,
    request: Request,
    state: StateDep,
    depth: Annotated[int, Query(ge=0, le=20, description="Levels down")] = 3,
    as_of: AsOf = None,
) -> dict[str, Any]:
    """What the party holds, level by level, as ``owners`` the other way."""
    from watchkeeper.graph.queries import holdings as holdings_tree

    view = _view(request, state, _day(as_of))
    try:
        return holdings_tree(view, _resolve(view, entity_id), depth).to_dict()
    except InputError as exc:
        raise _bad(exc) from exc


@router.get("/paths", response_model=PathsModel, response_model_by_alias=True)
async def paths(
    request: Request,
    state: StateDep,
    a: Annotated[str, Query(min_length=1, description="One party")],
    b: Annotated[str, Query(min_length=1, description="The other party")],
    max_len: Annotated[int, Query(ge=1, le=10, description="Most steps")] = 6,
    kind: Annotated[list[str] | None, Query(description="Only these relation kinds")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Most paths")] = 10,
    as_of: AsOf = None,
) -> dict[str, Any]:
    """The shortest chains of statements joining two parties over any relation
    (ownership, directorship, family, association, vessel owner or manager, aircraft
    operator, links), every tied one up to ``limit``; each step told in words with its
    source and dates. An empty list when none is at most ``max_len`` steps."""
    from watchkeeper.graph.model import RELATION_KINDS
    from watchkeeper.graph.queries import paths as find_paths

    unknown = [k for k in kind or () if k not in RELATION_KINDS]
    if unknown:
        raise HTTPException(
            400, detail=f"unknown relation kind {unknown[0]!r} (known: {', '.join(RELATION_KINDS)})"
        )
    view = _view(request, state, _day(as_of))
    start, goal = _resolve(view, a), _resolve(view, b)
    found = find_paths(view, start, goal, max_len, set(kind) if kind else None, limit=limit)
    return {"from": start, "to": goal, "paths": [p.to_dict() for p in found]}


GRAPHML = "application/graphml+xml"
GEXF = "application/gexf+xml"


@router.get(
    "/network/{entity_id}",
    response_model=NetworkModel,
    response_model_by_alias=True,
    responses={
        200: {
            "content": {GRAPHML: {}, GEXF: {}},
            "description": "JSON, or GraphML / GEXF with format=graphml|gexf",
        }
    },
)
async def network(
    entity_id: EntityPath,
    request: Request,
    state: StateDep,
    depth: Annotated[int, Query(ge=0, le=6, description="Relations out")] = 1,
    format: Annotated[  # noqa: A002 - the documented query parameter's name
        Literal["json", "graphml", "gexf"], Query(description="json, graphml or gexf")
    ] = "json",
    max_nodes: Annotated[int, Query(ge=1, le=50_000, description="Most parties")] = 5000,
    as_of: AsOf = None,
) -> Any:
    """The parties within ``depth`` relations of the party and every statement among
    them, for a graph view; GraphML and GEXF open in Gephi, Cytoscape, yEd."""
    from watchkeeper.graph.export import to_gexf, to_graphml
    from watchkeeper.graph.queries import neighbourhood

    view = _view(request, state, _day(as_of))
    hood = neighbourhood(view, _resolve(view, entity_id), depth, max_nodes=max_nodes)
    if format == "graphml":
        return Response(to_graphml(hood.nodes, hood.relations, hood.listed), media_type=GRAPHML)
    if format == "gexf":
        return Response(to_gexf(hood.nodes, hood.relations, hood.listed), media_type=GEXF)
    return hood.to_dict()
