"""The FastAPI application: ``create_app(settings)`` and the ASGI entry point."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from watchkeeper import __version__
from watchkeeper.api.guards import RequestGuard
from watchkeeper.api.routers import (
    alerts,
    cargo,
    cases,
    decisions,
    graph,
    local_cli,
    match,
    search,
    system,
    users,
)
from watchkeeper.api.state import ApiState
from watchkeeper.screening import Screener
from watchkeeper.settings import Settings
from watchkeeper.store import Store
from watchkeeper.web import web_router

DESCRIPTION = """Screening against official sanctions lists, compatible with yente's
`/match` and `/search` (OpenSanctions clients work unchanged), with explanations for every
score, reviewed false positives (`/decisions`, bearer token) and an audit log of every
screening request."""


def create_app(
    settings: Settings,
    store: Store | None = None,
    *,
    screener: Screener | None = None,
) -> FastAPI:
    """The API over ``store`` (or the store file named in ``settings``, opened here and
    closed on shutdown). The screener is built before the app is returned, so the
    first request does not pay for it."""
    state = ApiState.build(settings, store, screener)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The screening index is hundreds of thousands of long-lived objects; a full
        # garbage collection walking them took over a second here, stalling every
        # request in flight. Frozen, they are left out of collections.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            state.close()

    app = FastAPI(
        title="Watchkeeper",
        description=DESCRIPTION,
        version=__version__,
        lifespan=lifespan,
    )
    app.state.watchkeeper = state
    # Outside every router: a body over the cap is refused before it is read whole.
    app.add_middleware(RequestGuard, max_body=settings.api_max_body, rejects=state.rejects)
    app.include_router(match.router)
    app.include_router(search.router)
    app.include_router(decisions.router)
    app.include_router(system.router)
    app.include_router(graph.router)
    app.include_router(cargo.router)
    app.include_router(alerts.router)
    app.include_router(cases.router)
    app.include_router(users.router)
    app.include_router(local_cli.router)  # the CLI's reads while serve holds the store
    app.include_router(web_router())  # the web pages at / and /static/
    return app
