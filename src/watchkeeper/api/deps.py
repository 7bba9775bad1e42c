"""FastAPI dependencies, declared once as ``Annotated`` aliases (as yente's routers/util.py).

They are ``async`` although they do not wait for anything: FastAPI runs a plain ``def``
dependency in a worker thread, and those thread hand-offs cost more than the
dependencies themselves."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, get_origin

from fastapi import Depends, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError

from watchkeeper.api.guards import refuse_invalid_body
from watchkeeper.api.models import MatchParams
from watchkeeper.api.state import ApiState

_bearer = HTTPBearer(
    auto_error=False,
    description="The API token from WATCHKEEPER_API_TOKEN; needed by endpoints that write.",
)


async def get_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.watchkeeper
    return state


StateDep = Annotated[ApiState, Depends(get_state)]


async def require_writer(
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


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: a user (``users`` table) or the API token's holder."""

    name: str
    role: str  # 'viewer' | 'analyst' | 'admin'


# The holder of WATCHKEEPER_API_TOKEN acts as an admin under this name.
API_TOKEN_ACTOR = "api-token"
_UNAUTHORIZED = HTTPException(
    401,
    detail="A valid 'Authorization: Bearer <token>' header is required.",
    headers={"WWW-Authenticate": "Bearer"},
)


async def principal(
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The token's holder. As for /decisions: with neither an API token
    (WATCHKEEPER_API_TOKEN) nor any user these endpoints are off (403); otherwise a
    token is needed (401 without one, with a wrong one, or with a disabled user's). The
    API token is an admin. Comparisons are constant-time."""
    from watchkeeper.alerts.users import any_users, authenticate

    api_token = state.settings.api_token
    if not api_token and not any_users(state.store):
        raise HTTPException(
            403,
            detail="These endpoints are off: no API token is set (WATCHKEEPER_API_TOKEN) "
            "and no user exists (watchkeeper users add).",
        )
    if credentials is None:
        raise _UNAUTHORIZED
    given = credentials.credentials
    # Both checks always run: which one matched does not show in the time taken.
    is_api_token = bool(api_token) and secrets.compare_digest(
        given.encode("utf-8", "surrogatepass"), (api_token or "").encode()
    )
    user = authenticate(state.store, given)
    if is_api_token:
        return Principal(API_TOKEN_ACTOR, "admin")
    if user is None or not user.enabled:
        raise _UNAUTHORIZED
    return Principal(user.name, user.role)


def _role(needed: str) -> Callable[[Principal], Awaitable[Principal]]:
    async def require(who: Annotated[Principal, Depends(principal)]) -> Principal:
        from watchkeeper.alerts.users import has_role

        if not has_role(who.role, needed):
            raise HTTPException(403, detail=f"{who.name} is a {who.role}; this needs {needed}.")
        return who

    return require


ViewerDep = Annotated[Principal, Depends(_role("viewer"))]
AnalystDep = Annotated[Principal, Depends(_role("analyst"))]
AdminDep = Annotated[Principal, Depends(_role("admin"))]


async def valid_body(request: Request, state: StateDep) -> None:
    """400 naming the field when the JSON body holds text that is not Unicode (a lone
    surrogate such as ``"\\ud800"``): it could be neither audited nor answered. The
    body is already parsed by then (FastAPI keeps it), so this reads nothing twice."""
    try:
        body = await request.json()
    except ValueError:
        return  # not JSON: the body's own validation answers
    try:
        refuse_invalid_body(body)
    except HTTPException:
        state.rejects.invalid_unicode += 1
        raise


# Endpoints with a JSON body declare ``dependencies=[ValidBody]``.
ValidBody = Depends(valid_body)


async def client_actor(
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


_MATCH_FIELDS = MatchParams.model_fields
_LIST_FIELDS = frozenset(n for n, f in _MATCH_FIELDS.items() if get_origin(f.annotation) is list)


async def match_params(request: Request) -> MatchParams:
    """/match's query string, validated by one pydantic call. (Declared as thirteen
    query parameters, FastAPI spent ~0.8 ms a request collecting them; the OpenAPI
    document still lists each, see ``match_params_openapi``.) Unknown names are
    ignored, as yente ignores them."""
    query = request.query_params
    data: dict[str, Any] = {}
    for key in query:
        if key in _MATCH_FIELDS:
            data[key] = query.getlist(key) if key in _LIST_FIELDS else query[key]
    try:
        return MatchParams.model_validate(data)
    except ValidationError as exc:
        errors = [{**e, "loc": ("query", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from exc


MatchParamsDep = Annotated[MatchParams, Depends(match_params)]


def match_params_openapi() -> list[dict[str, Any]]:
    """The OpenAPI ``parameters`` of /match's query string, from ``MatchParams``."""
    schema = MatchParams.model_json_schema()
    definitions = schema.get("$defs", {})
    params = []
    for name, prop in schema["properties"].items():
        if "$ref" in prop:
            prop = definitions[prop["$ref"].split("/")[-1]]
        params.append(
            {
                "name": name,
                "in": "query",
                "required": False,
                "description": prop.get("title", ""),
                "schema": {k: v for k, v in prop.items() if k != "title"},
            }
        )
    return params
