"""Cases (``/casebook``, ``/casebook/{id}``; the JSON API has ``/cases``): alerts grouped by ``watchkeeper cases build``
into one story, with the case's score, its timeline of alerts and events, its map and
network (the case file's own drawings) and every piece of evidence."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from watchkeeper.alerts.cases import get_case, list_cases
from watchkeeper.errors import InputError
from watchkeeper.web.render import error_page, render
from watchkeeper.web.security import ReaderDep, api_state

router = APIRouter()


@router.get("/casebook")
async def case_list(request: Request, viewer: ReaderDep) -> HTMLResponse:
    cases = sorted(list_cases(api_state(request).store), key=lambda c: -c.score)
    return render(request, "cases.html", cases=cases)


def drawings(request: Request, case_id: str) -> tuple[Markup, Markup, Markup]:
    """The case file's timeline, map and network as SVG. ``casefile`` builds them with
    every value HTML-escaped (its ``h``), so they are marked safe here as they are."""
    from watchkeeper.alerts.casefile import (
        _colours,
        gather_case,
        map_svg,
        network_svg,
        timeline_svg,
    )

    cf = gather_case(api_state(request).store, case_id)
    colours = _colours([e.type for e in cf.events])
    return (
        Markup(timeline_svg(cf.events, colours)),  # noqa: S704 - escaped by casefile.h
        Markup(map_svg(cf.events, cf.tracks, colours, cf.labels)),  # noqa: S704
        Markup(network_svg(cf.case, cf.labels)),  # noqa: S704
    )


@router.get("/casebook/{case_id}")
async def case_page(request: Request, viewer: ReaderDep, case_id: str) -> HTMLResponse:
    try:
        detail = get_case(api_state(request).store, case_id)
    except InputError:
        return error_page(request, 404, f"No case {case_id!r}.")
    timeline_svg, map_svg, network_svg = drawings(request, case_id)
    return render(
        request,
        "case.html",
        case=detail.case,
        alerts=detail.alerts,
        timeline=detail.timeline,
        evidence=detail.evidence,
        domains=detail.subjects_by_domain,
        timeline_svg=timeline_svg,
        map_svg=map_svg,
        network_svg=network_svg,
    )
