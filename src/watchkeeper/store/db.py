"""The DuckDB connection and its schema migrations, and the note ``watchkeeper serve``
leaves beside the file it holds.

DuckDB lets one process write a file, or many processes read it, never both: while
``serve`` holds the store read-write no other process can open it, not even read
only. ``serve`` writes ``<db>.server`` (its URL, process id and a per-run secret, mode
0600) for as long as it runs, so a read command that meets the lock can have the server
run it (``POST /_local/cli``), or say where the data can be read instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import duckdb

from watchkeeper.errors import StoreError
from watchkeeper.store.entities import EntitiesMixin
from watchkeeper.store.events import EventsMixin
from watchkeeper.store.versions import ListVersionsMixin


def _migrations() -> list[tuple[str, str]]:
    """Every ``store/schema/NNN_name.sql``, in file-name order."""
    folder = resources.files("watchkeeper.store") / "schema"
    found = [(f.name, f.read_text("utf-8")) for f in folder.iterdir() if f.name.endswith(".sql")]
    return sorted(found)


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the schema files not yet applied on ``con``; each in its own transaction."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(name VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)"
    )
    done = {r[0] for r in con.execute("SELECT name FROM schema_migrations").fetchall()}
    applied: list[str] = []
    for name, sql in _migrations():
        if name in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?)", [name, datetime.now(UTC)])
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        applied.append(name)
    return applied


class ServedStore(Protocol):
    """Inside ``watchkeeper serve`` running a CLI command for another process: how a
    store file is opened instead of connecting to it."""

    def connect(self, path: str, *, read_only: bool) -> duckdb.DuckDBPyConnection | None:
        """A connection for ``path`` inside a transaction the server rolls back (None:
        open the file as usual); raises StoreError to refuse."""
        ...


# Set by the server only while it runs a command sent to ``POST /_local/cli``.
SERVED_STORE: ContextVar[ServedStore | None] = ContextVar("watchkeeper_served", default=None)


class HeldByServer(StoreError):
    """The store file is held by a running ``watchkeeper serve``; ``server`` is its note."""

    def __init__(self, message: str, *, path: str, server: dict[str, Any], read_only: bool):
        super().__init__(message)
        self.path = path
        self.server = server
        self.read_only = read_only


class Store(ListVersionsMixin, EntitiesMixin, EventsMixin):
    """One DuckDB database file (or ``:memory:``), migrated to the current schema on open."""

    def __init__(self, path: str | Path = ":memory:", *, read_only: bool = False) -> None:
        self.path = str(path)
        served = SERVED_STORE.get() if self.path != ":memory:" else None
        if served is not None and (con := served.connect(self.path, read_only=read_only)):
            self.con = con
            self._tx_depth = 1  # the store's own transactions join the served one
            return
        if self.path != ":memory:" and not read_only:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(self.path, read_only=read_only)
        except duckdb.IOException as exc:
            raise _cannot_open(self.path, exc, read_only) from exc
        self.con.execute("SET TimeZone = 'UTC'")
        if not read_only:
            self.migrate()
        elif self.path != ":memory:" and self.pending_migrations():
            self._migrate_then_reopen_read_only()

    def pending_migrations(self) -> list[str]:
        """Schema files not yet applied to this store (all of them on an empty file)."""
        try:
            rows = self.con.execute("SELECT name FROM schema_migrations").fetchall()
        except duckdb.CatalogException:
            rows = []
        done = {r[0] for r in rows}
        return [name for name, _ in _migrations() if name not in done]

    def _migrate_then_reopen_read_only(self) -> None:
        """A store written by an older Watchkeeper, opened by a read command: the new
        tables (additive migrations only) are added first, so the command reads an
        empty table rather than failing on a missing one. Needs the file unlocked for
        a moment; if another process holds it, say which schema files are missing."""
        pending = self.pending_migrations()
        self.con.close()
        try:
            with duckdb.connect(self.path) as con:
                con.execute("SET TimeZone = 'UTC'")
                apply_migrations(con)
        except duckdb.IOException as exc:
            raise StoreError(
                f"{self.path} was written by an older Watchkeeper and lacks the schema "
                f"{', '.join(pending)}; it could not be upgraded because another process "
                f"holds it ({exc}). Stop that process or run any write command on it."
            ) from exc
        finally:
            with contextlib.suppress(duckdb.Error):
                self.con = duckdb.connect(self.path, read_only=True)
                self.con.execute("SET TimeZone = 'UTC'")

    def migrate(self) -> list[str]:
        """Apply the migrations not yet applied; each in its own transaction."""
        return apply_migrations(self.con)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(path: str | Path, *, read_only: bool = False) -> Store:
    return Store(path, read_only=read_only)


def server_note(db_path: str | Path) -> Path:
    """Where ``watchkeeper serve`` says it holds ``db_path``: ``<db>.server``."""
    path = Path(db_path)
    return path.with_name(path.name + ".server")


@contextlib.contextmanager
def announce_server(db_path: str | Path, url: str) -> Iterator[Path]:
    """Write ``<db>.server`` (URL, process id, start time, UTC, and a random secret the
    CLI of the same user sends back to ``POST /_local/cli``; mode 0600) while the block
    runs; removed on the way out, unless another server has replaced it meanwhile."""
    note = server_note(db_path)
    record = {
        "url": url,
        "pid": os.getpid(),
        "started_at": datetime.now(UTC).isoformat(),
        "secret": secrets.token_urlsafe(32),
    }
    tmp = note.with_name(note.name + f".{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as fh:
        fh.write(json.dumps(record) + "\n")
    tmp.replace(note)  # atomic: a reader never sees half a note
    try:
        yield note
    finally:
        if (held_by_server(db_path) or {}).get("pid") == os.getpid():
            note.unlink(missing_ok=True)


def held_by_server(db_path: str | Path) -> dict[str, Any] | None:
    """The ``<db>.server`` note of a server still running (``url``, ``pid``,
    ``started_at``), or ``None`` (no note, unreadable, or its process is gone)."""
    try:
        record = json.loads(server_note(db_path).read_text(encoding="utf-8"))
        pid = int(record["pid"])
        url = record["url"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if pid <= 0 or not isinstance(url, str):  # pid 0 and -n name process groups
        return None
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except (ProcessLookupError, OverflowError):
        return None
    except PermissionError:
        pass  # it exists, run by another user
    return dict(record)


def _cannot_open(path: str, exc: duckdb.IOException, read_only: bool) -> StoreError:
    """What to tell the user who cannot open ``path``: who holds it, and what to do."""
    if "lock" not in str(exc).lower():
        return StoreError(f"cannot open the store {path}: {exc}")
    server = held_by_server(path)
    if server is not None:
        return HeldByServer(
            f"the store {path} is held by `watchkeeper serve` at {server['url']} "
            f"(pid {server['pid']}); DuckDB lets no other process open it meanwhile, even "
            f"to read: use that API ({server['url']}/docs) or stop the server",
            path=path,
            server=server,
            read_only=read_only,
        )
    return StoreError(
        f"the store {path} is locked by another process writing to it; DuckDB lets no "
        f"other process open it meanwhile, even to read: wait for it to finish ({exc})"
    )
