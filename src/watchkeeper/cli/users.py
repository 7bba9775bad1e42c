"""``watchkeeper users``: the people who read (viewer), review (analyst) and manage users
(admin), each with a bearer token for the API.

A token is printed once, when made (``add``, ``rotate``); only its SHA-256 is stored.
The CLI acts as ``--as NAME`` (else $WATCHKEEPER_USER, else the login name): once an
enabled admin exists, only an enabled admin may change users; before that (the first
admin, or a store whose admins are all disabled) whoever can write the store file can."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from watchkeeper.cli.alerts import AsOption, local_user
from watchkeeper.cli.common import DbOption, JsonOption, console, open_db, print_json

if TYPE_CHECKING:
    from watchkeeper.alerts.users import User
    from watchkeeper.store import Store

NameArg = Annotated[str, typer.Argument(help="The user's name.")]


def _require_admin(store: Store, actor: str) -> None:
    from watchkeeper.alerts.users import list_users, require_local_role

    if any(u.enabled and u.role == "admin" for u in list_users(store)):
        require_local_role(store, actor, "admin")


def _print_token(user: User, token: str, json_out: bool) -> None:
    if json_out:
        print_json({**user.to_dict(), "token": token})
        return
    console.print(f"{user.name} ({user.role}); token, shown this once:", highlight=False)
    # plain print: a token must be copyable as is, with no wrapping or markup
    typer.echo(token)


def add(
    name: NameArg,
    role: Annotated[str, typer.Option("--role", help="viewer, analyst or admin")],
    as_user: AsOption = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Add a user and print their bearer token (once: only its hash is kept)."""
    from watchkeeper.alerts.users import add_user

    actor = local_user(as_user)
    with open_db(db) as store:
        _require_admin(store, actor)
        user, token = add_user(store, name, role, actor=actor)
    _print_token(user, token, json_out)


def list_command(db: DbOption = None, json_out: JsonOption = False) -> None:
    """Users, their roles, and whether they are disabled."""
    from watchkeeper.alerts.users import list_users

    with open_db(db, read_only=True) as store:
        users = list_users(store)
    if json_out:
        print_json([u.to_dict() for u in users])
        return
    table = Table("user", "role", "created (UTC)", "disabled (UTC)")
    for u in users:
        table.add_row(
            u.name,
            u.role,
            f"{u.created_at:%Y-%m-%d %H:%M}",
            f"{u.disabled_at:%Y-%m-%d %H:%M}" if u.disabled_at else "",
        )
    console.print(table)
    console.print(f"{len(users)} user(s)")


def disable(
    name: NameArg, as_user: AsOption = None, db: DbOption = None, json_out: JsonOption = False
) -> None:
    """Disable a user: their token is refused from now on; they stay in the trail."""
    from watchkeeper.alerts.users import disable_user

    actor = local_user(as_user)
    with open_db(db) as store:
        _require_admin(store, actor)
        user = disable_user(store, name, actor=actor)
    if json_out:
        print_json(user.to_dict())
        return
    console.print(f"{user.name} disabled", highlight=False)


def rotate(
    name: NameArg, as_user: AsOption = None, db: DbOption = None, json_out: JsonOption = False
) -> None:
    """Give a user a new token (printed once); the old one stops working."""
    from watchkeeper.alerts.users import rotate_token

    actor = local_user(as_user)
    with open_db(db) as store:
        _require_admin(store, actor)
        user, token = rotate_token(store, name, actor=actor)
    _print_token(user, token, json_out)


def register(app: typer.Typer) -> None:
    users_app = typer.Typer(help="Users and roles (viewer, analyst, admin) with API tokens.")
    users_app.command("add")(add)
    users_app.command("list")(list_command)
    users_app.command("disable")(disable)
    users_app.command("rotate")(rotate)
    app.add_typer(users_app, name="users")
