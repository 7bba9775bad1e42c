"""A read command that meets the store held by ``watchkeeper serve``: have that server
run it (``POST /_local/cli``) and print what it printed.

DuckDB lets no other process open a file ``serve`` holds, not even to read. ``serve``
writes ``<db>.server`` with its URL and a per-run secret (mode 0600, so only its user
reads it); a command that opened the store read-only sends its arguments, working
directory and console (width, colours) there, then writes the server's stdout and
stderr byte for byte and exits with its code. Anything else (a write command, no
secret, the server unreachable or refusing) keeps the store error, exit 3.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

from rich.console import Console

from watchkeeper.errors import StoreError

# A read command may scan the whole store (screening builds its index): allow it time.
TIMEOUT_SECONDS = 3600.0


def _console_facts(console: Console, stream: Any) -> dict[str, Any]:
    return {
        "width": console.width,
        "height": console.height,
        "color_system": console.color_system,
        "is_terminal": console.is_terminal,
        "is_interactive": console.is_interactive,
        "no_color": console.no_color,
        "encoding": getattr(stream, "encoding", None) or "utf-8",
        "errors": getattr(stream, "errors", None) or "strict",
    }


def read_through_server(exc: StoreError, argv: list[str]) -> int | None:
    """Run ``watchkeeper ARGV`` in the server that holds the store ``exc`` could not
    open, print its output, and return its exit code; None when it cannot be done
    (not a read-only open, no live server with a secret, unreachable, refused): the
    caller then reports ``exc`` as before."""
    from watchkeeper.cli.common import console, err_console
    from watchkeeper.store.db import SERVED_STORE, HeldByServer

    if not isinstance(exc, HeldByServer) or not exc.read_only or SERVED_STORE.get():
        return None
    url, secret = exc.server.get("url"), exc.server.get("secret")
    if not isinstance(url, str) or not isinstance(secret, str) or not secret:
        return None
    body = {
        "argv": argv,
        "prog": os.path.basename(sys.argv[0]) or "watchkeeper",
        "cwd": os.getcwd(),
        "db": os.path.abspath(exc.path),
        "db_as_given": exc.path,
        "stdout": _console_facts(console, sys.stdout),
        "stderr": _console_facts(err_console, sys.stderr),
    }
    request = urllib.request.Request(
        f"{url}/_local/cli",
        data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {secret}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as resp:
            answer = json.loads(resp.read())
        code = int(answer["exit_code"])
        out = base64.b64decode(answer["stdout"], validate=True)
        err = base64.b64decode(answer["stderr"], validate=True)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # unreachable, refused (HTTPError is an OSError) or not understood
    sys.stderr.write(f"(read through watchkeeper serve at {url}, pid {exc.server['pid']})\n")
    sys.stderr.flush()
    _write(sys.stdout, out)
    _write(sys.stderr, err)
    return code


def _write(stream: Any, data: bytes) -> None:
    """Bytes to a text stream, through its buffer when it has one."""
    stream.flush()
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        buffer.write(data)
        buffer.flush()
    else:
        stream.write(data.decode(getattr(stream, "encoding", None) or "utf-8", "replace"))
        stream.flush()
