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
    identify,
    read_form,
    safe_next,
    viewer_of,
)

router = APIRouter()


@router.get("/login")
async def login_form(request: Request, next: str = "/") -> HTMLResponse:
    token_set = viewer_of(request).token_required
    return render(request, "login.html", next=safe_next(next), token_set=token_set, failed=False)


@router.post("/login", response_model=None)
async def login(request: Request) -> Response:
    form = await read_form(request)
    check_csrf(request, web_keys(request), form)
    target = safe_next(form.get("next"))
    token = form.get("token", "").strip()
    viewer = identify(api_state(request), token)
    if not viewer.token_required:
        raise HTTPException(
            403,
            detail="No token is set on this server (WATCHKEEPER_API_TOKEN, or users): nothing to sign in to.",
        )
    if not viewer.signed_in:
        return render(
            request, "login.html", status_code=401, next=target, token_set=True, failed=True
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
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
