"""The search and screening page (``/``) and the entity page (``/entity/{id}``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from watchkeeper.web.render import render
from watchkeeper.web.security import ReaderDep

router = APIRouter()


@router.get("/")
async def search_page(request: Request, viewer: ReaderDep, q: str = "") -> HTMLResponse:
    return render(request, "search.html", q=q)
