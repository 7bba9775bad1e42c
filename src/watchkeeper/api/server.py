"""How the API is served: one uvicorn process on asyncio's own event loop.

uvicorn's default loop is uvloop when it is installed. uvloop (libuv) takes one new
connection per turn of its event loop (``accept4`` once per ``epoll_wait``, seen with
strace), and a turn of a busy screening server is every request that is ready, tens of
milliseconds of screening. When many clients connect at once while it is busy (a
batch job starting 50 workers, clients reconnecting after a restart or an idle
timeout), the n-th connection waits n turns before its first request is even read:
under 50 closed-loop clients the last ones waited 0.3-1.8 s, and that was the p99 of
the whole run (API load benchmark, BENCHMARKS.md ``## api``). asyncio's loop accepts
every pending connection on one wake-up (up to the listen backlog), and on /match,
where screening costs far more than the loop, it serves as many requests per second.
The HTTP parser is still httptools when installed.
"""

from __future__ import annotations

from typing import Any

import uvicorn

# asyncio, not uvloop: see the module docstring.
EVENT_LOOP = "asyncio"


def server_options(
    *,
    host: str,
    port: int,
    access_log: bool = True,
    log_level: str = "info",
) -> dict[str, Any]:
    """uvicorn's settings for the API (``watchkeeper serve``, the load benchmark and the
    tests run it with these)."""
    return {
        "host": host,
        "port": port,
        "loop": EVENT_LOOP,
        "access_log": access_log,
        "log_level": log_level,
    }


def server_config(app: Any, **options: Any) -> uvicorn.Config:
    """A uvicorn ``Config`` for ``app`` with ``server_options(**options)``."""
    return uvicorn.Config(app, **server_options(**options))


def run(app: Any, **options: Any) -> None:
    """Serve ``app`` until interrupted; ``options`` as for ``server_options``."""
    uvicorn.run(app, **server_options(**options))
