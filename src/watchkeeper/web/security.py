"""Who may read and write the web pages, and the forms' CSRF tokens.

The same rule as the API: with no ``WATCHKEEPER_API_TOKEN`` set and no users on record,
pages are open to read from this machine (loopback addresses; the server binds 127.0.0.1
unless told otherwise) and nothing can be written; otherwise every page needs a token (the API token, an admin's, or a user's
from ``watchkeeper users add``, with its role: a viewer reads, an analyst also reviews),
either as ``Authorization: Bearer <token>`` or as the session cookie the login form sets
(``HttpOnly``, ``SameSite=Strict``). Every form that
writes carries a CSRF token: an HMAC, under a key made when the server starts, of a
random cookie the browser holds; a POST whose token does not match is refused (403).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated
from urllib.parse import parse_qs, quote, urlsplit

import duckdb
from fastapi import Depends, HTTPException, Request

if TYPE_CHECKING:
    from watchkeeper.api.state import ApiState

SESSION_COOKIE = "wk_session"
CSRF_COOKIE = "wk_csrf"
CSRF_FIELD = "csrf"

# Scripts only from this server's own files (no inline script can run, so escaped user
# text that slipped through could still not execute); MapLibre runs its workers from
# blob: URLs and draws tiles from data:/blob: images.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; worker-src 'self' blob:; child-src 'self' blob:; "
    "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    # Pages hold what a token guards: no copy kept by the browser or a proxy.
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class WebKeys:
    """The key CSRF tokens are signed with: made once per server process."""

    csrf_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def csrf_token(self, nonce: str) -> str:
        return hmac.new(self.csrf_key, nonce.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, nonce: str | None, given: str | None) -> bool:
        if not nonce or not given:
            return False
        return hmac.compare_digest(self.csrf_token(nonce), given)


@dataclass(frozen=True)
class Viewer:
    """Who is looking. ``token_required``: a token (the API token, or a user's) is
    configured, so pages need one; ``name``/``role``: who gave a valid one (the API token
    is ``api-token``, an admin). Writing needs a token given: an unconfigured server is
    read-only, as the API is."""

    token_required: bool
    name: str | None = None
    role: str | None = None

    @property
    def signed_in(self) -> bool:
        return self.name is not None

    def may(self, needed: str) -> bool:
        """Whether the viewer holds ``needed`` (viewer < analyst < admin)."""
        from watchkeeper.alerts.users import has_role

        return self.role is not None and has_role(self.role, needed)

    @property
    def can_write(self) -> bool:
        return self.may("analyst")


API_TOKEN_ACTOR = "api-token"


def api_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.watchkeeper
    return state


def _given_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(SESSION_COOKIE) or None


def token_matches(configured: str, given: str | None) -> bool:
    return given is not None and secrets.compare_digest(
        given.encode("utf-8", "surrogatepass"), configured.encode("utf-8", "surrogatepass")
    )


def _users_exist(state: ApiState) -> bool:
    from watchkeeper.alerts.users import any_users

    try:
        return any_users(state.store)
    except duckdb.Error:
        return False  # a store from before users existed


def identify(state: ApiState, given: str | None) -> Viewer:
    """The viewer a token names: the API token (an admin), an enabled user's token, or
    nobody."""
    from watchkeeper.alerts.users import authenticate

    configured = state.settings.api_token
    users = _users_exist(state)
    required = bool(configured) or users
    if given:
        if configured and token_matches(configured, given):
            return Viewer(required, API_TOKEN_ACTOR, "admin")
        if users:
            user = authenticate(state.store, given)
            if user is not None and user.enabled:
                return Viewer(required, user.name, user.role)
    return Viewer(required)


def viewer_of(request: Request) -> Viewer:
    return identify(api_state(request), _given_token(request))


def is_loopback(host: str | None) -> bool:
    """Whether a client address is this machine (127.0.0.0/8, ::1)."""
    if not host:
        return False
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return host == "localhost"


async def require_reader(request: Request) -> Viewer:
    """With no token configured, pages are open to this machine only (403 for any other
    address: set a token to serve them further); otherwise the token is needed, and a
    page asked without it redirects (303) to the login form, which comes back here."""
    viewer = viewer_of(request)
    if not viewer.token_required:
        if not is_loopback(request.client.host if request.client else None):
            raise HTTPException(
                403,
                detail="With no token set (WATCHKEEPER_API_TOKEN or users), the pages are "
                "open to this machine only.",
            )
        return viewer
    if not viewer.signed_in:
        back = quote(_local_path(request.url.path, request.url.query), safe="")
        raise HTTPException(
            303, detail="Sign in first.", headers={"Location": f"/login?next={back}"}
        )
    return viewer


ReaderDep = Annotated[Viewer, Depends(require_reader)]


def _local_path(path: str, query: str = "") -> str:
    """A redirect target on this server only (never ``//host`` or ``https://...``)."""
    target = path + (f"?{query}" if query else "")
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    # Browsers drop tabs and newlines from a URL: "/\t/evil.example" would be "//...".
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return "/"
    return target


def safe_next(value: str | None) -> str:
    if not value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return _local_path(parts.path, parts.query)


MAX_FORM_BYTES = 1024 * 1024


async def read_form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body as {name: last value}. (Parsed here:
    FastAPI's ``Form`` needs python-multipart, which Watchkeeper does not install.)"""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise HTTPException(415, detail="Forms are sent as application/x-www-form-urlencoded.")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(413, detail=f"The form is over {MAX_FORM_BYTES:,} bytes.")
    try:
        text = body.decode("ascii")
        parsed = parse_qs(text, keep_blank_values=True, errors="strict", max_num_fields=1000)
    except (UnicodeDecodeError, ValueError) as exc:
        raise HTTPException(400, detail=f"The form cannot be read: {exc}") from exc
    return {k: v[-1] for k, v in parsed.items()}


def _same_origin(request: Request) -> bool:
    """A browser's POST names the page it came from; one from another site is refused
    even before the CSRF token is looked at."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc == host


async def require_writer_form(request: Request, keys: WebKeys) -> tuple[Viewer, dict[str, str]]:
    """A form that writes: the token (header or session cookie) and a valid CSRF token.
    Returns the viewer and the form's fields."""
    viewer = viewer_of(request)
    if not viewer.token_required:
        raise HTTPException(
            403,
            detail="Writing is off: no API token is set (WATCHKEEPER_API_TOKEN) and no "
            "user has one (watchkeeper users add).",
        )
    if not viewer.signed_in:
        raise HTTPException(401, detail="Sign in with a token to change anything.")
    if not viewer.can_write:
        raise HTTPException(403, detail=f"{viewer.name} is a {viewer.role}: this needs an analyst.")
    form = await read_form(request)
    check_csrf(request, keys, form)
    return viewer, form


def check_csrf(request: Request, keys: WebKeys, form: dict[str, str]) -> None:
    if not _same_origin(request):
        raise HTTPException(403, detail="The form was sent from another site.")
    if not keys.csrf_ok(request.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD)):
        raise HTTPException(
            403, detail="The form's CSRF token is missing or stale: reload the page and retry."
        )
