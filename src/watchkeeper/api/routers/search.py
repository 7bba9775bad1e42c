"""``GET /search/{dataset}`` (yente's simple name search) and ``GET /entities/{id}``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from itertools import islice
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, HTTPException, Path, Query, Response
from followthemoney import model, registry

from watchkeeper.api.deps import ActorDep, StateDep
from watchkeeper.api.models import TS_PATTERN, EntityResponse, ErrorResponse, SearchResponse
from watchkeeper.api.routers.match import DatasetPath
from watchkeeper.api.service import (
    TOPIC,
    changed_scope,
    dataset_scope,
    parse_query,
    query_echo,
    record,
)
from watchkeeper.screening.audit import AuditEntry, new_request_id
from watchkeeper.store import StoredEntity

router = APIRouter()

MAX_PAGE = 500
MAX_OFFSET = 9500
COUNTRY_PROPS = ("country", "nationality", "citizenship", "jurisdiction", "flag")


def _first_last(entity: StoredEntity) -> tuple[str | None, str | None]:
    first = [p.first_seen for p in entity.provenance if p.first_seen]
    last = [p.last_seen for p in entity.provenance if p.last_seen]
    return (min(first) if first else None, max(last) if last else None)


def entity_json(
    entity: StoredEntity, properties: dict[str, list[Any]] | None = None
) -> dict[str, Any]:
    """An entity in yente's ``EntityResponse`` shape, plus its list provenance."""
    first, last = _first_last(entity)
    props = dict(properties if properties is not None else entity.properties)
    if entity.primary:
        props.setdefault("topics", [TOPIC])
    return {
        "id": entity.id,
        "caption": entity.caption,
        "schema": entity.schema,
        "properties": props,
        "datasets": entity.datasets,
        "referents": [],
        "target": entity.primary,
        "first_seen": first,
        "last_seen": last,
        "last_change": last,
        "provenance": [p.to_dict() for p in entity.provenance],
    }


def nested_json(entity: StoredEntity, related: Iterable[StoredEntity]) -> dict[str, Any]:
    """The entity with the entities of its list entry folded into its properties, as
    yente nests them: its sanctions under ``sanctions``, an address entity under
    ``addressEntity``, identifications under ``identification``..."""
    schema = model.get(entity.schema)
    props: dict[str, list[Any]] = {k: list(v) for k, v in entity.properties.items()}
    by_id = {r.id: r for r in related}
    used: set[str] = set()
    if schema is not None:
        for name, values in list(props.items()):
            prop = schema.get(name)
            if prop is not None and prop.type == registry.entity:
                nested: list[Any] = []
                for value in values:
                    if value in by_id:
                        nested.append(entity_json(by_id[value]))
                        used.add(value)
                    else:
                        nested.append(value)
                props[name] = nested
    for other in by_id.values():
        if other.id in used:
            continue
        other_schema = model.get(other.schema)
        if other_schema is None:
            continue
        for name, values in other.properties.items():
            prop = other_schema.get(name)
            if (
                prop is not None
                and prop.type == registry.entity
                and entity.id in values
                and prop.reverse is not None
            ):
                props.setdefault(prop.reverse.name, []).append(entity_json(other))
                used.add(other.id)
                break
    return entity_json(entity, props)


def _facets(results: list[StoredEntity], wanted: list[str]) -> dict[str, Any]:
    counters: dict[str, Counter[str]] = {
        "countries": Counter(),
        "datasets": Counter(),
        "schema": Counter(),
        "topics": Counter(),
    }
    for e in results:
        counters["datasets"].update(e.datasets)
        counters["schema"][e.schema] += 1
        counters["topics"][TOPIC] += 1
        countries = {c for p in COUNTRY_PROPS for c in e.get(p)}
        counters["countries"].update(countries)
    labels = {
        "countries": "Countries",
        "datasets": "Data sources",
        "schema": "Entity types",
        "topics": "Topics",
    }
    facets: dict[str, Any] = {}
    for name in wanted:
        if name not in counters:
            continue
        values = []
        for value, count in counters[name].most_common():
            if name == "countries":
                label = registry.country.caption(value) or value
            elif name == "schema":
                s = model.get(value)
                label = s.plural if s is not None else value
            else:
                label = value
            values.append({"name": value, "label": label, "count": count})
        facets[name] = {"label": labels[name], "values": values}
    return facets


@router.get(
    "/search/{dataset}",
    summary="Simple entity search",
    tags=["Matching"],
    response_model=SearchResponse,
    responses={400: {"model": ErrorResponse}, 404: {"model": ErrorResponse}},
)
async def search(
    dataset: DatasetPath,
    state: StateDep,
    actor: ActorDep,
    q: Annotated[str, Query(title="Query text (a name)")] = "",
    schema: Annotated[str, Query(title="Types of entities that can match the search")] = "Thing",
    include_dataset: Annotated[list[str] | None, Query(title="Only these datasets")] = None,
    exclude_schema: Annotated[list[str] | None, Query(title="Leave out these schemata")] = None,
    exclude_dataset: Annotated[list[str] | None, Query(title="Leave out these datasets")] = None,
    changed_since: Annotated[
        str | None, Query(pattern=TS_PATTERN, title="Entities added or changed since")
    ] = None,
    countries: Annotated[list[str] | None, Query(title="Filter by country codes")] = None,
    topics: Annotated[list[str] | None, Query(title="Filter by topics")] = None,
    datasets: Annotated[list[str] | None, Query(title="Filter by data sources")] = None,
    limit: Annotated[int, Query(title="Number of results to return", ge=0, le=MAX_PAGE)] = 10,
    offset: Annotated[int, Query(title="Start at result", ge=0, le=MAX_OFFSET)] = 0,
    facets: Annotated[list[str] | None, Query(title="Facets to count")] = None,
) -> Response:
    """Search the lists by name: fuzzy, across scripts and spellings, best first (the
    screening matcher with one name). For screening a described party, use /match."""
    schema_obj = model.get(schema)
    if schema_obj is None:
        raise HTTPException(400, detail="Invalid schema")
    include = list(include_dataset or []) + list(datasets or [])
    scope, exclude = dataset_scope(state, dataset, include, exclude_dataset or [])
    changed = changed_scope(state, changed_since)
    excluded_schemata = set(exclude_schema or [])
    wanted_countries = {c.lower() for c in countries or []}

    def keep(e: StoredEntity) -> bool:
        entity_schema = model.get(e.schema)
        if entity_schema is None or not entity_schema.is_a(schema_obj.name):
            return False
        if e.schema in excluded_schemata:
            return False
        if scope is not None and not scope.intersection(e.datasets):
            return False
        if exclude and set(e.datasets) <= exclude:
            return False
        if changed is not None and e.id not in changed:
            return False
        if wanted_countries and not wanted_countries & {c for p in COUNTRY_PROPS for c in e.get(p)}:
            return False
        return not (topics and TOPIC not in topics)

    request_id = new_request_id()
    if not q.strip():
        found = [e for e in state.entities() if keep(e)]
        page = found[offset : offset + limit]
        total = len(found)
        relation = "eq"
    else:
        query, normalised = parse_query({"schema": schema_obj.name, "properties": {"name": [q]}})
        wanted = min(MAX_PAGE + MAX_OFFSET, (offset + limit) * 3 + 20)
        hits = state.screener.screen(
            query,
            limit=wanted,
            datasets=scope,
            exclude_datasets=exclude,
            changed_since=changed,
        )
        found = [h.entity for h in hits if keep(h.entity)]
        page = found[offset : offset + limit]
        total = len(found)
        # The matcher stopped at ``wanted``: there may be more below.
        relation = "gte" if len(hits) >= wanted else "eq"
        if state.audit is not None:
            record(
                state,
                [
                    AuditEntry(
                        request_id=request_id,
                        channel=f"api /search/{dataset}",
                        actor=actor,
                        query_key="q",
                        fingerprint=normalised.fingerprint if normalised else "",
                        query=query_echo(query),
                        params={"limit": limit, "offset": offset, "schema": schema_obj.name},
                        results=[
                            {
                                "id": h.entity.id,
                                "caption": h.entity.caption,
                                "score": round(h.score, 4),
                                "match": h.match,
                            }
                            for h in islice(
                                (h for h in hits if keep(h.entity)), offset, offset + limit
                            )
                        ],
                        list_versions=state.list_versions,
                    )
                ],
            )
    content = {
        "limit": limit,
        "offset": offset,
        "total": {"value": total, "relation": relation},
        "results": [entity_json(e) for e in page],
        "facets": _facets(found, facets or ["countries", "topics", "datasets"]),
    }
    return Response(
        orjson.dumps(content), media_type="application/json", headers={"x-request-id": request_id}
    )


@router.get(
    "/entities/{entity_id}",
    tags=["Data access"],
    response_model=EntityResponse,
    responses={404: {"model": ErrorResponse, "description": "Entity not found"}},
)
async def fetch_entity(
    entity_id: Annotated[str, Path(description="ID of the entity", examples=["ofac-12927"])],
    state: StateDep,
    nested: Annotated[
        bool, Query(title="Include the entities of its list entry (sanctions, addresses, ids)")
    ] = True,
) -> Response:
    """One entity from the current lists, merged across the lists that carry it, with
    its provenance (list, entry, version, first and last seen) and, nested, the
    sanctions, addresses and identifications of its entry."""
    found = state.store.get_entity(entity_id)
    if found is None:
        raise HTTPException(404, detail="No such entity!")
    entity, related = found
    data = nested_json(entity, related) if nested else entity_json(entity)
    return Response(orjson.dumps(data), media_type="application/json")
