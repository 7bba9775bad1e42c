"""``/healthz``, ``/algorithms`` and ``/catalog``: what the server runs and searches."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from watchkeeper.api.deps import StateDep
from watchkeeper.api.models import AlgorithmResponse, HealthResponse
from watchkeeper.api.service import ALGORITHM, ALGORITHM_DESCRIPTION, matcher_docs
from watchkeeper.api.state import ALL_LISTS

router = APIRouter()


@router.get(
    "/healthz",
    tags=["System information"],
    response_model=HealthResponse,
    responses={503: {"model": HealthResponse, "description": "The audit writer is failing"}},
)
async def healthz(state: StateDep) -> JSONResponse:
    """The server is up and can screen: which list versions it screens against, how
    many parties, the audit writer's state, and the requests refused at the edge.
    503, with the reason, when screening requests are refused because the audit log
    cannot be written (or its writer has stopped)."""
    writer = state.audit.status() if state.audit is not None else None
    ok = writer is None or bool(writer["ok"])
    body = {
        "status": "ok" if ok else "failing",
        "reason": None if ok or writer is None else writer["detail"],
        "entities": state.entity_count,
        "lists": state.list_versions,
        "audit": state.audit is not None,
        "audit_writer": writer,
        "rejected": state.rejects.to_dict(),
    }
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/algorithms", tags=["System information"], response_model=AlgorithmResponse)
async def algorithms() -> dict[str, Any]:
    """The scoring algorithms this server has (yente's shape)."""
    return {
        "algorithms": [
            {"name": ALGORITHM, "description": ALGORITHM_DESCRIPTION, "features": matcher_docs()}
        ],
        "default": ALGORITHM,
        "best": ALGORITHM,
    }


@router.get("/catalog", tags=["System information"])
async def catalog(state: StateDep) -> dict[str, Any]:
    """The datasets a request can name: each loaded list, and the collections of all."""
    lists = [
        {
            "name": v["source"],
            "title": v["source"],
            "version": v["version"],
            "load": True,
            "index_current": True,
            "children": [],
        }
        for v in state.list_versions
    ]
    names = [v["source"] for v in state.list_versions]
    collections = [
        {
            "name": name,
            "title": "All lists",
            "version": max((v["version"] for v in state.list_versions), default=""),
            "load": True,
            "index_current": True,
            "children": names,
        }
        for name in sorted(ALL_LISTS)
    ]
    return {
        "datasets": collections + lists,
        "current": sorted(ALL_LISTS) + names,
        "outdated": [],
        "index_stale": False,
    }
