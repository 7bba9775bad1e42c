"""The part of the store every table module builds on: a connection and transactions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb


class StoreBase:
    con: duckdb.DuckDBPyConnection
    _tx_depth: int = 0

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: on any exception the store is exactly as before.

        Nested calls join the outer transaction, so a step that writes several tables
        (a document and its events) can reuse methods that open their own."""
        if self._tx_depth:
            self._tx_depth += 1
            try:
                yield self.con
            finally:
                self._tx_depth -= 1
            return
        self.con.execute("BEGIN TRANSACTION")
        self._tx_depth = 1
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        else:
            self.con.execute("COMMIT")
        finally:
            self._tx_depth = 0
