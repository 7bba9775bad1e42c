"""The network view (``/network?entity=ID``) and its JSON (``/web/api/network``): the
parties around an entity, grown by the ones the analyst expands, each with its status
under a regime's ownership rule, and every statement among them with its kind and share.

A statement is on a *blocked path* when it is a step of the chain that makes a shown
party blocked (``graph.control``'s explanation), or when a blocked party holds, owns,
manages or operates through it (a listed owner's vessel, a blocked company's share).
The same set of parties exports as GraphML (``format=graphml``) for Gephi or yEd."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse

from watchkeeper.api.deps import StateDep
from watchkeeper.api.routers.graph import GRAPHML, _assessed, _resolve, _view
from watchkeeper.graph.control import ControlResult
from watchkeeper.graph.model import CONTROL_KINDS, Relation
from watchkeeper.graph.queries import NodeLike, neighbourhood, node_dict, relation_dict
from watchkeeper.graph.view import GraphView
from watchkeeper.web.render import error_page, render
from watchkeeper.web.security import ReaderDep

router = APIRouter()

Regime = Literal["ofac", "eu", "uk"]
# Parties one neighbourhood adds at most, and the most the view holds.
MAX_PER_HOOD = 300
MAX_NODES = 2_000
MAX_EXPANDED = 50
# A blocked holder's statement of these kinds carries the block to what it holds.
CARRYING_KINDS = CONTROL_KINDS | {"vessel_owner", "vessel_manager", "aircraft_operator"}


def network(
    view: GraphView, result: ControlResult, center: str, expanded: list[str]
) -> dict[str, Any]:
    """The center's neighbourhood and each expanded party's, merged; parties with their
    status, statements with ``blocked_path``; ``truncated`` when a cap was reached."""
    nodes: dict[str, NodeLike] = {}
    relations: dict[str, Relation] = {}
    listed: dict[str, list[str]] = {}
    truncated = False
    for party in [center, *expanded]:
        hood = neighbourhood(view, party, 1, max_nodes=MAX_PER_HOOD)
        truncated = truncated or hood.truncated
        for node in hood.nodes:
            if node.id not in nodes and len(nodes) >= MAX_NODES:
                truncated = True
                continue
            nodes.setdefault(node.id, node)
            listed[node.id] = hood.listed.get(node.id, [])
        for rel in hood.relations:
            if rel.holder in nodes and rel.held in nodes:
                relations[rel.id] = rel
    status = {node_id: result.status(node_id) for node_id in nodes}
    on_chain: set[str] = set()
    margins: dict[str, str] = {}
    for node_id, code in status.items():
        if code == "not_blocked":
            continue
        found = result.exposure(node_id)
        margins[node_id] = found.margin
        on_chain.update(step.relation_id for step in found.chain)
    out_nodes = []
    for node_id, node in nodes.items():
        item = node_dict(node, listed.get(node_id, ()))
        item.update(
            status=status[node_id],
            why=margins.get(node_id, ""),
            center=node_id == center,
            expanded=node_id in expanded,
        )
        out_nodes.append(item)
    out_relations = []
    for rel in sorted(relations.values(), key=lambda r: r.id):
        item = relation_dict(rel)
        item["blocked_path"] = rel.id in on_chain or (
            status.get(rel.holder) == "blocked" and rel.kind in CARRYING_KINDS
        )
        out_relations.append(item)
    return {
        "center": center,
        "regime": result.regime.name,
        "as_of": result.as_of.isoformat(),
        "truncated": truncated,
        "nodes": out_nodes,
        "relations": out_relations,
    }


def _day(as_of: date | None) -> date:
    return as_of if as_of is not None else datetime.now(UTC).date()


@router.get("/web/api/network")
async def network_json(
    request: Request,
    state: StateDep,
    _viewer: ReaderDep,
    entity: Annotated[str, Query(min_length=1, description="A party's id, identifier or name")],
    expand: Annotated[
        list[str] | None, Query(description="Parties whose neighbours to add")
    ] = None,
    regime: Regime = "ofac",
    as_of: date | None = None,
    format: Annotated[  # noqa: A002 - the query parameter's name, as /graph/network's
        Literal["json", "graphml"], Query()
    ] = "json",
) -> Any:
    """The network around ``entity`` and the ``expand``ed parties, as JSON for the
    view or as GraphML."""
    from watchkeeper.graph.export import to_graphml

    if expand and len(expand) > MAX_EXPANDED:
        raise HTTPException(400, detail=f"at most {MAX_EXPANDED} expanded parties")
    day = _day(as_of)
    view = _view(request, state, day)
    center = _resolve(view, entity)
    expanded = [_resolve(view, e) for e in expand or ()]
    found = network(view, _assessed(request, view, regime, day), center, expanded)
    if format == "graphml":
        ids = {n["id"] for n in found["nodes"]}
        rel_ids = {r["id"] for r in found["relations"]}
        nodes = [view.nodes[i] for i in ids if i in view.nodes]
        rels = [r for r in view.relations if r.id in rel_ids]
        listed = {n["id"]: n["listed"] for n in found["nodes"]}
        return Response(
            to_graphml(sorted(nodes, key=lambda n: n.id), rels, listed),
            media_type=GRAPHML,
            headers={"Content-Disposition": 'attachment; filename="network.graphml"'},
        )
    return found


@router.get("/network", response_class=HTMLResponse)
async def network_page(
    request: Request,
    state: StateDep,
    _viewer: ReaderDep,
    entity: str | None = None,
    regime: Regime = "ofac",
) -> HTMLResponse:
    """The network view; with no entity, a form asking for one."""
    name = None
    if entity:
        view = _view(request, state, _day(None))
        try:
            center = _resolve(view, entity)
        except HTTPException as exc:
            return error_page(request, exc.status_code, str(exc.detail))
        node = view.nodes.get(center)
        name = node.name if node is not None else center
        entity = center
    page = {"entity": entity, "regime": regime}
    return render(request, "network.html", entity=entity, name=name, regime=regime, page=page)
