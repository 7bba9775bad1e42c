"""The DuckDB connection and its schema migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

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


class Store(ListVersionsMixin, EntitiesMixin, EventsMixin):
    """One DuckDB database file (or ``:memory:``), migrated to the current schema on open."""

    def __init__(self, path: str | Path = ":memory:", *, read_only: bool = False) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(self.path, read_only=read_only)
        except duckdb.IOException as exc:
            raise StoreError(f"cannot open the store {self.path}: {exc}") from exc
        self.con.execute("SET TimeZone = 'UTC'")
        if not read_only:
            self.migrate()

    def migrate(self) -> list[str]:
        """Apply the migrations not yet applied; each in its own transaction."""
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(name VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)"
        )
        done = {r[0] for r in self.con.execute("SELECT name FROM schema_migrations").fetchall()}
        applied: list[str] = []
        for name, sql in _migrations():
            if name in done:
                continue
            with self.transaction():
                self.con.execute(sql)
                self.con.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?)", [name, datetime.now(UTC)]
                )
            applied.append(name)
        return applied

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(path: str | Path, *, read_only: bool = False) -> Store:
    return Store(path, read_only=read_only)
