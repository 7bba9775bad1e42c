"""The search and screening page (``/``): one name or a pasted list screened against
the lists, each result with the explanation of its score and any reviewed decision on
it; a signed-in analyst records "not a match" decisions from here (``POST /screen/decide``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from watchkeeper.api.service import (
    MatchOptions,
    audit_entry,
    dataset_scope,
    match_one,
    parse_query,
    record,
)
from watchkeeper.errors import InputError
from watchkeeper.screening.audit import AuditEntry, new_request_id
from watchkeeper.web.render import error_page, render, web_keys
from watchkeeper.web.security import ReaderDep, api_state, require_writer_form

router = APIRouter()

# A pasted list is screened line by line; longer lists go through the API or the CLI.
MAX_LIST = 200
MAX_NAME = 500
SCHEMAS = ("LegalEntity", "Person", "Organization", "Company", "Vessel", "Aircraft")


@dataclass
class Screened:
    """One name screened: its results (yente's shape, with ``explanations`` and, when
    reviewed, ``decision``) and the results reviewed decisions set aside."""

    name: str
    results: list[dict[str, Any]] = field(default_factory=list)
    suppressed: list[dict[str, Any]] = field(default_factory=list)


def names_of(q: str, pasted: str) -> list[str]:
    """The names to screen: ``q``, then each non-blank line of ``pasted`` (a CSV-ish
    line keeps only its first cell), without repeats, in order."""
    seen: dict[str, None] = {}
    for raw in [q, *pasted.splitlines()]:
        name = raw.split("\t")[0].strip().strip("\"'").strip()
        if name:
            seen.setdefault(name[:MAX_NAME].strip(), None)
    return list(seen)


@router.get("/")
async def search_page(
    request: Request,
    viewer: ReaderDep,
    q: str = "",
    names: str = "",
    schema: str = "LegalEntity",
    threshold: float | None = None,
) -> HTMLResponse:
    state = api_state(request)
    if schema not in SCHEMAS:
        return error_page(request, 400, f"Unknown schema {schema!r}: one of {', '.join(SCHEMAS)}.")
    limit = state.settings.match_threshold if threshold is None else threshold
    if not 0.0 <= limit <= 1.0:
        return error_page(request, 400, "The threshold is between 0 and 1.")
    wanted = names_of(q, names)
    too_many = len(wanted) > MAX_LIST
    wanted = wanted[:MAX_LIST]
    screened: list[Screened] = []
    if wanted:
        options = MatchOptions(dataset="default", threshold=limit, limit=5)
        scope = dataset_scope(state, "default", [], [])
        entries: list[AuditEntry] = []
        request_id = new_request_id()
        host = request.client.host if request.client else "unknown"
        actor = f"{viewer.name}@{host}" if viewer.name else host
        for i, name in enumerate(wanted):
            try:
                query, normalised = parse_query({"schema": schema, "properties": {"name": [name]}})
            except HTTPException as exc:
                return error_page(request, 400, f"{name!r}: {exc.detail}")
            response, audited = match_one(state, str(i), query, normalised, options, scope, None)
            screened.append(Screened(name, response["results"], response["suppressed"]))
            if state.audit is not None:
                entries.append(
                    audit_entry(
                        state,
                        request_id=request_id,
                        channel="web /",
                        actor=actor,
                        key=str(i),
                        query=query,
                        normalised=normalised,
                        params=options.to_audit(),
                        results=audited,
                    )
                )
        record(state, entries)
    return render(
        request,
        "search.html",
        q=q,
        names=names,
        schema=schema,
        schemas=SCHEMAS,
        threshold=limit,
        screened=screened,
        too_many=too_many,
        max_list=MAX_LIST,
        hits=sum(1 for s in screened for r in s.results if r["match"]),
    )


@router.post("/screen/decide", response_model=None)
async def add_decision(request: Request) -> HTMLResponse | RedirectResponse:
    """Record that a screened name is not a listed entity (reviewed false positive)."""
    viewer, form = await require_writer_form(request, web_keys(request))
    state = api_state(request)
    name = form.get("name", "").strip()
    schema = form.get("schema", "LegalEntity")
    entity_id = form.get("entity_id", "").strip()
    reason = form.get("reason", "").strip()
    if schema not in SCHEMAS:
        return error_page(request, 400, f"Unknown schema {schema!r}.")
    if not name or not entity_id:
        return error_page(request, 400, "A decision needs the screened name and the entity.")
    if not reason:
        return error_page(request, 400, "Say why it is not a match (the reason is kept).")
    if state.store.get_entity(entity_id) is None:
        return error_page(request, 404, f"No entity {entity_id!r} in the current lists.")
    try:
        state.decisions.add(
            schema, {"name": [name]}, entity_id, by=viewer.name or "", reason=reason
        )
    except InputError as exc:
        return error_page(request, 400, exc.describe())
    back = "/?" + urlencode({"q": name, "schema": schema})
    return RedirectResponse(back, status_code=303)
