"""FastAPI dependencies, declared once as ``Annotated`` aliases (as yente's routers/util.py)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from watchkeeper.api.state import ApiState

_bearer = HTTPBearer(
    auto_error=False,
    description="The API token from WATCHKEEPER_API_TOKEN; needed by endpoints that write.",
)


def get_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.watchkeeper
    return state


StateDep = Annotated[ApiState, Depends(get_state)]


def require_writer(
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """Endpoints that write take ``Authorization: Bearer <api_token>``; with no token
    configured they are off (403), so an unconfigured server is read-only."""
    token = state.settings.api_token
    if not token:
        raise HTTPException(
            403, detail="Endpoints that write are off: no API token is set (WATCHKEEPER_API_TOKEN)."
        )
    given = credentials.credentials if credentials is not None else ""
    if credentials is None or not secrets.compare_digest(given.encode(), token.encode()):
        raise HTTPException(
            401,
            detail="A valid 'Authorization: Bearer <token>' header is required.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return "api token"


WriterDep = Annotated[str, Depends(require_writer)]


def client_actor(
    request: Request,
    user: Annotated[
        str | None,
        Header(
            alias="X-Watchkeeper-User",
            description="Who is screening, as the client says (recorded in the audit log).",
        ),
    ] = None,
) -> str:
    """The audit log's actor: the client's address, and the user it names, if any."""
    host = request.client.host if request.client else "unknown"
    return f"{user.strip()[:200]}@{host}" if user and user.strip() else host


ActorDep = Annotated[str, Depends(client_actor)]
