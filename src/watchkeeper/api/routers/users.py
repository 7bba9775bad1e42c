"""``/users``: managing users and their tokens (admin role, or the API token).

A token is in the response that makes it (add, rotate) and nowhere else: only its
SHA-256 is stored. Every change is written to the audit log (channel 'users admin')."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field

from watchkeeper.api.deps import AdminDep, StateDep, ValidBody
from watchkeeper.api.models import ErrorResponse, token_errors
from watchkeeper.errors import InputError

router = APIRouter(
    tags=["Users"],
    responses=token_errors("Not an admin, or no token configured"),
)

NamePath = Annotated[str, Path(description="A user name")]


class UserOut(BaseModel):
    name: str
    role: str = Field(description="viewer | analyst | admin")
    created_at: datetime
    disabled_at: datetime | None


class UserWithToken(UserOut):
    token: str = Field(description="The bearer token, shown this once")


class UserList(BaseModel):
    users: list[UserOut]


class NewUser(BaseModel):
    name: str
    role: str = Field(description="viewer | analyst | admin")


def _refused(exc: InputError) -> HTTPException:
    found = "no user" in exc.message
    return HTTPException(404 if found else 400, detail=exc.describe())


@router.get("/users", response_model=UserList)
async def list_users_endpoint(state: StateDep, _who: AdminDep) -> dict[str, Any]:
    """Every user, enabled or not."""
    from watchkeeper.alerts.users import list_users

    return {"users": [u.to_dict() for u in list_users(state.store)]}


@router.post(
    "/users",
    response_model=UserWithToken,
    status_code=201,
    dependencies=[ValidBody],
    responses={400: {"model": ErrorResponse, "description": "Bad name or role, or taken"}},
)
async def add_user_endpoint(body: NewUser, state: StateDep, who: AdminDep) -> dict[str, Any]:
    """Add a user; the response holds their token (only its hash is kept)."""
    from watchkeeper.alerts.users import add_user

    try:
        user, token = add_user(state.store, body.name, body.role, actor=who.name)
    except InputError as exc:
        raise HTTPException(400, detail=exc.describe()) from exc
    return {**user.to_dict(), "token": token}


@router.post("/users/{name}/disable", response_model=UserOut)
async def disable_user_endpoint(name: NamePath, state: StateDep, who: AdminDep) -> dict[str, Any]:
    """Disable a user: their token gets 401 from now on."""
    from watchkeeper.alerts.users import disable_user

    try:
        return disable_user(state.store, name, actor=who.name).to_dict()
    except InputError as exc:
        raise _refused(exc) from exc


@router.post("/users/{name}/rotate", response_model=UserWithToken)
async def rotate_user_endpoint(name: NamePath, state: StateDep, who: AdminDep) -> dict[str, Any]:
    """A new token for a user (in the response); the old one stops working."""
    from watchkeeper.alerts.users import rotate_token

    try:
        user, token = rotate_token(state.store, name, actor=who.name)
    except InputError as exc:
        raise _refused(exc) from exc
    return {**user.to_dict(), "token": token}
