"""``/login`` and ``/logout``: the API token kept in a session cookie (``HttpOnly``,
``SameSite=Strict``, ``Secure`` over HTTPS), so a browser can use the pages a token
guards."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from watchkeeper.web.render import render, web_keys
from watchkeeper.web.security import (
    SESSION_COOKIE,
    api_state,
    check_csrf,
    read_form,
    safe_next,
    token_matches,
)

router = APIRouter()


@router.get("/login")
async def login_form(request: Request, next: str = "/") -> HTMLResponse:
    token_set = bool(api_state(request).settings.api_token)
    return render(request, "login.html", next=safe_next(next), token_set=token_set, failed=False)


@router.post("/login", response_model=None)
async def login(request: Request) -> Response:
    form = await read_form(request)
    check_csrf(request, web_keys(request), form)
    target = safe_next(form.get("next"))
    configured = api_state(request).settings.api_token
    if not configured:
        raise HTTPException(
            403, detail="No API token is set (WATCHKEEPER_API_TOKEN): nothing to sign in to."
        )
    if not token_matches(configured, form.get("token", "").strip()):
        return render(
            request, "login.html", status_code=401, next=target, token_set=True, failed=True
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        configured,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> RedirectResponse:
    form = await read_form(request)
    check_csrf(request, web_keys(request), form)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
