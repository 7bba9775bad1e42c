"""Each source's health (last success, last error, lag, checkpoint, backoff) and the
``/healthz`` endpoint that reports it: 200 while every source is healthy, 503 once one
has failed ``fail_threshold`` times in a row."""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class SourceHealth:
    """One source's state; every method holds the lock (the TCP reader is a thread)."""

    name: str
    kind: str
    initial_s: float = 1.0
    max_s: float = 300.0
    last_success: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    failures: int = 0  # consecutive
    retry_at: float = 0.0  # time.monotonic() before which the source is not tried
    delay_s: float = 0.0
    lag_s: float = 0.0
    pending_bytes: int = 0
    checkpoint: dict[str, Any] | None = None
    set_aside: dict[str, str] = field(default_factory=dict)  # drop files left alone: why
    rng: random.Random = field(default_factory=random.Random)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self) -> None:
        with self.lock:
            self.last_success = datetime.now(UTC)
            self.failures = 0
            self.delay_s = 0.0
            self.retry_at = 0.0

    def failed(self, error: str) -> float:
        """Record a failure; returns the delay (s) before the next try: exponential in
        the consecutive failures, capped, with jitter (half fixed, half random) so many
        sources failing at once do not retry in step."""
        with self.lock:
            self.failures += 1
            self.last_error = error
            self.last_error_at = datetime.now(UTC)
            full = min(self.max_s, self.initial_s * 2 ** (self.failures - 1))
            self.delay_s = full / 2 + self.rng.uniform(0, full / 2)
            self.retry_at = time.monotonic() + self.delay_s
            return self.delay_s

    def due(self) -> bool:
        with self.lock:
            return time.monotonic() >= self.retry_at

    def to_dict(self, threshold: int) -> dict[str, Any]:
        with self.lock:
            waiting = max(0.0, self.retry_at - time.monotonic())
            return {
                "name": self.name,
                "kind": self.kind,
                "healthy": self.failures < threshold,
                "last_success": self.last_success.isoformat() if self.last_success else None,
                "last_error": self.last_error,
                "last_error_at": self.last_error_at.isoformat() if self.last_error_at else None,
                "consecutive_failures": self.failures,
                "lag_seconds": round(self.lag_s, 3),
                "pending_bytes": self.pending_bytes,
                "checkpoint": self.checkpoint,
                "set_aside": dict(self.set_aside),
                "backoff": {"delay_seconds": round(self.delay_s, 3), "retry_in": round(waiting, 3)},
            }


@dataclass
class Health:
    sources: dict[str, SourceHealth] = field(default_factory=dict)
    threshold: int = 5
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    batches: int = 0
    last_batch: dict[str, Any] | None = None

    def report(self) -> tuple[int, dict[str, Any]]:
        sources = [s.to_dict(self.threshold) for s in self.sources.values()]
        healthy = all(s["healthy"] for s in sources)
        body = {
            "status": "ok" if healthy else "failing",
            "started": self.started.isoformat(),
            "batches": self.batches,
            "last_batch": self.last_batch,
            "sources": sources,
        }
        return (200 if healthy else 503), body


def serve_health(health: Health, host: str, port: int) -> ThreadingHTTPServer:
    """Start ``GET /healthz`` on ``host:port`` (0: any free port) in a daemon thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            if self.path.split("?")[0] != "/healthz":
                self.send_error(404)
                return
            status, body = health.report()
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="watch-healthz", daemon=True).start()
    return server
