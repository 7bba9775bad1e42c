"""``render(request, template, **ctx)``: a page from a Jinja2 template, autoescaped.

Every page gets ``viewer`` (signed in? may write?), ``csrf`` (the token its forms send
back in a hidden ``csrf`` field) and ``nav`` (the first path segment, to mark the current
menu entry), and is sent with the security headers of ``security.SECURITY_HEADERS``.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from watchkeeper import __version__
from watchkeeper.web.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    SECURITY_HEADERS,
    WebKeys,
    viewer_of,
)


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The templates of ``watchkeeper/web/templates``, every value HTML-escaped unless a
    template marks it safe (none should: build markup in the template, not in Python)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("watchkeeper.web", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["version"] = __version__
    env.globals["track_links"] = track_links
    return env


def track_links(subjects: list[str]) -> list[tuple[str, str]]:
    """(href, label) of the vessel and aircraft pages for an event's subjects, where its
    track is drawn with the event pinned on it."""
    out: list[tuple[str, str]] = []
    for s in subjects:
        kind, _, value = s.partition(":")
        if kind == "mmsi" and value.isdigit() and value != "0":
            out.append((f"/vessel/{value}", f"vessel {value}"))
        elif kind == "icao24" and value.isalnum():
            out.append((f"/aircraft/{value}", f"aircraft {value}"))
    return out


def web_keys(request: Request) -> WebKeys:
    keys: WebKeys = request.state.web_keys
    return keys


def render(request: Request, template: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
    """The page ``template`` filled with ``ctx``; sets the CSRF cookie when the browser
    has none yet."""
    keys = web_keys(request)
    nonce = request.cookies.get(CSRF_COOKIE)
    fresh = not nonce or len(nonce) > 64
    if fresh:
        nonce = secrets.token_urlsafe(24)
    assert nonce is not None
    page = (
        environment()
        .get_template(template)
        .render(
            request=request,
            viewer=viewer_of(request),
            csrf=keys.csrf_token(nonce),
            csrf_field=CSRF_FIELD,
            nav=request.url.path.strip("/").split("/")[0],
            **ctx,
        )
    )
    response = HTMLResponse(page, status_code=status_code, headers=SECURITY_HEADERS)
    if fresh:
        response.set_cookie(
            CSRF_COOKIE,
            nonce,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
    return response


def error_page(request: Request, status_code: int, message: str) -> HTMLResponse:
    """A page saying what went wrong (not found, bad query), with the layout around it."""
    return render(request, "error.html", status_code=status_code, message=message)
