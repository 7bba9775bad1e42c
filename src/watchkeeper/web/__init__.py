"""The web pages, served by ``watchkeeper serve`` at ``/`` beside the JSON API.

``web_router()`` is the one router the API app includes. Each page module in
``PAGE_MODULES`` is a module of this package with a ``router: APIRouter``; a module not
written yet is left out. Templates are in ``templates/`` (``base.html`` is the layout),
static files in ``static/`` (served at ``/static/``; JavaScript libraries under
``static/vendor/``). Pages render with ``watchkeeper.web.render.render``, reads depend
on ``security.ReaderDep``, forms that write call ``security.require_writer_form``.
"""

from __future__ import annotations

import importlib
from importlib import resources
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.staticfiles import StaticFiles

from watchkeeper.web.security import WebKeys

PAGE_MODULES = (
    "auth",
    "pages",
    "entity",
    "alerts",
    "cases",
    "documents",
    "map",
    "vessels",
    "network",
)

STATIC_DIR = Path(str(resources.files("watchkeeper.web") / "static"))


def web_router(keys: WebKeys | None = None) -> APIRouter:
    """Every page, and the static files at ``/static/``. ``keys`` signs the forms' CSRF
    tokens (a fresh key when not given)."""
    web_keys = keys or WebKeys()

    async def bind_keys(request: Request) -> None:
        request.state.web_keys = web_keys

    router = APIRouter(include_in_schema=False, dependencies=[Depends(bind_keys)])
    static = StaticFiles(directory=STATIC_DIR, check_dir=False)

    @router.get("/static/{path:path}", name="static")
    async def static_file(path: str, request: Request) -> Response:
        response = await static.get_response(path, request.scope)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers.setdefault("Cache-Control", "no-cache")
        return response

    for name in PAGE_MODULES:
        module_name = f"{__name__}.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        page_router = getattr(module, "router", None)
        if isinstance(page_router, APIRouter):
            router.include_router(page_router)
    return router


__all__ = ["PAGE_MODULES", "STATIC_DIR", "web_router"]
