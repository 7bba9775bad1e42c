"""Users and roles: who may read alerts, review them, and manage users.

Roles are ranked: ``viewer`` reads, ``analyst`` also reviews, ``admin`` also manages
users. Each user has one bearer token, shown once when made (``add``, ``rotate``);
only its SHA-256 is stored (``users.token_hash``). A disabled user stays on record (the
review trail names them) but their token no longer works.

Every change to a user is written to the hash-chained audit log (channel
``users admin``) in the same transaction; the token and its hash never are.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from watchkeeper.alerts.audited import write_audited
from watchkeeper.errors import InputError
from watchkeeper.screening.audit import AuditEntry, AuditRecord, new_request_id
from watchkeeper.store import Store

ROLES = ("viewer", "analyst", "admin")
_RANK = {role: i for i, role in enumerate(ROLES)}
USERS_CHANNEL = "users admin"
# Actors that are not users: the engine, and the API's WATCHKEEPER_API_TOKEN holder.
RESERVED_NAMES = frozenset({"system", "api-token"})
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


@dataclass(frozen=True)
class User:
    name: str
    role: str
    created_at: datetime
    disabled_at: datetime | None

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "created_at": self.created_at,
            "disabled_at": self.disabled_at,
        }


def has_role(role: str, needed: str) -> bool:
    """True when ``role`` includes what ``needed`` may do (admin > analyst > viewer)."""
    return _RANK.get(role, -1) >= _RANK[needed]


def token_hash(token: str) -> str:
    """The stored form of a bearer token: hex SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    """A bearer token: 'wk_' and 256 random bits, URL-safe."""
    return "wk_" + secrets.token_urlsafe(32)


def check_name(name: str) -> str:
    """A user name: 1-64 letters, digits, '.', '_', '@', '-', starting with a letter or
    digit; not 'system' or 'api-token'."""
    if not _NAME.fullmatch(name):
        raise InputError(
            None,
            f"user name {name!r}: 1-64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit",
            field="name",
        )
    if name in RESERVED_NAMES:
        raise InputError(None, f"user name {name!r} is reserved", field="name")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError(None, f"unknown role {role!r}; one of {', '.join(ROLES)}", field="role")
    return role


def _user(row: Sequence[Any]) -> User:
    return User(row[0], row[1], row[2], row[3])


def list_users(store: Store) -> list[User]:
    rows = store.con.execute(
        "SELECT name, role, created_at, disabled_at FROM users ORDER BY name"
    ).fetchall()
    return [_user(r) for r in rows]


def get_user(store: Store, name: str) -> User | None:
    row = store.con.execute(
        "SELECT name, role, created_at, disabled_at FROM users WHERE name = ?", [name]
    ).fetchone()
    return _user(row) if row else None


def any_users(store: Store) -> bool:
    row = store.con.execute("SELECT count(*) FROM users").fetchone()
    return bool(row and row[0])


def authenticate(store: Store, token: str) -> User | None:
    """The user whose token this is (enabled or not: the caller refuses a disabled one),
    None for no user. Every stored hash is compared, in constant time, with no early
    exit: how long it takes says nothing about which user or how close."""
    given = token_hash(token).encode("ascii")
    rows = store.con.execute(
        "SELECT name, role, created_at, disabled_at, token_hash FROM users"
    ).fetchall()
    found: User | None = None
    for row in rows:
        if hmac.compare_digest(given, str(row[4]).encode("ascii")):
            found = _user(row)
    return found


def require_local_role(store: Store, name: str, needed: str) -> None:
    """The CLI's check of its ``--as`` user. With no users at all the store is used by
    one person and any name is taken as given; once users exist, ``name`` must be an
    enabled user with ``needed`` (or a higher role)."""
    if not any_users(store):
        return
    user = get_user(store, name)
    if user is None:
        raise InputError(
            None,
            f"no user {name!r} (--as, WATCHKEEPER_USER or the login name); "
            "see 'watchkeeper users list'",
            field="as",
        )
    if not user.enabled:
        raise InputError(None, f"user {name!r} is disabled", field="as")
    if not has_role(user.role, needed):
        raise InputError(
            None, f"user {name!r} is a {user.role}; this needs the {needed} role", field="as"
        )


def _entry(actor: str, action: str, name: str, role: str) -> AuditEntry:
    return AuditEntry(
        request_id=new_request_id(),
        channel=USERS_CHANNEL,
        actor=actor,
        query_key=name,
        fingerprint=f"user:{action}",
        query={"action": action, "name": name, "role": role},
        params={},
        results=[],
    )


def _change(
    store: Store,
    actor: str,
    action: str,
    name: str,
    change: Callable[[duckdb.DuckDBPyConnection, User | None], User],
) -> User:
    def prepare(
        con: duckdb.DuckDBPyConnection,
    ) -> tuple[list[AuditEntry], Callable[[duckdb.DuckDBPyConnection, list[AuditRecord]], User]]:
        row = con.execute(
            "SELECT name, role, created_at, disabled_at FROM users WHERE name = ?", [name]
        ).fetchone()
        user = change(con, _user(row) if row else None)
        return [_entry(actor, action, name, user.role)], lambda _con, _records: user

    return write_audited(store, prepare)


def add_user(store: Store, name: str, role: str, *, actor: str) -> tuple[User, str]:
    """A new user and their token (shown once: only its hash is kept)."""
    check_name(name)
    check_role(role)
    token = new_token()

    def change(con: duckdb.DuckDBPyConnection, old: User | None) -> User:
        if old is not None:
            raise InputError(None, f"user {name!r} exists already", field="name")
        user = User(name, role, datetime.now(UTC), None)
        con.execute(
            "INSERT INTO users (name, role, token_hash, created_at) VALUES (?, ?, ?, ?)",
            [name, role, token_hash(token), user.created_at],
        )
        return user

    return _change(store, actor, "add", name, change), token


def _existing(name: str, old: User | None) -> User:
    if old is None:
        raise InputError(None, f"no user {name!r}", field="name")
    return old


def disable_user(store: Store, name: str, *, actor: str) -> User:
    """Disable ``name``: their token is refused from now on. Disabling twice is an error."""

    def change(con: duckdb.DuckDBPyConnection, old: User | None) -> User:
        user = _existing(name, old)
        if not user.enabled:
            raise InputError(None, f"user {name!r} is disabled already", field="name")
        when = datetime.now(UTC)
        con.execute("UPDATE users SET disabled_at = ? WHERE name = ?", [when, name])
        return User(user.name, user.role, user.created_at, when)

    return _change(store, actor, "disable", name, change)


def rotate_token(store: Store, name: str, *, actor: str) -> tuple[User, str]:
    """A new token for an enabled user; the old one stops working at once."""
    token = new_token()

    def change(con: duckdb.DuckDBPyConnection, old: User | None) -> User:
        user = _existing(name, old)
        if not user.enabled:
            raise InputError(None, f"user {name!r} is disabled", field="name")
        con.execute("UPDATE users SET token_hash = ? WHERE name = ?", [token_hash(token), name])
        return user

    return _change(store, actor, "rotate", name, change), token
