"""The alert queue (``/queue``, filtered by state, severity, rule and assignee), one
alert with its events, their evidence and its review trail (``/queue/{id}``), and the
review form (``POST /queue/{id}/review``: state, assignee and a note), which records
through ``watchkeeper.alerts.review`` as the CLI and API do."""

from __future__ import annotations

from collections import Counter
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from watchkeeper.alerts.evidence import resolve_evidence
from watchkeeper.alerts.review import TRANSITIONS, ReviewRefused, history, review
from watchkeeper.alerts.rules import SEVERITIES
from watchkeeper.alerts.store import STATES, Alert, get_alert, list_alerts
from watchkeeper.errors import InputError
from watchkeeper.web.render import error_page, render, web_keys
from watchkeeper.web.security import ReaderDep, api_state, require_writer_form

router = APIRouter()

PAGE = 100


def _choice(value: str, allowed: tuple[str, ...]) -> str | None:
    return value if value in allowed else None


@router.get("/queue")
async def alert_queue(
    request: Request,
    viewer: ReaderDep,
    state: str = "",
    severity: str = "",
    rule: str = "",
    assignee: str = "",
    page: int = 1,
) -> HTMLResponse:
    store = api_state(request).store
    if state and state not in STATES:
        return error_page(request, 400, f"Unknown state {state!r}: one of {', '.join(STATES)}.")
    if severity and severity not in SEVERITIES:
        return error_page(
            request, 400, f"Unknown severity {severity!r}: one of {', '.join(SEVERITIES)}."
        )
    everything = list_alerts(store)
    chosen = list_alerts(
        store, state=_choice(state, STATES), severity=_choice(severity, SEVERITIES)
    )
    if rule:
        chosen = [a for a in chosen if a.rule_id == rule]
    if assignee:
        chosen = [a for a in chosen if (a.assignee or "") == assignee]
    page = max(1, page)
    shown = chosen[(page - 1) * PAGE : page * PAGE]
    return render(
        request,
        "alerts.html",
        alerts=shown,
        total=len(chosen),
        page=page,
        pages=max(1, -(-len(chosen) // PAGE)),
        states=STATES,
        severities=SEVERITIES,
        rules=sorted({a.rule_id for a in everything}),
        assignees=sorted({a.assignee for a in everything if a.assignee}),
        by_state=Counter(a.state for a in everything),
        filters={"state": state, "severity": severity, "rule": rule, "assignee": assignee},
    )


@router.get("/queue/{alert_id}")
async def alert_page(request: Request, viewer: ReaderDep, alert_id: str) -> HTMLResponse:
    return _alert_view(request, alert_id)


def _alert_view(
    request: Request, alert_id: str, error: str = "", status_code: int = 200
) -> HTMLResponse:
    store = api_state(request).store
    try:
        detail = get_alert(store, alert_id)
    except InputError:
        return error_page(request, 404, f"No alert {alert_id!r}.")
    named_by: dict[str, list[str]] = {}
    for ev in detail.events:
        for ref in ev.evidence:
            named_by.setdefault(ref, []).append(ev.event_id)
    return render(
        request,
        "alert.html",
        alert=detail.alert,
        events=detail.events,
        evidence=resolve_evidence(store, named_by),
        trail=history(store, alert_id),
        moves=sorted(TRANSITIONS[detail.alert.state]),
        error=error,
        status_code=status_code,
    )


@router.post("/queue/{alert_id}/review", response_model=None)
async def review_alert(request: Request, alert_id: str) -> HTMLResponse | RedirectResponse:
    """One review call from the form: a state move, an assignee and a note (a
    dismissal's note is its reason). Refused moves come back to the page, saying why."""
    viewer, form = await require_writer_form(request, web_keys(request))
    store = api_state(request).store
    new_state = form.get("state", "").strip() or None
    note = form.get("note", "").strip() or None
    assign = form.get("assign", "").strip() or None
    reason = note if new_state == "dismissed" else None
    try:
        alert: Alert = get_alert(store, alert_id).alert
    except InputError:
        return error_page(request, 404, f"No alert {alert_id!r}.")
    if assign is not None and assign == (alert.assignee or ""):
        assign = None
    try:
        review(
            store,
            alert_id,
            actor=viewer.name or "",
            state=new_state,
            note=None if new_state == "dismissed" else note,
            reason=reason,
            assign=assign,
        )
    except ReviewRefused as exc:
        return _alert_view(request, alert_id, exc.message, 409)
    except InputError as exc:
        return _alert_view(request, alert_id, exc.message, 400)
    return RedirectResponse(f"/queue/{quote(alert_id, safe='')}#trail", status_code=303)
