"""The part of the store every table module builds on: a connection and transactions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb


class StoreBase:
    con: duckdb.DuckDBPyConnection

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: on any exception the store is exactly as before."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        else:
            self.con.execute("COMMIT")
