"""What the API refuses before anything is screened: a request body over the size cap
(413) and text that is not valid Unicode (400, naming the field), counted for /healthz.

A lone UTF-16 surrogate (JSON ``"\\ud800"``) is a Python string that cannot be written
as UTF-8: not to the audit log, not into a response. It is refused at the edge, where
the client can be told which field to fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson
from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass
class Rejects:
    """Requests refused at the edge since the server started (reported by /healthz).
    Only the event loop's thread counts, so plain integers do."""

    body_too_large: int = 0
    invalid_unicode: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"body_too_large": self.body_too_large, "invalid_unicode": self.invalid_unicode}


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a streamed body passes the cap. An HTTPException, so
    FastAPI's body reader passes it on (any other error there becomes a 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=_too_large(limit))


def _too_large(limit: int) -> str:
    return (
        f"Request body too large: the limit is {limit:,} bytes (WATCHKEEPER_API_MAX_BODY); "
        "send fewer queries per request"
    )


def _show(text: str) -> str:
    """``text`` for an error message: as is when it is valid, escaped when it is not."""
    return text if invalid_at(text) is None else ascii(text)


def invalid_at(text: str) -> str | None:
    """Why ``text`` is not valid Unicode (a lone surrogate and where), None when it is."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (
            f"a lone UTF-16 surrogate (U+{ord(text[exc.start]):04X}) at character "
            f"{exc.start + 1}, which is not a character"
        )
    return None


def first_invalid_text(value: Any, where: str) -> str | None:
    """The first string in a JSON value (keys included) that is not valid Unicode, as
    ``'<path>': why``; None when every string is valid."""
    if isinstance(value, str):
        why = invalid_at(value)
        return None if why is None else f"{where}: {why}"
    if isinstance(value, dict):
        for key, item in value.items():
            key_text = str(key)
            why = invalid_at(key_text)
            if why is not None:
                return f"{where}: the key {ascii(key_text)}: {why}"
            found = first_invalid_text(item, f"{where}.{key_text}")
            if found is not None:
                return found
        return None
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = first_invalid_text(item, f"{where}[{i}]")
            if found is not None:
                return found
    return None


def refuse_invalid_body(body: Any) -> None:
    """400 naming the field when the parsed JSON body holds text that is not Unicode."""
    found = first_invalid_text(body, "body")
    if found is not None:
        raise HTTPException(
            400, detail=f"Invalid Unicode in field {found}; send UTF-8 text (no lone surrogates)"
        )


def _not_utf8(raw: bytes) -> str | None:
    try:
        unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"byte 0x{exc.object[exc.start]:02X} at byte {exc.start + 1} is not UTF-8"
    return None


def invalid_url_text(scope: Scope) -> str | None:
    """Why the request's path or query string is not UTF-8 once %-decoded (naming the
    query parameter), None when it is. (Starlette would read such bytes as U+FFFD and
    screen a name the client never sent.)"""
    raw_path = scope.get("raw_path")
    if isinstance(raw_path, bytes) and (b"%" in raw_path or not raw_path.isascii()):
        why = _not_utf8(raw_path)
        if why is not None:
            return f"the path: {why}"
    query: bytes = scope.get("query_string", b"")
    if not query or (query.isascii() and b"%" not in query):
        return None
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        shown = unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8", "replace")
        why = _not_utf8(name)
        if why is not None:
            return f"a query parameter name ({_show(shown)!r}): {why}"
        why = _not_utf8(value)
        if why is not None:
            return f"query parameter {_show(shown)!r}: {why}"
    return None


async def _send_error(send: Send, status: int, detail: str) -> None:
    body = orjson.dumps({"detail": detail})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestGuard:
    """ASGI middleware: 413 for a body over ``max_body`` bytes (by its Content-Length,
    before reading it, or as it streams in), 400 for a path or query string that is
    not UTF-8. Each refusal is counted in ``rejects``."""

    def __init__(self, app: ASGIApp, *, max_body: int, rejects: Rejects) -> None:
        self.app = app
        self.max_body = max_body
        self.rejects = rejects

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        why = invalid_url_text(scope)
        if why is not None:
            self.rejects.invalid_unicode += 1
            await _send_error(send, 400, f"Invalid Unicode in {why}; send UTF-8 text")
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_body:
                    self.rejects.body_too_large += 1
                    await _send_error(send, 413, _too_large(self.max_body))
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    self.rejects.body_too_large += 1
                    raise BodyTooLarge(self.max_body)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge as exc:  # read outside FastAPI's handlers
            if started:
                raise
            await _send_error(send, 413, str(exc.detail))
