"""Writes that are audited: the rows of a change and their rows in the hash-chained
audit log (``screening_audit``) committed in ONE transaction, so a review action or a
user change is either stored with its audit row or not stored at all.

The audit log's own ``append`` commits by itself; here the rows are chained under the
log's lock (shared with the API's audit writer thread), inserted with the caller's rows,
and the log's head moves only after the commit."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

import duckdb

from watchkeeper.screening.audit import AuditEntry, AuditLog, AuditRecord
from watchkeeper.store import Store

T = TypeVar("T")

_AUDIT_COLS = (
    "audit_id, logged_at, request_id, channel, actor, query_key, fingerprint, query, params, "
    "results, list_versions, prev_hash, row_hash"
)

# prepare(con) reads what it needs inside the transaction and returns the audit entries
# and apply(con, records), which writes the caller's rows knowing each entry's audit row.
Prepare = Callable[
    [duckdb.DuckDBPyConnection],
    tuple[Sequence[AuditEntry], Callable[[duckdb.DuckDBPyConnection, list[AuditRecord]], T]],
]


def _insert(con: duckdb.DuckDBPyConnection, records: Sequence[AuditRecord]) -> None:
    for r in records:
        assert r.json_text is not None  # set by AuditLog.chain: the text that was hashed
        con.execute(
            f"INSERT INTO screening_audit ({_AUDIT_COLS}) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                r.audit_id,
                r.logged_at,
                r.request_id,
                r.channel,
                r.actor,
                r.query_key,
                r.fingerprint,
                *r.json_text,
                r.prev_hash,
                r.row_hash,
            ],
        )


def write_audited(store: Store, prepare: Prepare[T]) -> T:
    """Run ``prepare`` and its ``apply`` in one transaction with the audit rows of the
    entries ``prepare`` returns. Any exception (an input refused by ``prepare``, a write
    that fails, an audit log that no longer extends its anchored head) rolls back
    everything: nothing is stored and the chain's head does not move."""
    log = AuditLog(store)
    now = datetime.now(UTC)
    # A connection of its own: in the API, requests served on worker threads share
    # store.con, and their statements must not run inside this transaction.
    con = store.con.cursor()
    try:
        with log.lock:
            try:
                con.execute("BEGIN TRANSACTION")
                entries, apply = prepare(con)
                records = log.chain([(now, e) for e in entries])
                _insert(con, records)
                result = apply(con, records)
                con.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(duckdb.Error):  # a failed COMMIT has ended it
                    con.execute("ROLLBACK")
                log.forget_head()
                raise
            if records:
                log._advance(records)  # the log's own step after a commit: head, head file
    finally:
        con.close()
    return result
